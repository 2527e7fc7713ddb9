"""Replication charts with 95 % bands for every panel a single run draws (issue 16, point 8):
event sources (async, SQS, streams, Kafka), the front door and the account, each line the
mean of the replications with its Student-t band, no bound outside the figure's range."""
from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from lambdasim.results import plots
from lambdasim.results.chart_kit import WARMUP_LABEL

#: One function per event source, all with a burst; a front door with an API throttle.
SOURCES = """\
name: sources
duration: 2m
warmup: 10s
seed: 11
period: 10s
account:
  concurrency_limit: 200
  api_gateway: {rate: 40/s, burst: 20}
functions:
  api:
    duration: {dist: lognormal, median: 60ms, p99: 300ms}
    triggers:
      - {type: sync, source: api_gateway,
         arrivals: {process: poisson, rate: [[0s, 10/s], [40s, 60/s], [70s, 10/s]]}}
  worker:
    timeout: 30s
    duration: {dist: lognormal, median: 800ms, p99: 3s}
    triggers:
      - {type: async, arrivals: {process: poisson, rate: [[0s, 1/s], [40s, 8/s], [70s, 1/s]]}}
  q:
    timeout: 20s
    duration: {dist: lognormal, median: 500ms, p99: 2s}
    triggers:
      - {type: sqs, arrivals: {process: poisson, rate: [[0s, 3/s], [40s, 30/s], [70s, 3/s]]}}
  s:
    timeout: 30s
    duration: {dist: lognormal, median: 80ms, p99: 400ms}
    triggers:
      - {type: kinesis, shards: 2, batch_size: 10,
         arrivals: {process: poisson, rate: [[0s, 20/s], [40s, 200/s], [70s, 20/s]]}}
  k:
    timeout: 30s
    duration: {dist: lognormal, median: 300ms, p99: 1s}
    triggers:
      - {type: kafka, partitions: 6, batch_size: 10,
         provisioned_pollers: {minimum: 1, maximum: 4},
         arrivals: {process: poisson, rate: [[0s, 5/s], [40s, 60/s], [70s, 5/s]]}}
"""

#: file -> number of panels, as the single run draws them.
PANELS = {"async-worker.png": 3, "sqs-q.png": 3, "stream-s.png": 2, "kafka-k.png": 3,
          "front-door-api.png": 2}


@pytest.fixture(scope="module")
def reps():
    from lambdasim.studies.replications import simulate_many

    return simulate_many(yaml.safe_load(SOURCES), 3, workers=1, charts=True)


@pytest.fixture(scope="module")
def drawn(reps):
    return dict(reps.plots())


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _bands(ax):
    return [c for c in ax.collections if "PolyCollection" in c.__class__.__name__]


def test_every_event_source_panel_and_the_account_get_a_band_chart(reps, drawn):
    assert set(PANELS) | {"concurrency.png"} <= set(drawn)
    # No event-source chart for a function without that source (the Kafka function's
    # ProvisionedPollers do not make it an SQS chart).
    assert "sqs-k.png" not in drawn and "kafka-q.png" not in drawn
    for name, count in PANELS.items():
        chart = drawn[name]
        assert len(chart.axes) == count, name
        assert "3 replications" in chart._suptitle.get_text()
        assert "95 %" in chart.axes[0].get_title()
        assert WARMUP_LABEL in _legend(chart.axes[0]), name
        for ax in chart.axes:  # a band under every panel's lines
            assert _bands(ax), (name, ax.get_ylabel())
    account = drawn["concurrency.png"]
    labels = _legend(account.axes[0])
    assert {f"{f}: busy environments, mean" for f in ("api", "worker", "q", "s", "k")} \
        <= set(labels)
    assert any(label.startswith("account concurrency limit (200)") for label in labels)


def test_band_means_are_the_replications_mean_per_bin(reps, drawn):
    # The Kafka offset lag line is the per-bin mean of the replications' SumOffsetLag.
    runs = [d["functions"]["k"]["series"]["SumOffsetLag"] for d in reps.charts]
    length = max(len(r) for r in runs)
    matrix = np.zeros((len(runs), length))
    for i, r in enumerate(runs):
        matrix[i, :len(r)] = r
    lag = drawn["kafka-k.png"].axes[0]
    line = next(l for l in lag.get_lines() if l.get_label().startswith("SumOffsetLag"))
    assert np.allclose(line.get_ydata()[:length], matrix.mean(axis=0))
    assert matrix.max() > 0
    # Provisioned pollers: their minimum and maximum are marked as on a single run.
    assert {"minimum pollers (1)", "maximum pollers (4; at most the partitions)"} \
        <= set(_legend(drawn["kafka-k.png"].axes[1]))
    assert "partitions (6): one batch in flight each" in _legend(drawn["kafka-k.png"].axes[2])


def test_no_band_leaves_its_figure_range(drawn):
    # Counts, ages, latencies: never below zero; an age never above the time elapsed.
    for name in PANELS:
        for ax in drawn[name].axes:
            unit = {"(s)": 1.0, "(min)": 60.0, "(h)": 3600.0}
            scale = next((v for k, v in unit.items() if ax.get_xlabel().endswith(k)), None)
            for band in _bands(ax):
                for path in band.get_paths():
                    xy = path.vertices
                    assert np.all(xy[:, 1] >= -1e-9), (name, ax.get_ylabel())
                    if "age" in ax.get_ylabel() and scale is not None:
                        # the band's left corner of a bin: elapsed time + one bin
                        assert np.all(xy[:, 1] <= xy[:, 0] * scale + 10.0), name


def test_kafka_bands_stay_within_pollers_and_partitions(drawn):
    # Provisioned pollers are at most MaximumPollers (4 here); a Kafka-only function runs at
    # most one batch per partition (6), kafka-scaling-modes.html.
    _, pollers, concurrency = drawn["kafka-k.png"].axes
    for ax, bound in ((pollers, 4.0), (concurrency, 6.0)):
        for band in _bands(ax):
            for path in band.get_paths():
                assert np.all(path.vertices[:, 1] <= bound + 1e-9), ax.get_ylabel()


def test_single_run_has_the_same_panels(reps):
    from lambdasim import simulate

    result = simulate(yaml.safe_load(SOURCES))
    single = dict(plots.charts(result))
    for name, count in PANELS.items():
        assert len(single[name].axes) == count
    assert "sqs-k.png" not in single


def test_confidence_bounds_of_levels_stay_under_their_limits(reps):
    # Concurrency never above the partitions of a Kafka-only function (one batch per
    # partition, kafka-scaling-modes.html), the reserved concurrency or the account limit;
    # pollers never above MaximumPollers.
    from lambdasim.studies.replications import figure_range

    config = reps.config
    assert figure_range("functions.k.concurrency.max", [5, 6, 6], config) == (0.0, 6.0)
    assert figure_range("functions.k.kafka.concurrency.mean", [3.0], config) == (0.0, 6.0)
    assert figure_range("functions.k.kafka.pollers.max", [2, 3], config) == (0.0, 4.0)
    assert figure_range("functions.api.concurrency.max", [9], config) == (0.0, 200.0)
    assert figure_range("account.concurrency.max", [30], config) == (0.0, 200.0)
    assert figure_range("functions.api.requests.arrived", [9], config) == (0.0, None)
    reserved = {**config, "functions": {"w": {"reserved_concurrency": 5, "triggers": []}}}
    assert figure_range("functions.w.concurrency.max", [5, 5], reserved) == (0.0, 5.0)
    for key, (low, high) in (("functions.k.concurrency.max", (0, 6)),
                             ("functions.k.kafka.pollers.max", (0, 4))):
        a, b = reps.figures[key]["ci95"]
        assert low <= a <= b <= high


# --------------------------------------------------------------------------- shared dependencies

#: Two functions sharing a pool of 8 connections and a rate quota of 20 calls per second, a
#: burst past both (LAMBDA_MODEL.md section 10: the user's own figures).
DEPENDENCIES = """\
name: shared
duration: 90s
warmup: 10s
seed: 5
period: 10s
dependencies:
  db: {type: pool, capacity: 8, acquire_timeout: 50ms}
  partner: {type: rate, rate: 20/s, burst: 10, on_limit: wait, max_wait: 200ms}
functions:
  a:
    duration: {dist: lognormal, median: 100ms, p99: 400ms}
    uses: [db, partner]
    triggers:
      - {type: sync, arrivals: {process: poisson, rate: [[0s, 10/s], [30s, 60/s], [60s, 10/s]]}}
  b:
    duration: {dist: lognormal, median: 200ms, p99: 600ms}
    uses: [db]
    triggers:
      - {type: sync, arrivals: {process: poisson, rate: 5/s}}
"""


@pytest.fixture(scope="module")
def shared():
    from lambdasim.studies.replications import simulate_many

    return simulate_many(yaml.safe_load(DEPENDENCIES), 3, workers=1, charts=True)


def test_dependencies_get_a_band_chart_like_the_single_run(shared):
    from lambdasim import simulate

    chart = dict(shared.plots())["dependencies.png"]
    single = dict(plots.charts(simulate(yaml.safe_load(DEPENDENCIES))))["dependencies.png"]
    assert len(chart.axes) == len(single.axes) == 2
    assert "3 replications" in chart._suptitle.get_text()
    assert "95 %" in chart.axes[0].get_title()
    in_use, waits = chart.axes
    assert {"db: in use (peak), mean", "db: in use (average), mean", "db: capacity 8",
            "partner: in use (peak), mean"} <= set(_legend(in_use))
    assert "db: invocations that waited, mean" in _legend(waits)
    assert len(_bands(in_use)) == 4 and len(_bands(waits)) == 4  # 2 figures x 2 dependencies
    # The peak-in-use line is the per-period mean of the replications' InUse_max.
    runs = [d["dependencies"]["db"]["InUse_max"] for d in shared.charts]
    assert len({len(r) for r in runs}) >= 1
    length = max(len(r) for r in runs)
    matrix = np.zeros((len(runs), length))
    for i, r in enumerate(runs):
        matrix[i, :len(r)] = r
    line = next(l for l in in_use.get_lines() if l.get_label() == "db: in use (peak), mean")
    assert np.allclose(line.get_ydata()[:length], matrix.mean(axis=0))
    assert matrix.max() == 8  # the burst fills the pool
    assert sum(np.sum(d["dependencies"]["db"]["Waits"]) for d in shared.charts) > 0


def test_dependency_bands_stay_in_range(shared):
    # Never below zero; a pool's units in use never above its capacity (8), even where the
    # replications disagree (in the burst some fill the pool and some do not).
    chart = dict(shared.plots())["dependencies.png"]
    in_use, waits = chart.axes
    for ax in (in_use, waits):
        for band in _bands(ax):
            for path in band.get_paths():
                assert np.all(path.vertices[:, 1] >= -1e-9)
    db = [b for b in _bands(in_use)
          if np.allclose(b.get_facecolor()[0][:3], _color(in_use, "db: in use (peak), mean"))]
    assert len(db) == 2
    for band in db:
        for path in band.get_paths():
            assert np.all(path.vertices[:, 1] <= 8 + 1e-9)
    # The summary's interval of the pool's units in use stays under its capacity too.
    from lambdasim.studies.replications import figure_range

    assert figure_range("dependencies.db.in_use.max", [8, 7], shared.config) == (0.0, 8.0)
    assert figure_range("dependencies.partner.in_use.max", [3], shared.config) == (0.0, None)
    low, high = shared.figures["dependencies.db.in_use.max"]["ci95"]
    assert 0 <= low <= high <= 8


def test_the_replication_table_shows_dependency_figures(shared):
    # Each dependency cell is mean [low, high] (it used to read '-' in every row).
    from lambdasim.results.table import format_replications_table

    text = format_replications_table(shared.summary, shared.figures, 3, shared.seed)
    section = text.split("dependency", 1)[1].splitlines()
    capacity = " ".join(line for line in section if line.startswith("capacity"))
    assert re.fullmatch(r"capacity \(units\) +8( +capacity \(units\))? +-", capacity), capacity
    interval = re.compile(r"[\d,.]+ \[[\d,.]+, [\d,.]+\]")
    for label in ("units in use mean", "invocations rejected"):
        lines = [line for line in section if line.startswith(label)]
        assert len(lines) == 2 and all(interval.search(line) for line in lines), lines


def _color(ax, label: str):
    from matplotlib.colors import to_rgb

    return to_rgb(next(l for l in ax.get_lines() if l.get_label() == label).get_color())


def test_the_replication_report_shows_the_dependency_chart_and_figures(tmp_path):
    from lambdasim import cli

    (tmp_path / "shared.yaml").write_text(DEPENDENCIES)
    out = tmp_path / "out"
    assert cli.main(["run", str(tmp_path / "shared.yaml"), "--replications", "2", "--out",
                     str(out), "--quiet"]) == 0
    assert (out / "dependencies.png").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r"<figcaption>shared dependencies[^<]*\(dependencies\.png\)</figcaption>",
                     page)
    assert '<td class="label">capacity (units)</td><td class="num">8</td>' in page
    assert re.search(r'<td class="label">units in use mean</td><td class="num">[\d.]+ \[', page)


def test_async_event_age_band_stays_under_max_event_age():
    # An async event is invoked within max_event_age of being queued or dropped
    # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html), so
    # no bound of its age at invocation lies above it, however long the backlog lasts.
    from lambdasim.studies.replications import simulate_many

    backlog = yaml.safe_load("""\
name: backlog
duration: 4m
seed: 5
period: 10s
functions:
  slow:
    reserved_concurrency: 1
    timeout: 30s
    duration: {dist: uniform, low: 2s, high: 4s}
    triggers:
      - {type: async, max_event_age: 60s, arrivals: {process: poisson, rate: 1/s}}
""")
    chart = dict(simulate_many(backlog, 3, workers=1, charts=True).plots())["async-slow.png"]
    unit = {"(s)": 1.0, "(min)": 60.0, "(h)": 3600.0, "(ms)": 0.001}
    checked = 0
    for ax in chart.axes:
        if "age" not in ax.get_ylabel():
            continue
        scale = next(v for k, v in unit.items() if ax.get_ylabel().endswith(k))
        for band in _bands(ax):
            for path in band.get_paths():
                assert np.all(path.vertices[:, 1] * scale <= 60.0 + 1e-6), ax.get_ylabel()
                checked += 1
    assert checked
