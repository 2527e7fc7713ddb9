"""Charts: produced for every shipped scenario as valid, non-blank PNGs; their data (the
timeline) agrees with the summary; trigger charts drawn from series columns; no pyplot state;
legends outside the plotting area, so they never hide data."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib import _pylab_helpers
from matplotlib.image import imread

import lambdasim
from lambdasim.results import plots
from lambdasim.engine.metrics import StepLevel
from lambdasim.results.result import ACCOUNT_ROW
from lambdasim.results import timeline as timeline_module
from lambdasim.results.timeline import bin_width, level_integral

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Shipped scenarios, shortened where a full run would slow the suite (as test_golden does).
SHIPPED = {
    "peak": {"duration": "6m", "warmup": "30s"},
    "steady_warm": {"duration": "5m"},
    "reserved_cap": {"duration": "5m"},
    "rare_function": {},
}

SMALL = """\
name: small
duration: 40s
seed: 5
period: 5s
account: {concurrency_limit: 40, unreserved_minimum: 10}
functions:
  api:
    duration: {dist: lognormal, median: 200ms, p99: 900ms}
    init: {dist: lognormal, median: 400ms, p99: 1s}
    reserved_concurrency: 12
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: [[0s, 10/s], [15s, 80/s], [30s, 10/s]]}
  worker:
    duration: 100ms
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 20/s}
"""


def _assert_png(path: Path) -> tuple[int, int]:
    """A valid PNG that decodes to a picture with something drawn on it; its size."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 600 and height >= 300
    pixels = imread(path)  # decodes the whole file: a truncated or corrupt PNG raises
    assert pixels.shape[:2] == (height, width)
    rgb = pixels[..., :3]
    # Not a blank canvas: a good share of the picture is drawn (areas, lines, text) ...
    drawn = np.count_nonzero(rgb.min(axis=2) < 0.95) / (width * height)
    assert drawn > 0.03, (path, drawn)
    # ... and some of it in colour, not only black text on white.
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    assert np.count_nonzero(saturation > 0.2) > 200, path
    return width, height


def _small_dict() -> dict:
    return yaml.safe_load(SMALL)


@pytest.fixture(scope="module")
def small_result():
    """Two functions, one capped by reserved concurrency, a burst of traffic."""
    return lambdasim.simulate(_small_dict())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_chart_of_each_shipped_scenario_is_a_valid_png(name, tmp_path):
    scenario = lambdasim.load_scenario(ROOT / "scenarios" / f"{name}.yaml", SHIPPED[name])
    result = lambdasim.simulate(scenario)
    before = _pylab_helpers.Gcf.get_num_fig_managers()
    written = result.plots(tmp_path)
    functions = result.functions
    expected = {f"{kind}-{f}.png" for f in functions
                for kind in ("concurrency", "requests", "latency", "latency_time", "cost")}
    if len(functions) > 1:
        expected.add("concurrency.png")
    assert {p.name for p in written} == expected
    assert {p.name for p in tmp_path.iterdir()} == expected
    for path in written:
        _assert_png(path)
    # Drawn on the Agg canvas, not through pyplot: no figure is left open anywhere.
    assert _pylab_helpers.Gcf.get_num_fig_managers() == before == 0


def test_timeline_agrees_with_the_summary(small_result):
    timeline = small_result.timeline
    width = float(timeline.edges[1] - timeline.edges[0])
    assert width == bin_width(timeline.end_s)
    horizon = small_result.summary["duration_s"]
    inside = timeline.edges[1:] <= horizon + 1e-9  # bins within [0, horizon) (warmup is 0)
    for name, block in small_result.summary["functions"].items():
        data = timeline.functions[name]
        # Counts per bin add up to the summary's totals (no warm-up, all within the run).
        assert int(data.arrivals.sum()) == block["requests"]["arrived"]
        assert int(data.invocations.sum()) == block["invocations"]
        assert int(data.throttles.sum()) == block["throttles"]
        assert int(data.cold_starts.sum()) == block["cold_starts"]
        # Time-weighted levels: the bins' means reproduce the summary's means.
        busy = data.invoking + data.initializing
        assert float((busy[inside] * width).sum() / horizon) == pytest.approx(
            block["concurrency"]["mean"], rel=1e-6, abs=1e-9)
        live = busy + data.idle
        assert float((live[inside] * width).sum() / horizon) == pytest.approx(
            block["environments"]["mean"], rel=1e-6, abs=1e-9)
        assert int(data.busy_max.max()) >= block["concurrency"]["max"]
        assert np.all(data.initializing >= 0) and np.all(data.idle >= 0)
        # Latency curves: every answered request, split warm/cold.
        answered = block["requests"]["succeeded"] + block["requests"]["failed"]
        assert data.warm_latency.count + data.cold_latency.count == answered
    api = timeline.functions["api"]
    assert api.reserved_concurrency == 12 and int(api.busy_max.max()) == 12
    assert timeline.account_limit == 40


def test_latency_curves_match_the_request_records(small_result):
    config = small_result.summary["config"]
    again = lambdasim.simulate(_small_dict(), records=True)
    assert again.summary["functions"] == small_result.summary["functions"]
    columns = again.records.columns()
    assert config["warmup"] == 0
    for name in ("api", "worker"):
        mine = (columns["function"] == name) & ~np.isnan(columns["latency_ms"])
        for cold, curve in ((False, again.timeline.functions[name].warm_latency),
                            (True, again.timeline.functions[name].cold_latency)):
            sample = columns["latency_ms"][mine & (columns["cold_start"] == cold)]
            assert curve.count == sample.size
            if sample.size:
                assert curve.p50_ms == pytest.approx(np.percentile(sample, 50), rel=1e-9)
                assert curve.p99_ms == pytest.approx(np.percentile(sample, 99), rel=1e-9)
                assert curve.values_ms[-1] == pytest.approx(sample.max(), rel=1e-9)


def test_level_integral_is_the_time_weighted_mean():
    rng = np.random.default_rng(3)
    starts = rng.uniform(0, 100, 400)
    ends = starts + rng.exponential(4.0, 400)
    edges = np.arange(0.0, 121.0, 7.5)
    level = StepLevel(starts, ends)
    means = np.diff(level_integral(starts, ends, edges)) / 7.5
    assert np.allclose(means, [level.mean(a, b) for a, b in zip(edges[:-1], edges[1:])])


def test_requests_in_arrival_order_are_binned_as_in_any_order():
    """The timeline bins requests by binary search when they come in arrival order (the
    rows derived from a synchronous function's attempts do), else by a sort: the same."""
    rng = np.random.default_rng(8)
    edges = np.arange(0.0, 61.0, 5.0)
    arrived = np.sort(np.concatenate([rng.uniform(0, 60, 3000), edges[3:6], [60.0]]))
    latency = rng.exponential(0.2, arrived.size)
    shuffle = rng.permutation(arrived.size)
    in_order = timeline_module._latency_bins(arrived, latency, edges, is_sorted=True)
    any_order = timeline_module._latency_bins(arrived[shuffle], latency[shuffle], edges)
    for a, b in zip(in_order, any_order):
        np.testing.assert_array_equal(a, b)
    assert in_order[2].sum() == arrived.size  # the last edge falls in the last bin
    np.testing.assert_array_equal(timeline_module._counts(arrived, edges, is_sorted=True),
                                  timeline_module._counts(arrived[shuffle], edges))


def test_cost_bins_reuse_the_periods_shares_when_the_bins_are_the_periods():
    """Two hours at 60 s periods: the chart bins are the metrics periods, so the timeline
    takes the summary's per-period cost shares instead of computing them again; the same
    figures as computed afresh, adding up to the table's cost."""
    from lambdasim.results.timeline import build_timeline

    result = lambdasim.simulate({
        "name": "two_hours", "duration": "2h", "seed": 3, "period": "1m",
        "functions": {"f": {"duration": "100ms", "triggers": [
            {"type": "sync", "arrivals": {"process": "poisson", "rate": "2/s"}}]}}})
    source = result._timeline_source
    edges, shares = source.keywords["period_shares"]
    timeline = result.timeline
    assert np.array_equal(timeline.edges, edges)  # the case under test
    again = dict(source.keywords, period_shares=None)
    fresh = build_timeline(*source.args, **again).functions["f"].cost_usd
    data = timeline.functions["f"].cost_usd
    assert data is shares["f"]
    for item, values in fresh.items():
        np.testing.assert_array_equal(data[item], values)
    total = sum(float(values.sum()) for values in data.values())
    # The table's items and total are rounded to 1e-9 USD each.
    assert total == pytest.approx(result.summary["functions"]["f"]["cost_usd"]["total"],
                                  abs=1e-8)


def test_account_chart_and_limits(small_result, tmp_path):
    written = plots.write_plots(small_result, tmp_path)
    assert "concurrency.png" in {p.name for p in written}
    chart = plots.concurrency_chart(small_result, "api")
    labels = _legend_labels(chart)
    assert "reserved concurrency (12)" in labels
    assert "account concurrency limit (40)" in labels
    assert any(label.startswith("peak concurrency in each ") and
               label.endswith("(invoking + initializing)") for label in labels)
    assert {"invoking", "initializing (Init)", "idle (warm, awaiting reuse)"} <= set(labels)
    # Steady traffic far below a large account limit: the limit is named, not squashed in.
    steady = lambdasim.simulate(ROOT / "scenarios" / "steady_warm.yaml",
                                overrides={"duration": "1m", "warmup": "0s"})
    labels = _legend_labels(steady.plot_concurrency())
    assert "account concurrency limit (1,000), above the chart" in labels


def test_charts_are_readable(small_result):
    """Titles, axis labels with units, legends; legends sit outside the plotting area."""
    for make in (plots.concurrency_chart, plots.requests_chart, plots.latency_chart):
        chart = make(small_result, "api")
        chart.canvas.draw()
        renderer = chart.canvas.get_renderer()
        assert chart._suptitle is not None and "api" in chart._suptitle.get_text()
        for ax in chart.axes:
            assert ax.get_ylabel()
            legend = ax.get_legend()
            assert legend is not None and legend.get_texts()
            # Nothing drawn in the axes is hidden by the legend.
            assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
        assert chart.axes[-1].get_xlabel()
        # The unit is in an axis label, or (log-scaled latency) on every tick: 100 ms, 1 s.
        units = " ".join(ax.get_xlabel() + ax.get_ylabel() for ax in chart.axes)
        ticks = [t.get_text() for ax in chart.axes for t in ax.get_xticklabels()
                 if t.get_text()]
        assert ("(s)" in units or "(ms" in units or "(min)" in units or "per second" in units
                or (ticks and all(t.endswith((" ms", " s", " min")) for t in ticks))), units


def test_function_must_be_named_when_there_are_several(small_result):
    with pytest.raises(ValueError, match="name a function: api, worker"):
        small_result.plot_latency()
    with pytest.raises(KeyError, match="no function 'nope'"):
        small_result.plot_latency("nope")
    chart = small_result.plot_latency("worker")
    assert chart._repr_png_()[:8] == PNG_SIGNATURE  # a notebook shows it as a picture


def _with_columns(result, function: str, columns: dict) -> object:
    """A copy of ``result`` whose chart data carries trigger columns for ``function``, on
    the run's bins (as :func:`lambdasim.results.timeline.build_timeline` puts them)."""
    import copy

    timeline = copy.copy(result.timeline)
    timeline.functions = dict(timeline.functions)
    data = copy.copy(timeline.functions[function])
    data.series = {column: np.array([np.nan if make(k) is None else float(make(k))
                                     for k in range(len(data.edges) - 1)])
                   for column, make in columns.items()}
    data.series_edges = {}
    timeline.functions[function] = data
    clone = copy.copy(result)
    clone.timeline = timeline
    return clone


def test_trigger_charts_are_drawn_from_series_columns(small_result, tmp_path):
    # The columns that asynchronous, SQS and stream triggers and provisioned concurrency
    # add to the chart data, built by hand here.
    assert plots.async_chart(small_result, "api") is None  # no such trigger: no chart
    assert plots.sqs_chart(small_result, "api") is None
    assert plots.stream_chart(small_result, "api") is None
    result = _with_columns(small_result, "api", {
        "AsyncEventAge_avg_ms": lambda k: 100.0 * k,
        "AsyncEventAge_max_ms": lambda k: 250.0 * k,
        "AsyncQueueDepth": lambda k: 3 * k,
        "AsyncEventsReceived": lambda k: 40,
        "AsyncEventsDropped": lambda k: k % 2,
        "ApproximateNumberOfMessagesVisible": lambda k: 500 - 10 * k,
        "ApproximateAgeOfOldestMessage_s": lambda k: 2.0 * k,
        "SQSPollers": lambda k: 5,
        "IteratorAge_avg_ms": lambda k: 1000.0,
        "IteratorAge_max_ms": lambda k: None if k == 0 else 2000.0,
        "StreamPollers": lambda k: 2,
        "ProvisionedConcurrencyAllocated": lambda k: 6,
        "ProvisionedConcurrentExecutions": lambda k: 2,
    })
    for make, panels in ((plots.async_chart, 3), (plots.sqs_chart, 3),
                         (plots.stream_chart, 2)):
        chart = make(result, "api")
        assert chart is not None and len(chart.axes) == panels
        assert all(ax.get_legend() is not None for ax in chart.axes)
    # The panels draw the columns' values per bin, in the units on their axes.
    backlog = _line(plots.sqs_chart(result, "api").axes[0], "backlog")
    assert list(backlog.get_ydata()[:3]) == [500.0, 490.0, 480.0]
    age = _line(plots.async_chart(result, "api").axes[0], "age of the oldest event")
    assert list(age.get_ydata()[:3]) == [0.0, 0.25, 0.5]  # 250 ms per bin, in seconds
    iterator = _line(plots.stream_chart(result, "api").axes[0], "iterator age (max)")
    assert np.isnan(iterator.get_ydata()[0]) and iterator.get_ydata()[1] == 2.0
    # Only the function with the columns gets the charts.
    assert plots.async_chart(result, "worker") is None
    labels = _legend_labels(plots.concurrency_chart(result, "api"))
    assert any(label.startswith("provisioned concurrency allocated") for label in labels)
    # The idle split comes from the environments themselves, which here are all on-demand
    # (tests/test_environment_states.py draws it for a provisioned function).
    assert "idle (warm, awaiting reuse)" in labels and "idle, provisioned" not in labels
    written = {p.name for p in plots.write_plots(result, tmp_path)}
    assert {"async-api.png", "sqs-api.png", "stream-api.png"} <= written
    assert "async-worker.png" not in written
    for name in ("async-api.png", "sqs-api.png", "stream-api.png", "concurrency-api.png"):
        _assert_png(tmp_path / name)


def test_account_row_is_not_a_function(small_result):
    assert ACCOUNT_ROW in small_result.series["function"]
    assert ACCOUNT_ROW not in small_result.timeline.functions


def _line(ax, label: str):
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith(label)]
    return line


def _legend_labels(chart) -> list[str]:
    return [text.get_text() for ax in chart.axes if ax.get_legend()
            for text in ax.get_legend().get_texts()]


def test_latency_bins_give_numpy_percentiles_bit_for_bit():
    # Chart p50/p99 per bin: one partition per bin instead of np.percentile, same floats.
    rng = np.random.default_rng(7)
    samples = [rng.exponential(200.0, n) for n in (1, 2, 3, 7, 100, 101, 5_000)]
    samples += [rng.integers(0, 4, 300).astype(float), np.round(rng.lognormal(3, 2, 999), 3)]
    for sample in samples:
        assert timeline_module._p50_p99(sample) == tuple(np.percentile(sample, (50.0, 99.0)))
    arrived = np.sort(rng.uniform(0.0, 100.0, 20_000))
    latency = rng.exponential(0.3, arrived.size)
    edges = np.arange(0.0, 101.0, 5.0)
    p50, p99, sizes = timeline_module._latency_bins(arrived, latency, edges, is_sorted=True)
    bounds = np.searchsorted(arrived, edges)
    for k in range(len(edges) - 1):
        values = latency[bounds[k]:bounds[k + 1]] * 1000.0
        assert sizes[k] == values.size
        assert (p50[k], p99[k]) == tuple(np.percentile(values, (50.0, 99.0)))
