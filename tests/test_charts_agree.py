"""Charts agree with the summary table (issue 16): legend totals are the table's figures,
the warm-up is marked on every chart, every chart of a run uses the same bins, counting axes
have whole-number ticks, empty panels say so, and the latency-over-time and cost-over-time
charts draw the right data."""
from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

import lambdasim
from lambdasim.results import plots
from lambdasim.results.chart_kit import HORIZON_LABEL, WARMUP_LABEL
from lambdasim.results.timeline import MIN_PERIOD_BINS, chart_width

#: A burst past the account limit with client retries and a warm-up: throttled attempts,
#: requests throttled in the end, cold starts in and after the warm-up.
BURST = """\
name: burst
duration: 60s
warmup: 10s
seed: 3
period: 10s
account: {concurrency_limit: 25, unreserved_minimum: 5}
functions:
  api:
    duration: {dist: lognormal, median: 300ms, p99: 1s}
    init: {dist: lognormal, median: 400ms, p99: 1s}
    triggers:
      - type: sync
        name: web
        arrivals: {process: poisson, rate: [[0s, 20/s], [25s, 150/s], [40s, 20/s]]}
        client_retries: {max_attempts: 3, base_delay: 100ms, max_delay: 1s, jitter: full}
"""

#: Two requests a minute: a chart of fractions of an environment unless the axis counts.
TRICKLE = """\
name: trickle
duration: 30m
seed: 2
functions:
  cron:
    duration: {dist: lognormal, median: 2s, p99: 6s}
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 2/min}
"""

#: Asynchronous invocations that never queue: the backlog panel has nothing to draw.
CALM_ASYNC = """\
name: calm
duration: 2m
seed: 4
functions:
  worker:
    duration: 50ms
    triggers:
      - type: async
        arrivals: {process: poisson, rate: 2/s}
"""


def _run(text: str, **kwargs):
    return lambdasim.simulate(yaml.safe_load(text), **kwargs)


@pytest.fixture(scope="module")
def burst():
    return _run(BURST, records=True)


def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def _number(text: str) -> int:
    return int(re.search(r"([\d,]+)", text).group(1).replace(",", ""))


def test_the_burst_exercises_every_count(burst):
    block = burst.summary["functions"]["api"]
    assert block["throttles"] > block["requests"]["throttled"] > 0
    data = burst.timeline.functions["api"]
    # The warm-up has cold starts that the table leaves out.
    assert data.cold_starts.sum() > data.cold_starts_counted.sum() == block["cold_starts"]


def test_chart_totals_equal_the_table(burst):
    block = burst.summary["functions"]["api"]
    data = burst.timeline.functions["api"]
    assert int(data.arrivals_counted.sum()) == block["requests"]["arrived"]
    assert int(data.invocations_counted.sum()) == block["invocations"]
    assert int(data.throttles_counted.sum()) == block["throttles"]
    assert int(data.throttled_counted.sum()) == block["requests"]["throttled"]
    assert int(data.cold_starts_counted.sum()) == block["cold_starts"]
    # The legends print those totals: each figure as the table prints it.
    chart = plots.requests_chart(burst, "api")
    top, middle, bottom = chart.axes
    labels = _legend(top) + _legend(middle) + _legend(bottom)
    wanted = {"requests arrived": block["requests"]["arrived"],
              "invocations (handler runs": block["invocations"],
              "throttled attempts:": block["throttles"],
              "requests throttled in the end": block["requests"]["throttled"],
              "cold starts:": block["cold_starts"]}
    for start, value in wanted.items():
        (label,) = [text for text in labels if text.startswith(start)]
        assert _number(label.split(":", 1)[1] if ":" in label else label) == value, label
    # What the warm-up adds is drawn apart and named as outside the table.
    (extra,) = [text for text in _legend(bottom) if "warm-up" in text and "cold" in text]
    assert _number(extra.split(":")[1]) == int(data.cold_starts.sum()) - block["cold_starts"]


def test_the_warm_up_is_marked_on_every_chart(burst, tmp_path):
    warmup = burst.summary["warmup_s"]
    drawn = list(plots.charts(burst))
    assert {name for name, _ in drawn} == {"concurrency-api.png", "requests-api.png",
                                          "latency-api.png", "latency_time-api.png",
                                          "cost-api.png"}
    for name, chart in drawn:
        if name.startswith("latency-"):  # a distribution, not a time axis: says its window
            assert "after the warm-up" in chart.axes[0].get_title()
            continue
        assert WARMUP_LABEL in _legend(chart.axes[0]), name
        for ax in chart.axes:  # shaded on every panel, from 0 to the end of the warm-up
            spans = [p for p in ax.patches if p.get_label() in (WARMUP_LABEL, "_nolegend_")
                     or p.get_x() == 0.0]
            widths = {round(p.get_width() * _scale(ax), 6) for p in spans
                      if hasattr(p, "get_width")}
            assert round(warmup, 6) in widths, (name, widths)


def _scale(ax) -> float:
    """Seconds per unit of the time axis, from its label."""
    label = ax.get_xlabel() or "(s)"
    for unit, scale in (("(s)", 1.0), ("(min)", 60.0), ("(h)", 3600.0), ("(d)", 86400.0)):
        if unit in label:
            return scale
    return 1.0


def test_every_chart_of_a_run_uses_the_same_bins(burst):
    width = burst.timeline.width_s
    assert width == chart_width(burst.timeline.end_s, burst.summary["config"]["period"])
    for name, chart in plots.charts(burst):
        subtitle = chart.axes[0].get_title()
        if name.startswith("latency-"):
            continue
        assert f"{width:g} s" in subtitle, (name, subtitle)


def test_bins_are_the_metrics_period_when_it_gives_enough():
    assert chart_width(2 * 3600.0, 60.0) == 60.0  # 120 periods: metrics.csv's own bins
    assert chart_width(20 * 60.0, 60.0) == 5.0  # 20 periods are too coarse for a ramp
    assert chart_width(MIN_PERIOD_BINS * 60.0, 60.0) == 60.0


def test_horizon_is_marked_only_when_the_drain_shows(burst):
    assert burst.timeline.end_s - burst.timeline.duration_s < 0.01 * burst.timeline.end_s
    assert HORIZON_LABEL not in _legend(plots.concurrency_chart(burst, "api").axes[0])
    # A slow handler: work in flight drains well after the horizon.
    slow = _run(BURST.replace("median: 300ms, p99: 1s", "median: 20s, p99: 40s"))
    assert slow.timeline.end_s - slow.timeline.duration_s > 0.01 * slow.timeline.end_s
    labels = _legend(plots.concurrency_chart(slow, "api").axes[0])
    assert HORIZON_LABEL in labels


def _tick_values(ax) -> list[float]:
    low, high = ax.get_ylim()
    return [t for t in ax.get_yticks() if low - 1e-9 <= t <= high + 1e-9]


def test_environment_axes_count_whole_environments():
    result = _run(TRICKLE)
    data = result.timeline.functions["cron"]
    busy = data.invoking + data.initializing
    assert 0 < busy.max() < 1.0  # means per bin are fractions of one environment ...
    ax = plots.concurrency_chart(result, "cron").axes[0]
    ticks = _tick_values(ax)
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks  # ... ticks not
    assert "mean" in ax.get_ylabel()


def test_empty_backlog_says_so():
    result = _run(CALM_ASYNC)
    chart = plots.async_chart(result, "worker")
    depth = chart.axes[1]
    assert "no backlog" in [t.get_text() for t in depth.texts]
    assert list(depth.get_ylim()) == [0.0, 1.0]
    received = chart.axes[2]
    assert not received.texts and received.get_ylim()[1] > 1.0


def test_trigger_charts_are_on_the_run_bins():
    result = _run(CALM_ASYNC)
    data = result.timeline.functions["worker"]
    assert len(data.series["AsyncEventsReceived"]) == len(data.edges) - 1
    assert int(np.nansum(data.series["AsyncEventsReceived"])) == \
        result.summary["functions"]["worker"]["requests"]["arrived"]


def test_latency_over_time_is_the_percentiles_of_each_bin(burst):
    data = burst.timeline.functions["api"]
    columns = burst.records.columns()
    answered = ~np.isnan(columns["latency_ms"])
    arrived = columns["arrived_s"][answered]
    latency = columns["latency_ms"][answered]
    edges = data.edges
    for k in range(len(edges) - 1):
        mine = latency[(arrived >= edges[k]) & (arrived < edges[k + 1])]
        if mine.size == 0:
            assert np.isnan(data.latency_p50_ms[k]) and data.latency_count[k] == 0
            continue
        assert data.latency_count[k] == mine.size
        assert data.latency_p50_ms[k] == pytest.approx(np.percentile(mine, 50), rel=1e-9)
        assert data.latency_p99_ms[k] == pytest.approx(np.percentile(mine, 99), rel=1e-9)
    chart = plots.latency_time_chart(burst, "api")
    ax = chart.axes[0]
    (p99,) = [line for line in ax.get_lines() if line.get_label().startswith("p99 of")]
    assert np.allclose(p99.get_ydata()[:-1], data.latency_p99_ms, equal_nan=True)
    table = burst.summary["functions"]["api"]["latency_ms"]["p99"]
    (ref,) = [line for line in ax.get_lines() if line.get_label().startswith("p99 over")]
    assert ref.get_ydata()[0] == table


def test_cost_over_time_adds_up_to_the_table(burst):
    cost = burst.summary["functions"]["api"]["cost_usd"]
    data = burst.timeline.functions["api"]
    for item, values in data.cost_usd.items():
        assert float(values.sum()) == pytest.approx(cost[item], abs=1e-8), item
        assert np.all(values >= 0)
    # Nothing is billed in the warm-up: its requests are outside the table.
    warm = data.edges[1:] <= burst.summary["warmup_s"]
    assert not np.any(sum(data.cost_usd.values())[warm])
    # The duration item follows the busy time: more cost in the burst than before it.
    duration = data.cost_usd["duration"]
    assert duration[data.edges[:-1] >= 30].sum() > duration[data.edges[:-1] < 25].sum()
    chart = plots.cost_chart(burst, "api")
    running = [line for line in chart.axes[1].get_lines()
               if line.get_label().startswith("running total")][0]
    assert running.get_ydata()[-1] == pytest.approx(cost["total"], abs=1e-8)
    # Dollar ticks carry the decimals their step needs: no two read the same.
    chart.canvas.draw()
    for ax in chart.axes:
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
        assert all(label.startswith("$") for label in labels)


def test_provisioned_cost_follows_the_configured_capacity(tmp_path):
    text = BURST.replace("    init:", "    provisioned_concurrency: 5\n    init:")
    result = _run(text)
    data = result.timeline.functions["api"]
    cost = result.summary["functions"]["api"]["cost_usd"]
    assert cost["provisioned"] > 0
    assert float(data.cost_usd["provisioned"].sum()) == pytest.approx(cost["provisioned"],
                                                                      abs=1e-8)
    after = data.edges[:-1] >= result.summary["warmup_s"]
    inside = data.cost_usd["provisioned"][after & (data.edges[1:] <= 60)]
    assert np.all(inside > 0)  # configured capacity costs in every bin of the window


# --------------------------------------------------------------------------- replications

@pytest.fixture(scope="module")
def replications():
    from lambdasim.studies.replications import simulate_many

    return simulate_many(yaml.safe_load(BURST), 3, workers=1, charts=True)


def test_replications_keep_chart_data_on_shared_bins(replications):
    assert len(replications.charts) == 3
    widths = {d["width_s"] for d in replications.charts}
    assert len(widths) == 1
    # Every replication's per-bin counts add up to its own table.
    for digest, summary in zip(replications.charts, replications.summaries):
        data, block = digest["functions"]["api"], summary["functions"]["api"]
        assert int(data["cold_starts_counted"].sum()) == block["cold_starts"]
        assert int(data["throttles_counted"].sum()) == block["throttles"]
        assert float(data["cost_usd"].sum()) == pytest.approx(block["cost_usd"]["total"],
                                                              abs=1e-8)


def test_replication_bands_are_the_t_interval_of_the_mean(replications):
    from scipy import stats

    from lambdasim.results.replication_charts import band

    runs = [d["functions"]["api"]["busy"] for d in replications.charts]
    length = max(len(r) for r in runs)
    b = band(runs, length)
    k = int(np.argmax(b.mean))
    values = np.array([r[k] if k < len(r) else 0.0 for r in runs])
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
    assert b.mean[k] == pytest.approx(values.mean())
    assert b.high[k] == pytest.approx(values.mean() + half)
    assert b.low[k] == pytest.approx(max(values.mean() - half, 0.0))
    # Never below zero, even where the interval would reach under it.
    assert np.all(b.low >= 0)
    # The mean per bin adds up to the mean of the table's figure (linearity).
    cold = band([d["functions"]["api"]["cold_starts_counted"] for d in replications.charts],
                length)
    assert float(cold.mean.sum()) == pytest.approx(
        replications.figures["functions.api.cold_starts"]["mean"])


def test_replication_charts_draw_every_figure_with_its_band(replications):
    drawn = dict(replications.plots())
    assert set(drawn) == {"concurrency-api.png", "requests-api.png", "latency_time-api.png",
                          "cost-api.png"}
    for name, chart in drawn.items():
        assert "3 replications" in chart._suptitle.get_text()
        assert "95 %" in chart.axes[0].get_title()
        assert WARMUP_LABEL in _legend(chart.axes[0]), name
        # A band: a filled area under every mean line.
        assert any(c.__class__.__name__ == "FillBetweenPolyCollection"
                   or "PolyCollection" in c.__class__.__name__
                   for ax in chart.axes for c in ax.collections), name


def test_run_with_replications_writes_charts_and_the_report(tmp_path):
    from lambdasim.cli.main import main

    (tmp_path / "burst.yaml").write_text(BURST)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / "burst.yaml"), "--replications", "3", "--workers", "1",
                 "--out", str(out), "-q"])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "concurrency-api.png", "requests-api.png", "latency_time-api.png",
            "cost-api.png", "summary.json", "replications.json"} <= names
    page = (out / "report.html").read_text()
    assert page.count("<img ") == 4
    assert "3 independent runs" in page
    # Each figure as mean [low, high], bounds inside the figure's range.
    assert re.search(r'<td class="num">0 \[0, 0\]</td>', page)  # dropped: no negative bound
    bounds = re.findall(r'<td class="num">[^<\[]*\[(-?[\d,.]+), (-?[\d,.]+)\]</td>', page)
    assert bounds and all(not low.startswith("-") for low, _ in bounds)
    without = tmp_path / "no-plots"
    assert main(["run", str(tmp_path / "burst.yaml"), "--replications", "2", "--workers", "1",
                 "--out", str(without), "-q", "--no-plots"]) == 0
    assert not list(without.glob("*.png")) and (without / "report.html").is_file()


#: An SQS queue with a burst, 4 minutes at 30 s metrics periods: 8 periods, 1 s chart bins.
QUEUE = """\
name: queue
duration: 4m
seed: 6
period: 30s
functions:
  orders:
    duration: {dist: lognormal, median: 200ms, p99: 800ms}
    triggers:
      - type: sqs
        name: orders
        arrivals:
          - {process: poisson, rate: 5/s}
          - {process: burst, count: 3000, at: 1m, spread: 10s}
        batch_size: 10
        per_record: 50ms
"""


def test_sqs_levels_are_on_the_chart_bins_and_agree_with_metrics():
    result = _run(QUEUE)
    data = result.timeline.functions["orders"]
    assert data.width_s == 1.0 and not data.series_edges
    depth = data.series["ApproximateNumberOfMessagesVisible"]
    assert len(depth) == len(data.edges) - 1 and np.nanmax(depth) > 100
    # metrics.csv's per-period maxima are the maxima of the chart's bins in each period.
    series = result.series
    rows = [i for i, name in enumerate(series["function"]) if name == "orders"]
    group = round(30.0 / data.width_s)
    for column in ("ApproximateNumberOfMessagesVisible", "SQSPollers",
                   "ApproximateAgeOfOldestMessage_s"):
        per_period = [series[column][i] for i in rows]
        fine = data.series[column]
        for k, value in enumerate(per_period):
            chunk = fine[k * group:(k + 1) * group]
            if chunk.size:
                assert np.nanmax(chunk) == pytest.approx(value), (column, k)


def test_on_metrics_period_bins_the_charts_show_metrics_csv():
    """Bins equal to the metrics period: latency p50/p99 and cost per bin are metrics.csv's
    Latency_p50_ms, Latency_p99_ms and Cost_usd."""
    # With a warm-up: metrics.csv's Cost_usd, like the chart and the table, counts the
    # requests after it (warm-up periods are empty in metrics.csv, 0 on the chart).
    text = BURST.replace("duration: 60s", "duration: 10m")
    result = _run(text)
    data = result.timeline.functions["api"]
    assert data.width_s == 10.0  # 60 periods of 10 s: the metrics period is the bin
    series = result.series
    rows = [i for i, name in enumerate(series["function"]) if name == "api"]
    n = min(len(rows), len(data.edges) - 1)

    def column(name):
        return np.array([np.nan if series[name][i] is None else series[name][i]
                         for i in rows])[:n]

    assert np.allclose(column("Latency_p50_ms"), data.latency_p50_ms[:n], equal_nan=True)
    assert np.allclose(column("Latency_p99_ms"), data.latency_p99_ms[:n], equal_nan=True)
    assert series["Cost_usd"][rows[0]] is None  # the warm-up period: not in the bill
    cost = np.nan_to_num(column("Cost_usd"))
    assert np.allclose(cost, sum(data.cost_usd.values())[:n], atol=1e-8)


#: One function drains for minutes after the horizon, the other is done at once.
UNEVEN = """\
name: uneven
duration: 2m
seed: 9
functions:
  quick:
    duration: 50ms
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 5/s}
  slow:
    timeout: 900s
    duration: {dist: uniform, low: 10m, high: 14m}
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 1/min}
"""


def test_a_function_s_charts_end_after_its_own_activity():
    result = _run(UNEVEN)
    timeline = result.timeline
    assert timeline.end_s > 10 * 60  # the slow handler drains the run for minutes
    quick, slow = timeline.functions["quick"], timeline.functions["slow"]
    assert timeline.duration_s <= quick.active_end_s <= timeline.duration_s * 1.2
    assert slow.active_end_s == timeline.edges[-1]
    for make in (plots.concurrency_chart, plots.requests_chart, plots.cost_chart):
        quick_ax = make(result, "quick").axes[-1]  # the panel with the time label
        slow_ax = make(result, "slow").axes[-1]
        assert quick_ax.get_xlim()[1] * _scale(quick_ax) == pytest.approx(quick.active_end_s)
        assert slow_ax.get_xlim()[1] * _scale(slow_ax) == pytest.approx(timeline.end_s)
    # Every chart still uses the run's bins.
    assert quick.width_s == slow.width_s == timeline.width_s


def test_log_latency_axes_tick_at_round_times():
    result = _run(CALM_ASYNC)
    chart = plots.latency_chart(result, "worker")
    chart.canvas.draw()
    labels = [t.get_text() for t in chart.axes[0].get_xticklabels() if t.get_text()]
    assert labels and set(labels) <= {"0.1 ms", "1 ms", "10 ms", "100 ms", "1 s", "10 s",
                                      "1 min", "10 min", "1 h", "10 h", "24 h", "10 d"}
