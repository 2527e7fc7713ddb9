"""How charts are drawn cheaply without changing a pixel:
:class:`lambdasim.results.chart_kit.ColumnLayout` places every chart's axes where
matplotlib's constrained layout puts them, :meth:`Chart.png` draws once and gives the same
picture as ``savefig`` under constrained layout, and the minor ticks of a log-scaled latency
axis drawn as one artist are the ticks and gridlines matplotlib draws one by one."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import LogLocator

import lambdasim
from lambdasim.results import plots
from lambdasim.results.chart_kit import Chart, ColumnLayout, legend
from lambdasim.results.chart_ticks import MajorTicks, MinorLogTicks

ROOT = Path(__file__).resolve().parent.parent

#: Shipped scenarios (shortened) and the charts of theirs checked: together every kind of
#: chart, the account chart of several functions and provisioned concurrency included.
CHARTS = [
    ("sqs_spike", {"duration": "3m"}, None),  # every chart of one function, SQS panels too
    ("async_backlog", {"duration": "1m"}, {"async-thumbnail.png", "concurrency.png"}),
    ("launch_provisioned", {"duration": "1m"}, {"concurrency-scheduled.png"}),
]


def _positions(chart) -> np.ndarray:
    """Each axes' position in pixels: x0, y0, width, height."""
    return np.array([ax.get_position().bounds for ax in chart.axes]) * np.tile(
        chart.bbox.size, 2)


def _constrained(chart) -> np.ndarray:
    chart.set_layout_engine(ConstrainedLayoutEngine(w_pad=3 / 72, h_pad=3 / 72))
    chart.canvas.draw()
    return _positions(chart)


@pytest.mark.parametrize("name, overrides, files", CHARTS, ids=[c[0] for c in CHARTS])
def test_charts_are_laid_out_as_constrained_layout_does(name, overrides, files):
    result = lambdasim.simulate(lambdasim.load_scenario(ROOT / "scenarios" / f"{name}.yaml",
                                                        overrides))
    checked = set()
    for file_name, chart in plots.charts(result):
        if files is not None and file_name not in files:
            continue
        assert isinstance(chart.get_layout_engine(), ColumnLayout)
        picture = imread(io.BytesIO(chart.png()))
        ours = _positions(chart)
        np.testing.assert_allclose(ours, _constrained(chart), atol=0.5, err_msg=file_name)
        buffer = io.BytesIO()
        chart.savefig(buffer, format="png")
        # Same places, same picture (``png`` drops the alpha channel: the figure is opaque).
        reference = imread(io.BytesIO(buffer.getvalue()))
        assert picture.shape[:2] == reference.shape[:2]
        assert np.array_equal(picture[..., :3], reference[..., :3]), file_name
        checked.add(file_name)
    assert checked == files if files is not None else len(checked) == 6


def test_a_legend_taller_than_its_axes_gets_room_below_them():
    chart = Chart(figsize=(8.0, 6.0))
    top, bottom = chart.subplots(2, 1, sharex=True, height_ratios=[1, 3])
    for k in range(12):
        top.plot([0, 1], [k, k + 1], label=f"a long legend entry number {k}")
    bottom.plot([0, 1], [0, 1000], label="one")
    bottom.set_xlabel("simulated time (s)")
    chart.suptitle("a title")
    top.set_title("a subtitle", fontsize="small")
    for ax in (top, bottom):
        ax.set_ylabel("per second")
        legend(ax)
    chart.png()
    ours = _positions(chart)
    top_legend = top.get_legend().get_window_extent(chart.canvas.get_renderer())
    assert top_legend.height > top.bbox.height  # the case under test
    # The legend ends above the lower axes' decorations, with the padding between them.
    below = bottom.get_tightbbox(chart.canvas.get_renderer())
    assert top_legend.y0 >= below.y1 + 2 * 3 / 72 * chart.dpi - 0.5
    # Constrained layout stops after two passes, a few pixels from where this settles.
    np.testing.assert_allclose(ours, _constrained(chart), atol=4.0)


def test_other_arrangements_fall_back_to_constrained_layout():
    chart = Chart(figsize=(8.0, 5.0))
    for ax in chart.subplots(2, 2).ravel():  # two columns: not a ColumnLayout case
        ax.plot([0, 1], [0, 10_000])
        ax.set_ylabel("requests")
        legend(ax)
    chart.png()
    ours = _positions(chart)
    np.testing.assert_allclose(ours, _constrained(chart), atol=0.5)


def test_minor_log_ticks_are_drawn_as_matplotlib_draws_them():
    """The latency CDF spans several decades: its minor ticks and gridlines, drawn by one
    artist, are pixel for pixel those of matplotlib's own minor ticks."""
    result = lambdasim.simulate(lambdasim.load_scenario(ROOT / "scenarios" / "peak.yaml",
                                                        {"duration": "3m", "warmup": "30s"}))
    ours = plots.latency_chart(result)
    (ax,) = ours.axes
    assert sum(isinstance(a, MinorLogTicks) for a in ax.get_children()) == 1
    low, high = ax.get_xlim()
    assert high / low > 100  # more than two decades: eight minor ticks in each
    picture = imread(io.BytesIO(ours.png()))
    theirs = plots.latency_chart(result)
    (ax,) = theirs.axes
    for artist in [a for a in ax.get_children() if isinstance(a, MinorLogTicks)]:
        artist.remove()
    ax.xaxis.set_minor_locator(LogLocator(subs="auto"))
    ax.grid(True, which="both", alpha=0.25)
    reference = imread(io.BytesIO(theirs.png()))
    assert len(ax.xaxis.get_minorticklocs()) > 12
    assert np.array_equal(picture, reference)


def test_every_title_and_subtitle_lies_inside_its_chart():
    # A subtitle longer than the axes are wide is wrapped, not cut at the figure's edges
    # (the cost chart's subtitle of a provisioned function ran off both sides).
    result = lambdasim.simulate(Path(__file__).parents[1] / "scenarios" / "launch_provisioned.yaml")
    for name, fig in plots.charts(result):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        for ax in fig.axes:
            text = ax.title
            if not text.get_text():
                continue
            extent = text.get_window_extent(renderer)
            assert box.x0 - 0.5 <= extent.x0 and extent.x1 <= box.x1 + 0.5, (name, text.get_text())


def test_major_ticks_are_lent_for_the_draw_only():
    """While a one-column chart draws, one artist per axis draws its major ticks with the
    axis' locator (one Tick moved from place to place); afterwards the axes are as they were
    (locators, label pads, matplotlib's own ticks) and the picture is matplotlib's."""
    chart = Chart(figsize=(8.0, 5.0))
    top, bottom = chart.subplots(2, 1, sharex=True)
    for ax, top_value in ((top, 12_000), (bottom, 3)):
        ax.plot([0, 90], [0, top_value], label="a line")
        ax.set_ylabel("per second")
        ax.grid(True, alpha=0.25)
        legend(ax)
    bottom.set_xlabel("simulated time (min)")
    locators = [axis.get_major_locator() for ax in chart.axes for axis in (ax.xaxis, ax.yaxis)]
    pads = [axis.labelpad for ax in chart.axes for axis in (ax.xaxis, ax.yaxis)]
    picture = imread(io.BytesIO(chart.png()))
    assert [axis.get_major_locator() for ax in chart.axes
            for axis in (ax.xaxis, ax.yaxis)] == locators
    assert [axis.labelpad for ax in chart.axes for axis in (ax.xaxis, ax.yaxis)] == pads
    assert not [a for ax in chart.axes for a in ax.get_children()
                if isinstance(a, MajorTicks)]
    assert {"0", "20", "40"} <= {t.get_text() for t in bottom.get_xticklabels()}
    chart.set_layout_engine("none")  # the axes stay where they are; matplotlib's own ticks
    buffer = io.BytesIO()
    chart.savefig(buffer, format="png")
    assert np.array_equal(picture, imread(io.BytesIO(buffer.getvalue()))[..., :3])


def test_png_is_the_canvas_in_rgb_at_the_charts_dpi():
    from PIL import Image

    chart = Chart(figsize=(4.0, 3.0))
    ax = chart.add_subplot()
    ax.fill_between([0, 1, 2], [0, 3, 1], color="#1f77b4", alpha=0.65, label="requests")
    ax.set_ylabel("per second")
    legend(ax)
    data = chart.png()
    canvas = np.asarray(chart.canvas.buffer_rgba())
    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGB" and image.size == (400, 300)
    assert [round(v) for v in image.info["dpi"]] == [100, 100]
    assert np.array_equal(np.asarray(image), canvas[..., :3])
    assert len(set(map(tuple, canvas[..., :3].reshape(-1, 3)))) > 20  # antialiased edges
