"""Shared downstream capacity: pools and rate quotas that invocations use (``dependencies:``).

Not a Lambda rule but the user's own capacity [assumption, LAMBDA_MODEL.md section 10]; the
Lambda rules it meets are the documented ones: a function error is retried by its invocation
model or not (https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html), time in
the handler is billed Duration (https://aws.amazon.com/lambda/pricing/) and counts towards the
function timeout (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
A pool drained by invocations is an M/M/c queue when arrivals are Poisson and handler times
exponential: the wait agrees with Erlang C within a replication confidence interval.
"""
from __future__ import annotations

import numpy as np
import pytest

import lambdasim
from lambdasim import theory
from lambdasim.scenario import ScenarioError


def scenario(rate, duration="100ms", dependencies=None, uses=("db",), horizon="20s",
             warmup="0s", **function):
    body = {"memory_mb": 1024, "duration": duration, "init": "0s", "timeout": "900s",
            "keep_alive": "600s", "max_lifetime": "24h", "uses": list(uses),
            "triggers": [{"type": "sync", "arrivals": rate}]}
    body.update(function)
    return {"name": "deps", "duration": horizon, "warmup": warmup, "seed": 5,
            "dependencies": dependencies or {"db": {"type": "pool", "capacity": 50,
                                                    "acquire_timeout": "1h"}},
            "functions": {"api": body}}


def conserved(block):
    r = block["requests"]
    assert r["arrived"] == (r["succeeded"] + r["failed"] + r["throttled"] + r["dropped"]
                            + r["in_flight"])


def test_a_pool_of_50_waits_exactly_when_concurrency_exceeds_it():
    # Constant arrivals and handler times: 400/s x 100 ms = 40 concurrent, below 50: no wait.
    calm = lambdasim.simulate(scenario({"process": "constant", "rate": "400/s"})).summary
    db = calm["dependencies"]["db"]
    assert calm["functions"]["api"]["concurrency"]["max"] <= 50
    assert db["waits"]["count"] == 0 and db["rejected"] == 0
    assert db["in_use"]["max"] == calm["functions"]["api"]["concurrency"]["max"]
    # 600/s x 100 ms = 60 wanted: the pool caps at 50 and the rest wait.
    busy = lambdasim.simulate(scenario({"process": "constant", "rate": "600/s"},
                                       horizon="5s")).summary
    db = busy["dependencies"]["db"]
    assert busy["functions"]["api"]["concurrency"]["max"] > 50
    assert db["in_use"]["max"] == 50
    assert db["waits"]["count"] > 0
    conserved(busy["functions"]["api"])


def test_a_pool_never_has_more_units_in_use_than_its_capacity():
    config = scenario({"process": "poisson", "rate": [[0, "100/s"], ["5s", "2000/s"],
                                                      ["10s", "100/s"]]},
                      duration={"dist": "exponential", "mean": "80ms"}, horizon="15s",
                      dependencies={"db": {"type": "pool", "capacity": 50,
                                           "acquire_timeout": "300ms"}})
    result = lambdasim.simulate(config)
    db = result.summary["dependencies"]["db"]
    assert db["in_use"]["max"] == 50
    assert max(result.dependency_series["InUse_max"]) == 50
    assert db["rejected"] > 0
    block = result.summary["functions"]["api"]
    # A rejected acquisition is a function error of its invocation (no client retries here).
    assert block["errors"] == db["rejected"] == block["requests"]["failed"]
    assert db["acquired"] + db["rejected"] == block["invocations"]
    conserved(block)


@pytest.mark.slow
def test_pool_wait_agrees_with_erlang_c():
    # M/M/c: Poisson arrivals at 160/s, exponential handlers of 100 ms, a pool of 20 (load 16
    # Erlangs). Lambda's own concurrency is far larger, so the pool is the only queue.
    config = scenario({"process": "poisson", "rate": "160/s"},
                      duration={"dist": "exponential", "mean": "100ms"}, horizon="300s",
                      warmup="20s",
                      dependencies={"db": {"type": "pool", "capacity": 20,
                                           "acquire_timeout": "1h"}})
    waited, mean_wait = [], []
    for replication in range(6):
        db = lambdasim.simulate(config, replication=replication).summary["dependencies"]["db"]
        waited.append(db["waits"]["count"] / db["acquired"])
        mean_wait.append(db["wait_ms"]["mean"] / 1000.0)
    assert theory.ci_contains(waited, theory.erlang_c(20, 16.0))
    assert theory.ci_contains(mean_wait, theory.mmc_mean_wait(20, 160.0, 0.1))


def test_the_wait_is_billed_and_counts_towards_the_timeout():
    # One connection, two requests at once of 1 s each: the second waits 1 s and is billed 2 s.
    config = scenario({"process": "burst", "count": 2, "at": "0s"}, duration="1s",
                      horizon="1s",
                      dependencies={"db": {"type": "pool", "capacity": 1,
                                           "acquire_timeout": "10s"}})
    block = lambdasim.simulate(config).summary["functions"]["api"]
    assert block["duration_ms"]["max"] == pytest.approx(2000.0)
    assert block["cost_usd"]["duration"] == pytest.approx(3 * 0.0000166667, rel=1e-4)
    # A 1.5 s function timeout ends the waiting one as a timeout at 1.5 s.
    config["functions"]["api"]["timeout"] = "1.5s"
    block = lambdasim.simulate(config).summary["functions"]["api"]
    assert block["errors"] == 1 and block["duration_ms"]["max"] == pytest.approx(1500.0)


def test_acquire_timeout_fails_the_invocation_and_async_retries_it():
    # invocation-async-error-handling.html: a function error is retried (twice by default).
    config = scenario({"process": "burst", "count": 2, "at": "0s"}, duration="10s",
                      horizon="1s",
                      dependencies={"db": {"type": "pool", "capacity": 1,
                                           "acquire_timeout": "500ms"}})
    config["functions"]["api"]["triggers"] = [
        {"type": "async", "arrivals": {"process": "burst", "count": 2, "at": "0s"}}]
    result = lambdasim.simulate(config)
    block = result.summary["functions"]["api"]
    db = result.summary["dependencies"]["db"]
    assert db["rejected"] == 1
    assert block["invocations"] == 3  # the rejected one came back about a minute later
    assert block["requests"]["succeeded"] == 2
    conserved(block)


def test_several_functions_share_one_pool_and_one_function_uses_several():
    config = scenario({"process": "constant", "rate": "400/s"}, horizon="5s",
                      uses=("db", "partner"),
                      dependencies={"db": {"type": "pool", "capacity": 30,
                                           "acquire_timeout": "5s"},
                                    "partner": {"type": "rate", "rate": "1000/s"}})
    other = dict(config["functions"]["api"], uses=["db"])
    config["functions"]["worker"] = other
    summary = lambdasim.simulate(config).summary
    db = summary["dependencies"]["db"]
    assert db["users"] == ["api", "worker"]
    assert db["in_use"]["max"] == 30 and db["waits"]["count"] > 0
    assert summary["dependencies"]["partner"]["users"] == ["api"]
    assert summary["dependencies"]["partner"]["acquired"] == (
        summary["functions"]["api"]["invocations"])


@pytest.mark.parametrize("on_limit", ["fail", "wait"])
def test_a_rate_quota_fails_or_waits_over_its_rate(on_limit):
    config = scenario({"process": "constant", "rate": "200/s"}, horizon="10s", uses=("partner",),
                      dependencies={"partner": {"type": "rate", "rate": "100/s", "burst": 10,
                                                "on_limit": on_limit, "max_wait": "200ms"}})
    summary = lambdasim.simulate(config).summary
    partner = summary["dependencies"]["partner"]
    block = summary["functions"]["api"]
    # At most burst + rate x time calls get through (the last waits end 200 ms after the
    # last arrival).
    assert partner["acquired"] <= 10 + 100 * 10.2 + 1
    assert partner["acquired"] == pytest.approx(1000, rel=0.03)
    assert partner["rejected"] == block["errors"] > 0
    if on_limit == "wait":
        assert partner["waits"]["count"] > 0
        assert partner["waits"]["max_ms"] <= 200.0 + 1e-6
    else:
        assert partner["waits"]["count"] == 0
    conserved(block)


def test_reserved_concurrency_past_the_database_adds_cost_and_errors_not_throughput():
    # The lesson of scenarios/database_bottleneck.yaml, in small: 100 connections held 100 ms
    # serve at most 1,000 requests/s, whatever Lambda's concurrency.
    def run(reserved):
        config = scenario({"process": "poisson", "rate": "1300/s"},
                          duration={"dist": "exponential", "mean": "100ms"}, horizon="20s",
                          warmup="5s", reserved_concurrency=reserved,
                          dependencies={"db": {"type": "pool", "capacity": 100,
                                               "acquire_timeout": "200ms"}})
        return lambdasim.simulate(config).summary
    low, high = run(100), run(400)
    lo, hi = low["functions"]["api"], high["functions"]["api"]
    # Served requests per second stay at the database's 1,000/s (15 s measured): at reserved
    # 100 the excess is throttled by Lambda (an Erlang-B loss, ~975/s served), at 400 it waits
    # for a connection, billed, and gives up after 200 ms: a few per cent more throughput, much more cost and errors.
    assert hi["requests"]["succeeded"] <= 1000 * 15 * 1.03
    assert hi["requests"]["succeeded"] <= lo["requests"]["succeeded"] * 1.10
    assert hi["errors"] > lo["errors"]
    assert hi["cost_usd"]["total"] > lo["cost_usd"]["total"] * 1.2
    assert high["dependencies"]["db"]["in_use"]["max"] == 100


def test_bad_dependency_input_names_the_key():
    with pytest.raises(ScenarioError, match=r"functions\.api\.uses\.0: no dependency 'cache'"):
        lambdasim.load_scenario(scenario({"process": "constant", "rate": "1/s"},
                                         uses=("cache",)))
    with pytest.raises(ScenarioError, match=r"dependencies\.db\.capacity"):
        lambdasim.load_scenario(scenario({"process": "constant", "rate": "1/s"},
                                         dependencies={"db": {"type": "pool", "capacity": 0}}))


def test_functions_without_dependencies_run_unchanged():
    config = scenario({"process": "poisson", "rate": "50/s"}, uses=(), horizon="5s")
    a = lambdasim.simulate(config).summary
    del config["dependencies"]
    b = lambdasim.simulate(config).summary
    # A declared but unused dependency is reported (idle); the functions' figures are the same.
    assert a["dependencies"]["db"]["acquired"] == 0 and a["dependencies"]["db"]["users"] == []
    assert "dependencies" not in b and a["functions"] == b["functions"]
    assert np.isfinite(a["functions"]["api"]["latency_ms"]["p99"])


def test_expect_checks_can_name_a_dependency():
    config = scenario({"process": "constant", "rate": "600/s"}, horizon="3s")
    config["expect"] = ["dependencies.db.in_use.max <= 50", "dependencies.db.rejected == 0"]
    result = lambdasim.simulate(config)
    assert [check.passed for check in result.check()] == [True, True]


def test_provisioned_environments_wait_for_the_pool_too():
    # provisioned-concurrency.html: provisioned environments skip Init, not the handler; a
    # handler waiting for a connection on one is billed at the provisioned execution rate.
    config = scenario({"process": "burst", "count": 2, "at": "1s"}, duration="1s",
                      horizon="2s", init="2s", provisioned_concurrency=2,
                      dependencies={"db": {"type": "pool", "capacity": 1,
                                           "acquire_timeout": "10s"}})
    summary = lambdasim.simulate(config).summary
    block = summary["functions"]["api"]
    assert block["cold_starts"] == 0 and block["provisioned"]["invocations"] == 2
    assert block["duration_ms"]["max"] == pytest.approx(2000.0)
    assert summary["dependencies"]["db"]["waits"]["count"] == 1
