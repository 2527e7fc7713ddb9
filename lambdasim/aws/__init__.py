"""The AWS artefacts layer: reading what AWS produces into scenario fragments.

Fitting duration and Init distributions to CloudWatch REPORT logs (:mod:`~lambdasim.aws.fit`),
read in every shape the CloudWatch tools write (:mod:`~lambdasim.aws.logformats`); importing
SAM / CloudFormation templates (:mod:`~lambdasim.aws.sam`: loaded safely by
:mod:`~lambdasim.aws.cfn`, values resolved by :mod:`~lambdasim.aws.intrinsics`, properties
classified by :mod:`~lambdasim.aws.sam_properties`, standalone resources in
:mod:`~lambdasim.aws.sam_resources`, schedules in :mod:`~lambdasim.aws.schedules`, the text
written by :mod:`~lambdasim.aws.sam_writer`); :mod:`~lambdasim.aws.support` says which scenario
keys exist.

Import rule: these tools import :mod:`lambdasim.scenario` (and :mod:`lambdasim.errors`);
never the engine's internals, results, studies or the command line.
"""
