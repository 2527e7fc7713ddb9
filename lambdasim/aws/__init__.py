"""The AWS artefacts layer: reading what AWS produces into scenario fragments.

Fitting duration and Init distributions to CloudWatch REPORT logs (:mod:`~lambdasim.aws.fit`),
and importing SAM / CloudFormation templates (:mod:`~lambdasim.aws.sam`, with the intrinsic
functions resolved in :mod:`~lambdasim.aws.cfn`).

Import rule: these tools import :mod:`lambdasim.scenario` (and :mod:`lambdasim.errors`);
never the engine's internals, results, studies or the command line.
"""
