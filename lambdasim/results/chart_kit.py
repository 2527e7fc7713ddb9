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
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator, MaxNLocator, NullFormatter

# Text helpers live in humanize (no matplotlib): report.html uses them without charts.
from lambdasim.results.humanize import ms_text, seconds_text, usd_text  # noqa: F401

__all__ = ["Chart", "COLORS", "DPI", "WIDE", "TALL", "time_scale", "time_axis", "step",
           "ms_text", "ms_tick", "latency_log_axis", "usd_text", "seconds_text", "count_axis", "usd_axis", "thousands", "empty_panel",
           "title", "legend", "HORIZON_LABEL", "WARMUP_LABEL"]

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


class Chart(Figure):
    """A matplotlib ``Figure`` on the Agg canvas that a notebook displays as a PNG."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("layout", "constrained")
        kwargs.setdefault("dpi", DPI)
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def png(self) -> bytes:
        """The chart as PNG bytes."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI)
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


def latency_log_axis(axis) -> None:
    """A log-scaled latency axis (values in ms) ticked at round times in human units."""
    axis.set_major_locator(_LatencyLocator())
    axis.set_major_formatter(FuncFormatter(ms_tick))
    axis.set_minor_formatter(NullFormatter())


def thousands(ax) -> None:
    """Thousands separators on the y axis."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000
                                               else f"{v:g}"))


def count_axis(ax, top: float) -> None:
    """A y axis that counts whole things: from 0, integer ticks, thousands separators."""
    ax.set_ylim(0.0, max(float(top), 1.0))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=2))
    thousands(ax)


def empty_panel(ax, text: str) -> None:
    """Say what an empty panel means ("no backlog") instead of drawing a 0-0.05 axis."""
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([0.0])
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color="#555555", fontsize="medium", style="italic")


def usd_axis(ax, top: float) -> None:
    """A y axis in dollars from 0 to ``top``, with as many decimals as its tick step needs."""
    ax.set_ylim(0.0, top if top > 0 else 1.0)

    def label(value: float, _pos) -> str:
        if value < 0:
            return ""
        ticks = ax.yaxis.get_majorticklocs()
        gap = float(np.min(np.diff(ticks))) if len(ticks) > 1 else abs(value) or 1.0
        decimals = 0
        while decimals < 8 and abs(round(gap, decimals) - gap) > 1e-9 * max(gap, 1e-12):
            decimals += 1
        return f"${value:,.{decimals}f}"

    ax.yaxis.set_major_formatter(FuncFormatter(label))


def title(fig: Chart, text: str, subtitle: str) -> None:
    """A title over the whole figure (legends included), a smaller line over the first axes."""
    fig.suptitle(text, fontsize="large")
    fig.axes[0].set_title(subtitle, fontsize="small", color="#555555")


def legend(ax) -> None:
    """The legend to the right of the axes, where it cannot hide any data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize="small", frameon=False)
