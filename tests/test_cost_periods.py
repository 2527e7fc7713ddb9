"""Per-period cost (metrics.csv ``Cost_usd``) and the 30-day projection of always-on items.

Prices: https://aws.amazon.com/lambda/pricing/ (us-east-1): SnapStart cache $0.0000015046 per
GB-s "for as long as the function version is active" with a 3-hour minimum, restore
$0.0001397998 per GB restored (Python, .NET); event poller units $0.185 per EPU-hour for Kafka,
per second with a 1-minute minimum (the SQS rate is an assumption: the same); provisioned
concurrency $0.0000041667 per GB-s configured "from the time you enable it ... until it is
disabled", rounded up to 5 minutes. Provisioned pollers stay allocated at the minimum
whatever the traffic (https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
"""
from __future__ import annotations

import pytest

from lambdasim import simulate

MONTH_S = 30 * 86400
CACHE = 0.0000015046
RESTORE = 0.0001397998
EPU_HOUR = 0.185
PC_GB_S = 0.0000041667
X86_GB_S = 0.0000166667
REQUEST = 0.20 / 1e6


def snapstart(count: int = 3, at: str = "0s", **top) -> dict:
    """A Python 3.12 SnapStart function: ``count`` simultaneous requests, 2 GB."""
    data = {"duration": "4h", "period": "1h", "seed": 7, "functions": {"f": {
        "runtime": "python3.12", "memory_mb": 2048, "timeout": "30s", "duration": "100ms",
        "init": "5s", "snap_start": {"restore": "200ms", "after_restore": "50ms"},
        "triggers": [{"type": "sync", "arrivals": {"process": "burst", "count": count,
                                                    "at": at}}]}}}
    data.update(top)
    return data


def kafka(arrivals: dict, partitions: int = 10, **top) -> dict:
    data = {"duration": "10m", "seed": 5,
            "account": {"concurrency_limit": 3000, "unreserved_minimum": 100},
            "functions": {"f": {"timeout": "60s", "duration": "100ms", "init": "100ms",
                                "triggers": [{"type": "kafka", "arrivals": arrivals,
                                              "partitions": partitions,
                                              "partition_keys": 300,
                                              "provisioned_pollers": {"minimum": 2,
                                                                      "maximum": 5}}]}}}
    data.update(top)
    return data


def sqs(arrivals: dict, **top) -> dict:
    data = {"duration": "5m", "seed": 3,
            "account": {"concurrency_limit": 5000, "unreserved_minimum": 100},
            "functions": {"f": {"timeout": "900s", "duration": "2s", "init": "100ms",
                                "triggers": [{"type": "sqs", "visibility_timeout": "900s",
                                              "batch_size": 1, "arrivals": arrivals,
                                              "provisioned_pollers": {"minimum": 20,
                                                                      "maximum": 100}}]}}}
    data.update(top)
    return data


def provisioned(capacity: int = 1, schedule: list | None = None, **top) -> dict:
    data = {"duration": "3m", "seed": 4, "functions": {"f": {
        "memory_mb": 512, "duration": "200ms", "init": "300ms",
        "provisioned_concurrency": {"capacity": capacity, "schedule": schedule or [],
                                    "preparation": "0s"},
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": "3/s"}}]}}}
    data.update(top)
    return data


def periods(result, name: str = "f") -> list:
    series = result.series
    return [series["Cost_usd"][i] for i, f in enumerate(series["function"]) if f == name]


# --------------------------------------------------------------------------- per period

CASES = {
    "python_snapstart": (snapstart(count=5, at="90m", warmup="1h"),
                         ("snap_start_cache", "snap_start_restore", "init")),
    "kafka_provisioned": (kafka({"process": "poisson", "rate": 40}, warmup="2m"),
                          ("event_poller_units",)),
    "sqs_provisioned": (sqs({"process": "poisson", "rate": 30}, warmup="1m"),
                        ("event_poller_units",)),
    "provisioned_concurrency": (provisioned(2, [{"at": "70s", "capacity": 4}], warmup="30s",
                                            period="20s"),
                                ("provisioned",)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_periods_add_up_to_the_run_total_every_item_included(case):
    data, items = CASES[case]
    result = simulate(data)
    cost = result.function("f").cost_usd
    for item in items:
        assert cost[item] > 0.0, item
    values = periods(result)
    warmup = result.summary["warmup_s"]
    starts = [result.series["period_start_s"][i]
              for i, f in enumerate(result.series["function"]) if f == "f"]
    period = starts[1] - starts[0]
    # Like the table, the bill counts the requests arriving in [warmup, duration): periods
    # that end by the warm-up's end are empty, the others add up to cost_usd.total.
    for start, value in zip(starts, values):
        assert (value is None) == (start + period <= warmup)
    assert abs(sum(v for v in values if v is not None) - cost["total"]) <= 1e-9 + 1e-15
    account = periods(result, "(account)")
    assert account == pytest.approx(values, abs=1e-9)


def test_python_snapstart_periods_hand_computed():
    # 3 restores at t = 0 in a 4-hour run of 1-hour periods: the first period holds the
    # requests, Duration and Billed Restore Duration (100 + 50 ms at 2 GB), the restores;
    # the snapshot cache (4 h at 2 GB) is spread over the hours it was cached.
    result = simulate(snapstart(count=3))
    gb = 2.0
    cache_hour = 3600 * gb * CACHE
    first = (3 * REQUEST + 3 * 0.150 * gb * X86_GB_S + 3 * gb * RESTORE + cache_hour)
    values = periods(result)
    assert len(values) == 4
    assert values[0] == pytest.approx(first, abs=2e-9)
    assert values[1:] == pytest.approx([cache_hour] * 3, abs=2e-9)
    assert abs(sum(values) - result.function("f").cost_usd["total"]) <= 1e-9 + 1e-15


def test_kafka_minimum_pollers_cost_each_period_hand_computed():
    # Two idle provisioned pollers: 2 x 60 s per 1-minute period at $0.185 per EPU-hour.
    result = simulate(kafka({"process": "burst", "count": 0, "at": "0s"}, warmup="2m"))
    values = periods(result)
    assert values[:2] == [None, None]
    assert values[2:] == pytest.approx([2 * 60 / 3600 * EPU_HOUR] * 8, abs=1e-9)


# --------------------------------------------------------------------------- 30-day projection

@pytest.mark.parametrize("recurs, traffic", [("daily", 30.0), ("weekly", 30.0 / 7.0)])
def test_snapstart_cache_is_projected_over_30_days_restores_with_the_window(recurs, traffic):
    # The snapshot cache is billed as long as the version exists: 30 days of 2 GB whatever
    # the recurrence; the 3 restores (and requests, Duration) recur with the window.
    result = simulate(snapstart(count=3, duration="1h", period="10m", recurs=recurs))
    month = result.function("f").cost_usd["per_30_days"]
    gb = 2.0
    assert month["snap_start_cache"] == pytest.approx(MONTH_S * gb * CACHE, abs=1e-9)
    assert month["snap_start_restore"] == pytest.approx(traffic * 3 * gb * RESTORE, abs=1e-9)
    assert month["requests"] == pytest.approx(traffic * 3 * REQUEST, abs=1e-9)
    assert month["duration"] == pytest.approx(traffic * 3 * 0.1 * gb * X86_GB_S, abs=1e-9)
    projection = result.summary["cost_projection"]
    assert projection["always_on"]["functions"] == {"f": ["snap_start_cache"]}
    assert projection["always_on"]["factor"] == pytest.approx(720.0)
    assert projection["basis"].endswith("; always-on items for 30 days")


@pytest.mark.parametrize("recurs", ["daily", "weekly", "continuous"])
def test_kafka_minimum_pollers_are_billed_all_month(recurs):
    # Two idle pollers all month: 2 x 720 h x $0.185 = $266.40, whatever the recurrence.
    result = simulate(kafka({"process": "burst", "count": 0, "at": "0s"}, recurs=recurs))
    month = result.function("f").cost_usd["per_30_days"]
    assert month["event_poller_units"] == pytest.approx(2 * 720 * EPU_HOUR, abs=1e-6)
    assert result.summary["cost_projection"]["always_on"]["functions"] == {
        "f": ["event_poller_units"]}


def test_kafka_pollers_above_the_minimum_recur_with_the_window():
    # A daily window of 10 minutes: the pollers above the 2 held all the time (scaled up by
    # the traffic) count 30 times, the 2 minimum pollers 30 days.
    data = kafka({"process": "burst", "count": 4000, "at": "30s"}, partitions=25,
                 recurs="daily")
    data["functions"]["f"]["duration"] = "1s"
    data["functions"]["f"]["triggers"][0]["batch_size"] = 1
    result = simulate(data)
    cost = result.function("f").cost_usd
    epu_s = cost["event_poller_units"] / EPU_HOUR * 3600
    above = epu_s - 2 * 600
    assert above > 60  # the burst added pollers
    expected = (above * 30 + 2 * MONTH_S) / 3600 * EPU_HOUR
    assert cost["per_30_days"]["event_poller_units"] == pytest.approx(expected, abs=1e-6)


def test_sqs_minimum_pollers_are_billed_all_month_weekly():
    # SQS provisioned mode holds its 20 minimum pollers from the start: 20 x 720 h x the
    # EPU rate ($0.185, the assumption listed in summary.assumptions) for a weekly window.
    result = simulate(sqs({"process": "burst", "count": 1, "at": "0s"}, recurs="weekly"))
    month = result.function("f").cost_usd["per_30_days"]
    assert month["event_poller_units"] == pytest.approx(20 * 720 * EPU_HOUR, abs=1e-6)
    topics = [a["topic"] for a in result.summary["assumptions"]]
    assert "sqs_epu_price" in topics


def test_provisioned_concurrency_floor_all_month_schedule_with_the_window():
    # 1 unit (0.5 GB) configured throughout a daily 3-minute window is billed all month; the
    # 2 units a scheduled action adds at 60 s (120 s, billed as 5 minutes each) recur daily;
    # executions on provisioned environments recur daily.
    result = simulate(provisioned(1, [{"at": "60s", "capacity": 3}], recurs="daily"))
    cost = result.function("f").cost_usd
    gb = 0.5
    configured_run = (1 * 300 + 2 * 300) * gb * PC_GB_S
    executed_run = cost["provisioned"] - configured_run
    assert executed_run > 0
    expected = (MONTH_S * gb * PC_GB_S + 30 * 2 * 300 * gb * PC_GB_S + 30 * executed_run)
    assert cost["per_30_days"]["provisioned"] == pytest.approx(expected, abs=1e-6)
    projection = result.summary["cost_projection"]
    assert projection["always_on"]["functions"] == {"f": ["provisioned"]}
    assert "provisioned_all_month" in [a["topic"] for a in result.summary["assumptions"]]


def test_once_projects_nothing_and_continuous_keeps_its_basis():
    once = simulate(snapstart(count=3, duration="1h", recurs="once")).summary
    assert once["functions"]["f"]["cost_usd"]["per_30_days"]["snap_start_cache"] is None
    assert once["cost_projection"]["always_on"]["factor"] is None
    steady = simulate(snapstart(count=3, duration="1h", recurs="continuous")).summary
    assert steady["cost_projection"]["basis"] == "the window's traffic all month"
    assert steady["functions"]["f"]["cost_usd"]["per_30_days"]["snap_start_cache"] == (
        pytest.approx(MONTH_S * 2.0 * CACHE, abs=1e-9))


def test_cost_chart_draws_every_item_and_ends_at_the_table():
    # The SnapStart and event-poller items have their own colours and labels in the cost
    # chart (a SnapStart Python function with provisioned SQS pollers used to crash it).
    from lambdasim.results.function_charts import cost_chart
    data = snapstart(count=3, duration="1h", period="10m")
    data["functions"]["f"]["triggers"].append(
        {"type": "sqs", "arrivals": {"process": "poisson", "rate": "1/s"},
         "provisioned_pollers": {"minimum": 2, "maximum": 10}})
    result = simulate(data)
    chart = cost_chart(result, "f")
    labels = [t.get_text() for ax in chart.axes for t in (ax.get_legend().get_texts()
                                                          if ax.get_legend() else [])]
    for label in ("SnapStart cache", "SnapStart restores", "event pollers (EPU)"):
        assert any(text.startswith(label) for text in labels), label
    assert chart.png()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sum(result.timeline.functions["f"].cost_usd["event_poller_units"]) == pytest.approx(
        result.function("f").cost_usd["event_poller_units"], abs=1e-9)


def test_report_html_cost_table_has_every_item_that_costs():
    # report.html's cost by item shows the SnapStart and event-poller items when a function
    # pays them, so the columns add up to the total.
    from lambdasim.results.html_report import _cost_table
    data = snapstart(count=3, duration="1h", period="10m")
    summary = simulate(data).summary
    table = _cost_table(summary)
    assert "SnapStart cache" in table["header"] and "SnapStart restores" in table["header"]
    assert "event pollers (EPU)" not in table["header"]  # nobody pays it here
    plain = _cost_table(simulate(snapstart(count=3, duration="1h", period="10m",
                                           functions={"f": {"duration": "100ms"}})).summary)
    assert "SnapStart cache" not in plain["header"]


def many_functions() -> dict:
    """Functions of different traffic, memory and runtime (Init billed for a custom runtime
    before 2025-08), one capped by reserved concurrency, one that never gets a request, one
    with provisioned concurrency (its cost weights come from its reporter), a warm-up."""
    functions = {}
    for i in range(7):
        functions[f"f{i}"] = {
            "memory_mb": 128 * (1 + i % 3), "duration": {"dist": "exponential",
                                                         "mean": f"{40 + 60 * i}ms"},
            "init": "400ms", "keep_alive": f"{15 + 5 * i}s",
            "triggers": [{"type": "sync", "arrivals": {
                "process": "poisson", "rate": 1e-9 if i == 4 else 0.3 + 1.7 * i}}]}
    functions["f1"]["runtime"] = "provided.al2023"
    functions["f2"]["reserved_concurrency"] = 2
    functions["f5"]["provisioned_concurrency"] = 2
    return {"duration": "40m", "warmup": "7m", "period": "5m", "seed": 11,
            "billing": {"date": "2025-03-01"}, "functions": functions}


def test_every_functions_period_costs_at_once_are_each_ones_alone():
    # build_result spreads every function's bill over the periods at once (cost_shares_many);
    # each function must get exactly the shares cost_shares gives it alone, and the
    # periods' Cost_usd must add up to its total.
    import numpy as np

    from lambdasim.results.periods import cost_shares, cost_shares_many

    result = simulate(many_functions())
    model = result._timeline_source.args[0]
    edges, shares = result._timeline_source.keywords["period_shares"]
    costs = {name: block["cost_usd"] for name, block in result.summary["functions"].items()}
    assert costs["f1"]["init"] > 0 and costs["f0"]["init"] == 0  # Init billed for f1 only
    assert result.summary["functions"]["f4"]["requests"]["arrived"] == 0
    assert result.summary["functions"]["f2"]["throttles"] > 0
    again = cost_shares_many(model, costs, edges)
    assert list(again) == list(shares) == list(costs)
    for name in costs:
        alone = cost_shares(model, name, edges, costs[name])
        for item, values in alone.items():
            assert np.array_equal(shares[name][item], values), (name, item)
            assert np.array_equal(again[name][item], values), (name, item)
    series = result.series
    for name in costs:
        periods = [cost for function, cost in zip(series["function"], series["Cost_usd"])
                   if function == name]
        assert periods[0] is None and periods[1] is not None  # ends in the warm-up or not
        assert sum(periods[1:]) == pytest.approx(costs[name]["total"], abs=1e-8)
