"""``simulate()``: load a scenario, run its :class:`~lambdasim.engine.model.Model`, build the Result.

This is the one place where the engine and the results meet: the engine runs the SimPy world
and keeps columnar recorders; :func:`lambdasim.results.result.build_result` turns them into the
summary, the series and the charts' timeline. Keeping the call here, above both layers, is
what lets the engine never import the results.
"""
from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, Callable, Mapping

from lambdasim.engine.model import Model
from lambdasim.results.result import Result, build_result
from lambdasim.scenario import Scenario, load_scenario
from lambdasim.scenario.workload import Limits, check_scenario_workload

__all__ = ["simulate"]

def simulate(scenario: Scenario | str | Path | Mapping[str, Any], *, seed: int | None = None,
             period_s: float | None = None, records: bool = False, replication: int = 0,
             overrides: Mapping[str, Any] | None = None,
             progress: Callable[[float, int | None], None] | None = None,
             limits: Limits | None = None) -> Result:
    """Run a scenario and return its :class:`~lambdasim.results.result.Result`.

    Parameters
    ----------
    scenario : Scenario, path or dict
        A loaded scenario, a YAML file, or a scenario as a dict.
    seed : int, optional
        Overrides the scenario's seed.
    period_s : float, optional
        Metrics period in seconds (default: the scenario's ``period``, 60 s).
    records : bool
        Keep per-request records in ``Result.records`` (for ``requests.csv.gz``).
    replication : int
        Replication index: independent random streams from the same seed.
    overrides : mapping, optional
        Dotted-key overrides applied when loading (``{"functions.api.memory_mb": 2048}``).
    progress : callable, optional
        ``progress(now_s, events)`` called as simulated time advances (e.g. a
        :class:`lambdasim.results.progress.ProgressBar`).
    limits : Limits, optional
        The largest work the run may ask for (default
        :data:`lambdasim.scenario.workload.DEFAULT_LIMITS`: 1e8 arrivals, 1e9 events, 8 GiB);
        the work is estimated from the resolved scenario before anything is built.

    Returns
    -------
    Result

    Raises
    ------
    ScenarioError
        For a bad scenario, or one whose estimated work is beyond ``limits`` (the message
        gives the estimate, the limit and the key to change).
    """
    # Loading and building allocate thousands of long-lived objects per thousand functions
    # (the resolved configuration; processes, samplers, records) and no garbage: the cyclic
    # collector's passes meanwhile would find nothing and cost about as much as the work
    # (5-25 ms of a 50 ms load at 1,000 functions). Paused, and left as it was.
    enabled = gc.isenabled()
    gc.disable()
    try:
        if isinstance(scenario, Scenario):
            if overrides:
                scenario = scenario.with_overrides(overrides)
        else:
            scenario = load_scenario(scenario, overrides)
        check_scenario_workload(scenario, limits, period_s)
        model = Model(scenario, seed=seed, period_s=period_s, replication=replication)
    finally:
        if enabled:
            gc.enable()
    return build_result(model.run(progress), records=records)
