"""lambdasim: a discrete-event simulator of AWS Lambda scaling and cold starts.

Describe functions and their traffic in a YAML scenario, run it through execution-environment
pools with cold starts, warm reuse, idle reclaim, the scale-out rate and the concurrency
limits, and read latency percentiles, cold starts, throttles, concurrency and cost::

    import lambdasim
    scenario = lambdasim.load_scenario("scenarios/peak.yaml", overrides={"seed": 7})
    result = lambdasim.simulate(scenario)
    result.function("checkout").latency_ms["p99"]
"""
from __future__ import annotations

import importlib
from typing import Any

from lambdasim._version import __version__

#: Public name -> the module that defines it. Imported on first use (PEP 562), so that
#: ``python -m lambdasim validate`` or ``--help`` does not pay for the engine, NumPy's
#: statistics or the studies: only what a command touches is imported.
_LAZY = {
    "Scenario": "lambdasim.scenario",
    "ScenarioError": "lambdasim.scenario",
    "load_scenario": "lambdasim.scenario",
    "Result": "lambdasim.results.result",
    "FunctionResult": "lambdasim.results.result",
    "simulate": "lambdasim.simulation",
    "simulate_many": "lambdasim.studies.replications",
    "sweep": "lambdasim.studies.sweep",
    "plan": "lambdasim.studies.plan",
}

__all__ = [
    "__version__",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "simulate",
    "simulate_many",
    "sweep",
    "plan",
    "Result",
    "FunctionResult",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambdasim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
