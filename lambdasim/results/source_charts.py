"""Panels of a function's event sources and front doors, shared dependencies and the account.

``async-NAME.png``, ``sqs-NAME.png``, ``stream-NAME.png``, ``front-door-NAME.png`` are stacked
panels of the trigger columns of :attr:`Timeline.functions[NAME].series
<lambdasim.results.timeline.FunctionTimeline>` (drawn by :func:`_panels`, None when the
function has no such trigger); ``dependencies.png`` and the account's ``concurrency.png`` are
whole-run charts. :mod:`lambdasim.results.plots` lists them and writes them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lambdasim.results.chart_kit import (COLORS, WIDE, Chart, count_axis, empty_panel, legend,
                                         step, thousands, time_axis, title)
from lambdasim.results.function_charts import (_bins, _function_name, _limits, _peaks,
                                               _timeline)
from lambdasim.results.periods import SUMMED_COLUMNS

__all__ = ["async_chart", "front_door_chart", "dependency_chart", "sqs_chart", "stream_chart",
           "kafka_chart", "kafka_poller_limits", "account_chart", "account_groups",
           "others_label", "ACCOUNT_BANDS", "SOURCE_PANELS", "SHARED_COLUMNS"]

# --------------------------------------------------------------------------- trigger charts

#: Columns that several event sources write (provisioned-mode SQS and Kafka mappings both
#: report ProvisionedPollers, summed per function): alone, they do not make a chart of their
#: own, and a source's chart draws its own share (SQSProvisionedPollers, KafkaPollers).
SHARED_COLUMNS = SUMMED_COLUMNS


def _panels(result: Any, name: str, title_text: str, panels, note: str = "") -> Chart | None:
    """A chart of stacked panels from trigger columns; None when no column has data.

    ``panels``: a list of ``(y label, [(column, label, style)], transform, counts, empty)``:
    ``counts`` gives the axis integer ticks, ``empty`` is what a panel without data says. An
    optional sixth item ``extra(ax, scale, data) -> top`` draws more on the panel (limits,
    levels that are not trigger columns) and returns the highest value it drew; a panel with
    one is drawn even when none of its columns is present. ``note`` ends the subtitle.
    """
    timeline = _timeline(result)
    data = timeline.functions[name]
    columns = {column for _, lines, *_ in panels for column, _, _ in lines}
    if not (columns - SHARED_COLUMNS) & set(data.series):
        return None
    present = [(ylabel, [line for line in lines if line[0] in data.series], *rest)
               for ylabel, lines, *rest in panels]
    present = [panel for panel in present if panel[1] or len(panel) > 5]
    fig = Chart(figsize=(11.0, 2.4 + 2.0 * len(present)))
    axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
    notes = set()
    for i, (ax, (ylabel, lines, transform, counts, empty, *extra)) in enumerate(
            zip(axes, present)):
        scale = time_axis(ax, timeline, label=i == len(present) - 1, legend=i == 0,
                          end_s=data.active_end_s)
        top = 0.0
        if extra:
            top = float(extra[0](ax, scale, data))
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
    title(fig, f"{name}: {title_text}", subtitle + note)
    return fig


_seconds = lambda values, _width: values / 1000.0  # noqa: E731  (ms per bin -> s)
_per_second = lambda values, width: values / width  # noqa: E731  (counts per bin -> per s)


#: The panels of each event-source chart, kind -> (title, panels) as :func:`_panels` takes
#: them; the replication charts (:mod:`lambdasim.results.replication_charts`) draw the same
#: panels with their bands. The Kafka chart adds the table's figures and more to its own.
SOURCE_PANELS: dict[str, tuple[str, list]] = {
    "async": ("asynchronous events", [
        ("event age (s)", [("AsyncEventAge_max_ms", "age of the oldest event (max)", "-"),
                           ("AsyncEventAge_avg_ms", "mean age of events (avg)", "--")],
         _seconds, False, "no event waited"),
        ("events queued", [("AsyncQueueDepth", "queue depth (peak in each bin)", "-")],
         None, True, "no backlog"),
        ("events per second", [("AsyncEventsReceived", "events received (requests)", "-"),
                               ("AsyncEventsDropped", "events dropped (requests)", "bars")],
         _per_second, False, "no events"),
    ]),
    "sqs": ("SQS queue", [
        ("messages", [("ApproximateNumberOfMessagesVisible",
                       "backlog: messages visible (peak)", "-")], None, True, "no backlog"),
        ("age (s)", [("ApproximateAgeOfOldestMessage_s", "age of the oldest message", "-")],
         None, False, "no message waited"),
        ("pollers", [("SQSPollers", "concurrent pollers (peak)", "-"),
                     ("SQSProvisionedPollers", "provisioned pollers (EPU, peak)", "--")], None,
         True, "no pollers"),
    ]),
    "stream": ("stream", [
        ("iterator age (s)", [("IteratorAge_max_ms", "iterator age (max)", "-"),
                              ("IteratorAge_avg_ms", "iterator age (avg)", "--")],
         _seconds, False, "no iterator age: records read as they arrived"),
        ("pollers", [("StreamPollers", "concurrent batches (peak)", "-")], None, True,
         "no pollers"),
    ]),
    "kafka": ("Kafka event source", [
        ("offset lag (records)",
         [("SumOffsetLag", "SumOffsetLag: all partitions, peak", "-"),
          ("MaxOffsetLag", "MaxOffsetLag: the most-lagging partition, peak", "--")],
         None, True, "no offset lag: every record read as it arrived"),
        ("event pollers", [("KafkaPollers", "event pollers, peak", "-")], None, True,
         "no pollers"),
    ]),
    "front-door": ("front door (API Gateway metrics)", [
        ("API requests per second", [("Count", "Count (requests)", "-"),
                                     ("4XXError", "4XXError (429s)", "bars"),
                                     ("5XXError", "5XXError (500, 502, 504)", "--")],
         _per_second, False, "no API requests"),
        ("latency (ms)", [("Latency_max_ms", "Latency (max)", "-"),
                          ("IntegrationLatency_avg_ms", "IntegrationLatency (avg)", "--")],
         None, False, "no API requests"),
    ]),
}


def async_chart(result: Any, function: str | None = None) -> Chart | None:
    """Asynchronous invocation: event age, queue depth, events received and dropped."""
    return _panels(result, _function_name(result, function), *SOURCE_PANELS["async"])


def front_door_chart(result: Any, function: str | None = None) -> Chart | None:
    """API Gateway's metrics of a function's front doors: Count, 4XX/5XX, latencies."""
    return _panels(result, _function_name(result, function), *SOURCE_PANELS["front-door"])


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
    return _panels(result, _function_name(result, function), *SOURCE_PANELS["sqs"])


def stream_chart(result: Any, function: str | None = None) -> Chart | None:
    """Stream event source (Kinesis, DynamoDB Streams): iterator age and pollers."""
    return _panels(result, _function_name(result, function), *SOURCE_PANELS["stream"])


def kafka_poller_limits(ax, triggers) -> float:
    """Mark the pollers' bounds of Kafka triggers (their resolved config) on ``ax``: the
    minimum and maximum of provisioned mode (the maximum capped at the partition count:
    "Lambda limits MaximumPollers to the number of partitions in the topic",
    kafka-scaling-modes.html), and for on-demand mode, from one poller, the number beyond
    which pollers would idle (one batch per partition, lambdasim.engine.invoke.kafka).
    Returns the highest line drawn, with a margin."""
    provisioned = [t for t in triggers if t["provisioned_pollers"] is not None]
    top = 0.0
    if provisioned:
        low = sum(min(int(t["provisioned_pollers"]["minimum"]), int(t["partitions"]))
                  for t in provisioned)
        high = sum(min(int(t["provisioned_pollers"]["maximum"]), int(t["partitions"]))
                   for t in provisioned)
        ax.axhline(low, color=COLORS["reserved"], lw=1.2, ls=":",
                   label=f"minimum pollers ({low:,})")
        ax.axhline(high, color=COLORS["limit"], lw=1.2, ls="--",
                   label=f"maximum pollers ({high:,}; at most the partitions)")
        top = float(high)
    if len(provisioned) < len(triggers):
        useful = sum(-(-int(t["partitions"]) // int(t["invocations_per_poller"]))
                     for t in triggers if t["provisioned_pollers"] is None)
        ax.axhline(useful, color=COLORS["limit"], lw=1.2, ls="--",
                   label=f"on-demand: 1 up to {useful:,} pollers (more would idle)"
                   if useful > 1 else "on-demand: 1 poller (enough for every partition)")
        top = max(top, float(useful))
    return top * 1.05


def kafka_chart(result: Any, function: str | None = None) -> Chart | None:
    """Kafka event source: offset lag, event pollers, concurrency against the partitions.

    Offset lag is CloudWatch's ``SumOffsetLag`` (records produced and not yet committed, all
    partitions) and ``MaxOffsetLag`` (the most-lagging partition), peaks in each bin; pollers
    are the mapping's event pollers (on-demand, or provisioned between its minimum and
    maximum); the concurrency panel draws the function's peak concurrent executions against
    the partition count (at most one batch per partition in flight) and what the pollers
    allow (5 invocations each). Legends quote the table's figures, which count the measured
    window (kafka-scaling-modes.html,
    https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html).
    """
    name = _function_name(result, function)
    timeline = _timeline(result)
    if "SumOffsetLag" not in timeline.functions[name].series:
        return None
    fconfig = result.scenario.config["functions"][name]
    triggers = [t for t in fconfig["triggers"] if t["type"] == "kafka"]
    others = len(fconfig["triggers"]) > len(triggers)
    block = result.summary["functions"][name].get("kafka") or {}
    blocks = list((block.get("by_trigger") or {name: block}).values())
    partitions = sum(int(t["partitions"]) for t in triggers)
    bins = _bins(timeline.width_s)

    def table(*keys: str) -> str:
        """The table's figure (its measured window) for a legend; with several triggers,
        the sum of their maxima."""
        values = []
        for b in blocks:
            for key in keys:
                b = (b or {}).get(key)
            values.append(b)
        if not values or any(v is None for v in values):
            return ""
        total = sum(values)
        return f" (table: {total:,})" if len(values) == 1 else \
            f" (table: {total:,}, the triggers' maxima summed)"

    def concurrency(ax, scale, data) -> float:
        x = data.edges / scale
        busy = data.invoking + data.initializing
        ax.fill_between(x, step(busy), step="post", color=COLORS["invoking"], alpha=0.45, lw=0,
                        label=f"concurrent executions, mean over each {bins}"
                              + (" (all triggers)" if others else ""))
        ax.hlines(data.busy_max, x[:-1], x[1:], color=COLORS["peak"], lw=1.4, zorder=4,
                  label=f"peak in each {bins}" + table("concurrency", "max"))
        per_poller = {int(t["invocations_per_poller"]) for t in triggers}
        if len(per_poller) == 1:  # "up to 5 concurrent invocations" per poller by default
            per = per_poller.pop()
            allowed = np.minimum(np.nan_to_num(data.series["KafkaPollers"]) * per, partitions)
            ax.step(data.series_edges.get("KafkaPollers", data.edges) / scale, step(allowed),
                    where="post", color="#2e7d32", lw=3.0, alpha=0.45,
                    label=f"allowed by the pollers ({per} invocations each)")
        ax.axhline(partitions, color=COLORS["limit"], lw=1.4, ls="--",
                   label=f"partitions ({partitions:,}): one batch in flight each")
        return max(float(np.max(data.busy_max)), float(partitions)) * 1.05

    mode = "provisioned" if all(t["provisioned_pollers"] is not None for t in triggers) \
        else "on-demand" if all(t["provisioned_pollers"] is None for t in triggers) \
        else "on-demand and provisioned"
    return _panels(result, name, "Kafka event source", [
        ("offset lag (records)",
         [("SumOffsetLag", "SumOffsetLag: all partitions, peak" + table("sum_offset_lag", "max"),
           "-"),
          ("MaxOffsetLag", "MaxOffsetLag: the most-lagging partition, peak"
           + table("max_offset_lag", "max"), "--")],
         None, True, "no offset lag: every record read as it arrived"),
        ("event pollers", [("KafkaPollers", f"{mode} pollers, peak" + table("pollers", "max"),
                            "-")],
         None, True, "no pollers",
         lambda ax, _scale, _data: kafka_poller_limits(ax, triggers)),
        ("concurrent invocations", [], None, True, "no invocations", concurrency),
    ], note="; table: the maximum after the warm-up")


#: The account chart draws at most this many bands: with more functions, the busiest
#: ``ACCOUNT_BANDS - 1`` apart and the others as one band, so the legend stays readable.
ACCOUNT_BANDS = 10
#: Colour of the band of the functions not drawn apart, and of those drawn apart (the
#: default colour cycle without its grey, C7).
OTHERS_COLOR = "#b0b0b0"
SHOWN_COLORS = [f"C{j}" for j in (0, 1, 2, 3, 4, 5, 6, 8, 9)]


def account_groups(names: list[str], peaks: list[float], totals: list[float],
                   bands: int = ACCOUNT_BANDS) -> tuple[list[str], list[str]]:
    """Which functions the account chart draws apart, and which as one band of others.

    All of them when there are at most ``bands``; else the ``bands - 1`` with the highest
    peak concurrency (ties broken by the larger busy time, then the scenario's order), in
    that order, and the rest (at least two) in the scenario's order. ``peaks``: each
    function's peak concurrent executions over the run; ``totals``: its busy time (any unit).
    """
    if len(names) <= bands:
        return list(names), []
    order = sorted(range(len(names)), key=lambda i: (-peaks[i], -totals[i], i))
    shown = order[:bands - 1]
    hidden = sorted(order[bands - 1:])
    return [names[i] for i in shown], [names[i] for i in hidden]


def others_label(count: int) -> str:
    """The legend entry of the band of functions not drawn apart."""
    return f"other functions ({count:,}), together"


def account_chart(result: Any) -> Chart:
    """Busy environments of every function stacked, the account's peak and its limit.

    With more than :data:`ACCOUNT_BANDS` functions, the ones with the highest peak
    concurrency are drawn apart and the others as one grey band ("other functions (k)"), as
    the subtitle says; the legend always keeps the peak, the account limit and the warm-up.
    """
    timeline = _timeline(result)
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    scale = time_axis(ax, timeline)
    x = timeline.edges / scale
    names = list(timeline.functions)
    busy = {name: f.invoking + f.initializing for name, f in timeline.functions.items()}
    shown, others = account_groups(
        names, [float(np.max(timeline.functions[n].busy_max, initial=0.0)) for n in names],
        [float(np.sum(busy[n])) for n in names])
    bins = _bins(timeline.width_s)
    if not others:
        ax.stackplot(x, *[step(busy[name]) for name in names], labels=names, step="post",
                     lw=0, alpha=0.85)
        subtitle = (f"areas: time-weighted mean per {bins}; black dashes: the peak count in "
                    f"each {bins}")
    else:
        rest = np.sum([busy[name] for name in others], axis=0)
        ax.stackplot(x, *[step(busy[name]) for name in shown], step(rest),
                     labels=shown + [others_label(len(others))],
                     colors=SHOWN_COLORS[:len(shown)] + [OTHERS_COLOR],
                     step="post", lw=0, alpha=0.85)
        subtitle = (f"the {len(shown)} functions with the highest peak concurrency apart, the "
                    f"other {len(others):,} as one band; areas: time-weighted mean per {bins}; "
                    f"black dashes: the peak count in each {bins}")
    peak = timeline.account_busy_max
    _peaks(ax, x, peak, f"peak concurrent executions in each {bins}")
    top = max(float(np.max(peak)), 1.0)
    limit = timeline.account_limit
    count_axis(ax, _limits(ax, top, [(f"account concurrency limit ({limit:,})", limit,
                                      COLORS["limit"])]))
    ax.set_ylabel(f"concurrent executions\n(mean over each {bins})")
    title(fig, "account: concurrent executions by function", subtitle)
    legend(ax)
    return fig
