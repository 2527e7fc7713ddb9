"""Per-function core charts: concurrency, requests, latency, latency over time and cost.

The shared helpers of every chart of a run (:func:`_timeline`, :func:`_function_name`, the
bin-width text, peak dashes and limit lines) live here too; :mod:`lambdasim.results.plots`
lists every chart and writes them (its docstring describes each file).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lambdasim.results.chart_kit import (COLORS, TALL, WIDE, Chart, count_axis, empty_panel,
                                         latency_log_axis, legend, ms_text, seconds_text, step,
                                         thousands, time_axis, title, usd_axis, usd_texts)

__all__ = ["concurrency_chart", "environment_layers", "requests_chart", "latency_chart", "latency_time_chart",
           "cost_chart", "COST_LABELS"]


#: Cost items as the cost chart and report.html name them.
COST_LABELS = {"requests": "requests", "duration": "duration (on demand)",
               "init": "init (on demand cold starts)",
               "ephemeral_storage": "ephemeral storage", "provisioned": "provisioned concurrency",
               "snap_start_cache": "SnapStart cache", "snap_start_restore": "SnapStart restores",
               "event_poller_units": "event pollers (EPU)"}
_COST_COLORS = {"requests": "#7f7f7f", "duration": "#1f77b4", "init": "#ff7f0e",
                "ephemeral_storage": "#17becf", "provisioned": "#2ca02c",
                "snap_start_cache": "#9467bd", "snap_start_restore": "#c5b0d5",
                "event_poller_units": "#8c564b"}


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

    layers = environment_layers(data)
    allocated = data.series.get("ProvisionedConcurrencyAllocated")
    if data.idle_provisioned is not None:
        colors = [COLORS["invoking"], COLORS["initializing"], COLORS["provisioned"],
                  COLORS["idle"]]
    else:
        colors = [COLORS["invoking"], COLORS["initializing"], COLORS["idle"]]
    if allocated is not None and "ProvisionedConcurrencyAllocated" not in data.series_edges:
        allocated = np.nan_to_num(allocated)
    else:
        allocated = None
    ax.stackplot(x, *[step(values) for _, values in layers], labels=[l for l, _ in layers],
                 colors=colors, step="post", lw=0)
    peak = data.busy_max
    _peaks(ax, x, peak, f"peak concurrency in each {bins} (invoking + initializing)")
    if allocated is not None:
        ax.step(x, step(allocated), where="post", color="#2e7d32", lw=1.0, ls="--",
                label=f"provisioned concurrency allocated (highest in each {bins})")

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


def environment_layers(data: Any) -> list[tuple[str, np.ndarray]]:
    """The stacked areas of :func:`concurrency_chart`: ``(label, mean count per bin)``.

    Invoking, initializing (Init) and idle environments, each the time-weighted mean number
    of environments in that state over the bin, so they add up to the mean live environments
    of the bin. For a function with provisioned concurrency idle is split into idle
    provisioned environments (allocated, ready, not serving) and idle on-demand environments
    waiting for reuse until reclaimed
    (:attr:`lambdasim.results.timeline.FunctionTimeline.idle_provisioned`).
    """
    layers = [("invoking", data.invoking), ("initializing (Init)", data.initializing)]
    if data.idle_provisioned is None:
        return layers + [("idle (warm, awaiting reuse)", data.idle)]
    return layers + [("idle, provisioned", data.idle_provisioned),
                     ("idle, on-demand", np.maximum(data.idle - data.idle_provisioned, 0.0))]


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
    """Requests and invocations per second; throttled attempts and cold starts per second.

    Totals in the legends are the summary table's: requests arriving in ``[warmup,
    duration)`` and the invocations and throttled attempts made for them (retries
    included; together the table's attempts); attempts of warm-up
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
             label=f"invocations (handler runs, retries included): "
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
    latency_log_axis(ax.xaxis, minor_grid_alpha=0.25)
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
        running = np.concatenate([[0.0], np.cumsum(total)])
        # One precision for every amount of the chart (issue 16 point 3).
        *item_texts, running_text, table_text = usd_texts(
            [float(values.sum()) for _, values in items] + [float(running[-1]), table])
        top.stackplot(x, *[step(values) for _, values in items],
                      labels=[f"{COST_LABELS.get(item, item)}: {text}"
                              for (item, _), text in zip(items, item_texts)],
                      colors=[_COST_COLORS.get(item, "#e377c2") for item, _ in items],
                      step="post", lw=0)
        usd_axis(top, float(np.max(total)) * 1.15)
        bottom.plot(x, running, color="#333333", lw=1.5, label=f"running total: {running_text}")
        if table is not None:
            bottom.axhline(table, color=COLORS["limit"], lw=1.0, ls=":",
                           label=f"the table's cost: {table_text}")
        usd_axis(bottom, max(float(running[-1]), float(table or 0.0)) * 1.12)
    top.set_ylabel(f"USD per {width}")
    bottom.set_ylabel("USD, cumulative")
    for ax in (top, bottom):
        legend(ax)
    title(fig, f"{name}: cost over time",
          f"cost in each {width}: invocations by start, of requests arriving after the "
          "warm-up, and capacity held (provisioned, pollers, snapshot cache), as in the table")
    return fig
