"""Charts of a run: what a capacity planner looks at before reading any number.

Per function:

* ``concurrency-NAME.png`` -- execution environments over time stacked by state (invoking,
  initializing, idle; idle provisioned environments apart when the function has provisioned
  concurrency), the peak of invoking + initializing in each bin (what Lambda's concurrency
  limits count) and the reserved and account limits;
* ``requests-NAME.png`` -- requests arriving and invocation attempts per second, and below
  them throttled attempts, requests that finally failed with a throttle, and cold starts;
* ``latency-NAME.png`` -- the end-to-end latency distribution (CDF on a log-scaled axis) of
  requests served warm against those whose final attempt was a cold start, p50 and p99 marked;
* ``latency_time-NAME.png`` -- end-to-end latency p50 and p99 of the requests arriving in
  each bin, against the table's p50 and p99;
* ``cost-NAME.png`` -- the cost of each bin by item, and the running total that ends at the
  table's cost;
* where those triggers exist: ``async-NAME.png`` (event age, queue depth, events received and
  dropped), ``sqs-NAME.png`` (backlog, age of the oldest message, pollers),
  ``stream-NAME.png`` (iterator age, pollers).

And ``concurrency.png`` for the account when there are several functions: each function's
busy environments stacked, the account's peak concurrency and its limit.

Charts agree with the summary table: counts in legends are the table's (requests arriving
after the warm-up and the attempts made for them); what the warm-up adds is drawn apart in
grey; every chart shades the warm-up and uses the same bins
(:attr:`lambdasim.results.timeline.Timeline.width_s`); each label says whether it counts
requests or invocation attempts. The data comes from :attr:`Result.timeline
<lambdasim.results.result.Result.timeline>` (:mod:`lambdasim.results.timeline`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from lambdasim.results.chart_kit import (COLORS, TALL, WIDE, Chart, count_axis, empty_panel,
                                         latency_log_axis, legend, ms_text, seconds_text, step,
                                         thousands, time_axis, title, usd_axis, usd_text)

__all__ = ["Chart", "concurrency_chart", "requests_chart", "latency_chart",
           "latency_time_chart", "cost_chart", "async_chart", "sqs_chart", "stream_chart",
           "account_chart", "charts", "write_plots", "FUNCTION_CHARTS", "COST_LABELS"]

#: Cost items as the cost chart and report.html name them.
COST_LABELS = {"requests": "requests", "duration": "duration", "init": "init (cold starts)",
               "ephemeral_storage": "ephemeral storage", "provisioned": "provisioned concurrency"}
_COST_COLORS = {"requests": "#7f7f7f", "duration": "#1f77b4", "init": "#ff7f0e",
                "ephemeral_storage": "#17becf", "provisioned": "#2ca02c"}


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


_bins = seconds_text  # '5 s', '1 min': the bin width as a subtitle says it


def _peaks(ax, edges: np.ndarray, peaks: np.ndarray, label: str) -> None:
    """Each bin's peak as a level dash over the bin (no verticals: spikes stay readable)."""
    ax.hlines(peaks, edges[:-1], edges[1:], color=COLORS["peak"], lw=1.2, label=label)


def _limits(ax, top: float, limits) -> float:
    """Draw limit lines that fit; name the others 'above the chart'. Returns the y ceiling."""
    ceiling = top * 1.15
    for _, value, _ in limits:
        if value <= top * 4.0:
            ceiling = max(ceiling, value * 1.08)
    for label, value, color in limits:
        if value <= ceiling:
            ax.axhline(value, color=color, lw=1.4, ls="--", label=label)
        else:  # far above the traffic: say so rather than squash the chart
            ax.plot([], [], color=color, lw=1.4, ls="--", label=f"{label}, above the chart")
    return ceiling


# --------------------------------------------------------------------------- per function

def concurrency_chart(result: Any, function: str | None = None) -> Chart:
    """Execution environments of one function over time, stacked by state, with its limits.

    Areas are time-weighted means over each bin (so they can be fractions of an environment
    where traffic is low); the black dashes are the peak count in each bin.

    Parameters
    ----------
    result : lambdasim.results.result.Result
    function : str, optional
        The function (default: the only one).
    """
    name = _function_name(result, function)
    timeline = _timeline(result)
    data = timeline.functions[name]
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    scale = time_axis(ax, timeline, end_s=data.active_end_s)
    x = data.edges / scale
    bins = _bins(data.width_s)

    layers = [("invoking", data.invoking), ("initializing (Init)", data.initializing)]
    idle = data.idle
    allocated = data.series.get("ProvisionedConcurrencyAllocated")
    if allocated is not None and "ProvisionedConcurrencyAllocated" not in data.series_edges:
        allocated = np.nan_to_num(allocated)
        busy_provisioned = np.nan_to_num(data.series.get(
            "ProvisionedConcurrentExecutions", np.zeros(len(allocated))))
        # Provisioned environments not serving are idle and ready; the rest of idle is
        # on-demand environments waiting for reuse until reclaimed.
        idle_provisioned = np.minimum(np.maximum(allocated - busy_provisioned, 0.0), idle)
        idle = np.maximum(idle - idle_provisioned, 0.0)
        layers.append(("idle, provisioned", idle_provisioned))
        layers.append(("idle, on-demand", idle))
        colors = [COLORS["invoking"], COLORS["initializing"], COLORS["provisioned"],
                  COLORS["idle"]]
    else:
        allocated = None
        layers.append(("idle (warm, awaiting reuse)", idle))
        colors = [COLORS["invoking"], COLORS["initializing"], COLORS["idle"]]
    ax.stackplot(x, *[step(values) for _, values in layers], labels=[l for l, _ in layers],
                 colors=colors, step="post", lw=0)
    peak = data.busy_max
    _peaks(ax, x, peak, f"peak concurrency in each {bins} (invoking + initializing)")
    if allocated is not None:
        ax.step(x, step(allocated), where="post", color="#2e7d32", lw=1.0, ls="--",
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
    count_axis(ax, _limits(ax, top, limits))
    ax.set_ylabel(f"execution environments\n(mean over each {bins})")
    title(fig, f"{name}: execution environments by state",
          f"areas: time-weighted mean count per {bins}; black dashes: the peak count in each "
          f"{bins}")
    legend(ax)
    return fig


def _count_panel(ax, x, width, counted, total, color, counted_label, warmup_label,
                 empty_text, also=None) -> None:
    """Attempts or requests per second: the table's part in colour, the warm-up's in grey;
    ``also``: counts drawn over them as a line by the caller (kept inside the axis)."""
    other = np.maximum(total - counted, 0)
    also = np.zeros_like(counted) if also is None else also
    if not counted.any() and not other.any() and not also.any():
        empty_panel(ax, empty_text)
        return
    ax.fill_between(x, step(counted / width), step="post", color=color, alpha=0.65, lw=0,
                    label=f"{counted_label}: {int(counted.sum()):,} (as in the table)")
    if other.any():
        ax.fill_between(x, step(counted / width), step((counted + other) / width), step="post",
                        color=COLORS["warmup_counts"], alpha=0.85, lw=0,
                        label=f"{warmup_label} of warm-up requests: {int(other.sum()):,} "
                              "(not in the table)")
    ax.set_ylim(0.0, max(float(np.max((counted + other) / width)),
                         float(np.max(also / width))) * 1.1)
    thousands(ax)


def requests_chart(result: Any, function: str | None = None) -> Chart:
    """Requests and invocation attempts per second; throttles and cold starts per second.

    Totals in the legends are the summary table's: requests arriving in ``[warmup,
    duration)`` and the attempts made for them (retries included); attempts of warm-up
    requests are stacked in grey.
    """
    name = _function_name(result, function)
    timeline = _timeline(result)
    data = timeline.functions[name]
    width = data.width_s
    fig = Chart(figsize=TALL)
    top, middle, bottom = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 2])
    scale = time_axis(top, timeline, label=False, end_s=data.active_end_s)
    time_axis(middle, timeline, label=False, legend=False, end_s=data.active_end_s)
    time_axis(bottom, timeline, legend=False, end_s=data.active_end_s)
    x = data.edges / scale
    top.step(x, step(data.arrivals / width), where="post", color=COLORS["arrivals"], lw=1.0,
             label=f"requests arrived: {int(data.arrivals_counted.sum()):,} in the table")
    top.step(x, step(data.invocations / width), where="post", color=COLORS["invoking"],
             lw=1.0, alpha=0.8,
             label=f"invocations (attempts, retries included): "
                   f"{int(data.invocations_counted.sum()):,} in the table")
    top.set_ylabel("per second")
    top.set_ylim(bottom=0.0)
    thousands(top)
    title(fig, f"{name}: requests, throttles and cold starts",
          f"per second, in {_bins(width)} bins; legend totals count what the table counts")
    legend(top)
    _count_panel(middle, x, width, data.throttles_counted, data.throttles, COLORS["throttles"],
                 "throttled attempts", "throttled attempts", "no throttles",
                 also=data.throttled_counted)
    if data.throttled_counted.any():
        middle.step(x, step(data.throttled_counted / width), where="post",
                    color=COLORS["throttled"], lw=1.2,
                    label=f"requests throttled in the end (429): "
                          f"{int(data.throttled_counted.sum()):,}")
    elif data.throttles_counted.any():  # throttled attempts, but no request ended throttled
        middle.plot([], [], color=COLORS["throttled"], lw=1.2,
                    label="requests throttled in the end: none")
    middle.set_ylabel("per second")
    legend(middle)
    _count_panel(bottom, x, width, data.cold_starts_counted, data.cold_starts, COLORS["cold"],
                 "cold starts", "cold starts", "no cold starts")
    bottom.set_ylabel("per second")
    legend(bottom)
    return fig


def latency_chart(result: Any, function: str | None = None) -> Chart:
    """End-to-end latency CDF, warm vs cold, log-scaled, p50 and p99 marked."""
    name = _function_name(result, function)
    data = _timeline(result).functions[name]
    fig = Chart(figsize=WIDE)
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
                       label=f"{label} p{round(quantile * 100):d} = {ms_text(value)}")
        drawn = True
    ax.set_xscale("log")
    latency_log_axis(ax.xaxis)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("end-to-end latency (log scale)")
    ax.set_ylabel("fraction of requests at or below")
    ax.grid(True, which="both", alpha=0.25)
    if not drawn:
        ax.set_xlim(1.0, 1000.0)
    title(fig, f"{name}: end-to-end latency, warm vs cold start",
          "requests arriving after the warm-up and answered (as in the table); cold = the "
          "final attempt was a cold start")
    legend(ax)
    return fig


def latency_time_chart(result: Any, function: str | None = None) -> Chart:
    """End-to-end latency p50 and p99 of the requests arriving in each bin, over time.

    Retries and their back-off are included (arrival to final answer); bins where no request
    was answered are gaps. The dotted lines are the table's p50 and p99 over the measured
    window.
    """
    name = _function_name(result, function)
    timeline = _timeline(result)
    data = timeline.functions[name]
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    # Requests arrive until the horizon: the chart ends a little after it.
    scale = time_axis(ax, timeline, end_s=min(data.active_end_s,
                                              timeline.duration_s * 1.05))
    x = data.edges / scale
    table = result.summary["functions"][name].get("latency_ms") or {}
    if not np.any(data.latency_count):
        empty_panel(ax, "no request answered")
    else:
        for key, values, color in (("p50", data.latency_p50_ms, COLORS["p50"]),
                                   ("p99", data.latency_p99_ms, COLORS["p99"])):
            ax.step(x, step(values), where="post", color=color, lw=1.4,
                    label=f"{key} of the requests arriving in each {_bins(data.width_s)}")
            if table.get(key) is not None:
                ax.axhline(table[key], color=color, lw=1.0, ls=":",
                           label=f"{key} over the measured window (table): "
                                 f"{ms_text(table[key])}")
        finite = np.concatenate([data.latency_p50_ms, data.latency_p99_ms])
        finite = finite[np.isfinite(finite)]
        low, high = float(finite.min()), float(finite.max())
        if low > 0 and high / low > 30:
            ax.set_yscale("log")
            latency_log_axis(ax.yaxis)
            ax.set_ylabel("end-to-end latency (log scale)")
        else:
            ax.set_ylim(0.0, high * 1.1)
            ax.set_ylabel("end-to-end latency (ms)")
            thousands(ax)
    title(fig, f"{name}: end-to-end latency over time",
          f"requests by arrival, in {_bins(data.width_s)} bins, retries included")
    legend(ax)
    return fig


def cost_chart(result: Any, function: str | None = None) -> Chart:
    """The cost of each bin by item, and the running total that ends at the table's cost.

    Each item of the table's ``cost_usd`` is spread over the bins by the usage it bills
    (:func:`lambdasim.results.timeline.build_timeline`), so the bins add up to the table.
    """
    name = _function_name(result, function)
    timeline = _timeline(result)
    data = timeline.functions[name]
    fig = Chart(figsize=TALL)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    scale = time_axis(top, timeline, label=False, end_s=data.active_end_s)
    time_axis(bottom, timeline, legend=False, end_s=data.active_end_s)
    x = data.edges / scale
    width = _bins(data.width_s)
    cost = data.cost_usd or {}
    items = [(item, values) for item, values in cost.items() if np.any(values)]
    total = np.sum([values for _, values in cost.items()], axis=0) if cost else \
        np.zeros(len(data.edges) - 1)
    table = (result.summary["functions"][name].get("cost_usd") or {}).get("total")
    if not items:
        empty_panel(top, "no cost")
        empty_panel(bottom, "no cost")
    else:
        top.stackplot(x, *[step(values) for _, values in items],
                      labels=[f"{COST_LABELS.get(item, item)}: {usd_text(float(values.sum()))}"
                              for item, values in items],
                      colors=[_COST_COLORS.get(item) for item, _ in items], step="post", lw=0)
        usd_axis(top, float(np.max(total)) * 1.15)
        running = np.concatenate([[0.0], np.cumsum(total)])
        bottom.plot(x, running, color="#333333", lw=1.5,
                    label=f"running total: {usd_text(float(running[-1]))}")
        if table is not None:
            bottom.axhline(table, color=COLORS["limit"], lw=1.0, ls=":",
                           label=f"the table's cost: {usd_text(table)}")
        usd_axis(bottom, max(float(running[-1]), float(table or 0.0)) * 1.12)
    top.set_ylabel(f"USD per {width}")
    bottom.set_ylabel("USD, cumulative")
    for ax in (top, bottom):
        legend(ax)
    title(fig, f"{name}: cost over time",
          f"cost of the invocations in each {width} (by start), of requests arriving after "
          "the warm-up, as in the table")
    return fig


# --------------------------------------------------------------------------- trigger charts

def _panels(result: Any, name: str, title_text: str, panels) -> Chart | None:
    """A chart of stacked panels from trigger columns; None when no column has data.

    ``panels``: a list of ``(y label, [(column, label, style)], transform, counts, empty)``:
    ``counts`` gives the axis integer ticks, ``empty`` is what a panel without data says.
    """
    timeline = _timeline(result)
    data = timeline.functions[name]
    columns = {column for _, lines, *_ in panels for column, _, _ in lines}
    if not columns & set(data.series):
        return None
    present = [(ylabel, [line for line in lines if line[0] in data.series], *rest)
               for ylabel, lines, *rest in panels]
    present = [panel for panel in present if panel[1]]
    fig = Chart(figsize=(11.0, 2.4 + 2.0 * len(present)))
    axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
    notes = set()
    for i, (ax, (ylabel, lines, transform, counts, empty)) in enumerate(zip(axes, present)):
        scale = time_axis(ax, timeline, label=i == len(present) - 1, legend=i == 0,
                          end_s=data.active_end_s)
        top = 0.0
        for column, label, style in lines:
            edges = data.series_edges.get(column, data.edges)
            if column in data.series_edges:
                notes.add(edges[1] - edges[0])
            raw = data.series[column]
            y = raw if transform is None else transform(raw, edges[1] - edges[0])
            if np.any(np.nan_to_num(y) > 0):
                top = max(top, float(np.nanmax(y)))
            if style == "bars":
                if not np.any(np.nan_to_num(raw) > 0):
                    label += ": none"
                ax.fill_between(edges / scale, step(np.nan_to_num(y)), step="post", alpha=0.5,
                                lw=0, label=label, color=COLORS["throttles"])
            else:
                ax.step(edges / scale, step(y), where="post", lw=1.2, label=label,
                        ls=style or "-")
        ax.set_ylabel(ylabel)
        if top <= 0.0:
            empty_panel(ax, empty)
        elif counts:
            count_axis(ax, top * 1.1)
        else:
            ax.set_ylim(0.0, top * 1.1)
            thousands(ax)
        legend(ax)
    subtitle = f"in {_bins(data.width_s)} bins, as on every chart of the run"
    for period in sorted(notes):
        subtitle = (f"per {_bins(period)} metrics period: these levels are monitored per "
                    "period during the run")
    title(fig, f"{name}: {title_text}", subtitle)
    return fig


_seconds = lambda values, _width: values / 1000.0  # noqa: E731  (ms per bin -> s)
_per_second = lambda values, width: values / width  # noqa: E731  (counts per bin -> per s)


def async_chart(result: Any, function: str | None = None) -> Chart | None:
    """Asynchronous invocation: event age, queue depth, events received and dropped."""
    name = _function_name(result, function)
    return _panels(result, name, "asynchronous events", [
        ("event age (s)", [("AsyncEventAge_max_ms", "age of the oldest event (max)", "-"),
                           ("AsyncEventAge_avg_ms", "mean age of events (avg)", "--")],
         _seconds, False, "no event waited"),
        ("events queued", [("AsyncQueueDepth", "queue depth (peak in each bin)", "-")],
         None, True, "no backlog"),
        ("events per second", [("AsyncEventsReceived", "events received (requests)", "-"),
                               ("AsyncEventsDropped", "events dropped (requests)", "bars")],
         _per_second, False, "no events"),
    ])


def front_door_chart(result: Any, function: str | None = None) -> Chart | None:
    """API Gateway's metrics of a function's front doors: Count, 4XX/5XX, latencies."""
    name = _function_name(result, function)
    return _panels(result, name, "front door (API Gateway metrics)", [
        ("API requests per second", [("Count", "Count (requests)", "-"),
                                     ("4XXError", "4XXError (429s)", "bars"),
                                     ("5XXError", "5XXError (500, 502, 504)", "--")],
         _per_second, False, "no API requests"),
        ("latency (ms)", [("Latency_max_ms", "Latency (max)", "-"),
                          ("IntegrationLatency_avg_ms", "IntegrationLatency (avg)", "--")],
         None, False, "no API requests"),
    ])


def dependency_chart(result: Any) -> Chart | None:
    """Shared dependencies: units in use against capacity, waits and rejections per metrics
    period (these levels are kept per period during the run)."""
    rows = getattr(result, "dependency_series", None)
    blocks = result.summary.get("dependencies") or {}
    if not rows or not blocks:
        return None
    timeline = _timeline(result)
    fig = Chart(figsize=(11.0, 6.4))
    top, bottom = fig.subplots(2, 1, sharex=True)
    scale = time_axis(top, timeline, label=False)
    time_axis(bottom, timeline, legend=False)
    names = np.asarray(rows["dependency"], dtype=object)
    starts = np.asarray(rows["period_start_s"], dtype=np.float64)
    period = None
    peak = 0.0
    for name, block in blocks.items():
        mine = names == name
        t = starts[mine]
        if not t.size:
            continue
        period = float(t[1] - t[0]) if t.size > 1 else 60.0
        edges = np.append(t, t[-1] + period) / scale
        in_use = np.asarray(rows["InUse_max"], dtype=float)[mine]
        peak = max(peak, float(np.nanmax(in_use)) if in_use.size else 0.0,
                   float(block.get("capacity") or 0))
        line = top.step(edges, step(in_use), where="post", lw=1.4, label=f"{name}: in use (max)")
        top.step(edges, step(np.asarray(rows["InUse_avg"], dtype=float)[mine]), where="post",
                 lw=1.0, ls="--", color=line[0].get_color(), label=f"{name}: in use (avg)")
        if block.get("capacity") is not None:
            top.axhline(block["capacity"], color=line[0].get_color(), ls=":", lw=1.0,
                        label=f"{name}: capacity {block['capacity']:,}")
        bottom.step(edges, step(np.asarray(rows["Waits"], dtype=float)[mine]), where="post",
                    color=line[0].get_color(), label=f"{name}: invocations that waited")
        bottom.fill_between(edges, step(np.asarray(rows["Rejected"], dtype=float)[mine]),
                            step="post", alpha=0.4, color=COLORS["throttles"],
                            label=f"{name}: rejected")
    top.set_ylabel("units / concurrent users")
    count_axis(top, peak * 1.1)
    bottom.set_ylabel("invocations per period")
    bottom.set_ylim(bottom=0.0)
    thousands(bottom)
    legend(top)
    legend(bottom)
    title(fig, "shared dependencies",
          f"per {_bins(period or 60.0)} metrics period; pools: units held; rate quotas: "
          "invocations that called it and have not ended")
    return fig


def sqs_chart(result: Any, function: str | None = None) -> Chart | None:
    """SQS event source: backlog, age of the oldest message and pollers."""
    name = _function_name(result, function)
    return _panels(result, name, "SQS queue", [
        ("messages", [("ApproximateNumberOfMessagesVisible",
                       "backlog: messages visible (peak)", "-")], None, True, "no backlog"),
        ("age (s)", [("ApproximateAgeOfOldestMessage_s", "age of the oldest message", "-")],
         None, False, "no message waited"),
        ("pollers", [("SQSPollers", "concurrent pollers (peak)", "-"),
                     ("ProvisionedPollers", "provisioned pollers (EPU, peak)", "--")], None,
         True, "no pollers"),
    ])


def stream_chart(result: Any, function: str | None = None) -> Chart | None:
    """Stream event source (Kinesis, DynamoDB Streams): iterator age and pollers."""
    name = _function_name(result, function)
    return _panels(result, name, "stream", [
        ("iterator age (s)", [("IteratorAge_max_ms", "iterator age (max)", "-"),
                              ("IteratorAge_avg_ms", "iterator age (avg)", "--")],
         _seconds, False, "no iterator age: records read as they arrived"),
        ("pollers", [("StreamPollers", "concurrent batches (peak)", "-")], None, True,
         "no pollers"),
    ])


def account_chart(result: Any) -> Chart:
    """Busy environments of every function stacked, the account's peak and its limit."""
    timeline = _timeline(result)
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    scale = time_axis(ax, timeline)
    x = timeline.edges / scale
    names = list(timeline.functions)
    ax.stackplot(x, *[step(f.invoking + f.initializing) for f in timeline.functions.values()],
                 labels=names, step="post", lw=0, alpha=0.85)
    peak = timeline.account_busy_max
    bins = _bins(timeline.width_s)
    _peaks(ax, x, peak, f"peak concurrent executions in each {bins}")
    top = max(float(np.max(peak)), 1.0)
    limit = timeline.account_limit
    count_axis(ax, _limits(ax, top, [(f"account concurrency limit ({limit:,})", limit,
                                      COLORS["limit"])]))
    ax.set_ylabel(f"concurrent executions\n(mean over each {bins})")
    title(fig, "account: concurrent executions by function",
          f"areas: time-weighted mean per {bins}; black dashes: the peak count in each {bins}")
    legend(ax)
    return fig


#: Chart kinds drawn for every function: file prefix -> function. Trigger charts return None
#: when the function has no such trigger.
FUNCTION_CHARTS: dict[str, Callable[[Any, str], Chart | None]] = {
    "concurrency": concurrency_chart,
    "requests": requests_chart,
    "latency": latency_chart,
    "latency_time": latency_time_chart,
    "cost": cost_chart,
    "async": async_chart,
    "sqs": sqs_chart,
    "stream": stream_chart,
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
