"""Every feature combines with every other: scenarios drawn over trigger types x provisioned
concurrency x reserved concurrency x retries x destinations all run, write strict JSON and
keep each request in exactly one outcome.

A function with provisioned concurrency and a Kinesis trigger once crashed (the stream poller
passed an argument the provisioned invoke did not take); this draws the combinations instead of
listing them.
"""

from __future__ import annotations

import inspect
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdasim import load_scenario, simulate
from lambdasim.engine.function import LambdaFunction
from lambdasim.engine.provisioned import ProvisionedFunction

TRIGGER_TYPES = ("sync", "async", "sqs", "kinesis", "dynamodb")


def _kinds(cls: type) -> list[type]:
    return [cls] + [k for sub in cls.__subclasses__() for k in _kinds(sub)]


def test_every_function_kind_has_one_invoke_signature():
    """Triggers call ``function.invoke(origin, payload, done, extra_s, fails)`` whatever the
    function's kind; a subclass with a shorter signature crashed stream triggers."""
    kinds = _kinds(LambdaFunction)
    assert ProvisionedFunction in kinds
    for kind in kinds:
        assert inspect.signature(kind.invoke) == inspect.signature(LambdaFunction.invoke), kind


def test_provisioned_function_with_a_kinesis_trigger_runs():
    """The case run_provisioned_with_kinesis.yaml: exit 3 (TypeError) before the fix."""
    scenario = load_scenario({"duration": "30s", "functions": {"f": {
        "duration": "10ms", "provisioned_concurrency": 1,
        "triggers": [{"type": "kinesis", "arrivals": {"process": "poisson", "rate": "5/s"}},
                     {"type": "dynamodb", "arrivals": {"process": "poisson", "rate": "5/s"},
                      "poison_rate": 0.1, "maximum_retry_attempts": 1}]}}})
    summary = simulate(scenario).summary["functions"]["f"]
    assert summary["provisioned"]["invocations"] > 0
    assert summary["requests"]["arrived"] > 100
    assert summary["errors"] > 0  # poison records fail on the provisioned environments too


def test_stream_throttled_for_the_whole_drain_does_not_overflow():
    """reserved_concurrency 0 throttles every batch: the poller's doubling back-off ran for a
    day of drain until 2.0 ** streak overflowed (OverflowError, exit 3)."""
    scenario = load_scenario({"duration": "20s", "functions": {"f": {
        "duration": "10ms", "reserved_concurrency": 0,
        "triggers": [{"type": "kinesis", "arrivals": {"process": "poisson", "rate": "2/s"}}]}}})
    requests = simulate(scenario).summary["functions"]["f"]["requests"]
    assert requests["succeeded"] == 0 and requests["arrived"] > 0


@st.composite
def trigger(draw, kind: str, retries: int, destination: str | None) -> dict:
    rate = draw(st.sampled_from(["2/s", "8/s"]))
    spec: dict = {"type": kind, "arrivals": {"process": "poisson", "rate": rate}}
    if kind == "sync":
        spec["client_retries"] = {"max_attempts": 1 + retries, "retry_on": ["throttle", "error"]}
    elif kind == "async":
        spec["max_retry_attempts"] = min(retries, 2)
        if destination:
            # One asynchronous configuration per function: every async trigger shares it.
            spec["on_failure"] = {"type": destination, "name": "sink"}
            spec["on_success"] = {"type": "sns", "name": "topic"}
    elif kind == "sqs":
        spec["max_receive_count"] = 1 + retries
        spec["visibility_timeout"] = "5s"
        spec["batch_size"] = draw(st.sampled_from([1, 10]))
    else:
        spec["maximum_retry_attempts"] = retries
        spec["bisect_batch_on_error"] = draw(st.booleans())
        spec["poison_rate"] = draw(st.sampled_from([0.0, 0.05]))
        if destination:
            spec["on_failure"] = {"type": "sqs", "name": "dlq"}
    return spec


@st.composite
def scenarios(draw) -> dict:
    kinds = draw(st.lists(st.sampled_from(TRIGGER_TYPES), min_size=1, max_size=3))
    provisioned = draw(st.sampled_from([0, 1, 3]))
    reserved = draw(st.sampled_from([None, 0, 2, 5]))
    if reserved is not None:
        provisioned = min(provisioned, reserved)
    retries = draw(st.sampled_from([0, 1, 2]))
    destination = draw(st.sampled_from([None, "sqs", "function"]))
    function = {
        "duration": {"dist": "lognormal", "median": "50ms", "p99": "400ms"},
        "timeout": "2s",
        "error_rate": draw(st.sampled_from([0.0, 0.2])),
        "provisioned_concurrency": provisioned,
        "reserved_concurrency": reserved,
        "triggers": [draw(trigger(kind, retries, destination)) for kind in kinds],
    }
    return {
        "duration": "20s",
        "seed": draw(st.integers(0, 2**16)),
        "functions": {"f": function, "sink": {"duration": "10ms"}},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_combination_runs_and_conserves_requests(raw):
    scenario = load_scenario(raw)
    result = simulate(scenario)
    json.dumps(result.summary, allow_nan=False)  # strict JSON: no inf, no NaN
    for name, block in result.summary["functions"].items():
        req = block["requests"]
        assert req["arrived"] == (req["succeeded"] + req["failed"] + req["throttled"]
                                  + req["dropped"] + req["in_flight"]), (name, req)
        assert block["concurrency"]["max"] <= (
            scenario.functions[name]["reserved_concurrency"]
            if scenario.functions[name]["reserved_concurrency"] is not None
            else scenario.config["account"]["concurrency_limit"])
