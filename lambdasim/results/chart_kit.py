"""What every chart of lambdasim shares: the figure class, the time axis, the warm-up mark,
number formats and the legend placement.

A chart must agree with the summary table: every time chart shades the warm-up (whose
requests the table leaves out), marks the horizon when work in flight visibly drains after
it, uses the run's one bin width (:attr:`lambdasim.results.timeline.Timeline.width_s`), puts
integer ticks on axes that count things (environments, pollers, messages) and says "no
backlog" rather than draw an empty 0-0.05 axis.

Charts are :class:`Chart` objects (a matplotlib ``Figure`` that shows itself in a notebook),
drawn with the Agg canvas: nothing touches pyplot's global state, so charts can be made in
any thread or process, and none is left open.

A chart's axes are stacked in one column with their legends to the right; :class:`ColumnLayout`
places them the way matplotlib's constrained layout does (the same paddings), measuring only
what can stick out of such a column (y axes, legends, titles, the bottom x axis), and
:meth:`Chart.png` draws the figure once and encodes the canvas directly (``savefig`` would
draw it twice: once to lay it out, once to render). While such a chart draws, the major ticks of
each axis are drawn by :class:`MajorTicks` (one matplotlib ``Tick`` moved from tick to tick
instead of one per tick), and charts of one size share one renderer: the same pixels as
matplotlib's own drawing, for less work.
"""
from __future__ import annotations

import io
import textwrap
import threading
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, LayoutEngine
from matplotlib.ticker import (Formatter, FuncFormatter, Locator, MaxNLocator, NullFormatter,
                               NullLocator)

from lambdasim.results.chart_ticks import (MinorLogTicks, axis_extent, lend_ticks, major_locs,
                                           restore_ticks)

# Text helpers live in humanize (no matplotlib): report.html uses them without charts.
from lambdasim.results.humanize import (duration_unit, money_decimals, ms_text,  # noqa: F401
                                        seconds_text, usd)

__all__ = ["Chart", "ColumnLayout", "COLORS", "DPI", "WIDE", "TALL", "time_scale", "time_axis", "step",
           "ms_text", "ms_tick", "latency_log_axis", "usd_texts", "seconds_text", "count_axis", "usd_axis", "thousands", "empty_panel",
           "duration_axis", "title", "legend", "HORIZON_LABEL", "WARMUP_LABEL"]

DPI = 100
WIDE = (11.0, 4.6)
TALL = (11.0, 7.0)
COLORS = {
    "invoking": "#1f77b4",
    "initializing": "#ff7f0e",
    "idle": "#c9c9c9",
    "provisioned": "#8fd18f",
    "peak": "#222222",
    "limit": "#c0392b",
    "reserved": "#8e44ad",
    "throttles": "#d62728",
    "throttled": "#7b1113",
    "cold": "#ff7f0e",
    "warm": "#1f77b4",
    "arrivals": "#555555",
    "warmup": "#9e9e9e",
    "warmup_counts": "#6f6f6f",
    "horizon": "#444444",
    "p50": "#1f77b4",
    "p99": "#d62728",
}
#: Legend entries of the time axis marks.
WARMUP_LABEL = "warm-up (not in the table)"
HORIZON_LABEL = "horizon: arrivals stop, work in flight drains"
#: The horizon is marked when the drain after it is at least this share of the time axis.
_HORIZON_SHARE = 0.01


class ColumnLayout(LayoutEngine):
    """Lays out a figure whose axes are stacked in one column, as constrained layout would.

    Each axes gets the room its decorations need (y axis with its tick labels and label,
    legend, title, x axis), plus matplotlib's constrained-layout paddings (``w_pad`` and
    ``h_pad``, 3 points; the suptitle at the top with a padding above and below it); the
    column's left edge is the widest left margin, its right edge leaves room for the widest
    legend, and the axes share the height left in the gridspec's height ratios. Tick labels
    change when an axes is resized, so it measures again after placing them. Only the
    decorations are measured, not every artist, which is what makes it cheaper; a second
    pass only when a tick moved or a legend taller than its axes needs more room (up to four,
    where constrained layout stops at two). Any other
    arrangement (several columns, an axes not in the gridspec, a legend taller than its
    axes can hold) falls back to :class:`matplotlib.layout_engine.ConstrainedLayoutEngine`.
    """

    _adjust_compatible = False
    _colorbar_gridspec = False

    def __init__(self, pad_in: float = 3 / 72, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pad_in = pad_in
        self._fallback = ConstrainedLayoutEngine(w_pad=pad_in, h_pad=pad_in)

    def execute(self, fig: Figure) -> None:
        rows = _column_rows(fig)
        try:
            placed = rows is not None and self._place(fig, rows)
        except ValueError:  # Figure.draw would hide it and draw at the default positions
            placed = False
        if not placed:
            restore_ticks(fig)  # constrained layout measures matplotlib's own ticks
            self._fallback.execute(fig)

    def _place(self, fig: Figure, rows: list) -> bool:
        renderer = fig._get_renderer()  # as matplotlib's own layout engines get it
        width, height = fig.bbox.width, fig.bbox.height
        pad = self._pad_in * fig.dpi
        ratios = np.asarray(rows[0].get_subplotspec().get_gridspec().get_height_ratios()
                            or [1.0] * len(rows), dtype=np.float64)
        top_margin = 0.0
        suptitle = fig._suptitle
        if suptitle is not None and suptitle.get_visible() and suptitle.get_text():
            if getattr(suptitle, "_autopos", False):
                suptitle.set_y(1.0 - pad / height)
            top_margin = suptitle.get_window_extent(renderer).height + 2 * pad
        # Titles and legends keep their size wherever the axes go: measured once. Tick
        # labels change with the axes' size: measured again when a tick moved.
        fixed = [_Decorations(ax, renderer) for ax in rows]
        for _ in range(4):
            measured = _tick_locations(rows)
            left = 0.0
            right_px, above, below = [], [], []
            heights = [ax.bbox.height for ax in rows]
            for ax, deco in zip(rows, fixed):
                box = ax.bbox
                extents = [axis_extent(ax.yaxis, renderer)]
                if _x_decorated(ax):
                    extents.append(axis_extent(ax.xaxis, renderer))
                extents = [e for e in extents if e is not None]
                left = max(left, box.x0 - min((e.x0 for e in extents), default=box.x0))
                right_px.append(max((e.x1 for e in extents), default=box.x1) - box.x1)
                above.append(max(0.0, deco.above,
                                 max((e.y1 for e in extents), default=box.y1) - box.y1))
                below.append(max(0.0, deco.below_top - box.height,
                                 box.y0 - min((e.y0 for e in extents), default=box.y0)))
            x0 = left + pad
            # The legends' reach depends on the axes' width (their anchor is a fraction of it).
            right = max([0.0, *right_px] + [deco.right(width - pad - x0) for deco in fixed])
            x1 = width - right - pad
            # Between two axes: the decorations below the upper one and above the lower one,
            # each with its padding; the column's height shared in the height ratios.
            spare = height - top_margin - sum(above) - sum(below) - 2 * pad * len(rows)
            if x1 - x0 < 0.2 * width or spare < 0.2 * height:
                return False
            y = height - top_margin
            for ax, ratio, up, down in zip(rows, ratios, above, below):
                y -= up + pad
                axes_height = spare * ratio / ratios.sum()
                ax._set_position([x0 / width, (y - axes_height) / height,
                                  (x1 - x0) / width, axes_height / height])
                y -= axes_height + down + pad
            # Measured with the ticks they have now, and every legend that reaches below its
            # axes has the room it takes: another pass would change nothing.
            if _tick_locations(rows) == measured and all(
                    abs(max(0.0, deco.below_top - ax.bbox.height) - max(0.0, deco.below_top
                                                                       - height_before))
                    < 0.5 for ax, deco, height_before in zip(rows, fixed, heights)):
                break
        return True


class _Decorations:
    """What of an axes' decorations keeps its size when the axes move: its titles (how far
    they reach above the axes) and its legend (how far below the axes' top it reaches, and
    its anchor as a fraction of the axes' width plus its own width)."""

    def __init__(self, ax, renderer) -> None:
        box = ax.bbox
        self.above = 0.0
        for text in (ax.title, ax._left_title, ax._right_title):
            if text.get_visible() and text.get_text():
                self.above = max(self.above, text.get_window_extent(renderer).y1 - box.y1)
        self.below_top = 0.0
        self._anchor = self._beyond = 0.0
        self._overhang = 0.0
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            extent = legend.get_window_extent(renderer)
            self.below_top = box.y1 - extent.y0
            anchor = legend.get_bbox_to_anchor()
            fraction = (anchor.x0 - box.x0) / box.width if box.width > 0 else 0.0
            if fraction > 1.0:  # anchored to the right of the axes
                self._anchor, self._beyond = fraction, extent.x1 - anchor.x0
            else:
                self._overhang = max(0.0, extent.x1 - box.x1)

    def right(self, room: float) -> float:
        """How far the legend reaches past the axes' right edge when the axes and that reach
        share ``room`` pixels: solves ``right = (a - 1) * (room - right) + beyond``, for an
        anchor at ``a`` times the axes' width and a legend ``beyond`` pixels wide past it."""
        if self._anchor:
            return ((self._anchor - 1.0) * room + self._beyond) / self._anchor
        return self._overhang


def _tick_locations(rows: list) -> list:
    return [(list(major_locs(ax.yaxis)), list(major_locs(ax.xaxis))) for ax in rows]


def _x_decorated(ax) -> bool:
    """Whether ``ax``'s x axis shows tick labels or a label (inner axes of a column do not)."""
    params = ax.xaxis.get_tick_params(which="major")
    return bool(ax.xaxis.label.get_text() or params.get("labelbottom", True)
                or params.get("labeltop", False))


def _column_rows(fig: Figure) -> list | None:
    """The axes of ``fig`` from top to bottom when they fill one gridspec column, one per
    row; else None."""
    axes = fig.axes
    if not axes:
        return None
    specs = [ax.get_subplotspec() for ax in axes]
    if any(spec is None for spec in specs) or not all(ax.get_in_layout() for ax in axes):
        return None
    grid = specs[0].get_gridspec()
    rows, cols = grid.get_geometry()
    if cols != 1 or len(axes) != rows or any(spec.get_gridspec() is not grid for spec in specs):
        return None
    order = sorted(range(len(axes)), key=lambda k: specs[k].rowspan.start)
    if [specs[k].rowspan for k in order] != [range(k, k + 1) for k in range(rows)]:
        return None
    if fig.legends or fig.subfigs or any(ax._colorbars for ax in axes):
        return None
    return [axes[k] for k in order]


_SHARED = threading.local()


class _SharedCanvas(FigureCanvasAgg):
    """The Agg canvas, drawing on one renderer per size and thread that every chart of that
    size shares: matplotlib keeps the extents of the texts it measured per renderer, so a
    label, tick or legend entry measured for one chart is not measured again for the next.
    The renderer is cleared before each draw; its buffer (``buffer_rgba``) holds the chart
    drawn last."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        renderers = getattr(_SHARED, "renderers", None)
        if renderers is None:
            renderers = _SHARED.renderers = {}
        renderer = renderers.get(key)
        if renderer is None:
            renderer = renderers[key] = RendererAgg(w, h, self.figure.dpi)
        self.renderer = renderer
        return renderer


class Chart(Figure):
    """A matplotlib ``Figure`` on the Agg canvas that a notebook displays as a PNG.

    Charts of one size drawn in one thread share the canvas' renderer (see
    :class:`_SharedCanvas`): read a chart's pixels (``canvas.buffer_rgba()``) before drawing
    the next, or use :meth:`png`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("layout", ColumnLayout())
        kwargs.setdefault("dpi", DPI)
        super().__init__(*args, **kwargs)
        _SharedCanvas(self)

    def draw(self, renderer) -> None:
        # Major ticks drawn by MajorTicks while a ColumnLayout places the axes.
        if isinstance(self.get_layout_engine(), ColumnLayout):
            lend_ticks(self, _column_rows(self))
        try:
            super().draw(renderer)
        finally:
            restore_ticks(self)

    def png(self) -> bytes:
        """The chart as PNG bytes: drawn once (laid out as it draws), white background,
        compressed for speed (zlib level 1: within about a tenth of the smallest size).
        Encoded by Pillow: a PNG encoder of our own saved about 5 ms a chart, not worth
        keeping one."""
        from PIL import Image

        canvas = self.canvas
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                 "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1,
                                  dpi=(self.dpi, self.dpi))
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


def time_scale(span_s: float) -> tuple[float, str]:
    """Divisor and unit that make a time axis read naturally."""
    if span_s <= 300:
        return 1.0, "s"
    if span_s <= 6 * 3600:
        return 60.0, "min"
    if span_s <= 3 * 86400:
        return 3600.0, "h"
    return 86400.0, "d"


def time_axis(ax, timeline: Any, label: bool = True, legend: bool = True,
              end_s: float | None = None) -> float:
    """Set the x axis to simulated time, shade the warm-up and mark a visible drain.

    ``timeline`` needs ``end_s``, ``duration_s`` and ``warmup_s``; ``end_s`` ends the axis
    earlier (a function whose activity ended long before the run's drain). Returns the
    divisor from seconds to the axis unit.
    """
    end = timeline.end_s if end_s is None else min(float(end_s), timeline.end_s)
    scale, unit = time_scale(end)
    ax.set_xlim(0.0, end / scale)
    if timeline.warmup_s > 0:
        ax.axvspan(0.0, timeline.warmup_s / scale, color=COLORS["warmup"], alpha=0.18, lw=0,
                   label=WARMUP_LABEL if legend else None, zorder=0)
    if end - timeline.duration_s >= _HORIZON_SHARE * end:
        ax.axvline(timeline.duration_s / scale, color=COLORS["horizon"], lw=1.3,
                   ls=(0, (5, 3)), label=HORIZON_LABEL if legend else None)
    if label:
        ax.set_xlabel(f"simulated time ({unit})")
    ax.grid(True, alpha=0.25)
    return scale


def step(values: np.ndarray) -> np.ndarray:
    """Values per bin, the last repeated, to draw as steps over the bin edges."""
    values = np.asarray(values, dtype=np.float64)
    return np.append(values, values[-1]) if values.size else values


def ms_tick(value: float, _pos=None) -> str:
    """A tick of a latency axis in milliseconds, in the unit that reads best: 500 ms, 10 s,
    16.7 min."""
    if value <= 0:
        return "0"
    if value < 1000:
        return f"{value:g} ms"
    if value < 60_000:
        return f"{value / 1000:g} s"
    if value < 3_600_000:
        return f"{value / 60_000:.3g} min"
    if value < 172_800_000:
        return f"{value / 3_600_000:.3g} h"
    return f"{value / 86_400_000:.3g} d"


class _LatencyLocator(Locator):
    """Ticks of a log-scaled latency axis (ms) at round times: 1 ms ... 1 s, 10 s, 1 min,
    10 min, 1 h, 10 h, 1 d."""

    _TICKS_MS = (0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0, 60_000.0, 600_000.0, 3_600_000.0,
                 36_000_000.0, 86_400_000.0, 864_000_000.0)

    def __call__(self):
        low, high = sorted(self.axis.get_view_interval())
        return [v for v in self._TICKS_MS if low <= v <= high]


def latency_log_axis(axis, minor_grid_alpha: float | None = None) -> None:
    """A log-scaled latency axis (values in ms) ticked at round times in human units.

    Call it after setting the log scale. Its minor ticks (2 to 9 times each power of ten) are
    drawn by one :class:`MinorLogTicks` artist, with gridlines of ``minor_grid_alpha`` when
    given (as ``ax.grid(which="both", alpha=...)`` draws them).
    """
    axis.set_major_locator(_LatencyLocator())
    axis.set_major_formatter(FuncFormatter(ms_tick))
    axis.set_minor_formatter(NullFormatter())
    axis.axes.add_artist(MinorLogTicks(axis, axis.get_minor_locator(), minor_grid_alpha))
    axis.set_minor_locator(NullLocator())


def thousands(ax) -> None:
    """Thousands separators on the y axis."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000
                                               else f"{v:g}"))


def count_axis(ax, top: float) -> None:
    """A y axis that counts whole things: from 0, integer ticks, thousands separators."""
    ax.set_ylim(0.0, max(float(top), 1.0))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=2))
    thousands(ax)


def duration_axis(ax, top: float, per_ms: float = 1.0) -> str:
    """A linear y axis of durations from 0 to ``top``, ticked in the unit that fits its top
    (:func:`lambdasim.results.humanize.duration_unit`: ms below 10 s, then s, min, h, d) at
    round values of that unit; returns the unit for the axis label.

    ``per_ms``: how many milliseconds one unit of the plotted values is (1000 for seconds).
    """
    top = float(top) if top > 0 else 1.0
    divisor, unit = duration_unit(top * per_ms)
    factor = divisor / per_ms  # plotted values per tick unit
    ax.set_ylim(0.0, top)
    ax.yaxis.set_major_locator(_ScaledLocator(factor))
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v / factor:,.0f}" if abs(v / factor) >= 1000 else f"{v / factor:g}"))
    return unit


class _ScaledLocator(Locator):
    """Round ticks of values shown divided by ``factor`` (minutes of an axis in seconds)."""

    def __init__(self, factor: float) -> None:
        self._factor = factor
        self._inner = MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10])

    def __call__(self):
        low, high = self.axis.get_view_interval()
        return self.tick_values(low, high)

    def tick_values(self, vmin, vmax):
        self._inner.set_axis(self.axis)
        ticks = self._inner.tick_values(vmin / self._factor, vmax / self._factor)
        return [t * self._factor for t in ticks]


def empty_panel(ax, text: str) -> None:
    """Say what an empty panel means ("no backlog") instead of drawing a 0-0.05 axis."""
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([0.0])
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color="#555555", fontsize="medium", style="italic")


def usd_texts(values) -> list[str]:
    """USD amounts shown together on one chart (its legend and labels), all with one number of
    decimals chosen by :func:`lambdasim.results.humanize.money_decimals`, as the terminal table
    does: ``["$9.7400", "$0.3713"]``, never ``$9.74`` next to ``$0.3713`` (issue 16 point 3)."""
    values = [None if v is None else float(v) for v in values]
    digits = money_decimals(values)
    return [usd(v, digits) for v in values]


def usd_axis(ax, top: float) -> None:
    """A y axis in dollars from 0 to ``top``, with as many decimals as its tick step needs."""
    ax.set_ylim(0.0, top if top > 0 else 1.0)
    ax.yaxis.set_major_formatter(_UsdFormatter())


class _UsdFormatter(Formatter):
    """Dollars with as many decimals as the step between the axis' major ticks needs (the
    step found once per set of ticks, not once per label)."""

    def __init__(self) -> None:
        self._step: float | None = None

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self._step = float(np.min(np.diff(locs))) if len(locs) > 1 else None

    def __call__(self, value: float, pos=None) -> str:
        if value < 0:
            return ""
        gap = self._step
        if gap is None:
            ticks = self.axis.get_majorticklocs() if self.axis is not None else []
            gap = float(np.min(np.diff(ticks))) if len(ticks) > 1 else abs(value) or 1.0
        decimals = 0
        while decimals < 8 and abs(round(gap, decimals) - gap) > 1e-9 * max(gap, 1e-12):
            decimals += 1
        return f"${value:,.{decimals}f}"


def title(fig: Chart, text: str, subtitle: str) -> None:
    """A title over the whole figure (legends included), a smaller line over the first axes."""
    fig.suptitle(text, fontsize="large")
    # Wrapped to the width of the axes (about two thirds of the figure; a small-font
    # character is about 4.6 points wide), so a long subtitle is never cut at the edges.
    width = max(40, int(fig.get_figwidth() * 0.66 * 72 / 4.6))
    # y=1.0 is where matplotlib would put it (nothing of the axes sticks out above them);
    # given, it spares the search for what might.
    fig.axes[0].set_title(textwrap.fill(subtitle, width), fontsize="small", color="#555555",
                          y=1.0)


def legend(ax) -> None:
    """The legend to the right of the axes, where it cannot hide any data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize="small", frameon=False)
