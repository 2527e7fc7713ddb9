"""lambdasim: a discrete-event simulator of AWS Lambda scaling and cold starts.

Describe functions and their traffic in a YAML scenario, run it through execution-environment
pools with cold starts, warm reuse, idle reclaim, the scale-out rate and the concurrency
limits, and read latency percentiles, cold starts, throttles, concurrency and cost::

    import lambdasim
    scenario = lambdasim.load_scenario("scenarios/peak.yaml", overrides={"seed": 7})
    result = lambdasim.simulate(scenario)
    result.function("checkout").latency_ms["p99"]
"""
__version__ = "0.1.0"

from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from .result import FunctionResult, Result  # noqa: E402
from .model import simulate  # noqa: E402
from .sweep import simulate_many, sweep  # noqa: E402

__all__ = [
    "__version__",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "simulate",
    "simulate_many",
    "sweep",
    "Result",
    "FunctionResult",
]
