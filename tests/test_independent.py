"""Functions run one after another (lambdasim.engine.independent) make the same run as together.

A model of plain synchronous functions runs each function on its own loop when no shared
limit binds: the unreserved concurrency pool and the account's request rate
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). Each test runs the
scenario both ways and asserts the same summary, series, request rows and event count; the
scenarios include ones where a shared limit binds or an arrival ties with a keep-alive timer,
which must be noticed and run together.
"""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

import lambdasim
from lambdasim.engine.model import SEPARATE_MIN_FUNCTIONS, Model
from lambdasim.results.result import build_result


def _run(data, independent, progress=None):
    model = Model(lambdasim.load_scenario(data), independent=independent).run(progress)
    result = build_result(model, records=True)
    records = json.dumps({key: np.asarray(value).tolist()
                          for key, value in result.records.columns().items()})
    return model, result, records


def _same(data, progress=None) -> bool:
    """Run both ways; assert the same run; return whether the functions ran separately."""
    separate, result, records = _run(data, True, progress)
    together, expected, expected_records = _run(data, False)
    assert together.separate_runs == {}
    assert json.dumps(result.summary) == json.dumps(expected.summary)
    assert json.dumps(result.series) == json.dumps(expected.series)
    assert records == expected_records
    assert separate.events == together.events
    assert separate.end_s == together.end_s
    return bool(separate.separate_runs)


def test_an_arrival_happens_at_its_own_time_whatever_came_before():
    # 0.29040787574867943 + (6.890154327104011 - 0.29040787574867943) is not 6.890154327104011
    # in floating point: the loop must not derive a time from the previous arrival's.
    from lambdasim.engine.loop import Simulation

    before, at = 0.29040787574867943, 6.890154327104011
    assert before + (at - before) != at
    sim, seen = Simulation(), []
    sim.add_arrivals(iter([np.array([before, at])]), seen.append)
    sim.run()
    assert seen == [before, at]


def _function(rate, *, mean="200ms", keep_alive="60s", reserved=None, **extra):
    function = {
        "duration": {"dist": "exponential", "mean": mean}, "init": "300ms",
        "keep_alive": keep_alive,
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": rate}}],
        **extra,
    }
    if reserved is not None:
        function["reserved_concurrency"] = reserved
    return function


def _scenario(functions, account=None, duration=300, seed=1):
    data = {"name": "independent", "duration": duration, "seed": seed, "functions": functions}
    if account:
        data["account"] = account
    return data


@pytest.mark.parametrize("name", ["power_tuning", "reserved_cap", "trace_replay"])
def test_the_shipped_multi_function_scenarios_are_the_same_run(name):
    # No shared limit binds in any of them (reserved_cap's throttles are its reserved
    # function's own): each runs separately.
    assert _same(f"scenarios/{name}.yaml")


def test_many_quiet_functions_run_separately_by_default():
    data = _scenario({f"f{i}": _function(0.2 + i / 100) for i in range(SEPARATE_MIN_FUNCTIONS)},
                     duration=600)
    assert len(Model(lambdasim.load_scenario(data)).separate_runs) == SEPARATE_MIN_FUNCTIONS
    assert _same(data)


def test_fewer_functions_run_together_by_default():
    data = _scenario({f"f{i}": _function(1) for i in range(SEPARATE_MIN_FUNCTIONS - 1)})
    assert Model(lambdasim.load_scenario(data)).separate_runs == {}


def test_a_full_unreserved_pool_is_noticed_and_the_functions_run_together():
    # Two functions of 60 concurrent requests each share an unreserved pool of 100: only
    # together do they fill it.
    data = _scenario({"a": _function(300, mean="200ms"), "b": _function(300, mean="200ms")},
                     account={"concurrency_limit": 100})
    assert not _same(data)
    _, result, _ = _run(data, True)
    throttled = sum(f["requests"]["throttled"] for f in result.summary["functions"].values())
    assert throttled > 0


def test_each_function_alone_fits_but_together_the_pool_is_full():
    # Neither function alone ever gets near the pool's 100 units; the check over both must
    # see the sum (about 2 x 45 busy, peaks above 100).
    data = _scenario({"a": _function(180, mean="250ms"), "b": _function(180, mean="250ms")},
                     account={"concurrency_limit": 100})
    assert not _same(data)


def test_the_account_request_rate_shared_by_the_functions_is_noticed():
    # 10 x concurrency requests/s is the account's rate: 20/s for a limit of 2 per unit...
    # here 1 request/s per unit of a 100-unit account: 100 requests/s, which three functions
    # of 40/s exceed only together.
    data = _scenario({n: _function(40, mean="10ms") for n in "abc"},
                     account={"concurrency_limit": 100,
                              "request_rate_limit": {"per_concurrency": 1}})
    assert not _same(data)


def test_a_keep_alive_timer_at_an_arrival_instant_is_run_together():
    # Arrivals every 10 s, handlers of exactly 5 s, keep-alive 5 s: each idle environment's
    # timer falls due at the instant of the next arrival; which goes first rests on event ids.
    tie = {"duration": "5s", "init": "1s", "keep_alive": "5s", "timeout": "30s",
           "triggers": [{"type": "sync", "arrivals": {"process": "constant", "rate": 0.1}}]}
    data = _scenario({"tie": tie, "other": _function(2)})
    assert not _same(data)


def test_reserved_functions_with_rate_limits_of_their_own_run_separately():
    data = _scenario({"a": _function(30, reserved=5), "b": _function(20, reserved=200),
                      "c": _function(5)},
                     account={"concurrency_limit": 1000,
                              "request_rate_limit": {"per_concurrency": 1}})
    assert _same(data)


def test_the_pool_level_built_by_the_check_is_the_merged_function_levels():
    # The check builds the shared pool's concurrency level once; build_result uses it as
    # the account's (and unreserved pool's) level instead of merging the functions' again.
    from lambdasim.engine.metrics import StepLevel

    data = _scenario({"a": _function(20), "b": _function(7, mean="1s"), "c": _function(3)})
    model = Model(lambdasim.load_scenario(data), independent=True).run()
    assert model.separate_runs
    (names, level), = model.merged_busy.items()
    assert names == frozenset("abc")
    build_result(model)
    merged = StepLevel.merge([model.recorders[n].busy_level for n in "abc"])
    for field in ("starts", "ends", "_after_start"):
        assert np.array_equal(getattr(level, field), getattr(merged, field))
    assert model.busy_level({}, ["c", "a", "b"]) is level  # any order of the names
    assert level.highest() == max(merged.max(0.0, model.end_s), 1)


def test_progress_is_reported_in_simulated_time_and_changes_nothing():
    data = _scenario({f"f{i}": _function(3) for i in range(4)}, duration=400)
    seen = []
    assert _same(data, lambda now, events: seen.append((now, events)))
    times = [now for now, _ in seen]
    assert times == sorted(times) and times[-1] >= 400 and len(times) >= 20
    counts = [events for _, events in seen if events is not None]
    assert counts == sorted(counts) and counts[0] > 0


def _random_scenario(seed: int) -> dict:
    """2-5 functions of assorted traffic and handlers; some accounts small enough that the
    shared pool or the account's request rate binds."""
    rng = random.Random(seed)
    account = rng.choice([None, {"concurrency_limit": 100},
                          {"concurrency_limit": 300,
                           "request_rate_limit": {"per_concurrency": 1}},
                          {"scaling": {"burst": 20, "per": "10s", "request_burst": 30}}])
    small = account is not None and account.get("concurrency_limit") == 100
    functions = {}
    for i in range(rng.randint(2, 5)):
        kind = rng.random()
        if kind < 0.3:
            arrivals = {"process": "constant", "rate": rng.choice([1, 2, 5, 10])}
        elif kind < 0.5:
            arrivals = [{"process": "poisson", "rate": rng.uniform(1, 30)},
                        {"process": "burst", "count": rng.randint(10, 300),
                         "at": rng.uniform(10, 200)}]
        else:
            arrivals = {"process": "poisson", "rate": [[0, rng.uniform(1, 40)],
                                                      [100, rng.uniform(0.1, 150)]]}
        function = {
            "duration": rng.choice([{"dist": "exponential", "mean": "150ms"},
                                    {"dist": "lognormal", "median": "300ms", "p99": "4s"},
                                    "1s"]),
            "init": rng.choice(["200ms", "1s", {"dist": "uniform", "low": "100ms",
                                                "high": "2s"}]),
            "keep_alive": rng.choice(["10s", "30s", {"dist": "uniform", "low": "5s",
                                                     "high": "20s"}]),
            "error_rate": rng.choice([0.0, 0.02]),
            "timeout": rng.choice(["3s", "10s"]),
            "triggers": [{"type": "sync", "arrivals": arrivals}],
        }
        if not small and rng.random() < 0.3:
            function["reserved_concurrency"] = rng.randint(1, 40)
        functions[f"fn{i}"] = function
    return _scenario(functions, account, duration=240, seed=seed)


#: Seeds of _random_scenario whose functions run together (a shared limit binds).
TOGETHER_SEEDS = (0, 2, 3, 4, 7, 8, 9, 11)


@pytest.mark.parametrize("seed", range(12))
def test_random_multi_function_scenarios_are_the_same_run(seed):
    assert _same(_random_scenario(seed)) == (seed not in TOGETHER_SEEDS)


class _Recorder:
    """Stands in for a FunctionRecorder after the run: attempts and no throttles."""

    def __init__(self, t):
        self.t = np.asarray(t, dtype=np.float64)
        self.throttles = []

    def table(self, name):
        if name == "attempts":
            return {"t": self.t, "init": np.zeros_like(self.t), "duration": np.full_like(self.t, 0.5)}
        return {"t": np.empty(0), "reason": np.empty(0)}


@pytest.mark.parametrize("chunk", [7, 1 << 20])
@pytest.mark.parametrize("seed", range(8))
def test_the_account_rate_check_agrees_with_the_token_bucket(monkeypatch, chunk, seed):
    # The closed form over merged arrivals must say "never ran out" exactly when a
    # TokenBucket taking them one by one never refuses (up to the rounding margin).
    from types import SimpleNamespace

    from lambdasim.engine import independent
    from lambdasim.engine.account import TokenBucket

    monkeypatch.setattr(independent, "CHECK_CHUNK", chunk)
    rng = np.random.default_rng(seed)
    capacity = float(rng.integers(5, 50))
    streams = [np.sort(rng.uniform(0, 20, rng.integers(20, 200))) for _ in range(3)]
    merged = np.sort(np.concatenate(streams))
    # A rate around the one at which the bucket starts refusing.
    rate = float(rng.uniform(0.5, 1.5) * merged.size / 20)
    bucket = TokenBucket(capacity, rate)
    refused = not all([bucket.take(t) for t in merged])
    model = SimpleNamespace(account=SimpleNamespace(request_rate=TokenBucket(capacity, rate)),
                            recorders={i: _Recorder(s) for i, s in enumerate(streams)})
    assert independent._request_rate_never_ran_out(model, {}) == (not refused)


def test_the_pool_check_finds_a_pool_that_filled():
    data = _scenario({"a": _function(180, mean="250ms"), "b": _function(180, mean="250ms")},
                     account={"concurrency_limit": 100})
    assert not _same(data)
    assert _same(_scenario({"a": _function(20), "b": _function(20)},
                           account={"concurrency_limit": 100}))


@pytest.mark.parametrize("seed", range(20))
def test_the_quick_rate_bound_never_passes_a_bucket_that_refuses(seed):
    # The per-second bound may decline (then the exact check decides); when it passes, a
    # TokenBucket taking the arrivals one by one never refuses.
    from lambdasim.engine.account import TokenBucket
    from lambdasim.engine.independent import _never_out_by_seconds

    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(0, 30, rng.integers(50, 3000)))
    most = int(np.bincount(np.floor(arrivals).astype(int)).max())
    capacity, rate = float(2 * most + rng.integers(0, 4)), float(most + rng.integers(-3, 4))
    passed = _never_out_by_seconds(arrivals, TokenBucket(capacity, max(rate, 1.0)))
    bucket = TokenBucket(capacity, max(rate, 1.0))
    refused = not all([bucket.take(t) for t in arrivals])
    assert not (passed and refused)
    assert passed == (capacity >= 2 * most + 2 and rate >= most + 1)
