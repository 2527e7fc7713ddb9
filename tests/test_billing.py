"""Cost: hand-computed bills of small deterministic runs, and the billing helpers.

Prices are us-east-1 from https://aws.amazon.com/lambda/pricing/ (lambdasim/prices/
us-east-1-2025-08.json); Init billing since 2025-08-01 from
https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import lambdasim
from lambdasim.engine.billing import (UsageBill, bill_account, billed_ms, init_is_billed,
                               load_prices, tiered_cost)

PRICES = load_prices("us-east-1-2025-08")
REQUEST = 0.20 / 1e6
X86 = 0.0000166667
ARM = 0.0000133334
STORAGE = 0.0000000309
TOL = 1e-9


def scenario(functions, duration="100s", billing=None):
    data = {"duration": duration, "seed": 3, "functions": functions}
    if billing is not None:
        data["billing"] = billing
    return lambdasim.load_scenario(data)


def function(arrivals, **extra):
    config = {
        "memory_mb": 1024,
        "duration": "100.4ms",
        "init": "250.3ms",
        "timeout": "30s",
        "keep_alive": "600s",
        "max_lifetime": "24h",
        "triggers": [{"type": "sync", "arrivals": arrivals}],
    }
    config.update(extra)
    return config


FIVE_PER_S = {"process": "constant", "rate": "5/s"}


def compute(cost):
    """On-demand compute: handler Duration, billed Init and ephemeral storage items."""
    return cost["duration"] + cost["init"] + cost["ephemeral_storage"]


# --------------------------------------------------------------------------------------
# whole runs
# --------------------------------------------------------------------------------------
def test_constant_run_x86_with_init_billed():
    # 500 requests 0.2 s apart, 100.4 ms each. The first is cold (250.3 + 100.4 ms), so the
    # second, at 0.2 s, finds env 0 still busy and is cold too; all later ones are warm.
    # Warm: ceil(100.4) = 101 ms; cold: ceil(100.4 + 250.3) = 351 ms (Init billed since
    # 2025-08-01). 1024 MB = 1 GB.
    result = lambdasim.simulate(scenario({"f": function(FIVE_PER_S)}))
    block = result.function("f")
    assert block.invocations == 500
    assert block.cold_starts == 2
    billed_s = (498 * 101 + 2 * 351) / 1000.0
    expected_requests = 500 * REQUEST
    expected_duration = billed_s * 1.0 * X86
    cost = block.cost_usd
    assert cost["requests"] == pytest.approx(expected_requests, abs=TOL)
    assert compute(cost) == pytest.approx(expected_duration, abs=TOL)
    # Itemised: handler Duration, and what billing Init adds (351 - 101 ms per cold start).
    assert cost["duration"] == pytest.approx(500 * 0.101 * X86, abs=TOL)
    assert cost["init"] == pytest.approx(2 * 0.250 * X86, abs=TOL)
    assert cost["provisioned"] == 0.0
    assert cost["total"] == pytest.approx(expected_requests + expected_duration, abs=TOL)
    assert result.summary["account"]["cost_usd"]["total"] == pytest.approx(cost["total"], abs=TOL)


def test_init_not_billed_before_2025_08_01():
    result = lambdasim.simulate(scenario({"f": function(FIVE_PER_S)},
                                         billing={"date": "2025-07-31"}))
    cost = result.function("f").cost_usd
    assert cost["duration"] == pytest.approx(500 * 0.101 * X86, abs=TOL)
    assert cost["init"] == 0.0
    assert cost["total"] == pytest.approx(500 * REQUEST + 500 * 0.101 * X86, abs=TOL)


def test_init_billing_date_switch():
    assert init_is_billed(PRICES, "2025-08-01")
    assert init_is_billed(PRICES, "2026-01-15")
    assert not init_is_billed(PRICES, "2025-07-31")


def test_arm64_512mb():
    result = lambdasim.simulate(scenario(
        {"f": function(FIVE_PER_S, memory_mb=512, architecture="arm64")}))
    cost = result.function("f").cost_usd
    billed_s = (498 * 101 + 2 * 351) / 1000.0
    assert compute(cost) == pytest.approx(billed_s * 0.5 * ARM, abs=TOL)
    assert cost["total"] == pytest.approx(500 * REQUEST + billed_s * 0.5 * ARM, abs=TOL)


def test_timeout_billed_for_full_timeout():
    # An invocation that reaches the timeout is billed for the whole timeout (+ Init when cold).
    result = lambdasim.simulate(scenario(
        {"f": function({"process": "constant", "rate": "0.1/s"}, duration="5s", timeout="3s",
                       init="200ms")}))
    block = result.function("f")
    assert block.invocations == 10 and block.errors == 10
    # Only the first attempt is a cold start; later ones re-run Init inside their Duration,
    # which already reaches the timeout, so each is billed exactly 3 s.
    assert block.cold_starts == 1
    billed_s = 3.2 + 9 * 3.0
    assert compute(block.cost_usd) == pytest.approx(billed_s * X86, abs=TOL)


def test_ephemeral_storage_above_512mb():
    result = lambdasim.simulate(scenario(
        {"f": function(FIVE_PER_S, ephemeral_storage_mb=10240)}))
    cost = result.function("f").cost_usd
    billed_s = (498 * 101 + 2 * 351) / 1000.0
    storage = billed_s * (10240 - 512) / 1024.0 * STORAGE
    assert compute(cost) == pytest.approx(billed_s * X86 + storage, abs=TOL)
    assert cost["ephemeral_storage"] == pytest.approx(storage, abs=TOL)


def test_free_tier_covers_small_run():
    result = lambdasim.simulate(scenario({"f": function(FIVE_PER_S)},
                                         billing={"free_tier": True}))
    assert result.function("f").cost_usd["total"] == 0.0
    assert result.summary["account"]["cost_usd"]["total"] == 0.0


def test_functions_add_up_to_account_total():
    result = lambdasim.simulate(scenario({
        "a": function(FIVE_PER_S),
        "b": function({"process": "poisson", "rate": "20/s"}, memory_mb=2048,
                      architecture="arm64", duration={"dist": "uniform", "low": "10ms",
                                                      "high": "900ms"}),
        "c": function({"process": "constant", "rate": "3/s"}, memory_mb=300),
    }))
    totals = [result.function(n).cost_usd["total"] for n in ("a", "b", "c")]
    assert all(t > 0 for t in totals)
    assert result.summary["account"]["cost_usd"]["total"] == pytest.approx(sum(totals), abs=3e-9)
    for name in ("a", "b", "c"):
        cost = result.function(name).cost_usd
        assert cost["total"] == pytest.approx(cost["requests"] + compute(cost)
                                              + cost["provisioned"], abs=5e-9)


def test_throttled_attempts_not_billed():
    # Reserved 1 and 10 simultaneous requests: 1 invocation (cold), 9 throttles, none billed.
    result = lambdasim.simulate(scenario(
        {"f": function({"process": "burst", "count": 10, "at": "0s"}, reserved_concurrency=1)}))
    block = result.function("f")
    assert block.invocations == 1
    assert block.throttles == 9
    assert block.cost_usd["requests"] == pytest.approx(REQUEST, abs=TOL)
    assert compute(block.cost_usd) == pytest.approx(0.351 * X86, abs=TOL)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def test_billed_ms_rounds_each_duration_up():
    assert billed_ms(0.1) == 100
    assert billed_ms(0.1000001) == 101
    assert billed_ms(0.1004) == 101
    assert billed_ms(0.0001) == 1
    assert billed_ms(3.0) == 3000
    np.testing.assert_array_equal(billed_ms(np.array([0.001, 0.0011, 0.35070, 0.3507001])),
                                  [1, 2, 351, 351])
    # Rounding is per invocation: 1,000 x 100.4 ms is 101,000 ms, not 100,400.
    assert billed_ms(np.full(1000, 0.1004)).sum() == 101000


def test_tiered_cost_across_bounds():
    tiers = PRICES["duration_usd_per_gb_s"]["x86_64"]
    p1, p2, p3 = X86, 0.000015, 0.0000133334
    assert tiered_cost(0.0, tiers) == 0.0
    assert tiered_cost(1000.0, tiers) == pytest.approx(1000 * p1, rel=1e-12)
    assert tiered_cost(6e9, tiers) == pytest.approx(6e9 * p1, rel=1e-12)
    assert tiered_cost(7e9, tiers) == pytest.approx(6e9 * p1 + 1e9 * p2, rel=1e-12)
    assert tiered_cost(15e9, tiers) == pytest.approx(6e9 * p1 + 9e9 * p2, rel=1e-12)
    assert tiered_cost(20e9, tiers) == pytest.approx(6e9 * p1 + 9e9 * p2 + 5e9 * p3, rel=1e-12)
    arm = PRICES["duration_usd_per_gb_s"]["arm64"]
    assert tiered_cost(8e9, arm) == pytest.approx(7.5e9 * ARM + 0.5e9 * 0.0000120001,
                                                  rel=1e-12)


def _usage(name, requests, gb_s, arch="x86_64", memory_mb=1024, storage_mb=512):
    billed_ms_total = gb_s / (memory_mb / 1024.0) * 1000.0
    return UsageBill(name, arch, memory_mb, storage_mb, requests, billed_ms_total, 512)


def test_free_tier_subtracts_requests_and_gb_s():
    usage = _usage("f", 3_000_000, 1_000_000.0)
    without = bill_account([usage], PRICES, free_tier=False)["f"]
    assert without["requests"] == pytest.approx(3_000_000 * REQUEST, rel=1e-12)
    assert without["duration"] == pytest.approx(1_000_000 * X86, rel=1e-12)
    free = bill_account([usage], PRICES, free_tier=True)["f"]
    assert free["requests"] == pytest.approx(2_000_000 * REQUEST, rel=1e-12)
    assert free["duration"] == pytest.approx(600_000 * X86, rel=1e-12)
    assert free["total"] == pytest.approx(free["requests"] + free["duration"], rel=1e-12)


def test_free_tier_and_tiers_shared_across_functions():
    usages = [_usage("a", 600_000, 300_000.0), _usage("b", 1_400_000, 500_000.0,
                                                      memory_mb=2048)]
    bill = bill_account(usages, PRICES, free_tier=True)
    total_requests = (2_000_000 - 1_000_000) * REQUEST
    total_duration = (800_000 - 400_000) * X86
    assert bill["a"]["requests"] + bill["b"]["requests"] == pytest.approx(total_requests)
    assert bill["a"]["duration"] + bill["b"]["duration"] == pytest.approx(total_duration)
    # shares are proportional to use
    assert bill["a"]["duration"] / bill["b"]["duration"] == pytest.approx(300 / 500)
    # Tiers apply to the architecture's account-wide total.
    big = [_usage("a", 0, 4e9), _usage("b", 0, 4e9)]
    bill = bill_account(big, PRICES, free_tier=False)
    assert bill["a"]["duration"] + bill["b"]["duration"] == pytest.approx(
        6e9 * X86 + 2e9 * 0.000015, rel=1e-12)


def test_storage_usage():
    usage = _usage("f", 10, 2.0, storage_mb=1536)  # 2 GB-s at 1 GB memory -> 2 s billed
    assert usage.storage_gb_s == pytest.approx(2.0 * 1.0)
    bill = bill_account([usage], PRICES, free_tier=False)["f"]
    assert bill["duration"] == pytest.approx(2.0 * X86, rel=1e-12)
    assert bill["ephemeral_storage"] == pytest.approx(2.0 * STORAGE, rel=1e-12)
    assert math.isclose(bill["total"], bill["requests"] + compute(bill))
