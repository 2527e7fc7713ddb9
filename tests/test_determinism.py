"""Reproducibility: same scenario and seed, same bytes; named streams give common random numbers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lambdasim

ROOT = Path(lambdasim.__file__).resolve().parent.parent

#: Cold starts, errors, timeouts, throttles and client retries all happen in this scenario.
BUSY = {
    "name": "busy", "duration": "40s", "warmup": "5s", "seed": 11, "period": "10s",
    "account": {"concurrency_limit": 150, "unreserved_minimum": 100},
    "functions": {
        "api": {
            "memory_mb": 1024, "timeout": "1s", "reserved_concurrency": 40, "error_rate": 0.05,
            "duration": {"dist": "lognormal", "median": "120ms", "p99": "1500ms"},
            "init": {"dist": "exponential", "mean": "300ms"},
            "keep_alive": {"dist": "uniform", "low": "1s", "high": "3s"},
            "reuse": "random",
            "triggers": [{"type": "sync",
                          "arrivals": [{"process": "poisson", "rate": "80/s"},
                                       {"process": "burst", "count": 100, "at": "20s",
                                        "spread": "1s"}],
                          "client_retries": {"max_attempts": 3,
                                             "retry_on": ["throttle", "error"]}}],
        },
        "worker": {
            "duration": {"dist": "exponential", "mean": "400ms"}, "init": "250ms",
            "triggers": [{"type": "sync", "arrivals": {"process": "constant", "rate": "20/s"}}],
        },
    },
}


def _dump(summary: dict) -> str:
    return json.dumps(summary, indent=2, allow_nan=False)


def _run(spec=BUSY, **kwargs) -> dict:
    return lambdasim.simulate(lambdasim.load_scenario(spec), **kwargs).summary


def test_busy_scenario_exercises_every_path():
    api = _run()["functions"]["api"]
    assert api["cold_starts"] > 0 and api["errors"] > 0 and api["throttles"] > 0
    assert api["invocations"] > api["requests"]["succeeded"] + api["requests"]["failed"]


def test_same_seed_gives_byte_identical_summary():
    first, second = _dump(_run()), _dump(_run())
    assert first == second
    # Also for a scenario object reused across runs (no state leaks into it).
    scenario = lambdasim.load_scenario(BUSY)
    assert _dump(lambdasim.simulate(scenario).summary) == _dump(lambdasim.simulate(scenario).summary)
    assert _dump(lambdasim.simulate(scenario).summary) == first


_CHILD = """
import json, sys
import lambdasim
spec = json.loads(sys.stdin.read())
summary = lambdasim.simulate(lambdasim.load_scenario(spec)).summary
sys.stdout.write(json.dumps(summary, indent=2, allow_nan=False))
"""


@pytest.mark.parametrize("hash_seed", ["1", "12345"])
def test_fresh_process_with_other_hash_seed_gives_the_same_bytes(hash_seed):
    """Stream names are hashed with CRC-32, not hash(): PYTHONHASHSEED must not matter."""
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    child = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(BUSY), env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 0, child.stderr
    assert child.stdout == _dump(_run())


def test_different_seeds_differ():
    base = _run()
    other = _run(seed=12)
    assert other["seed"] == 12
    assert (other["functions"]["api"]["requests"]["arrived"],
            other["functions"]["api"]["duration_ms"]) != (
            base["functions"]["api"]["requests"]["arrived"],
            base["functions"]["api"]["duration_ms"])
    # The seed in the scenario and the seed argument are the same thing.
    assert _dump(_run(dict(BUSY, seed=12))) == _dump(other)


def test_replications_differ_and_are_reproducible():
    summaries = [_run(replication=r) for r in range(3)]
    api = [s["functions"]["api"] for s in summaries]
    assert len({(a["requests"]["arrived"], a["duration_ms"]["mean"]) for a in api}) == 3
    assert _dump(_run(replication=2)) == _dump(summaries[2])
    # Replication 0 is the default run.
    assert _dump(summaries[0]) == _dump(_run())


def _single(name: str) -> dict:
    return {"name": "crn", "duration": "60s", "seed": 3,
            "functions": {name: BUSY["functions"]["worker"] | {
                "duration": {"dist": "lognormal", "median": "80ms", "p99": "700ms"},
                "timeout": "30s",
                "triggers": [{"type": "sync",
                              "arrivals": {"process": "poisson", "rate": "25/s"}}]}}}


@pytest.mark.parametrize("first", [True, False])
def test_adding_an_unrelated_function_keeps_the_first_functions_draws(first):
    """Common random numbers: every stream is named by purpose and function.

    Adding a second function (before or after the first in the file) must not change the
    first function's arrivals or its handler-duration draws. The account is large, so the
    functions do not interact through limits.
    """
    alone = lambdasim.simulate(lambdasim.load_scenario(_single("orders")), records=True)
    other = {"dist": "exponential", "mean": "50ms"}
    extra = {"duration": other,
             "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": "40/s"}}]}
    spec = _single("orders")
    spec["functions"] = ({"orders": spec["functions"]["orders"], "audit": extra} if first
                         else {"audit": extra, "orders": spec["functions"]["orders"]})
    both = lambdasim.simulate(lambdasim.load_scenario(spec), records=True)
    a, b = alone.summary["functions"]["orders"], both.summary["functions"]["orders"]
    assert both.summary["functions"]["audit"]["requests"]["arrived"] > 0
    assert b["requests"] == a["requests"]
    for key in ("invocations", "cold_starts", "duration_ms", "init_duration_ms", "latency_ms",
                "concurrency", "environments"):
        assert b[key] == a[key], key
    mine = both.records.columns()
    mine_arrivals = mine["arrived_s"][mine["function"] == "orders"]
    alone_arrivals = alone.records.columns()["arrived_s"]
    assert np.array_equal(np.sort(mine_arrivals), np.sort(alone_arrivals))


def test_changing_memory_keeps_the_arrivals():
    """A 128 MB vs 1024 MB comparison sees the same requests (common random numbers)."""
    small = _run(_single("orders"))["functions"]["orders"]
    spec = _single("orders")
    spec["functions"]["orders"] |= {"memory_mb": 1024, "reference_mb": 128,
                                    "memory_scaling": {"cpu_bound": 1.0}}
    big = _run(spec)["functions"]["orders"]
    assert big["requests"]["arrived"] == small["requests"]["arrived"]
    # The handler draws are the same numbers, scaled: a CPU-bound handler with 8 x the memory
    # of its reference (both below one vCPU, 1,769 MB) runs 8 x faster; no timeouts cap a draw.
    for key in ("p50", "p99", "max"):
        assert big["duration_ms"][key] == pytest.approx(small["duration_ms"][key] / 8, rel=1e-6)


def test_summary_has_no_nan_or_infinity_even_when_nothing_runs():
    """Empty statistics are null, never NaN: a function with reserved 0 and one with no
    arrivals in the measured window (a burst during warmup)."""
    spec = {
        "name": "empty", "duration": "20s", "warmup": "10s",
        "functions": {
            # Reserved concurrency 0 throttles every request
            # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
            "off": {"reserved_concurrency": 0, "duration": "10ms",
                    "triggers": [{"type": "sync",
                                  "arrivals": {"process": "poisson", "rate": "5/s"}}]},
            "early": {"duration": "10ms",
                      "triggers": [{"type": "sync",
                                    "arrivals": {"process": "burst", "count": 5, "at": "1s",
                                                 "spread": "0s"}}]},
        },
    }
    result = lambdasim.simulate(lambdasim.load_scenario(spec))
    text = _dump(result.summary)  # raises ValueError on NaN or infinity
    assert "NaN" not in text and "Infinity" not in text
    off, early = result.summary["functions"]["off"], result.summary["functions"]["early"]
    assert off["requests"]["throttled"] == off["requests"]["arrived"] > 0
    assert off["invocations"] == 0 and off["latency_ms"]["p99"] is None
    assert off["cold_start_rate"] == 0.0 and off["throttle_rate"] == 1.0
    assert early["requests"]["arrived"] == 0 and early["duration_ms"]["mean"] is None
    assert early["concurrency"] == {"max": 0, "mean": 0.0}
    for name, value in _leaves(result.summary):
        assert not (isinstance(value, float) and not np.isfinite(value)), name
    json.dumps(result.series, allow_nan=False, default=int)


def _leaves(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}.{index}")
    else:
        yield path, value
