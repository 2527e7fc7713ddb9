"""Invariants of every run, checked on random small scenarios with hypothesis.

1. Every request ends in exactly one outcome; attempts add up (invocations + throttles).
2. Concurrency never exceeds its limit, checked after every SimPy event; the account's
   counter is always the sum of its functions' busy environments.
3. Time never goes backwards; rates are in [0, 1].
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import lambdasim
from lambdasim.scenario.arrivals import arrival_times
from lambdasim.engine.model import DRAIN_LIMIT_S, Model
from lambdasim.results.result import ACCOUNT_ROW, build_result
from lambdasim.engine.rng import Streams

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- random scenarios -----------------------------------------------------------------

def _times(low_ms: int, high_ms: int):
    return st.integers(low_ms, high_ms).map(lambda ms: f"{ms}ms")


@st.composite
def _duration_dist(draw, timeout_ms: int):
    # Sometimes longer than the timeout, so that timeouts happen.
    mean = draw(st.integers(5, max(10, int(timeout_ms * 1.5))))
    kind = draw(st.sampled_from(["constant", "exponential", "lognormal"]))
    if kind == "constant":
        return f"{mean}ms"
    if kind == "exponential":
        return {"dist": "exponential", "mean": f"{mean}ms"}
    return {"dist": "lognormal", "median": f"{mean}ms",
            "p99": f"{mean * draw(st.integers(2, 20))}ms"}


@st.composite
def _init_dist(draw):
    kind = draw(st.sampled_from(["constant", "exponential", "long"]))
    if kind == "constant":
        return draw(_times(0, 800))
    if kind == "exponential":
        return {"dist": "exponential", "mean": draw(_times(10, 2000))}
    # Past the 10 s on-demand Init limit: retried inside the first invoke
    # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
    return {"dist": "uniform", "low": "9s", "high": draw(_times(10_500, 14_000))}


@st.composite
def _arrivals(draw, horizon_s: int):
    kind = draw(st.sampled_from(["poisson", "constant", "burst"]))
    if kind == "poisson":
        return {"process": "poisson", "rate": f"{draw(st.integers(1, 40))}/s"}
    if kind == "constant":
        return {"process": "constant", "rate": f"{draw(st.integers(1, 30))}/s"}
    return {"process": "burst", "count": draw(st.integers(1, 300)),
            "at": f"{draw(st.integers(0, horizon_s - 1))}s",
            "spread": f"{draw(st.integers(0, 3000))}ms"}


@st.composite
def _function(draw, horizon_s: int, reserved_budget: int):
    timeout_ms = draw(st.sampled_from([50, 200, 1000, 3000, 15_000]))
    reserved = draw(st.one_of(st.none(), st.integers(0, reserved_budget)))
    retries = draw(st.booleans())
    trigger = {"type": "sync",
               "arrivals": draw(st.lists(_arrivals(horizon_s), min_size=1, max_size=2))}
    if retries:
        trigger["client_retries"] = {
            "max_attempts": draw(st.integers(2, 4)),
            "base_delay": "50ms", "max_delay": "2s",
            "jitter": draw(st.sampled_from(["full", "equal", "none", "decorrelated"])),
            "retry_on": draw(st.sampled_from([["throttle"], ["error"], ["throttle", "error"]])),
        }
    return {
        "memory_mb": draw(st.sampled_from([128, 512, 1769, 3008, 10240])),
        "reference_mb": 1024,
        "memory_scaling": {"cpu_bound": draw(st.sampled_from([0.0, 0.5, 1.0]))},
        "timeout": f"{timeout_ms}ms",
        "reserved_concurrency": reserved,
        "error_rate": draw(st.sampled_from([0.0, 0.05, 0.5])),
        "duration": draw(_duration_dist(timeout_ms)),
        "init": draw(_init_dist()),
        "keep_alive": {"dist": "uniform", "low": "200ms", "high": draw(_times(300, 5000))},
        "max_lifetime": {"dist": "uniform", "low": "2s", "high": draw(_times(3000, 60_000))},
        "reuse": draw(st.sampled_from(["mru", "lru", "newest", "random"])),
        "triggers": [trigger],
    }


@st.composite
def scenarios(draw) -> dict:
    horizon_s = draw(st.integers(10, 40))
    limit = draw(st.integers(20, 200))
    unreserved_minimum = draw(st.integers(0, 10))
    count = draw(st.integers(1, 3))
    budget = (limit - unreserved_minimum) // count
    functions = {f"fn{i}": draw(_function(horizon_s, budget)) for i in range(count)}
    if draw(st.booleans()):
        scaling = {"model": "token-bucket", "burst": draw(st.integers(1, 20)),
                   "per": draw(_times(500, 10_000))}
    else:
        scaling = {"model": "regional-burst", "burst": 500,
                   "per_minute": draw(st.integers(1, 500))}
    return {
        "name": "prop", "duration": f"{horizon_s}s",
        "warmup": f"{draw(st.integers(0, horizon_s // 2))}s",
        "seed": draw(st.integers(0, 2**31)), "period": "5s",
        "account": {"concurrency_limit": limit, "unreserved_minimum": unreserved_minimum,
                    "scaling": scaling,
                    "request_rate_limit": {"enabled": draw(st.booleans()),
                                           "per_concurrency": draw(st.integers(1, 10))}},
        "functions": functions,
    }


# -- stepping a model with invariants checked after every event --------------------------------

def _check_state(model: Model) -> None:
    account = model.account
    functions = model.functions.values()
    busy = {f.name: f.in_use for f in functions}
    for f in functions:
        assert 0 <= f.pool.in_use <= f.pool.limit, (f.name, f.pool.in_use, f.pool.limit)
        assert busy[f.name] >= 0 and len(f.environments.warm) >= 0
        assert f.environments.live == busy[f.name] + len(f.environments.warm)
        if f.reserved is not None:
            # Reserved concurrency caps the function
            # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
            assert f.pool.in_use == busy[f.name] <= f.reserved
    assert 0 <= account.in_use <= account.concurrency_limit
    assert account.in_use == sum(busy.values())
    assert account.unreserved.in_use == sum(busy[f.name] for f in functions if f.reserved is None)
    assert account.unreserved.in_use <= account.unreserved.limit


def _run_stepping(scenario) -> Model:
    """Run event by event up to the horizon and through the drain, checking every state."""
    model = Model(scenario)
    sim = model.sim
    horizon = model.duration_s
    last = sim.now
    _check_state(model)
    while sim.peek() < horizon:
        sim.step()
        assert sim.now >= last, "time went backwards"
        last = sim.now
        _check_state(model)
    # Drain what is in flight, still one event at a time.
    while model.outstanding() and sim.peek() < horizon + DRAIN_LIMIT_S:
        sim.step()
        assert sim.now >= last, "time went backwards"
        last = sim.now
        _check_state(model)
    model.run()
    assert model.outstanding() == 0
    return model


def _expected_arrivals(model: Model, name: str) -> int:
    """Arrivals in [warmup, duration), regenerated from the function's named streams."""
    config = model.scenario.config
    total = 0
    for tindex, trigger in enumerate(config["functions"][name]["triggers"]):
        for sindex, spec in enumerate(trigger["arrivals"]):
            rng = Streams(model.seed, model.replication).generator(
                f"arrivals/{name}/{tindex}/{sindex}")
            for block in arrival_times(spec, rng, model.duration_s):
                total += int(np.count_nonzero(block >= model.warmup_s))
    return total


@SETTINGS
@given(spec=scenarios())
def test_invariants_hold_on_random_scenarios(spec):
    scenario = lambdasim.load_scenario(spec)
    model = _run_stepping(scenario)
    result = build_result(model, records=True)
    summary = result.summary
    # No NaN or infinity anywhere in the summary.
    json.dumps(summary, allow_nan=False)
    records = result.records.columns()
    warmup, horizon = model.warmup_s, model.duration_s
    limit = model.account.concurrency_limit
    for name, block in summary["functions"].items():
        fconfig = spec["functions"][name]
        requests = block["requests"]
        # 1. Exactly one outcome per request; everything finished within the drain.
        assert all(v >= 0 for v in requests.values()), requests
        assert requests["arrived"] == (requests["succeeded"] + requests["failed"]
                                       + requests["throttled"] + requests["dropped"]
                                       + requests["in_flight"])
        assert requests["in_flight"] == 0 and requests["dropped"] == 0
        assert requests["arrived"] == _expected_arrivals(model, name)
        mine = records["function"] == name
        in_window = mine & (records["arrived_s"] >= warmup) & (records["arrived_s"] < horizon)
        assert int(np.count_nonzero(mine)) == _expected_arrivals_all(model, name)
        assert int(np.count_nonzero(in_window)) == requests["arrived"]
        for outcome in ("succeeded", "failed", "throttled"):
            assert int(np.count_nonzero(in_window & (records["outcome"] == outcome))) \
                == requests[outcome]
        assert bool(np.all(records["ended_s"][mine] >= records["arrived_s"][mine]))
        # Every attempt was either admitted (an invocation) or throttled.
        attempts = int(records["attempts"][in_window].sum())
        assert attempts == block["invocations"] + block["throttles"]
        assert block["invocations"] >= requests["succeeded"] + requests["failed"]
        retries = fconfig["triggers"][0].get("client_retries")
        max_attempts = retries["max_attempts"] if retries else 1
        assert bool(np.all((records["attempts"][mine] >= 1)
                           & (records["attempts"][mine] <= max_attempts)))
        if max_attempts == 1:
            assert block["invocations"] == requests["succeeded"] + requests["failed"]
            assert block["throttles"] == requests["throttled"]
        assert 0 <= block["errors"] <= block["invocations"]
        assert requests["failed"] <= block["errors"]
        assert 0 <= block["cold_starts"] <= block["environments"]["created"]
        if warmup == 0:
            assert block["cold_starts"] == block["environments"]["created"]
        # 2. Concurrency within its limits over the whole measured window.
        reserved = fconfig["reserved_concurrency"]
        if reserved is not None:
            assert block["concurrency"]["max"] <= reserved
        if reserved == 0:
            # Reserved concurrency 0 throttles every request (lambda-concurrency.html).
            assert block["invocations"] == 0
            assert requests["throttled"] == requests["arrived"]
        assert block["concurrency"]["max"] <= limit
        assert 0 <= block["concurrency"]["mean"] <= block["concurrency"]["max"]
        assert block["environments"]["mean"] >= block["concurrency"]["mean"] - 1e-6
        # A run never lasts past the timeout (configuration-timeout.html): Duration <= timeout.
        if block["duration_ms"]["max"] is not None:
            timeout_ms = scenario.config["functions"][name]["timeout"] * 1000.0
            assert block["duration_ms"]["max"] <= timeout_ms + 1e-6
        # On-demand Init stops at 10 s (lambda-runtime-environment.html).
        if block["init_duration_ms"]["max"] is not None:
            assert block["init_duration_ms"]["max"] <= 10_000.0 + 1e-6
        # 3. Rates are fractions.
        assert 0.0 <= block["cold_start_rate"] <= 1.0
        assert 0.0 <= block["throttle_rate"] <= 1.0
    account = summary["account"]
    assert account["concurrency"]["max"] <= limit
    assert account["concurrency"]["max"] <= sum(
        b["concurrency"]["max"] for b in summary["functions"].values())
    series = result.series
    for i, row in enumerate(series["function"]):
        assert series["ConcurrentExecutions"][i] <= limit
        if row == ACCOUNT_ROW:
            assert series["UnreservedConcurrentExecutions"][i] <= model.account.unreserved_limit
            assert series["ClaimedAccountConcurrency"][i] <= limit
        else:
            reserved = spec["functions"][row]["reserved_concurrency"]
            if reserved is not None:
                assert series["ConcurrentExecutions"][i] <= reserved
    assert series["period_start_s"] == sorted(series["period_start_s"])


def _expected_arrivals_all(model: Model, name: str) -> int:
    """All arrivals of a function (warmup included), from its named streams."""
    config = model.scenario.config
    total = 0
    for tindex, trigger in enumerate(config["functions"][name]["triggers"]):
        for sindex, spec in enumerate(trigger["arrivals"]):
            rng = Streams(model.seed, model.replication).generator(
                f"arrivals/{name}/{tindex}/{sindex}")
            total += sum(len(block) for block in arrival_times(spec, rng, model.duration_s))
    return total


@SETTINGS
@given(spec=scenarios())
def test_stepping_gives_the_same_summary_as_running(spec):
    """Stepping event by event changes nothing: the invariant checks observe the real run."""
    scenario = lambdasim.load_scenario(spec)
    model = Model(scenario)
    while model.sim.peek() < model.duration_s:
        model.sim.step()
    model.run()
    stepped = build_result(model).summary
    assert stepped == lambdasim.simulate(scenario).summary
    assert math.isfinite(stepped["account"]["concurrency"]["mean"])


@pytest.mark.parametrize("rate, duration", [("4/s", "250ms"), ("2/s", "500ms")])
def test_a_unit_freed_at_the_arrival_instant_admits_the_arrival(rate, duration):
    """Admission agrees with the concurrency metric when an end and an arrival coincide.

    Reserved concurrency 1, zero Init, constant arrivals every D and constant duration D
    (binary-exact times, so the ends and arrivals coincide exactly): each request starts as
    the previous one ends, concurrency is 1 throughout, and no request should be throttled
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html: a request is
    throttled only when concurrency is at the limit).
    """
    block = lambdasim.simulate({
        "name": "tie", "duration": "10s",
        "account": {"request_rate_limit": {"enabled": False}},
        "functions": {"f": {"reserved_concurrency": 1, "init": "0s", "duration": duration,
                            "triggers": [{"type": "sync", "arrivals":
                                          {"process": "constant", "rate": rate}}]}},
    }).summary["functions"]["f"]
    assert block["concurrency"]["mean"] == pytest.approx(1.0)
    assert block["requests"]["throttled"] == 0
