"""One test per documented Lambda rule that lambdasim reproduces (LAMBDA_MODEL.md sections 1-4).

Each test cites the AWS page it checks (https://docs.aws.amazon.com/lambda/latest/dg/<page>).
Scenarios are small and deterministic (constant durations, constant or burst arrivals) so that
the expected counts and times can be worked out by hand.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import lambdasim
from lambdasim.engine.function import (COLD, ERROR, SUPPRESSED_INIT, THROTTLE_CONCURRENCY,
                                THROTTLE_RATE, THROTTLE_SCALING, TIMEOUT)
from lambdasim.engine.model import Model
from lambdasim.results.result import build_result


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def function(arrivals, **overrides):
    """A function config with constant timings and one sync trigger."""
    config = {
        "memory_mb": 1024,
        "duration": "100ms",
        "init": "100ms",
        "timeout": "900s",
        "keep_alive": "600s",
        "max_lifetime": "24h",
        "triggers": [{"type": "sync", "arrivals": arrivals}],
    }
    retries = overrides.pop("client_retries", None)
    if retries is not None:
        config["triggers"][0]["client_retries"] = retries
    config.update(overrides)
    return config


def scenario(functions, duration="60s", **top):
    data = {"duration": duration, "seed": 7, "functions": functions}
    data.update(top)
    return lambdasim.load_scenario(data)


def run_model(functions, duration="60s", **top):
    return Model(scenario(functions, duration, **top)).run()


def burst(count, at="0s"):
    return {"process": "burst", "count": count, "at": at}


def constant(rate, start=None, end=None):
    spec = {"process": "constant", "rate": rate}
    if start is not None:
        spec["start"] = start
    if end is not None:
        spec["end"] = end
    return spec


def created_by(model, name, t):
    created, _ = model.recorders[name].environments()
    return int(np.count_nonzero(created <= t))


# --------------------------------------------------------------------------------------
# 1. Scale-out rate: 1,000 environments per 10 s per function, refilled at 100/s
# --------------------------------------------------------------------------------------
def test_scale_out_1000_at_once_then_100_per_second():
    # https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
    # "each function can scale up by 1,000 execution environment instances every 10 seconds"
    model = run_model(
        {"f": function([burst(5000), constant("2000/s", start="1ms")], duration="60s")},
        duration="10.5s", account={"concurrency_limit": 20000})
    throttles = model.recorders["f"].table("throttles")
    at_zero = throttles["t"] == 0.0
    assert created_by(model, "f", 0.0) == 1000
    assert int(np.count_nonzero(at_zero)) == 4000
    assert set(throttles["reason"][at_zero].astype(int)) == {THROTTLE_SCALING}
    # Only the scale-out rate binds: every throttle of the run is a scaling throttle.
    assert set(throttles["reason"].astype(int)) == {THROTTLE_SCALING}
    # Tokens refill continuously at 100 per second, unused capacity is not accrued.
    for t in (2.0, 5.0, 10.0):
        assert abs(created_by(model, "f", t) - (1000 + 100 * t)) <= 1, t
    result = build_result(model)
    block = result.summary["functions"]["f"]
    assert block["cold_starts"] == block["environments"]["created"] == created_by(model, "f", 11)


# --------------------------------------------------------------------------------------
# 2. Legacy rule: account-wide burst of 3,000, then +500 per minute
# --------------------------------------------------------------------------------------
def test_regional_burst_legacy_rule():
    # https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html (2022 edition):
    # "an initial burst of 500-3,000 ... then 500 additional instances each minute";
    # AWS's example: 10,000 requests at once with a burst of 3,000 -> 3,000 served, 7,000
    # throttled.
    model = run_model(
        {"f": function([burst(10000), constant("100/s", start="1ms")], duration="600s")},
        duration="150s",
        account={"concurrency_limit": 20000,
                 "scaling": {"model": "regional-burst", "burst": 3000, "per_minute": 500}})
    throttles = model.recorders["f"].table("throttles")
    attempts = model.recorders["f"].table("attempts")
    assert int(np.count_nonzero(attempts["t"] == 0.0)) == 3000
    assert int(np.count_nonzero(throttles["t"] == 0.0)) == 7000
    assert set(throttles["reason"].astype(int)) == {THROTTLE_SCALING}
    for t in (60.0, 120.0, 150.0):
        assert abs(created_by(model, "f", t) - (3000 + 500 * t / 60.0)) <= 1, t


# --------------------------------------------------------------------------------------
# 3. Reserved concurrency: caps, guarantees, reserved 0, unreserved pool, validation
# --------------------------------------------------------------------------------------
def test_reserved_concurrency_caps_and_guarantees():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    # Reserved concurrency is both the function's maximum and a guarantee: other functions
    # cannot use it. Functions without a reservation share limit - sum(reserved).
    result = lambdasim.simulate(scenario({
        # The unreserved function floods the account first ...
        "greedy": function([burst(2000)], duration="30s"),
        # ... the reserved one still gets its 50, and never more.
        "reserved": function([burst(200, at="1s")], duration="30s", reserved_concurrency=50),
    }))
    greedy = result.function("greedy")
    reserved = result.function("reserved")
    assert reserved.concurrency["max"] == 50
    assert reserved.invocations == 50
    assert reserved.requests["throttled"] == 150
    assert greedy.concurrency["max"] == 1000 - 50
    assert greedy.requests["throttled"] == 2000 - 950
    assert result.summary["account"]["concurrency"]["max"] == 1000


def test_reserved_concurrency_throttle_reason_is_concurrency():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    model = run_model({"f": function([burst(30)], duration="10s", reserved_concurrency=10)})
    reasons = model.recorders["f"].table("throttles")["reason"].astype(int)
    assert len(reasons) == 20
    assert set(reasons) == {THROTTLE_CONCURRENCY}


def test_reserved_zero_throttles_everything():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    # "If you set reserved concurrency to 0, the function is throttled" (no invocations).
    result = lambdasim.simulate(scenario(
        {"off": function(constant("10/s"), reserved_concurrency=0)}, duration="10s"))
    off = result.function("off")
    assert off.requests["arrived"] == 100
    assert off.requests["throttled"] == 100
    assert off.invocations == 0
    assert off.throttles == 100


def test_reservation_must_leave_unreserved_minimum():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    # "Lambda keeps at least 100 units unreserved"
    ok = scenario({"a": function(burst(1), reserved_concurrency=600),
                   "b": function(burst(1), reserved_concurrency=300)})
    assert ok.config["functions"]["a"]["reserved_concurrency"] == 600
    with pytest.raises(lambdasim.ScenarioError, match="unreserved"):
        scenario({"a": function(burst(1), reserved_concurrency=600),
                  "b": function(burst(1), reserved_concurrency=301)})
    with pytest.raises(lambdasim.ScenarioError):
        scenario({"a": function(burst(1), reserved_concurrency=950)})


def test_unreserved_functions_share_limit_minus_reserved():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    result = lambdasim.simulate(scenario({
        "r": function([burst(1)], reserved_concurrency=300),
        "u1": function([burst(400)], duration="30s"),
        "u2": function([burst(400, at="1s")], duration="30s"),
    }))
    u1, u2 = result.function("u1"), result.function("u2")
    assert u1.concurrency["max"] == 400
    assert u2.concurrency["max"] == 1000 - 300 - 400
    assert u2.requests["throttled"] == 100


# --------------------------------------------------------------------------------------
# 4. Request-rate limit: 10 x concurrency requests per second
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("enabled", [True, False])
def test_request_rate_limit_ten_times_concurrency(enabled):
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    # "requests per second ... 10 times your concurrency"; reserved 5 -> 50 requests/s.
    seconds = 20
    model = run_model(
        {"f": function(constant("200/s"), duration="1ms", init="1ms", reserved_concurrency=5)},
        duration=f"{seconds}s",
        account={"request_rate_limit": {"enabled": enabled}})
    attempts = model.recorders["f"].table("attempts")
    throttles = model.recorders["f"].table("throttles")
    admitted = len(attempts["t"])
    if not enabled:
        assert admitted == 200 * seconds
        assert len(throttles["t"]) == 0
        return
    # A bucket of one second (50) that starts full, then 50/s.
    assert 50 * seconds <= admitted <= 50 * seconds + 51
    assert set(throttles["reason"].astype(int)) == {THROTTLE_RATE}
    # Once the initial second of tokens is spent: 50/s.
    late = attempts["t"][attempts["t"] >= 10.0]
    assert abs(len(late) - 50 * (seconds - 10)) <= 1
    assert admitted + len(throttles["t"]) == 200 * seconds


# --------------------------------------------------------------------------------------
# 5. Warm reuse and keep-alive reclaim
# --------------------------------------------------------------------------------------
def test_warm_reuse_within_keep_alive():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    # An idle (frozen) environment is reused by the next request; reclaimed after keep-alive.
    model = run_model(
        {"f": function(constant("0.1/s", end="45s"), duration="100ms", keep_alive="30s")},
        duration="100s")
    attempts = model.recorders["f"].table("attempts")
    created, ended = model.recorders["f"].environments()
    assert len(attempts["t"]) == 5
    assert int(np.count_nonzero(attempts["code"].astype(int) & COLD)) == 1
    assert len(created) == 1
    # Last request at 40 s, released at 40.1 s, reclaimed keep_alive later.
    assert ended[0] == pytest.approx(40.1 + 30.0, abs=1e-9)


def test_each_request_cold_when_spaced_beyond_keep_alive():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    model = run_model(
        {"f": function(constant("0.1/s"), duration="100ms", init="200ms", keep_alive="5s")},
        duration="100s")
    attempts = model.recorders["f"].table("attempts")
    created, ended = model.recorders["f"].environments()
    assert len(attempts["t"]) == 10
    assert np.all(attempts["code"].astype(int) & COLD)
    assert len(created) == 10
    np.testing.assert_allclose(created, np.arange(10) * 10.0)
    # environment end = last release (created + init + duration) + keep_alive
    np.testing.assert_allclose(ended, created + 0.2 + 0.1 + 5.0, atol=1e-9)


# --------------------------------------------------------------------------------------
# 6. max_lifetime: retired after the invocation that crosses it
# --------------------------------------------------------------------------------------
def test_max_lifetime_retires_after_crossing_invocation():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    # environments are terminated periodically ("every few hours") even when in use;
    # lambdasim retires them after the invocation in progress.
    # One request per second, 0.5 s each, lifetime 10.25 s: the invocation starting at 10 s
    # crosses 10.25 s, so env 0 ends at 10.5 s and the request at 11 s cold-starts env 1.
    model = run_model(
        {"f": function(constant("1/s"), duration="500ms", init="100ms",
                       max_lifetime="10.25s", keep_alive="300s")},
        duration="60s")
    created, ended = model.recorders["f"].environments()
    attempts = model.recorders["f"].table("attempts")
    np.testing.assert_allclose(created, np.arange(len(created)) * 11.0)
    done = ~np.isnan(ended)
    assert done.sum() >= 4
    # The first invocation of each environment carries the 0.1 s Init.
    np.testing.assert_allclose(ended[done] - created[done], 10.5, atol=1e-9)
    cold_at = attempts["t"][(attempts["code"].astype(int) & COLD) != 0]
    np.testing.assert_allclose(cold_at, created)


def test_max_lifetime_bound_under_continuous_traffic():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    lifetime, run = 5.0, 0.3
    model = run_model(
        {"f": function(constant("20/s"), duration=f"{run}s", init="50ms",
                       max_lifetime=f"{lifetime}s")},
        duration="60s")
    created, ended = model.recorders["f"].environments()
    done = ~np.isnan(ended)
    assert done.sum() > 10
    lived = ended[done] - created[done]
    assert np.all(lived >= lifetime - 1e-9)
    assert np.all(lived <= lifetime + run + 1e-9)


# --------------------------------------------------------------------------------------
# 7. Timeout and suppressed init
# --------------------------------------------------------------------------------------
def test_timeout_then_suppressed_init():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    # (and configuration-timeout.html): an invocation that reaches the timeout ends with
    # Status: timeout; the environment is reset and the next invocation re-runs Init inside
    # its Duration ("suppressed init").
    # Sequential requests 10 s apart reuse one environment; handler 1-5 s against a 3 s
    # timeout, so about half of the invocations time out.
    model = run_model(
        {"f": function(constant("0.1/s"), duration={"dist": "uniform", "low": "1s", "high": "5s"},
                       init="200ms", timeout="3s")},
        duration="400s")
    attempts = model.recorders["f"].table("attempts")
    codes = attempts["code"].astype(int)
    durations = attempts["duration"]
    created, _ = model.recorders["f"].environments()
    assert len(created) == 1
    assert len(codes) == 40
    timed_out = (codes & TIMEOUT) != 0
    suppressed = (codes & SUPPRESSED_INIT) != 0
    assert 5 <= timed_out.sum() <= 35
    assert codes[0] & COLD and not np.any(codes[1:] & COLD)
    # Status timeout at exactly the timeout.
    assert np.all(durations[timed_out] == 3.0)
    assert np.all(durations[~timed_out] < 3.0)
    # The invocation after a timeout (and only that one) re-runs Init inside its Duration.
    np.testing.assert_array_equal(suppressed[1:], timed_out[:-1])
    assert not suppressed[0]
    assert np.all(attempts["init"][1:] == 0.0)
    assert np.all(durations[suppressed] >= 0.2 + 1.0 - 1e-12)
    assert np.all(durations[~suppressed & ~timed_out] >= 1.0 - 1e-12)
    block = build_result(model).summary["functions"]["f"]
    assert block["errors"] == int(timed_out.sum())
    assert block["requests"]["failed"] == int(timed_out.sum())
    assert block["requests"]["succeeded"] == 40 - int(timed_out.sum())
    assert block["cold_starts"] == 1
    assert block["duration_ms"]["max"] == pytest.approx(3000.0)


def test_timeout_exact_and_next_invocation_suppressed():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    # Constant 5 s handler, 3 s timeout: every invocation times out at exactly 3 s; the first
    # is a cold start, the later ones re-run Init (suppressed init), none is a cold start.
    model = run_model(
        {"f": function(constant("0.1/s"), duration="5s", init="200ms", timeout="3s")},
        duration="30s")
    attempts = model.recorders["f"].table("attempts")
    codes = attempts["code"].astype(int).tolist()
    assert codes == [COLD | TIMEOUT] + [SUPPRESSED_INIT | TIMEOUT] * 2
    assert attempts["duration"].tolist() == [3.0, 3.0, 3.0]
    assert attempts["init"].tolist() == pytest.approx([0.2, 0.0, 0.0])


# --------------------------------------------------------------------------------------
# 8. Init limited to 10 s, re-run inside the first invoke
# --------------------------------------------------------------------------------------
def test_init_over_ten_seconds_reruns_in_first_invoke():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    # "The Init phase is limited to 10 seconds. If all three tasks do not complete within
    # 10 seconds, Lambda retries the Init phase at the time of the first function invocation
    # with the configured function timeout."
    result = lambdasim.simulate(scenario(
        {"f": function(burst(1), duration="1s", init="12s", timeout="60s")}), records=True)
    block = result.function("f")
    assert block.init_duration_ms["max"] == pytest.approx(10000.0)
    assert block.duration_ms["max"] == pytest.approx(13000.0)
    assert block.cold_starts == 1
    records = result.records.columns()
    assert records["latency_ms"][0] == pytest.approx(10000.0 + 12000.0 + 1000.0)
    assert bool(records["cold_start"][0])


def test_init_rerun_counts_against_timeout():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    model = run_model({"f": function(burst(1), duration="1s", init="12s", timeout="5s")})
    attempts = model.recorders["f"].table("attempts")
    assert int(attempts["code"][0]) == COLD | SUPPRESSED_INIT | TIMEOUT
    assert attempts["init"][0] == 10.0
    assert attempts["duration"][0] == 5.0


# --------------------------------------------------------------------------------------
# 9. Reuse policies
# --------------------------------------------------------------------------------------
# Three environments start at 0 s (ids 0, 1, 2, released in that order at 0.101 s); two
# requests at 1 s and one at 2 s reuse them. With keep-alive K every environment ends at its
# last release + K, which tells which environment served the later requests:
#   mru:    1 s takes 2 then 1 (released 2, 1); 2 s takes 1   -> last uses 0 s, 2 s, 1 s
#   lru:    1 s takes 0 then 1 (queue 2, 0, 1); 2 s takes 2   -> last uses 1 s, 1 s, 2 s
#   newest: 1 s takes 2 then 1;               2 s takes 2    -> last uses 0 s, 1 s, 2 s
REUSE_CASES = {
    "mru": [0.101, 2.1, 1.1],
    "lru": [1.1, 1.1, 2.1],
    "newest": [0.101, 1.1, 2.1],
}


@pytest.mark.parametrize("policy", sorted(REUSE_CASES))
def test_reuse_policy_picks_expected_environment(policy):
    # Which idle environment serves next is undocumented
    # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html);
    # LAMBDA_MODEL.md section 3 defines mru (default), lru, newest and random.
    model = run_model(
        {"f": function([burst(3), burst(2, at="1s"), burst(1, at="2s")], duration="100ms",
                       init="1ms", keep_alive="10s", reuse=policy)},
        duration="30s")
    created, ended = model.recorders["f"].environments()
    assert len(created) == 3
    np.testing.assert_allclose(ended, np.array(REUSE_CASES[policy]) + 10.0, atol=1e-9)


def test_reuse_random_spreads_over_environments():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    # 20 environments, then 40 sequential requests: mru always reuses the same one, random
    # spreads them (an environment used again ends later than the untouched ones).
    def reused(policy):
        model = run_model(
            {"f": function([burst(20), constant("1/s", start="1s", end="41s")],
                           duration="100ms", init="1ms", keep_alive="100s", reuse=policy)},
            duration="200s")
        created, ended = model.recorders["f"].environments()
        assert len(created) == 20
        return int(np.count_nonzero(ended > 100.101 + 1e-6))

    assert reused("mru") == 1
    assert reused("random") >= 8


# --------------------------------------------------------------------------------------
# 10. Memory and duration
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("memory, reference, cpu_bound, threads, expected_ms", [
    (885, 1770, 1.0, 2, 2000.0),             # half the memory, half the CPU: twice as long
    (2048, 1024, 1.0, 2, 500.0),             # below the thread cap: duration halves
    (2048, 1024, 1.0, 1, 1000.0 * 1024 / 1769),  # one thread: no gain past 1,769 MB
    (4096, 1024, 1.0, 1, 1000.0 * 1024 / 1769),
    (2048, 1024, 0.0, 1, 1000.0),            # I/O bound: memory-independent
    (128, 1024, 0.0, 1, 1000.0),
    (2048, 1024, 0.5, 2, 750.0),
])
def test_duration_scales_with_memory(memory, reference, cpu_bound, threads, expected_ms):
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
    # "At 1,769 MB, a function has the equivalent of one vCPU"; CPU is proportional to memory.
    result = lambdasim.simulate(scenario(
        {"f": function(constant("1/s"), duration="1s", memory_mb=memory, reference_mb=reference,
                       memory_scaling={"cpu_bound": cpu_bound, "threads": threads})},
        duration="5s"))
    assert result.function("f").duration_ms["mean"] == pytest.approx(expected_ms, rel=1e-9)


# --------------------------------------------------------------------------------------
# 11. Client (SDK) retries of synchronous invocations
# --------------------------------------------------------------------------------------
def test_sdk_retries_throttles_with_backoff():
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html (Lambda does not retry
    # throttles of synchronous calls) and
    # https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html (SDKs do).
    # Reserved 1, 1 s handler: the second of two simultaneous requests is throttled at 0 s and
    # 0.5 s, and admitted at 1.5 s (backoff 0.5 s then 1 s, no jitter) after env 0 frees.
    result = lambdasim.simulate(scenario(
        {"f": function(burst(2), duration="1s", init="100ms", reserved_concurrency=1,
                       client_retries={"max_attempts": 3, "retry_on": ["throttle"],
                                       "base_delay": "500ms", "jitter": "none"})}),
        records=True)
    block = result.function("f")
    assert block.throttles == 2
    assert block.invocations == 2
    assert block.requests["succeeded"] == 2
    assert block.cold_starts == 1
    records = result.records.columns()
    order = np.argsort(records["attempts"])
    assert list(records["attempts"][order]) == [1, 3]
    np.testing.assert_allclose(records["latency_ms"][order], [1100.0, 2500.0])


def test_sdk_retries_give_up_after_max_attempts():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (reserved 0)
    result = lambdasim.simulate(scenario(
        {"f": function(constant("1/s"), reserved_concurrency=0,
                       client_retries={"max_attempts": 3, "retry_on": ["throttle"]})},
        duration="10s"), records=True)
    block = result.function("f")
    assert block.requests["throttled"] == 10
    assert block.throttles == 30
    assert block.invocations == 0
    records = result.records.columns()
    assert set(records["attempts"].tolist()) == {3}
    assert set(records["outcome"].tolist()) == {"throttled"}


@pytest.mark.parametrize("retry_on, attempts", [(["throttle"], 1), (["throttle", "error"], 3)])
def test_sdk_retries_errors_only_when_asked(retry_on, attempts):
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html: a function error is
    # a 200 response with X-Amz-Function-Error, which SDKs do not retry by default.
    result = lambdasim.simulate(scenario(
        {"f": function(constant("1/s"), error_rate=1.0,
                       client_retries={"max_attempts": 3, "retry_on": retry_on,
                                       "base_delay": "10ms"})},
        duration="10s"), records=True)
    block = result.function("f")
    assert block.requests["failed"] == 10
    assert block.invocations == 10 * attempts
    assert block.errors == 10 * attempts
    assert set(result.records.columns()["attempts"].tolist()) == {attempts}


# --------------------------------------------------------------------------------------
# 12. Error rate
# --------------------------------------------------------------------------------------
def test_error_rate_one_fails_every_request():
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html (function errors)
    result = lambdasim.simulate(scenario(
        {"f": function(constant("5/s"), error_rate=1.0)}, duration="20s"))
    block = result.function("f")
    assert block.requests["arrived"] == 100
    assert block.requests["failed"] == 100
    assert block.requests["succeeded"] == 0
    assert block.errors == block.invocations == 100
    codes = Model(scenario({"f": function(constant("5/s"), error_rate=1.0)},
                           duration="2s")).run().recorders["f"].table("attempts")["code"]
    assert np.all(codes.astype(int) & ERROR)


def test_error_rate_fraction():
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html
    result = lambdasim.simulate(scenario(
        {"f": function(constant("100/s"), duration="5ms", error_rate=0.25)}, duration="40s"))
    block = result.function("f")
    n = block.invocations
    assert n == 4000
    assert abs(block.errors - 0.25 * n) < 4 * math.sqrt(n * 0.25 * 0.75)
