"""Charts of a run: what a capacity planner looks at before reading any number.

Per function:

* ``concurrency-NAME.png`` -- execution environments over time stacked by state (invoking,
  initializing, idle; idle provisioned environments apart when the function has provisioned
  concurrency), the peak of invoking + initializing in each bin (what Lambda's concurrency
  limits count) and the reserved and account limits;
* ``requests-NAME.png`` -- arrivals and invocations per second, and below them throttles and
  cold starts per second;
* ``latency-NAME.png`` -- the end-to-end latency distribution (CDF on a log-scaled axis) of
  requests served warm against those whose final attempt was a cold start, p50 and p99 marked;
* where those triggers exist: ``async-NAME.png`` (event age, queue depth, events received and
  dropped), ``sqs-NAME.png`` (backlog, age of the oldest message, pollers),
  ``stream-NAME.png`` (iterator age, pollers), drawn from the per-period series columns.

And ``concurrency.png`` for the account when there are several functions: each function's
busy environments stacked, the account's peak concurrency and its limit.

Charts are :class:`Chart` objects (a matplotlib ``Figure`` that shows itself in a notebook),
drawn with the Agg canvas: nothing touches pyplot's global state, so charts can be made in
any thread or process, and none is left open. The fine time grid comes from
:attr:`lambdasim.results.result.Result.timeline` (see :mod:`lambdasim.results.timeline`).
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = ["Chart", "concurrency_chart", "requests_chart", "latency_chart", "async_chart",
           "sqs_chart", "stream_chart", "kafka_chart", "account_chart", "charts", "write_plots",
           "FUNCTION_CHARTS"]

DPI = 100
_WIDE = (11.0, 4.6)
_TALL = (11.0, 7.0)
COLORS = {
    "invoking": "#1f77b4",
    "initializing": "#ff7f0e",
    "idle": "#c9c9c9",
    "provisioned": "#8fd18f",
    "peak": "#222222",
    "limit": "#c0392b",
    "reserved": "#8e44ad",
    "throttles": "#d62728",
    "cold": "#ff7f0e",
    "warm": "#1f77b4",
    "arrivals": "#555555",
}


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


# --------------------------------------------------------------------------- helpers

def _timeline(result: Any):
    timeline = getattr(result, "timeline", None)
    if timeline is None:
        raise ValueError("this result has no timeline (chart data); it was not made by "
                         "lambdasim.simulate")
    return timeline


def _function_name(result: Any, function: str | None) -> str:
    names = list(result.summary["functions"])
    if function is None:
        if len(names) == 1:
            return names[0]
        raise ValueError(f"name a function: {', '.join(names)}")
    if function not in names:
        raise KeyError(f"no function {function!r}; functions: {', '.join(names)}")
    return function


def _time_scale(span_s: float) -> tuple[float, str]:
    """Divisor and unit that make a time axis read naturally."""
    if span_s <= 300:
        return 1.0, "s"
    if span_s <= 6 * 3600:
        return 60.0, "min"
    if span_s <= 3 * 86400:
        return 3600.0, "h"
    return 86400.0, "d"


def _time_axis(ax, timeline, label: bool = True, legend: bool = True) -> float:
    """Set the x axis to simulated time; shade the warm-up; mark the horizon."""
    scale, unit = _time_scale(timeline.end_s)
    ax.set_xlim(0.0, timeline.end_s / scale)
    if timeline.warmup_s > 0:
        ax.axvspan(0.0, timeline.warmup_s / scale, color="#000000", alpha=0.06, lw=0,
                   label="warm-up (not in statistics)" if legend else None)
    if timeline.end_s > timeline.duration_s * 1.0001:
        ax.axvline(timeline.duration_s / scale, color="#777777", lw=0.8, ls=":",
                   label="horizon (arrivals stop)" if legend else None)
    if label:
        ax.set_xlabel(f"simulated time ({unit})")
    ax.grid(True, alpha=0.25)
    return scale


def _step(values: np.ndarray) -> np.ndarray:
    """Values per bin, the last repeated, to draw as steps over the bin edges."""
    values = np.asarray(values, dtype=np.float64)
    return np.append(values, values[-1]) if values.size else values


def _ms(value: float) -> str:
    """Milliseconds with sensible precision: 1,232 / 45.3 / 0.30."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2g}" if value >= 1 else f"{value:.2f}"


def _thousands(ax) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000
                                               else f"{v:g}"))


def _series_rows(result: Any, function: str, columns: Sequence[str]):
    """Period starts and the named series columns of ``function`` (NaN for None).

    Returns None when none of the columns has a value for this function.
    """
    series = result.series
    if not series or "function" not in series:
        return None
    rows = [i for i, name in enumerate(series["function"]) if name == function]
    if not rows:
        return None
    out: dict[str, np.ndarray] = {}
    for column in columns:
        values = series.get(column)
        if values is None:
            continue
        picked = [values[i] for i in rows]
        if all(v is None for v in picked):
            continue
        out[column] = np.array([np.nan if v is None else float(v) for v in picked])
    if not out:
        return None
    starts = np.array([float(series["period_start_s"][i]) for i in rows])
    return starts, out


def _period_edges(result: Any, starts: np.ndarray) -> np.ndarray:
    period = float(result.summary.get("config", {}).get("period") or
                   (starts[1] - starts[0] if len(starts) > 1 else 60.0))
    return np.append(starts, starts[-1] + period)


def _on_bins(edges: np.ndarray, period_edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-period values looked up for each fine bin (by its start)."""
    index = np.clip(np.searchsorted(period_edges, edges[:-1], side="right") - 1, 0,
                    len(values) - 1)
    out = np.nan_to_num(values[index], nan=0.0)
    return out


def _peaks(ax, edges: np.ndarray, peaks: np.ndarray, label: str) -> None:
    """Each bin's peak as a level dash over the bin (no verticals: spikes stay readable)."""
    ax.hlines(peaks, edges[:-1], edges[1:], color=COLORS["peak"], lw=1.2, label=label)


def _title(fig: Chart, title: str, subtitle: str) -> None:
    """A title over the whole figure (legends included), a smaller line over the first axes."""
    fig.suptitle(title, fontsize="large")
    fig.axes[0].set_title(subtitle, fontsize="small", color="#555555")


def _legend(ax) -> None:
    """The legend to the right of the axes, where it cannot hide any data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize="small", frameon=False)


# --------------------------------------------------------------------------- per function

def concurrency_chart(result: Any, function: str | None = None) -> Chart:
    """Execution environments of one function over time, stacked by state, with its limits.

    Parameters
    ----------
    result : lambdasim.results.result.Result
    function : str, optional
        The function (default: the only one).
    """
    name = _function_name(result, function)
    timeline = _timeline(result)
    data = timeline.functions[name]
    edges = data.edges
    fig = Chart(figsize=_WIDE)
    ax = fig.add_subplot()
    scale = _time_axis(ax, timeline)
    x = edges / scale

    layers = [("invoking", data.invoking), ("initializing (Init)", data.initializing)]
    provisioned = _series_rows(result, name, ("ProvisionedConcurrencyAllocated",
                                              "ProvisionedConcurrentExecutions"))
    idle = data.idle
    allocated = None
    if provisioned is not None and "ProvisionedConcurrencyAllocated" in provisioned[1]:
        starts, columns = provisioned
        period_edges = _period_edges(result, starts)
        allocated = _on_bins(edges, period_edges, columns["ProvisionedConcurrencyAllocated"])
        busy_provisioned = _on_bins(edges, period_edges, columns.get(
            "ProvisionedConcurrentExecutions", np.zeros(len(starts))))
        # Provisioned environments not serving are idle and ready; the rest of idle is
        # on-demand environments waiting for reuse until reclaimed.
        idle_provisioned = np.maximum(allocated - busy_provisioned, 0.0)
        idle = np.maximum(idle - idle_provisioned, 0.0)
        layers.append(("idle, provisioned", idle_provisioned))
        layers.append(("idle, on-demand", idle))
    else:
        layers.append(("idle (warm, awaiting reuse)", idle))
    colors = [COLORS["invoking"], COLORS["initializing"]] + (
        [COLORS["provisioned"], COLORS["idle"]] if allocated is not None else [COLORS["idle"]])
    ax.stackplot(x, *[_step(values) for _, values in layers], labels=[l for l, _ in layers],
                 colors=colors, step="post", lw=0)
    peak = data.busy_max
    _peaks(ax, x, peak, "peak concurrency (invoking + initializing)")
    if allocated is not None:
        ax.step(x, _step(allocated), where="post", color="#2e7d32", lw=1.0, ls="--",
                label="provisioned concurrency allocated")

    stacked = np.sum([values for _, values in layers], axis=0)
    top = max(float(np.max(peak)), float(np.max(stacked)),
              0.0 if allocated is None else float(np.max(allocated)), 1.0)
    limits = []
    if data.reserved_concurrency is not None:
        limits.append((f"reserved concurrency ({data.reserved_concurrency:,})",
                       data.reserved_concurrency, COLORS["reserved"]))
    limits.append((f"account concurrency limit ({timeline.account_limit:,})",
                   timeline.account_limit, COLORS["limit"]))
    ceiling = top * 1.15
    for label, value, color in limits:
        if value <= top * 4.0:
            ceiling = max(ceiling, value * 1.08)
    for label, value, color in limits:
        if value <= ceiling:
            ax.axhline(value, color=color, lw=1.4, ls="--", label=label)
        else:  # far above the traffic: say so rather than squash the chart
            ax.plot([], [], color=color, lw=1.4, ls="--", label=f"{label}, above the chart")
    ax.set_ylim(0.0, ceiling)
    ax.set_ylabel("execution environments")
    _thousands(ax)
    _title(fig, f"{name}: execution environments by state",
           f"areas: time-weighted mean per {data.width_s:g} s; black dashes: the peak in each "
           f"{data.width_s:g} s")
    _legend(ax)
    return fig


def requests_chart(result: Any, function: str | None = None) -> Chart:
    """Arrivals and invocations per second, throttles and cold starts per second."""
    name = _function_name(result, function)
    timeline = _timeline(result)
    data = timeline.functions[name]
    width = data.width_s
    fig = Chart(figsize=_TALL)
    top, middle, bottom = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 2])
    scale = _time_axis(top, timeline, label=False)
    _time_axis(middle, timeline, label=False, legend=False)
    _time_axis(bottom, timeline, legend=False)
    x = data.edges / scale
    top.step(x, _step(data.arrivals / width), where="post", color=COLORS["arrivals"], lw=1.0,
             label="requests arrived")
    top.step(x, _step(data.invocations / width), where="post", color=COLORS["invoking"],
             lw=1.0, alpha=0.8, label="invocations (retries included)")
    top.set_ylabel("per second")
    top.set_ylim(bottom=0.0)
    _thousands(top)
    _title(fig, f"{name}: requests, throttles and cold starts", f"per second, in {width:g} s bins")
    _legend(top)
    for ax, counts, color, label in (
            (middle, data.throttles, COLORS["throttles"], "throttles"),
            (bottom, data.cold_starts, COLORS["cold"], "cold starts")):
        ax.fill_between(x, _step(counts / width), step="post", color=color, alpha=0.6, lw=0,
                        label=f"{label} ({int(counts.sum()):,} in all)")
        ax.set_ylabel("per second")
        ax.set_ylim(0.0, max(float(np.max(counts / width)) * 1.1, 1.0))
        _thousands(ax)
        _legend(ax)
    return fig


def latency_chart(result: Any, function: str | None = None) -> Chart:
    """End-to-end latency CDF, warm against cold, log-scaled, p50 and p99 marked."""
    name = _function_name(result, function)
    data = _timeline(result).functions[name]
    fig = Chart(figsize=_WIDE)
    ax = fig.add_subplot()
    drawn = False
    for label, curve, color in (("warm", data.warm_latency, COLORS["warm"]),
                                ("cold start", data.cold_latency, COLORS["cold"])):
        if curve.count == 0:
            ax.plot([], [], color=color, label=f"{label}: no requests")
            continue
        values = np.maximum(curve.values_ms, 1e-3)
        ax.step(values, curve.levels, where="post", color=color, lw=1.6,
                label=f"{label} ({curve.count:,} requests)")
        for quantile, value, style in ((0.5, curve.p50_ms, ":"), (0.99, curve.p99_ms, "--")):
            ax.axvline(max(value, 1e-3), color=color, lw=1.0, ls=style,
                       label=f"{label} p{round(quantile * 100):d} = {_ms(value)} ms")
        drawn = True
    ax.set_xscale("log")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("end-to-end latency (ms, log scale)")
    ax.set_ylabel("fraction of requests at or below")
    ax.grid(True, which="both", alpha=0.25)
    if not drawn:
        ax.set_xlim(1.0, 1000.0)
    _title(fig, f"{name}: end-to-end latency, warm vs cold start",
           "requests answered in the measured window; cold = the final attempt was a cold start")
    _legend(ax)
    return fig


def _panels(result: Any, name: str, title: str, panels) -> Chart | None:
    """A chart of stacked panels from series columns; None when no column has data.

    ``panels``: a list of (y label, [(column, label, style)], transform) tuples.
    """
    columns = [column for _, lines, _ in panels for column, _, _ in lines]
    rows = _series_rows(result, name, columns)
    if rows is None:
        return None
    starts, values = rows
    present = [(ylabel, [line for line in lines if line[0] in values], transform)
               for ylabel, lines, transform in panels]
    present = [panel for panel in present if panel[1]]
    timeline = _timeline(result)
    fig = Chart(figsize=(11.0, 2.4 + 2.0 * len(present)))
    axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
    edges = _period_edges(result, starts)
    for i, (ax, (ylabel, lines, transform)) in enumerate(zip(axes, present)):
        scale = _time_axis(ax, timeline, label=i == len(present) - 1, legend=i == 0)
        for column, label, style in lines:
            y = values[column] if transform is None else transform(values[column])
            if style == "bars":
                ax.fill_between(edges / scale, _step(np.nan_to_num(y)), step="post",
                                alpha=0.5, lw=0, label=label,
                                color=COLORS["throttles"] if "drop" in label else None)
            else:
                ax.step(edges / scale, _step(y), where="post", lw=1.2, label=label,
                        ls=style or "-")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0.0)
        _thousands(ax)
        _legend(ax)
    period = edges[1] - edges[0] if len(edges) > 1 else 0.0
    _title(fig, f"{name}: {title}", f"per {period:g} s metrics period")
    return fig


def async_chart(result: Any, function: str | None = None) -> Chart | None:
    """Asynchronous invocation: event age, queue depth, events received and dropped."""
    name = _function_name(result, function)
    return _panels(result, name, "asynchronous events", [
        ("event age (s)", [("AsyncEventAge_max_ms", "age of the oldest event (max)", "-"),
                           ("AsyncEventAge_avg_ms", "mean age of events (avg)", "--")],
         lambda ms: ms / 1000.0),
        ("events queued", [("AsyncQueueDepth", "queue depth", "-")], None),
        ("events per period", [("AsyncEventsReceived", "received", "-"),
                               ("AsyncEventsDropped", "dropped", "bars")], None),
    ])


def front_door_chart(result: Any, function: str | None = None) -> Chart | None:
    """API Gateway's metrics of a function's front doors: Count, 4XX/5XX, latencies."""
    name = _function_name(result, function)
    return _panels(result, name, "front door (API Gateway metrics)", [
        ("API requests per period", [("Count", "Count", "-"),
                                     ("4XXError", "4XXError (429s)", "bars"),
                                     ("5XXError", "5XXError (500, 502, 504)", "--")], None),
        ("latency (ms)", [("Latency_max_ms", "Latency (max)", "-"),
                          ("IntegrationLatency_avg_ms", "IntegrationLatency (avg)", "--")],
         None),
    ])


def dependency_chart(result: Any) -> Chart | None:
    """Shared dependencies: units in use against capacity, waits and rejections per period."""
    rows = getattr(result, "dependency_series", None)
    blocks = result.summary.get("dependencies") or {}
    if not rows or not blocks:
        return None
    fig = Chart(figsize=(11.0, 6.4))
    top, bottom = fig.subplots(2, 1, sharex=True)
    names = np.asarray(rows["dependency"], dtype=object)
    starts = np.asarray(rows["period_start_s"], dtype=np.float64)
    for name, block in blocks.items():
        mine = names == name
        t = starts[mine]
        if not t.size:
            continue
        edges = np.append(t, t[-1] + (t[1] - t[0] if t.size > 1 else 60.0))
        line = top.step(edges, _step(np.asarray(rows["InUse_max"], dtype=float)[mine]),
                        where="post", lw=1.4, label=f"{name}: in use (max)")
        top.step(edges, _step(np.asarray(rows["InUse_avg"], dtype=float)[mine]), where="post",
                 lw=1.0, ls="--", color=line[0].get_color(), label=f"{name}: in use (avg)")
        if block.get("capacity") is not None:
            top.axhline(block["capacity"], color=line[0].get_color(), ls=":", lw=1.0,
                        label=f"{name}: capacity {block['capacity']:,}")
        bottom.step(edges, _step(np.asarray(rows["Waits"], dtype=float)[mine]), where="post",
                    color=line[0].get_color(), label=f"{name}: invocations that waited")
        bottom.fill_between(edges, _step(np.asarray(rows["Rejected"], dtype=float)[mine]),
                            step="post", alpha=0.4, color=COLORS["throttles"],
                            label=f"{name}: rejected")
    top.set_ylabel("units / concurrent users")
    bottom.set_ylabel("invocations per period")
    bottom.set_xlabel("time (s)")
    for ax in (top, bottom):
        ax.set_ylim(bottom=0.0)
        _thousands(ax)
        _legend(ax)
    _title(fig, "shared dependencies", "pools: units held; rate quotas: invocations that "
           "called it and have not ended")
    return fig


def sqs_chart(result: Any, function: str | None = None) -> Chart | None:
    """SQS event source: backlog, age of the oldest message and pollers."""
    name = _function_name(result, function)
    return _panels(result, name, "SQS queue", [
        ("messages", [("ApproximateNumberOfMessagesVisible", "backlog (messages visible)",
                       "-")], None),
        ("age (s)", [("ApproximateAgeOfOldestMessage_s", "age of the oldest message", "-")],
         None),
        ("pollers", [("SQSPollers", "concurrent batches (pollers)", "-"),
                     ("ProvisionedPollers", "provisioned pollers (EPU, 10 batches each)", "--")],
         None),
    ])


def kafka_chart(result: Any, function: str | None = None) -> Chart | None:
    """Kafka event source: offset lag (sum and largest partition) and event pollers."""
    name = _function_name(result, function)
    return _panels(result, name, "Kafka topic", [
        ("offset lag (records)", [("SumOffsetLag", "SumOffsetLag (all partitions, max)", "-"),
                                  ("MaxOffsetLag", "MaxOffsetLag (largest partition)", "--")],
         None),
        ("pollers", [("KafkaPollers", "event pollers (5 invocations each)", "-")], None),
    ])


def stream_chart(result: Any, function: str | None = None) -> Chart | None:
    """Stream event source (Kinesis, DynamoDB Streams): iterator age and pollers."""
    name = _function_name(result, function)
    return _panels(result, name, "stream", [
        ("iterator age (s)", [("IteratorAge_max_ms", "iterator age (max)", "-"),
                              ("IteratorAge_avg_ms", "iterator age (avg)", "--")],
         lambda ms: ms / 1000.0),
        ("pollers", [("StreamPollers", "concurrent batches (pollers)", "-")], None),
    ])


def account_chart(result: Any) -> Chart:
    """Busy environments of every function stacked, the account's peak and its limit."""
    timeline = _timeline(result)
    fig = Chart(figsize=_WIDE)
    ax = fig.add_subplot()
    scale = _time_axis(ax, timeline)
    x = timeline.edges / scale
    names = list(timeline.functions)
    ax.stackplot(x, *[_step(f.invoking + f.initializing) for f in timeline.functions.values()],
                 labels=names, step="post", lw=0, alpha=0.85)
    peak = timeline.account_busy_max
    top = max(float(np.max(peak)), 1.0)
    _peaks(ax, x, peak, "peak concurrent executions")
    limit = timeline.account_limit
    label = f"account concurrency limit ({limit:,})"
    if limit <= top * 4.0:
        ax.axhline(limit, color=COLORS["limit"], lw=1.4, ls="--", label=label)
        ax.set_ylim(0.0, max(top * 1.15, limit * 1.08))
    else:
        ax.plot([], [], color=COLORS["limit"], lw=1.4, ls="--", label=label + ", above the chart")
        ax.set_ylim(0.0, top * 1.15)
    ax.set_ylabel("concurrent executions")
    _thousands(ax)
    width = timeline.edges[1] - timeline.edges[0]
    _title(fig, "account: concurrent executions by function",
           f"areas: time-weighted mean per {width:g} s; black dashes: the peak in each {width:g} s")
    _legend(ax)
    return fig


#: Chart kinds drawn for every function: file prefix -> function. Trigger charts return None
#: when the function has no such trigger.
FUNCTION_CHARTS: dict[str, Callable[[Any, str], Chart | None]] = {
    "concurrency": concurrency_chart,
    "requests": requests_chart,
    "latency": latency_chart,
    "async": async_chart,
    "sqs": sqs_chart,
    "stream": stream_chart,
    "kafka": kafka_chart,
    "front-door": front_door_chart,
}


def charts(result: Any):
    """Yield ``(file name, chart)`` for every chart of a run, one at a time."""
    for name in result.summary["functions"]:
        for kind, make in FUNCTION_CHARTS.items():
            chart = make(result, name)
            if chart is not None:
                yield f"{kind}-{name}.png", chart
    if len(result.summary["functions"]) > 1:
        yield "concurrency.png", account_chart(result)
    chart = dependency_chart(result)
    if chart is not None:
        yield "dependencies.png", chart


def write_plots(result: Any, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every chart of a run as PNG files into ``out_dir`` (created when missing).

    Returns
    -------
    list of pathlib.Path
        The files written, in drawing order.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, chart in charts(result):
        path = folder / file_name
        data = chart.png()
        chart.clear()
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        written.append(path)
    return written
