"""Kafka event source mappings (Amazon MSK, self-managed Kafka): partitions, order, pollers,
retries, offset lag, EPU cost, conservation, validation.

Each documented Lambda rule has its test, citing the AWS page it checks
(https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html unless noted).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lambdasim import simulate
from lambdasim.engine.invoke.kafka import KafkaTrigger
from lambdasim.engine.model import Model
from lambdasim.results.result import build_result
from lambdasim.scenario import ScenarioError, load_scenario


def scenario(trigger: dict, *, function: dict | None = None, **top) -> dict:
    """One function ``f`` with one ``kafka`` trigger; constant times unless overridden."""
    fn = {"timeout": "60s", "duration": "100ms", "init": "100ms",
          "triggers": [{"type": "kafka", **trigger}]}
    fn.update(function or {})
    data = {"duration": "10m", "seed": 5,
            "account": {"concurrency_limit": 3000, "unreserved_minimum": 100},
            "functions": {"f": fn}}
    data.update(top)
    return data


def kafka_of(model: Model) -> KafkaTrigger:
    return next(t for t in model.triggers["f"] if isinstance(t, KafkaTrigger))


def column(result, name: str) -> list:
    return [result.series[name][i] for i, f in enumerate(result.series["function"]) if f == "f"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions=st.integers(1, 12), rate=st.sampled_from([5, 40, 200]),
       batch=st.integers(1, 20), error=st.sampled_from([0.0, 0.3]),
       provisioned=st.booleans(), seed=st.integers(0, 10_000))
def test_concurrency_never_exceeds_partitions_and_order_holds_per_partition(
        partitions, rate, batch, error, provisioned, seed):
    # "at most one concurrent invocation per partition" and records in order within a
    # partition ("to maintain ordered processing within partitions"); a failed batch is
    # retried before anything behind it; every record ends in one outcome.
    trigger = {"arrivals": {"process": "poisson", "rate": rate}, "partitions": partitions,
               "batch_size": batch, "partition_keys": 50, "maximum_retry_attempts": 2,
               "retry_delay": "200ms"}
    if provisioned:
        trigger["provisioned_pollers"] = {"minimum": 1, "maximum": 4}
    data = scenario(trigger, function={"duration": {"dist": "exponential", "mean": "150ms"},
                                       "error_rate": error}, duration="30s", seed=seed)
    model = Model(load_scenario(data))
    kafka = kafka_of(model)
    busy: set = set()
    seen = {"max": 0, "overlap": False, "committed": {}, "twice": False}

    def observer(event, partition, records, now):
        if event == "deliver":
            seen["overlap"] |= partition in busy
            busy.add(partition)
            seen["max"] = max(seen["max"], len(busy))
        elif event == "done":
            busy.discard(partition)
        else:  # commit: processed or discarded records leave their partition
            seen["committed"].setdefault(partition, []).extend(r[1] for r in records)

    kafka.observer = observer
    model.run()
    assert not seen["overlap"]
    assert seen["max"] <= partitions
    for sequence in seen["committed"].values():
        # In production order, each record once.
        assert all(a < b for a, b in zip(sequence, sequence[1:]))
    summary = build_result(model).summary["functions"]["f"]
    assert summary["concurrency"]["max"] <= partitions
    r = summary["requests"]
    assert r["arrived"] == r["succeeded"] + r["failed"] + r["throttled"] + r["dropped"] + r["in_flight"]
    k = summary["kafka"]
    assert k["records"] == k["records_processed"] + k["records_discarded"] + k["records_waiting"]
    assert r["succeeded"] == k["records_processed"] and r["failed"] == k["records_discarded"]


def test_on_demand_pollers_follow_the_offset_lag_evaluated_each_minute_acting_in_3_minutes():
    # "In one-minute intervals, Lambda evaluates the offset lag of all the partitions ...
    # adds or removes event pollers ... within three minutes of evaluation"; on-demand mode
    # starts with one poller (5 concurrent invocations). A backlog at 10 s on 20 partitions:
    # the evaluation at 60 s sees 20 lagging partitions and wants 4 pollers, in force at
    # 60 + 180 = 240 s; the backlog is gone by ~285 s, so the evaluation at 300 s sees no
    # lag and goes back to 1 poller at 480 s.
    data = scenario({"arrivals": {"process": "burst", "count": 2000, "at": "10s"},
                     "partitions": 20, "partition_keys": 2000, "batch_size": 1,
                     "batching_window": 0},
                    function={"duration": "1s"})
    model = Model(load_scenario(data)).run()
    kafka = kafka_of(model)
    assert kafka.poller_changes == [(0.0, 1), (240.0, 4), (480.0, 1)]
    result = build_result(model)
    pollers = column(result, "KafkaPollers")
    assert pollers[:4] == [1, 1, 1, 1] and pollers[4] == 4 and pollers[8] == 1
    # Concurrency follows the pollers: 5 before 240 s, 20 after.
    block = result.summary["functions"]["f"]
    assert block["concurrency"]["max"] == 20 and block["kafka"]["pollers"]["max"] == 4


def test_throttles_reduce_on_demand_pollers_instead_of_adding():
    # "If your target Lambda function is throttled, Lambda reduces the number of event
    # pollers." With reserved concurrency 3 the one poller's 5 invocations throttle: the
    # mapping never grows, though the lag is large.
    base = {"arrivals": {"process": "burst", "count": 2000, "at": "10s"}, "partitions": 20,
            "partition_keys": 2000, "batch_size": 1, "batching_window": 0}
    throttled = scenario(base, function={"duration": "1s", "reserved_concurrency": 3})
    model = Model(load_scenario(throttled)).run()
    assert kafka_of(model).poller_changes == [(0.0, 1)]
    assert kafka_of(model).poller_throttles > 0
    summary = build_result(model).summary["functions"]["f"]
    assert summary["requests"]["succeeded"] == 2000  # throttles are retried, not failures


def test_provisioned_mode_holds_minimum_pollers_capped_at_the_partition_count():
    # MinimumPollers 1-200, MaximumPollers 1-2,000, "Lambda caps MaximumPollers to the number
    # of partitions in the topic"; a poller handles up to 5 concurrent invocations.
    data = scenario({"arrivals": {"process": "burst", "count": 3000, "at": "5s"},
                     "partitions": 3, "partition_keys": 300, "batch_size": 1,
                     "provisioned_pollers": {"minimum": 2, "maximum": 2000}},
                    function={"duration": "1s"}, duration="5m")
    model = Model(load_scenario(data)).run()
    kafka = kafka_of(model)
    assert kafka.poller_changes[0] == (0.0, 2) and kafka.max_pollers == 3
    assert max(p for _, p in kafka.poller_changes) <= 3
    result = build_result(model)
    assert min(column(result, "ProvisionedPollers")) >= 2
    assert result.summary["functions"]["f"]["concurrency"]["max"] <= 3


def test_provisioned_pollers_cost_epu_per_second_with_a_one_minute_minimum():
    # $0.185 per EPU-hour for Kafka in us-east-1 (https://aws.amazon.com/lambda/pricing/):
    # 2 idle pollers for an hour are 2 EPU-hours; on-demand mode pays no EPU.
    idle = {"arrivals": {"process": "burst", "count": 0, "at": "0s"}, "partitions": 10}
    cost = simulate(scenario({**idle, "provisioned_pollers": {"minimum": 2, "maximum": 5}},
                             duration="1h")).summary["functions"]["f"]["cost_usd"]
    assert cost["event_poller_units"] == pytest.approx(2 * 0.185, abs=1e-9)
    on_demand = simulate(scenario(idle, duration="1h")).summary["functions"]["f"]["cost_usd"]
    assert on_demand["event_poller_units"] == 0.0


def test_failed_batches_are_retried_then_sent_to_the_on_failure_destination():
    # kafka-on-failure.html: after maximum_retry_attempts a batch's records are discarded to the
    # on-failure destination; the partition then moves on.
    data = scenario({"arrivals": {"process": "constant", "rate": 2}, "partitions": 2,
                     "batch_size": 5, "poison_rate": 1.0, "maximum_retry_attempts": 2,
                     "retry_delay": "1s", "on_failure": {"type": "sqs", "name": "dlq"}},
                    duration="2m")
    block = simulate(data).summary["functions"]["f"]
    k = block["kafka"]
    assert k["records_processed"] == 0 and k["records_discarded"] > 200
    assert k["on_failure_records"] == k["records_discarded"]
    assert k["batches_failed"] == 3 * k["on_failure_batches"]  # 1 try + 2 retries each
    assert block["requests"]["failed"] == k["records_discarded"]


def test_offset_lag_metrics_per_period():
    # OffsetLag: records produced and not yet committed; SumOffsetLag over partitions and
    # MaxOffsetLag of the largest partition, maxima per period.
    data = scenario({"arrivals": {"process": "burst", "count": 100, "at": "1s"},
                     "partitions": 4, "partition_keys": 1, "batch_size": 10,
                     "batching_window": 0},
                    function={"duration": "10s"}, duration="5m")
    result = simulate(data)
    assert column(result, "SumOffsetLag")[0] == 100
    assert column(result, "MaxOffsetLag")[0] == 100  # one key: one partition holds them all
    assert column(result, "SumOffsetLag")[-1] == 0
    k = result.summary["functions"]["f"]["kafka"]
    assert k["sum_offset_lag"]["max"] == 100 and k["max_offset_lag"]["max"] == 100
    # The first record finds the partition idle and goes alone (no batching window); the
    # other 99 wait behind it and go 10 at a time.
    assert k["batches"] == 11


@pytest.mark.parametrize("pollers, key", [({"minimum": 0}, "minimum"),
                                          ({"minimum": 201}, "minimum"),
                                          ({"maximum": 2001}, "maximum"),
                                          ({"minimum": 5, "maximum": 2}, "maximum")])
def test_provisioned_poller_bounds(pollers, key):
    # MinimumPollers 1-200, MaximumPollers 1-2,000, MaximumPollers >= MinimumPollers.
    data = scenario({"arrivals": {"process": "poisson", "rate": 1},
                     "provisioned_pollers": pollers})
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert err.value.key == f"functions.f.triggers.0.provisioned_pollers.{key}"


def test_kafka_runs_are_deterministic():
    data = scenario({"arrivals": {"process": "poisson", "rate": 50}, "partitions": 8},
                    function={"duration": {"dist": "exponential", "mean": "200ms"},
                              "error_rate": 0.05}, duration="3m")
    first, second = simulate(data).summary, simulate(data).summary
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_provisioned_poller_line_on_the_sqs_chart(tmp_path):
    # The SQS chart's pollers panel draws ProvisionedPollers for a provisioned-mode mapping.
    from lambdasim.results import plots

    data = scenario({"arrivals": {"process": "poisson", "rate": 5}, "partitions": 2},
                    function={"duration": "300ms"}, duration="4m")
    data["functions"]["q"] = {"timeout": "30s", "duration": "100ms", "triggers": [
        {"type": "sqs", "arrivals": {"process": "poisson", "rate": 50},
         "provisioned_pollers": {"minimum": 2, "maximum": 20}}]}
    result = simulate(data)
    sqs = [line.get_label() for ax in plots.sqs_chart(result, "q").axes for line in ax.get_lines()]
    assert any("provisioned pollers" in label for label in sqs)
    assert column(result, "KafkaPollers")[0] == 1


def test_provisioned_pollers_of_sqs_and_kafka_mappings_add_up():
    # One function with a provisioned-mode SQS mapping (minimum 2) and a provisioned-mode
    # Kafka mapping (minimum 3): both are event poller units the function pays for
    # (https://aws.amazon.com/lambda/pricing/), so its ProvisionedPollers column is their sum,
    # in metrics.csv and on the charts; SQSProvisionedPollers and KafkaPollers keep the split.
    from lambdasim.results import plots
    from lambdasim.results.periods import merge_series

    data = scenario({"arrivals": {"process": "poisson", "rate": 20}, "partitions": 6,
                     "provisioned_pollers": {"minimum": 3, "maximum": 6}},
                    function={"duration": "200ms", "timeout": "30s"}, duration="3m")
    data["functions"]["f"]["triggers"].append(
        {"type": "sqs", "arrivals": {"process": "poisson", "rate": 300},
         "provisioned_pollers": {"minimum": 2, "maximum": 20}})
    result = simulate(data)
    total, sqs, kafka = (column(result, c) for c in
                         ("ProvisionedPollers", "SQSProvisionedPollers", "KafkaPollers"))
    assert total == [s + k for s, k in zip(sqs, kafka)]
    assert min(sqs) >= 2 and min(kafka) >= 3 and min(total) >= 5
    assert max(sqs) > 2  # the SQS pollers scaled, so the sum is not a constant
    series = result.timeline.functions["f"].series
    assert np.array_equal(series["ProvisionedPollers"],
                          series["SQSProvisionedPollers"] + series["KafkaPollers"])
    # The SQS chart draws the SQS share only.
    drawn = {line.get_label(): line for ax in plots.sqs_chart(result, "f").axes
             for line in ax.get_lines()}
    line = drawn["provisioned pollers (EPU, peak)"]
    assert max(line.get_ydata()) == max(series["SQSProvisionedPollers"])
    # Any other column written twice is refused rather than overwritten.
    merged: dict = {"KafkaPollers": [1, 2]}
    with pytest.raises(ValueError, match="two reporters write the column KafkaPollers"):
        merge_series(merged, {"KafkaPollers": [3, 4]}, "f")
    merge_series(merged, {"ProvisionedPollers": [1, None]}, "f")
    merge_series(merged, {"ProvisionedPollers": [2, None]}, "f")
    assert merged["ProvisionedPollers"] == [3, None]


def test_provisioned_pollers_met_on_two_grids_are_summed_per_metrics_period():
    # A reporter whose levels were tracked per metrics period only (it refuses the chart
    # bins) and one that takes them: the summed column is drawn per metrics period, from both.
    from types import SimpleNamespace

    from lambdasim.results.timeline import _trigger_series

    class Reporter:
        def __init__(self, per_period: bool, level: int) -> None:
            self.per_period, self.level = per_period, level

        def series(self, model, edges):
            if self.per_period and len(edges) != 3:
                raise ValueError("not whole groups of the tracked period")
            return {"ProvisionedPollers": [self.level * (k + 1) for k in range(len(edges) - 1)]}

    for order in ((True, False), (False, True)):
        reporters = [Reporter(order[0], 1), Reporter(order[1], 10)]
        model = SimpleNamespace(reporters={"f": reporters}, end_s=120.0, period_s=60.0)
        data = SimpleNamespace(edges=np.arange(7) * 20.0, series={}, series_edges={})
        _trigger_series(model, "f", data)
        assert data.series["ProvisionedPollers"].tolist() == [11.0, 22.0]
        assert data.series_edges["ProvisionedPollers"].tolist() == [0.0, 60.0, 120.0]


# -- the Kafka chart (kafka-NAME.png) -------------------------------------------------------

def _labels(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def lagging():
    """An on-demand mapping whose offset lag builds up in a burst: 6 partitions, a slow
    handler, 1 poller at first (5 invocations) until the lag brings a second one."""
    data = scenario({"arrivals": {"process": "poisson",
                                  "rate": [["0s", "20/s"], ["2m", "120/s"], ["3m", "20/s"]]},
                     "partitions": 6, "batch_size": 10},
                    function={"duration": "400ms"}, duration="5m", warmup="30s")
    return simulate(data)


def test_kafka_chart_is_written_on_the_run_bins_with_the_table_figures(lagging, tmp_path):
    # Offset lag (SumOffsetLag, MaxOffsetLag, monitoring-metrics-types.html), pollers and
    # concurrency against the partitions, on the same bins as every chart of the run.
    from lambdasim.results import plots
    from lambdasim.results.chart_kit import WARMUP_LABEL
    from lambdasim.results.folder import write_results

    block = lagging.summary["functions"]["f"]["kafka"]
    timeline = lagging.timeline
    data = timeline.functions["f"]
    assert not data.series_edges  # the lag is on the chart bins, not per metrics period
    chart = plots.kafka_chart(lagging, "f")
    lag, pollers, concurrency = chart.axes
    labels = _labels(lag)
    assert WARMUP_LABEL in labels  # warm-up shaded
    assert f"SumOffsetLag: all partitions, peak (table: {block['sum_offset_lag']['max']:,})" \
        in labels
    assert f"MaxOffsetLag: the most-lagging partition, peak (table: " \
           f"{block['max_offset_lag']['max']:,})" in labels
    assert f"on-demand pollers, peak (table: {block['pollers']['max']:,})" in _labels(pollers)
    assert any(label.startswith("partitions (6)") for label in _labels(concurrency))
    assert any(label.endswith(f"(table: {block['concurrency']['max']:,})")
               for label in _labels(concurrency))
    # The per-bin peaks agree with the table's maxima over the measured window: bins inside
    # it never exceed the table, bins touching it reach it.
    edges = data.edges
    inside = (edges[:-1] >= timeline.warmup_s) & (edges[1:] <= timeline.duration_s)
    touching = (edges[1:] > timeline.warmup_s) & (edges[:-1] < timeline.duration_s)
    for column, key in (("SumOffsetLag", "sum_offset_lag"), ("MaxOffsetLag", "max_offset_lag"),
                        ("KafkaPollers", "pollers")):
        series = data.series[column]
        assert series[inside].max() <= block[key]["max"] <= series[touching].max()
    assert block["sum_offset_lag"]["max"] > 100  # the burst made a backlog
    # Pollers count whole pollers; the upper bound (ceil(6 / 5) = 2) is marked.
    ticks = pollers.get_yticks()
    assert np.allclose(ticks, np.round(ticks))
    assert any("1 up to 2 pollers" in label for label in _labels(pollers))
    # Written with the run's charts and shown in report.html.
    write_results(lagging, tmp_path / "out")
    assert (tmp_path / "out" / "kafka-f.png").read_bytes()[:4] == b"\x89PNG"
    assert "Kafka event source" in (tmp_path / "out" / "report.html").read_text()


def test_kafka_chart_marks_provisioned_minimum_and_maximum_and_says_no_lag(tmp_path):
    # Provisioned mode: MinimumPollers and MaximumPollers, the maximum capped at the
    # partition count ("Lambda limits MaximumPollers to the number of partitions").
    from lambdasim.results import plots

    data = scenario({"arrivals": {"process": "poisson", "rate": "1/h"}, "partitions": 3,
                     "provisioned_pollers": {"minimum": 2, "maximum": 50}}, duration="1m")
    result = simulate(data)
    assert result.summary["functions"]["f"]["kafka"]["records"] == 0
    lag, pollers, _ = plots.kafka_chart(result, "f").axes
    assert "no offset lag: every record read as it arrived" in [t.get_text() for t in lag.texts]
    labels = _labels(pollers)
    assert "minimum pollers (2)" in labels
    assert "maximum pollers (3; at most the partitions)" in labels
    assert "provisioned pollers, peak (table: 2)" in labels
    # The pollers' EPU cost has its own item on the cost chart (it was drawn without a colour).
    cost = plots.cost_chart(result, "f")
    assert any(text.get_text().startswith("event pollers (EPU): $")
               for text in cost.axes[0].get_legend().get_texts())
    # report.html's cost table has the item too, so its row adds up to the total.
    from lambdasim.results.folder import write_results

    write_results(result, tmp_path / "out", plots=False)
    page = (tmp_path / "out" / "report.html").read_text()
    assert ">event pollers (EPU)<" in page


def test_no_kafka_chart_without_a_kafka_trigger(tmp_path):
    from lambdasim.results import plots

    data = scenario({"arrivals": {"process": "poisson", "rate": 1}}, duration="1m",
                    function={"timeout": "10s"})
    data["functions"]["f"]["triggers"] = [{"type": "sqs",
                                           "arrivals": {"process": "poisson", "rate": 5}}]
    result = simulate(data)
    assert plots.kafka_chart(result, "f") is None
    assert not [p for p in plots.write_plots(result, tmp_path) if p.name.startswith("kafka")]


def test_levels_are_tracked_on_a_period_every_chart_bin_groups():
    # A 10-minute run plans 2 s bins; a drain past the horizon makes them 5 s. The offset
    # lag is tracked at a period both (and the 60 s metrics period) are whole groups of.
    from lambdasim.engine.online_levels import track_period

    fine = track_period(60.0, 600.0)
    for width in (2.0, 5.0, 60.0):
        assert abs(width / fine - round(width / fine)) < 1e-9


def test_shipped_kafka_orders_scenario_tells_its_story():
    # scenarios/kafka_orders.yaml: one on-demand poller until the flash sale at 8:00; the
    # 9:00 evaluation sees all 12 partitions lagging and wants ceil(12 / 5) = 3 pollers,
    # which arrive three minutes later ("within three minutes of evaluation"); the lag,
    # which grew while one poller carried 5 invocations, drains with all 12 partitions busy,
    # and the pollers go back to one after the sale.
    from pathlib import Path

    from lambdasim.testing import assert_expectations

    path = Path(__file__).resolve().parent.parent / "scenarios" / "kafka_orders.yaml"
    model = Model(load_scenario(path)).run()
    kafka = next(t for t in model.triggers["order-events"] if isinstance(t, KafkaTrigger))
    assert kafka.poller_changes == [(0.0, 1), (720.0, 3), (1320.0, 1)]
    result = build_result(model)
    block = result.summary["functions"]["order-events"]
    assert block["kafka"]["records_waiting"] == 0 and block["kafka"]["records_discarded"] == 0
    assert block["concurrency"]["max"] == 12
    rows = [i for i, f in enumerate(result.series["function"]) if f == "order-events"]
    lag = {result.series["period_start_s"][i]: result.series["SumOffsetLag"][i] for i in rows}
    # The lag climbs each minute of the sale until the pollers come at 12:00 (the peak of
    # the period starting then), then falls each minute.
    climb = [lag[t] for t in (420.0, 480.0, 540.0, 600.0, 660.0, 720.0)]
    drain = [lag[t] for t in (720.0, 780.0, 840.0, 900.0, 960.0)]
    assert climb == sorted(climb) and drain == sorted(drain, reverse=True)
    assert max(lag.values()) == lag[720.0] > 10_000
    assert lag[420.0] < 100 and lag[1200.0] < 100     # before the sale and after the drain
    assert len(assert_expectations(result)) == 3  # its own expect: block passes
