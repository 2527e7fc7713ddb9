"""The engine layer: the SimPy world that one run of one scenario builds and runs.

Events and lazy-cancelled timers, named random streams, the account and its concurrency
limits, execution environments and warm pools, the function with its scale-out limiter and
cold starts, provisioned concurrency, the invocation models in :mod:`lambdasim.engine.invoke`
(sync, async, SQS, streams), Lambda's billing rules, the columnar recorders and level
monitors, and the :class:`~lambdasim.engine.model.Model` that wires them for a resolved
scenario.

Import rule: the engine imports only :mod:`lambdasim.scenario` (and itself); never results,
studies, tools or the command line. What a run produced is read by :mod:`lambdasim.results`
from the model's recorders and reporters after the run.
"""
