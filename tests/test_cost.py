"""The cost model: itemised bills equal to hand-computed figures, per_30_days, provisioned inputs.

Prices are us-east-1 from https://aws.amazon.com/lambda/pricing/ (lambdasim/prices/
us-east-1-2025-08.json): $0.20 per million requests, duration per GB-s rounded up to 1 ms per
invocation, x86_64 $0.0000166667 and arm64 $0.0000133334 per GB-s in the first tier,
provisioned concurrency $0.0000041667 (arm64 $0.0000033334) per configured GB-s and
$0.0000097222 (arm64 $0.0000077778) per GB-s of execution. Init billing of on-demand cold
starts since 2025-08-01:
https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/.
"""
from __future__ import annotations

import pytest

import lambdasim
from lambdasim.engine.billing import (COST_ITEMS, MONTH_S, UsageBill, available_price_files,
                               bill_account, cost_report, load_prices, provisioned_cost,
                               request_units)

PRICES = load_prices("us-east-1-2025-08")
REQUEST = 0.20 / 1e6
GB_S = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PROVISIONED = {"x86_64": 0.0000041667, "arm64": 0.0000033334}
PROVISIONED_EXEC = {"x86_64": 0.0000097222, "arm64": 0.0000077778}
TOL = 1e-9


def run(memory_mb=1024, architecture="x86_64", duration="123.45ms", init="200.2ms",
        rate="1/s", length="100s", warmup="0s", billing=None, **extra):
    """A deterministic run: constant arrivals, constant duration, only the first call cold."""
    function = {"memory_mb": memory_mb, "architecture": architecture, "duration": duration,
                "init": init, "timeout": "60s", "keep_alive": "1h", "max_lifetime": "24h",
                "triggers": [{"type": "sync",
                              "arrivals": {"process": "constant", "rate": rate}}]}
    function.update(extra)
    data = {"duration": length, "warmup": warmup, "seed": 1, "functions": {"f": function}}
    if billing is not None:
        data["billing"] = billing
    return lambdasim.simulate(lambdasim.load_scenario(data))


@pytest.mark.parametrize("memory_mb,architecture", [(128, "x86_64"), (1536, "arm64"),
                                                    (10240, "x86_64"), (3008, "arm64")])
def test_fixed_invocations_cost_equals_hand_computed(memory_mb, architecture):
    # 100 invocations, 1 s apart, of 123.45 ms: billed 124 ms each; the first is cold and
    # billed ceil(123.45 + 200.2) = 324 ms (Init billed since 2025-08-01).
    result = run(memory_mb, architecture)
    block = result.function("f")
    assert block.invocations == 100 and block.cold_starts == 1
    gb = memory_mb / 1024
    price = GB_S[architecture]
    expected = {
        "requests": 100 * REQUEST,
        "duration": 100 * 0.124 * gb * price,
        "init": (0.324 - 0.124) * gb * price,
        "ephemeral_storage": 0.0,
        "provisioned": 0.0,
    }
    cost = block.cost_usd
    for key, value in expected.items():
        assert cost[key] == pytest.approx(value, abs=TOL), key
    assert cost["total"] == pytest.approx(sum(expected.values()), abs=TOL)
    account = result.summary["account"]["cost_usd"]
    for key in COST_ITEMS + ("total",):
        assert account[key] == pytest.approx(cost[key], abs=TOL)


def test_init_billing_switches_on_at_2025_08_01():
    # https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/
    before = run(billing={"date": "2025-07-31"}).function("f").cost_usd
    on = run(billing={"date": "2025-08-01"}).function("f").cost_usd
    assert before["init"] == 0.0
    assert on["init"] == pytest.approx(0.200 * GB_S["x86_64"], abs=TOL)
    assert on["duration"] == before["duration"]
    assert on["total"] - before["total"] == pytest.approx(0.200 * GB_S["x86_64"], abs=TOL)


def test_rounding_is_per_invocation_up_to_the_next_ms():
    # https://aws.amazon.com/lambda/pricing/: "Duration is ... rounded up to the nearest 1 ms".
    # 100 invocations of 100.01 ms bill 100 x 101 ms = 10.1 s, not 100 x 100.01 ms = 10.001 s.
    cost = run(duration="100.01ms", billing={"date": "2025-07-31"}).function("f").cost_usd
    assert cost["duration"] == pytest.approx(10.1 * GB_S["x86_64"], abs=TOL)
    assert abs(cost["duration"] - 10.001 * GB_S["x86_64"]) > 1e-6
    # An exact millisecond count is not rounded up further.
    exact = run(duration="100ms", billing={"date": "2025-07-31"}).function("f").cost_usd
    assert exact["duration"] == pytest.approx(10.0 * GB_S["x86_64"], abs=TOL)


def test_ephemeral_storage_item():
    cost = run(ephemeral_storage_mb=2560).function("f").cost_usd
    billed_s = 99 * 0.124 + 0.324
    assert cost["ephemeral_storage"] == pytest.approx(billed_s * 2.0 * 0.0000000309, abs=TOL)
    assert cost["total"] == pytest.approx(sum(cost[k] for k in COST_ITEMS), abs=TOL)


def test_per_30_days_projects_the_measured_window():
    # 100 s run, first 20 s warm-up: the rate is measured over [20 s, 100 s) = 80 s with 80
    # invocations of 10 s at 1 GB (all warm: the only cold start arrived in the warm-up).
    # A month is 30 d / 80 s = 32,400 windows: 2,592,000 requests and 25,920,000 GB-s.
    result = run(duration="10s", warmup="20s", billing={"date": "2025-07-31"})
    block = result.function("f")
    assert block.invocations == 80 and block.cold_starts == 0
    month = block.cost_usd["per_30_days"]
    factor = MONTH_S / 80.0
    assert factor == 32400.0
    assert month["requests"] == pytest.approx(80 * factor * REQUEST, abs=TOL)
    assert month["duration"] == pytest.approx(800 * factor * GB_S["x86_64"], abs=1e-6)
    assert month["total"] == pytest.approx(month["requests"] + month["duration"], abs=1e-6)
    assert result.summary["account"]["cost_usd"]["per_30_days"]["total"] == pytest.approx(
        month["total"], abs=1e-6)
    # The free tier applies to the projected month (1 M requests, 400,000 GB-s), not to the
    # 80 s window, which it would cover entirely.
    free = run(duration="10s", warmup="20s",
               billing={"date": "2025-07-31", "free_tier": True}).function("f").cost_usd
    assert free["total"] == 0.0
    assert free["per_30_days"]["requests"] == pytest.approx((2_592_000 - 1_000_000) * REQUEST,
                                                            abs=TOL)
    assert free["per_30_days"]["duration"] == pytest.approx(
        (25_920_000 - 400_000) * GB_S["x86_64"], abs=1e-6)


def test_per_30_days_applies_monthly_tiers():
    # 10,000 GB-s in a 1 s window is 25.92 billion GB-s a month: all three x86_64 tiers
    # (6 B at the first price, 9 B at -10 %, the rest at -20 %).
    usage = UsageBill("f", "x86_64", 1024, 512, 0, 10_000_000.0, 512)
    functions, account = cost_report([usage], PRICES, False, window_s=1.0)
    gb_s = 10_000 * MONTH_S
    expected = 6e9 * 0.0000166667 + 9e9 * 0.000015 + (gb_s - 15e9) * 0.0000133334
    assert functions["f"]["per_30_days"]["duration"] == pytest.approx(expected, rel=1e-12)
    assert functions["f"]["duration"] == pytest.approx(10_000 * 0.0000166667, abs=TOL)
    assert account["per_30_days"]["total"] == functions["f"]["per_30_days"]["total"]


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_provisioned_inputs_at_provisioned_prices(architecture):
    # Configured GB-s at the provisioned rate plus execution GB-s at the provisioned execution
    # rate; spillover (billed_ms_total) at on-demand rates.
    usage = UsageBill("f", architecture, 2048, 512, 1000, 5_000.0, 512,
                      provisioned_configured_gb_s=36_000.0, provisioned_billed_ms=200_000.0)
    bill = bill_account([usage], PRICES, free_tier=False)["f"]
    assert bill["provisioned"] == pytest.approx(
        36_000 * PROVISIONED[architecture] + 200.0 * 2 * PROVISIONED_EXEC[architecture],
        rel=1e-12)
    assert bill["duration"] == pytest.approx(5.0 * 2 * GB_S[architecture], rel=1e-12)
    assert bill["requests"] == pytest.approx(1000 * REQUEST, rel=1e-12)
    assert bill["total"] == pytest.approx(sum(bill[k] for k in COST_ITEMS), rel=1e-12)
    # The provisioned model may also set the GB-seconds after the usage is built.
    late = UsageBill("f", architecture, 2048, 512, 1000, 5_000.0, 512)
    late.provisioned_gb_s = 36_000.0
    late.provisioned_execution_gb_s = 400.0
    assert late.has_provisioned
    assert bill_account([late], PRICES, free_tier=False)["f"]["provisioned"] == pytest.approx(
        provisioned_cost(PRICES, architecture, 36_000.0, 400.0), rel=1e-12)
    assert provisioned_cost(PRICES, architecture, 36_000.0, 400.0) == pytest.approx(
        bill["provisioned"], rel=1e-12)


def test_free_tier_skips_functions_with_provisioned_concurrency():
    # https://aws.amazon.com/lambda/pricing/: the free tier does not apply to functions that
    # have provisioned concurrency enabled.
    plain = UsageBill("plain", "x86_64", 1024, 512, 500_000, 100_000_000.0, 512)
    provisioned = UsageBill("pc", "x86_64", 1024, 512, 500_000, 100_000_000.0, 512,
                            provisioned_configured_gb_s=1000.0)
    bill = bill_account([plain, provisioned], PRICES, free_tier=True)
    assert bill["plain"]["requests"] == 0.0
    assert bill["plain"]["duration"] == 0.0
    assert bill["pc"]["requests"] == pytest.approx(500_000 * REQUEST, rel=1e-12)
    assert bill["pc"]["duration"] == pytest.approx(100_000 * GB_S["x86_64"], rel=1e-12)


def test_price_file_is_chosen_by_name():
    assert "us-east-1-2025-08" in available_price_files()
    result = run(billing={"prices": "us-east-1-2025-08"})
    assert result.summary["config"]["billing"]["prices"] == "us-east-1-2025-08"
    with pytest.raises(lambdasim.ScenarioError, match="billing.prices"):
        run(billing={"prices": "mars-north-1-2099-01"})
    with pytest.raises(ValueError, match="no price file"):
        load_prices("mars-north-1-2099-01")


def test_cost_items_add_up_in_every_block():
    result = lambdasim.simulate(lambdasim.load_scenario({
        "duration": "60s", "seed": 5,
        "functions": {
            "a": {"memory_mb": 2048, "architecture": "arm64", "ephemeral_storage_mb": 1024,
                  "duration": {"dist": "exponential", "mean": "300ms"},
                  "triggers": [{"type": "sync", "arrivals": {"process": "poisson",
                                                             "rate": "20/s"}}]},
            "b": {"memory_mb": 256, "duration": "40ms",
                  "triggers": [{"type": "sync", "arrivals": {"process": "poisson",
                                                             "rate": "5/s"}}]},
        }}))
    blocks = [result.function(n).cost_usd for n in ("a", "b")]
    for block in blocks + [result.summary["account"]["cost_usd"]]:
        for part in (block, block["per_30_days"]):
            assert part["total"] == pytest.approx(sum(part[k] for k in COST_ITEMS), abs=5e-9)
    account = result.summary["account"]["cost_usd"]
    for key in COST_ITEMS + ("total",):
        assert account[key] == pytest.approx(sum(b[key] for b in blocks), abs=3e-9)
        assert account["per_30_days"][key] == pytest.approx(
            sum(b["per_30_days"][key] for b in blocks), rel=1e-9, abs=3e-9)


def test_async_payloads_above_256_kb_count_extra_requests():
    # https://aws.amazon.com/lambda/pricing/: one extra request per 64 KB above 256 KB.
    assert request_units(1, PRICES) == 1
    assert request_units(256, PRICES) == 1
    assert request_units(256.5, PRICES) == 2
    assert request_units(320, PRICES) == 2
    assert request_units(321, PRICES) == 3
    assert request_units(1024, PRICES) == 13


def test_summary_table_shows_the_30_day_projection():
    from lambdasim.results.table import format_summary_table

    text = format_summary_table(run())
    assert "cost per 30 days (the window's traffic all month)" in text


@pytest.mark.parametrize("recurs", ["continuous", "daily", "once"])
@pytest.mark.parametrize("free_tier", [False, True])
def test_cost_report_rounds_every_function_as_pythons_round(recurs, free_tier):
    # cost_report rounds the functions' items at once (thousands of functions); each block
    # must be round(item, 9) of the function's bill, and each account item the rounded sum,
    # in order, of the functions' unrounded items.
    import random

    rng = random.Random(7 + len(recurs) + free_tier)
    usages = []
    for i in range(40):
        usage = UsageBill(f"f{i}", rng.choice(["x86_64", "arm64"]), rng.choice([128, 1769, 10240]),
                          rng.choice([512, 2048]), rng.randrange(0, 10**7),
                          rng.uniform(0, 1e9) * rng.choice([0, 1, 1e-6]), 512,
                          init_billed_ms=rng.uniform(0, 1e5),
                          provisioned_configured_gb_s=rng.choice([0.0, rng.uniform(0, 1e6)]))
        usage.sqs_epu_s = rng.choice([0.0, rng.uniform(0, 1e5)])
        usages.append(usage)
    window_s = 3600.0
    functions, account = cost_report(usages, PRICES, free_tier, window_s, recurs=recurs)
    now = bill_account(usages, PRICES, free_tier)
    keys = COST_ITEMS + ("total",)
    factor = {"continuous": MONTH_S / window_s, "daily": 30.0, "once": None}[recurs]
    month = None if factor is None else bill_account(
        [u.projected(round(factor, 9), MONTH_S / window_s) for u in usages], PRICES, free_tier)
    assert list(functions) == [u.name for u in usages]
    for u in usages:
        assert list(functions[u.name]) == list(keys) + ["per_30_days"]
        for key in keys:
            assert functions[u.name][key] == round(now[u.name][key], 9), (u.name, key)
            expected = None if month is None else round(month[u.name][key], 9)
            assert functions[u.name]["per_30_days"][key] == expected, (u.name, key)
    for key in keys:
        total = 0
        for u in usages:
            total += now[u.name][key]
        assert account[key] == round(total, 9)
        if month is None:
            assert account["per_30_days"][key] is None
        else:
            total = 0
            for u in usages:
                total += month[u.name][key]
            assert account["per_30_days"][key] == round(total, 9)
    empty, nothing = cost_report([], PRICES, free_tier, window_s, recurs=recurs)
    assert empty == {} and nothing["total"] == 0


def test_projected_usage_scales_traffic_by_recurrence_and_always_on_by_wall_clock():
    # UsageBill.projected: each total's always-on part over the month's wall clock, the rest
    # as the window recurs; usage with nothing always on (most functions) is all traffic.
    import random

    rng = random.Random(3)
    parts = {"provisioned_gb_s": ("always_on_provisioned_billed_gb_s",
                                  "always_on_provisioned_gb_s"),
             "kafka_epu_s": ("always_on_kafka_epu_s", "always_on_kafka_epu_s"),
             "sqs_epu_s": ("always_on_sqs_epu_s", "always_on_sqs_epu_s")}
    for i in range(60):
        usage = UsageBill("f", "arm64", 1024, 2048, rng.randrange(10**6), rng.uniform(0, 1e8),
                          512, init_billed_ms=rng.uniform(0, 1e4),
                          provisioned_configured_gb_s=rng.uniform(0, 1e5))
        usage.kafka_epu_s, usage.sqs_epu_s = rng.uniform(0, 1e4), rng.uniform(0, 1e4)
        on = i % 3  # 0: nothing always on; 1: one part; 2: every part
        for total, (billed, always) in parts.items():
            if on == 2 or (on == 1 and total == "sqs_epu_s"):
                setattr(usage, always, getattr(usage, total) * rng.uniform(0, 0.5))
                setattr(usage, billed, getattr(usage, always))
        usage.snap_start_cache_gb_s = rng.uniform(0, 1e3) if on == 2 else 0.0
        factor, wall = rng.uniform(1, 1000), rng.uniform(1, 1000)
        got = usage.projected(factor, wall)
        for slot in UsageBill.__slots__:
            value = getattr(usage, slot)
            if slot in parts:
                billed, always = (getattr(usage, p) for p in parts[slot])
                expected = (value - billed) * factor + always * wall
            elif slot in {p for pair in parts.values() for p in pair}:
                expected = value * wall
            elif slot == "snap_start_cache_gb_s":
                expected = value * wall if value else 0.0
            elif slot in UsageBill._EXTENSIVE:
                expected = value * factor
            else:  # name, architecture, memory, the EPU minimum
                assert getattr(got, slot) == value
                continue
            assert getattr(got, slot) == pytest.approx(expected, rel=1e-12, abs=1e-12), (i, slot)
        assert usage.has_always_on == bool(on)
