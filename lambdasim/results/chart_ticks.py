"""Tick artists of lambdasim's charts: the same pixels as matplotlib's own ticks, for less work.

Matplotlib keeps a ``Tick`` (five artists, set up one by one) for every tick of an axis.
:class:`MajorTicks` draws an axis' major ticks with one ``Tick`` moved from place to place
while a one-column :class:`~lambdasim.results.chart_kit.Chart` draws (:func:`lend_ticks`,
:func:`restore_ticks`); :class:`MinorLogTicks` draws the minor ticks of a log-scaled axis, and
their gridlines, as two artists.
"""
from __future__ import annotations

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import TICKDOWN, TICKLEFT, TICKRIGHT, TICKUP, Line2D
from matplotlib.ticker import Locator, NullLocator
from matplotlib.transforms import Bbox

__all__ = ["MajorTicks", "MinorLogTicks", "lend_ticks", "restore_ticks", "major_locs",
           "axis_extent"]


def major_locs(axis) -> list:
    """The major tick locations of ``axis`` (those of its locator while
    :class:`MajorTicks` draws them)."""
    ticks = MajorTicks.of(axis)
    return ticks.locator() if ticks is not None else axis.get_majorticklocs()


def axis_extent(axis, renderer):
    """What ``axis.get_tightbbox`` measures: its tick labels, label and offset text."""
    ticks = MajorTicks.of(axis)
    if ticks is None:
        return axis.get_tightbbox(renderer)
    ticks.update(renderer)  # places the axis label too
    boxes = [b for b in (axis.get_tightbbox(renderer), ticks.label_extent()) if b is not None]
    return Bbox.union(boxes) if boxes else None


class MajorTicks(Artist):
    """The major ticks of one axis (gridlines, tick marks, labels) drawn with one ``Tick``.

    Matplotlib keeps a ``Tick`` (five artists, set up one by one) per major tick and
    measures every tick label several times a draw (for the axis label, the spine's extent,
    the layout). While a :class:`Chart` draws, each axis of a one-column chart lends its
    locator to this artist (the axis gets a ``NullLocator``), which draws with the axis'
    first ``Tick``: its gridline and tick mark copied into one line each for every tick,
    its label moved from tick to tick; the same pixels as matplotlib's own ticks (tests
    compare them). The labels are measured once per pass;
    the axis label is kept where matplotlib puts it (past the tick labels, ``labelpad``
    away) by widening ``labelpad`` for the draw. :func:`restore_ticks` gives everything
    back after the draw.
    """

    #: Gridlines drawn as one path up to this many (matplotlib simplifies a path of 128
    #: vertices or more).
    _ONE_GRID_PATH = 40

    def __init__(self, axis, locator) -> None:
        super().__init__()
        self._axis, self.locator = axis, locator
        self._tick = axis.majorTicks[0]
        self._labelpad = axis.labelpad
        self._kept: list = []
        self._boxes: list = []
        self.set_zorder(axis.get_zorder())  # drawn where the axis draws its ticks
        self.set_in_layout(False)

    @staticmethod
    def of(axis) -> MajorTicks | None:
        return getattr(axis.get_figure(root=True), "_major_ticks", {}).get(axis)

    @staticmethod
    def eligible(axis) -> bool:
        """Whether the artist draws ``axis`` as matplotlib would: major ticks only, on the
        left or bottom, label placed automatically there."""
        if not axis.get_visible() or not isinstance(axis.get_minor_locator(), NullLocator):
            return False
        tick = axis.majorTicks[0]
        if tick.tick2line.get_visible() or tick.label2.get_visible():
            return False
        return axis.get_label_position() == ("left" if axis.axis_name == "y" else "bottom")

    def update(self, renderer) -> None:
        """Ticks, labels and their extents as matplotlib's ``Axis._update_ticks`` finds them
        (every location formatted, those in the view kept), and the axis label's pad."""
        axis, tick = self._axis, self._tick
        locs = self.locator()
        labels = axis.major.formatter.format_ticks(locs)
        low, high = axis.get_view_interval()
        if low > high:
            low, high = high, low
        transform = axis.get_transform()
        a, b = transform.transform([low, high])
        if a > b:
            a, b = b, a
        slack = (b - a) * 1e-10
        kept = [(loc, label) for loc, label in zip(locs, labels)
                if a - slack <= transform.transform(loc) <= b + slack]
        boxes = []
        if tick.label1.get_visible():
            for loc, label in kept:
                tick.update_position(loc)
                tick.label1.set_text(label)
                boxes.append(tick.label1.get_window_extent(renderer))
        self._kept, self._boxes = kept, boxes
        # The axis label: matplotlib puts it labelpad points past the tick labels and the
        # spine (with its tick marks); the axis, without ticks, measures the bare spine.
        ax, dpi = axis.axes, axis.get_figure(root=True).dpi
        x = axis.axis_name == "x"
        spine = ax.spines.get("bottom" if x else "left")
        bare = (spine if spine is not None else ax).get_window_extent(renderer)
        marked = bare.frozen()
        if kept and spine is not None and tick.tick1line.get_visible():
            out, inward = {"out": (1.0, 0.0), "in": (0.0, 1.0)}.get(tick.get_tickdir(),
                                                                   (0.5, 0.5))
            size = tick.tick1line.get_markersize()
            out, inward = out * size / 72 * dpi, inward * size / 72 * dpi
            if x:
                marked.y0, marked.y1 = marked.y0 - out, marked.y1 + inward
            else:
                marked.x0, marked.x1 = marked.x0 - out, marked.x1 + inward
        reach = Bbox.union([*boxes, marked])
        beyond = (bare.y0 - reach.y0) if x else (bare.x0 - reach.x0)
        axis.labelpad = self._labelpad + beyond * 72 / dpi

    def label_extent(self):
        """The tick labels' extent (those with a size), or None."""
        boxes = [b for b in self._boxes if 0 < b.width < np.inf and 0 < b.height < np.inf]
        return Bbox.union(boxes) if boxes else None

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        self.update(renderer)
        if not self._kept or not self._tick.get_visible():
            return
        tick = self._tick
        x = self._axis.axis_name == "x"
        locs = [loc for loc, _ in self._kept]
        # Every gridline, then every tick mark, then every label: matplotlib draws them tick
        # by tick, but a tick's gridline (inside the axes), mark and label (outside) overlap
        # no other tick's. The gridlines as one line broken by NaNs, drawn as matplotlib
        # draws each (a path short enough never to be simplified).
        if tick.gridline.get_visible() and len(locs) <= self._ONE_GRID_PATH:
            grid = Line2D([], [])
            grid.update_from(tick.gridline)
            grid.set_figure(self.get_figure(root=False))
            along = np.repeat(np.asarray(locs, dtype=np.float64), 3)
            along[2::3] = np.nan
            across = np.tile([0.0, 1.0, np.nan], len(locs))
            grid.set_data((along, across) if x else (across, along))
            grid.draw(renderer)
        elif tick.gridline.get_visible():
            for loc in locs:
                tick.update_position(loc)
                tick.gridline.draw(renderer)
        if tick.tick1line.get_visible():
            marks = Line2D([], [])
            marks.update_from(tick.tick1line)
            marks.set_figure(self.get_figure(root=False))
            zeros = [0.0] * len(locs)
            marks.set_data((locs, zeros) if x else (zeros, locs))
            marks.draw(renderer)
        label = tick.label1
        if label.get_visible():
            for loc, text in self._kept:
                label.set_x(loc) if x else label.set_y(loc)
                label.set_text(text)
                label.draw(renderer)

    def restore(self) -> None:
        self._axis.labelpad = self._labelpad
        self.remove()


def lend_ticks(fig: Figure, rows: list | None) -> None:
    """Let :class:`MajorTicks` draw the major ticks of a one-column chart when it draws
    every axis as matplotlib would; else none (each axes' x ticks are drawn before its y
    ticks, as matplotlib does, and axes sharing an axis share its locator: lent once).
    ``rows``: the chart's axes from top to bottom, or None when they are not one column."""
    if rows is None:
        return
    axes_ticks = [(axis, axis.major) for ax in rows for axis in (ax.xaxis, ax.yaxis)]
    if not all(MajorTicks.eligible(axis) for axis, _ in axes_ticks):
        return
    locators = {id(major): major.locator for _, major in axes_ticks}
    lent = {}
    for axis, major in axes_ticks:
        ticks = MajorTicks(axis, locators[id(major)])
        axis.axes.add_artist(ticks)
        lent[axis] = ticks
    for _, major in axes_ticks:
        major.locator = NullLocator()
    fig._major_ticks = lent
    fig._lent_locators = [(major, locators[id(major)]) for _, major in axes_ticks]


def restore_ticks(fig: Figure) -> None:
    """Undo :func:`lend_ticks`."""
    for major, locator in getattr(fig, "_lent_locators", ()):
        major.locator = locator
    for ticks in getattr(fig, "_major_ticks", {}).values():
        ticks.restore()
    fig._major_ticks, fig._lent_locators = {}, []


class MinorLogTicks(Artist):
    """The minor ticks of a log-scaled axis, and their gridlines, as two artists.

    Matplotlib makes a ``Tick`` (five artists, set up one by one) for every minor tick; a
    latency axis over several decades has dozens, which cost more than the rest of its
    chart. This draws the same marks where the axis' own minor locator puts them (those on
    a major tick left out, as matplotlib does), at draw time, so they follow the limits.
    """

    def __init__(self, axis, locator: Locator, grid_alpha: float | None) -> None:
        super().__init__()
        self._axis, self._locator = axis, locator
        ax = axis.axes
        x = axis.axis_name == "x"
        tick = "xtick" if x else "ytick"
        out = {"out": True, "in": False}.get(rcParams[f"{tick}.direction"])
        marker = (("|" if out is None else TICKDOWN if out else TICKUP) if x else
                  ("_" if out is None else TICKLEFT if out else TICKRIGHT))
        self._marks = Line2D([], [], linestyle="none", marker=marker,
                             markersize=rcParams[f"{tick}.minor.size"],
                             markeredgewidth=rcParams[f"{tick}.minor.width"],
                             color=rcParams[f"{tick}.color"], clip_on=False,
                             transform=(ax.get_xaxis_transform(which="tick1") if x
                                        else ax.get_yaxis_transform(which="tick1")))
        self._grid = None
        if grid_alpha is not None:
            self._grid = LineCollection([], colors=rcParams["grid.color"],
                                        linewidths=rcParams["grid.linewidth"],
                                        linestyles=rcParams["grid.linestyle"],
                                        alpha=grid_alpha,
                                        transform=(ax.get_xaxis_transform(which="grid") if x
                                                   else ax.get_yaxis_transform(which="grid")))
        self.set_zorder(1.5)  # with the axis: under the data ("axes.axisbelow": "line")

    def set_figure(self, fig) -> None:
        super().set_figure(fig)
        for part in (self._marks, self._grid):
            if part is not None:
                part.set_figure(fig)

    def _positions(self) -> np.ndarray:
        low, high = sorted(self._axis.get_view_interval())
        minor = np.asarray(self._locator(), dtype=np.float64)
        major = np.asarray(major_locs(self._axis), dtype=np.float64)
        transform = self._axis.get_transform()
        span = np.diff(transform.transform([low, high]))[0]
        at = transform.transform(minor)
        keep = (minor >= low * (1 - 1e-10)) & (minor <= high * (1 + 1e-10))
        if major.size:
            keep &= ~np.isclose(at[:, None], transform.transform(major)[None, :],
                                atol=abs(span) * 1e-5, rtol=0).any(axis=1)
        return minor[keep]

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        where = self._positions()
        x = self._axis.axis_name == "x"
        if self._grid is not None:
            self._grid.set_clip_path(self.axes.patch)
            self._grid.set_segments([[(v, 0.0), (v, 1.0)] if x else [(0.0, v), (1.0, v)]
                                     for v in where])
            self._grid.draw(renderer)
        zeros = np.zeros(where.size)
        self._marks.set_data((where, zeros) if x else (zeros, where))
        self._marks.draw(renderer)
