"""What ``run --replications N`` tells a planner besides its table (issue 16, points 3, 5, 6,
8): findings computed from the replications (each number ``mean [low, high]``) and the
assumptions, in the terminal and report.html; replication charts with durations in human
units, the window their totals count, and legend swatches drawn as the lines are; and the
Kafka consumer-lag finding of a single run."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from lambdasim.results import humanize as hz

#: An async function held to reserved concurrency 2 whose events age for up to 90 s and are
#: dropped (latencies of a minute and more), and an on-demand Kafka consumer whose burst
#: pins its pollers at their maximum (10 partitions / 5 invocations per poller = 2,
#: https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html). No warm-up.
READOUT = """\
name: readout
duration: 8m
seed: 5
period: 30s
functions:
  slow:
    reserved_concurrency: 2
    timeout: 30s
    duration: {dist: lognormal, median: 2s, p99: 4s}
    triggers:
      - {type: async, max_event_age: 90s, max_retry_attempts: 0,
         arrivals: {process: poisson, rate: 2/s}}
  k:
    duration: {dist: lognormal, median: 200ms, p99: 500ms}
    triggers:
      - {type: kafka, partitions: 10, batch_size: 10, per_record: 20ms,
         arrivals: {process: poisson, rate: [[0s, 5/s], [1m, 150/s], [4m, 5/s]]}}
"""


@pytest.fixture(scope="module")
def reps():
    from lambdasim.studies.replications import simulate_many

    return simulate_many(yaml.safe_load(READOUT), 3, workers=1, charts=True)


@pytest.fixture(scope="module")
def findings(reps):
    from lambdasim.studies.replication_findings import replication_findings

    return replication_findings(reps.summaries, reps.config)


@pytest.fixture(scope="module")
def drawn(reps):
    return dict(reps.plots())


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------- findings


def test_replication_findings_quote_the_mean_and_interval_of_each_runs_own_share(reps, findings):
    from lambdasim.studies.replications import figure_stats

    shares = [s["functions"]["slow"]["requests"]["dropped"]
              / s["functions"]["slow"]["requests"]["arrived"] for s in reps.summaries]
    stats = figure_stats(shares)
    low, high = stats["ci95"]
    expected = (f"{hz.percent(stats['mean'], 1)} [{hz.percent(max(low, 0), 1)}, "
                f"{hz.percent(min(high, 1), 1)}] of requests")
    dropped = [s for s in findings if "dropped unanswered" in s]
    assert len(dropped) == 1 and dropped[0].startswith(f"slow: {expected}"), findings
    assert "older than max_event_age" in dropped[0]
    assert any(s.startswith("slow: reserved concurrency of 2 was reached in 3 of 3 "
                            "replications") for s in findings)
    assert any(s.startswith("slow: the async queue peaked at ") for s in findings)
    assert any(s.startswith("The run cost $") for s in findings)


def test_replication_findings_report_kafka_lag_and_pollers(reps, findings):
    peaks = [s["functions"]["k"]["kafka"]["sum_offset_lag"]["max"] for s in reps.summaries]
    kafka = [s for s in findings if s.startswith("k: the Kafka offset lag peaked at ")]
    assert len(kafka) == 1, findings
    assert kafka[0].startswith(f"k: the Kafka offset lag peaked at "
                               f"{hz.count(np.mean(peaks))} [")
    pinned = sum(s["functions"]["k"]["kafka"]["pollers"]["max"] >= 2 for s in reps.summaries)
    assert f"the event pollers reached their maximum of 2 in {pinned} of 3 replications" \
        in kafka[0]
    assert "most-lagging partition" in kafka[0]


def test_replication_summary_lists_every_assumption_once(reps):
    topics = [a["topic"] for a in reps.summary["assumptions"]]
    assert len(topics) == len(set(topics)) > 0
    assert {a["topic"] for s in reps.summaries for a in s["assumptions"]} == set(topics)


def test_run_with_replications_prints_findings_and_assumptions(tmp_path):
    scenario = tmp_path / "readout.yaml"
    scenario.write_text(READOUT)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "lambdasim", "run", str(scenario),
                           "--replications", "3", "--out", str(out)],
                          capture_output=True, text=True, check=True)
    text = proc.stdout
    assert "\nassumptions (AWS publishes no figure" in text
    assert "\nfindings:\n" in text
    assert re.search(r"slow: [\d.]+ % \[[\d.]+ %, [\d.]+ %\] of requests", text), text
    html = (out / "report.html").read_text()
    assert html.index("<h2>Findings</h2>") < html.index("<h2>Summary</h2>")
    assert html.index("<h2>Assumptions</h2>") < html.index("<h2>Summary</h2>")
    assert "dropped unanswered" in html and "keep_alive" in html


# --------------------------------------------------------------------------- single-run Kafka


def test_single_run_kafka_finding_says_lag_peak_pollers_and_drain():
    from lambdasim import simulate

    result = simulate(yaml.safe_load(READOUT))
    kafka = result.summary["functions"]["k"]["kafka"]
    series = result.series
    rows = [(t, lag, pollers) for t, n, lag, pollers in zip(
        series["period_start_s"], series["function"], series["SumOffsetLag"],
        series["KafkaPollers"]) if n == "k"]
    peak_t = max(rows, key=lambda r: r[1])[0]
    pinned = [t for t, _, p in rows if p is not None and p >= 2]
    drained = next(t for t, lag, _ in rows if t > peak_t and lag <= 0.01 * max(
        r[1] for r in rows))
    found = [s for s in result.findings if s.startswith("k: the Kafka offset lag")]
    assert found == [
        f"k: the Kafka offset lag peaked at {hz.count(kafka['sum_offset_lag']['max'])} records "
        f"in the 30 s period from {hz.clock(peak_t)}, {hz.count(kafka['max_offset_lag']['max'])} "
        f"on the most-lagging partition; the event pollers were at their maximum of 2 from "
        f"{hz.clock(min(pinned))} to {hz.clock(max(pinned) + 30)}; the lag was back under "
        f"1 % of its peak by {hz.clock(drained)}."], result.findings
    assert pinned == [t for t in range(int(min(pinned)), int(max(pinned)) + 1, 30)]


# --------------------------------------------------------------------------- charts


def test_replication_latency_chart_shows_durations_in_human_units(reps, drawn):
    ax = drawn["latency_time-slow.png"].axes[0]
    table = reps.summary["functions"]["slow"]["latency_ms"]
    assert table["p99"] >= 10_000  # the point of this test: latencies of a minute
    legend = _legend(ax)
    assert f"p99 over the measured window (table, mean): {hz.duration_ms(table['p99'])}" \
        in legend
    assert not any(re.search(r"\d{2},\d{3}(\.\d+)? ms", text) for text in legend), legend
    drawn["latency_time-slow.png"].png()  # lay it out: tick labels exist
    labels = [t.get_text() for t in ax.get_yticklabels()]
    label = ax.get_ylabel()
    assert "(ms)" not in label
    # Linear axes carry their unit in the label; log axes in every tick.
    assert label.endswith(("(s)", "(min)", "(log scale)")), label
    assert not any(re.search(r"\d{2},\d{3}", t) for t in labels), labels


def test_replication_age_panels_are_in_the_unit_that_fits(drawn):
    ax = drawn["async-slow.png"].axes[0]
    assert ax.get_ylabel() in ("event age (s)", "event age (min)")
    top_s = ax.get_ylim()[1] * (60.0 if ax.get_ylabel().endswith("(min)") else 1.0)
    assert ax.get_ylabel() == ("event age (min)" if top_s >= 120 else "event age (s)")


def test_replication_charts_name_the_window_without_a_warm_up(drawn):
    texts = []
    for chart in drawn.values():
        texts += [chart._suptitle.get_text() if chart._suptitle else ""]
        for ax in chart.axes:
            texts.append(ax.get_title())
            if ax.get_legend() is not None:
                texts += _legend(ax)
    assert not any("warm-up" in t and "no warm-up" not in t for t in texts), \
        [t for t in texts if "warm-up" in t]
    assert any("of all requests (no warm-up)" in t for t in texts)


def test_replication_concurrency_legend_shows_peak_dashes_as_drawn(drawn):
    ax = drawn["concurrency-slow.png"].axes[0]
    legend = ax.get_legend()
    styles = {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles)}
    peak = next(h for label, h in styles.items() if label.startswith("peak concurrency"))
    live = next(h for label, h in styles.items() if label.startswith("live environments"))
    assert peak.get_linestyle() not in ("-", "solid")
    assert live.get_linestyle() == "-"
    # The peaks are drawn as separate dashes: segments that do not touch.
    segments = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    ends = [s for c in segments for s in c.get_segments() if len(s) == 2]
    assert ends and all(a[1][0] < b[0][0] for a, b in zip(ends, ends[1:])
                        if a[0][0] < b[0][0])


def test_replication_findings_say_how_many_attempts_a_throttled_request_made():
    """Sync clients retry a 429 (max_attempts 3); the finding says after how many attempts a
    request failed, as a single run's does."""
    from lambdasim.studies.replication_findings import replication_findings
    from lambdasim.studies.replications import simulate_many

    scenario = yaml.safe_load("""\
name: syncy
duration: 3m
warmup: 30s
seed: 2
account: {concurrency_limit: 20}
functions:
  api:
    duration: {dist: lognormal, median: 500ms, p99: 2s}
    triggers:
      - {type: sync, client_retries: {max_attempts: 3},
         arrivals: {process: poisson, rate: [[0s, 10/s], [1m, 80/s], [2m, 10/s]]}}
""")
    reps = simulate_many(scenario, 3, workers=1)
    found = replication_findings(reps.summaries, reps.config)
    throttled = [s for s in found if "failed with a throttle (429) after 3 attempts" in s]
    assert len(throttled) == 1, found
    assert "The account concurrency limit of 20 was reached in 3 of 3 replications." in found
