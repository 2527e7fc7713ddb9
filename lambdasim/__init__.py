"""lambdasim: a discrete-event simulator of AWS Lambda scaling and cold starts.

Describe functions and their traffic in a YAML scenario, run it through execution-environment
pools with cold starts, warm reuse, idle reclaim, the scale-out rate and the concurrency
limits, and read latency percentiles, cold starts, throttles, concurrency and cost::

    import lambdasim
    scenario = lambdasim.load_scenario("scenarios/peak.yaml", overrides={"seed": 7})
    result = lambdasim.simulate(scenario)
    result.function("checkout").latency_ms["p99"]
"""
from lambdasim._version import __version__
from lambdasim.scenario import Scenario, ScenarioError, load_scenario
from lambdasim.results.result import FunctionResult, Result
from lambdasim.simulation import simulate
from lambdasim.studies.replications import simulate_many
from lambdasim.studies.sweep import sweep
from lambdasim.studies.plan import plan

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
