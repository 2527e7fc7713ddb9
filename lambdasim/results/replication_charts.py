"""Charts of ``run --replications N``: each figure over time as the mean of the replications
with its 95 % confidence band.

Every replication reduces its run to a few per-bin arrays on one shared grid
(:func:`lambdasim.results.timeline.digest`, bins of
:func:`~lambdasim.results.timeline.replication_width`). For each bin this module takes the
mean over the replications and the two-sided 95 % Student-t interval of that mean (n - 1
degrees of freedom), kept inside the figure's range (no negative count, time or cost). A
replication whose run ended earlier (its drain was shorter) counts as zero activity in the
later bins; latency percentiles average only the replications that answered a request in the
bin. Per function:

* ``concurrency-NAME.png`` -- busy environments (invoking + initializing) and live
  environments, mean and band, with the limits;
* ``requests-NAME.png`` -- requests arriving and invocations per second, throttled
  attempts, requests throttled in the end and cold starts per second (the table's window);
* ``latency_time-NAME.png`` -- end-to-end latency p50 and p99 of the requests arriving in each
  bin;
* ``cost-NAME.png`` -- the cost of each bin and the running total;
* where those triggers exist, the panels a single run draws
  (:data:`lambdasim.results.source_charts.SOURCE_PANELS`), each line with its band:
  ``async-NAME.png`` (event age, queue depth, events received and dropped), ``sqs-NAME.png``
  (backlog, age of the oldest message, pollers), ``stream-NAME.png`` (iterator age, pollers),
  ``kafka-NAME.png`` (offset lag, event pollers with their bounds, peak concurrency against
  the partitions) and ``front-door-NAME.png``
  (API Gateway's Count, errors and latencies).

And ``concurrency.png`` for the account when there are several functions: each function's
busy environments and the account's peak concurrency, with bands, against the account limit;
``dependencies.png`` when the scenario declares shared dependencies (as a single run draws
it, per metrics period): units in use (peak and mean) against a pool's capacity, invocations
that waited and were rejected, each with its band. A pool's bands never rise above its
capacity.

Every figure drawn here is a count, an age, a latency or money: no bound goes below zero.
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from lambdasim.results import humanize as hz
from lambdasim.results.chart_kit import (COLORS, TALL, WIDE, Chart, count_axis, duration_axis,
                                         empty_panel, latency_log_axis, legend, seconds_text,
                                         step, thousands, time_axis, title, usd_axis,
                                         usd_texts)
from lambdasim.results.source_charts import (OTHERS_COLOR, SHARED_COLUMNS, SHOWN_COLORS,
                                             SOURCE_PANELS,
                                             account_groups, kafka_poller_limits)

__all__ = ["Band", "band", "replication_charts"]

LEVEL = 0.95


class Band:
    """Mean and 95 % interval of one per-bin figure over replications (arrays per bin)."""

    __slots__ = ("mean", "low", "high", "n")

    def __init__(self, mean: np.ndarray, low: np.ndarray, high: np.ndarray,
                 n: np.ndarray) -> None:
        self.mean, self.low, self.high, self.n = mean, low, high, n


def _t(dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + LEVEL / 2.0, dof)) if dof >= 1 else math.nan


def band(samples: Sequence[np.ndarray], length: int, fill: float = 0.0,
         floor: float | None = 0.0) -> Band:
    """Per-bin mean and Student-t interval of ``samples`` (one array per replication).

    Shorter arrays are padded with ``fill`` (NaN leaves the bin out of that replication);
    the interval is clipped below at ``floor``. With one value in a bin the interval is the
    mean itself.
    """
    matrix = np.full((len(samples), length), fill, dtype=np.float64)
    for i, values in enumerate(samples):
        values = np.asarray(values, dtype=np.float64)[:length]
        matrix[i, :values.size] = values
    n = np.sum(np.isfinite(matrix), axis=0)
    present = n > 0
    mean = np.full(length, np.nan)
    sd = np.zeros(length)
    mean[present] = np.nanmean(matrix[:, present], axis=0)
    several = n > 1
    sd[several] = np.nanstd(matrix[:, several], axis=0, ddof=1)
    half = np.zeros(length)
    for count in np.unique(n[n > 1]):
        where = n == count
        half[where] = _t(int(count) - 1) * sd[where] / math.sqrt(count)
    low, high = mean - half, mean + half
    if floor is not None:
        low = np.maximum(low, floor)
        high = np.maximum(high, floor)
    return Band(mean, low, high, n)


def _draw(ax, x, b: Band, color: str, label: str, ls: str = "-") -> None:
    ax.fill_between(x, step(b.low), step(b.high), step="post", color=color, alpha=0.25, lw=0)
    ax.step(x, step(b.mean), where="post", color=color, lw=1.3, ls=ls, label=label)


def replication_charts(summary: Mapping[str, Any], digests: Sequence[Mapping[str, Any]]
                       ) -> Iterator[tuple[str, Chart]]:
    """Yield ``(file name, chart)`` for every replication chart, one at a time.

    Parameters
    ----------
    summary : dict
        The replications' summary (means and the ``replications`` block).
    digests : list of dict
        :func:`lambdasim.results.timeline.digest` of each replication, in order.
    """
    if not digests:
        return
    first = digests[0]
    width = float(first["width_s"])
    length = max(len(d["functions"][next(iter(d["functions"]))]["busy"]) for d in digests)
    axis = SimpleNamespace(end_s=length * width, duration_s=float(first["duration_s"]),
                           warmup_s=float(first["warmup_s"]))
    axis.end_s = max(axis.end_s if axis.end_s else 0.0, axis.duration_s)
    edges = np.arange(length + 1) * width
    n = len(digests)
    for name in first["functions"]:
        runs = [d["functions"][name] for d in digests]
        table = (summary.get("functions") or {}).get(name) or {}
        context = (name, runs, table, axis, edges, width, length, n,
                   int(first["account_limit"]))
        yield f"concurrency-{name}.png", _concurrency(*context)
        yield f"requests-{name}.png", _requests(*context)
        yield f"latency_time-{name}.png", _latency(*context)
        yield f"cost-{name}.png", _cost(*context)
        triggers = (((summary.get("config") or {}).get("functions") or {}).get(name)
                    or {}).get("triggers") or []
        for kind in SOURCE_PANELS:
            chart = _source(kind, name, runs, axis, width, n, triggers)
            if chart is not None:
                yield f"{kind}-{name}.png", chart
    if len(first["functions"]) > 1 and all("account_busy_max" in d for d in digests):
        yield "concurrency.png", _account(digests, axis, edges, width, length, n,
                                          int(first["account_limit"]))
    if all(d.get("dependencies") for d in digests):
        yield "dependencies.png", _dependencies(summary, digests, axis, n)


def _subtitle(n: int, width: float) -> str:
    return (f"mean of {n} replications in {seconds_text(width)} bins; band: 95 % confidence "
            "interval of the mean")


def _concurrency(name, runs, table, axis, edges, width, length, n, account_limit) -> Chart:
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    scale = time_axis(ax, axis)
    x = edges / scale
    busy = band([r["busy"] for r in runs], length)
    live = band([r["live"] for r in runs], length)
    peak = band([r["busy_max"] for r in runs], length)
    _draw(ax, x, live, COLORS["arrivals"], "live environments (busy + idle), mean")
    _draw(ax, x, busy, COLORS["invoking"], "busy environments (invoking + initializing), mean")
    # Each bin's peak as a short level dash, and a dashed legend swatch to match.
    gap = 0.15 * (x[1] - x[0]) if x.size > 1 else 0.0
    ax.hlines(peak.mean, x[:-1] + gap, x[1:] - gap, color=COLORS["peak"], lw=1.2)
    ax.plot([], [], color=COLORS["peak"], lw=1.2, ls=(0, (3.0, 1.5)),
            label=f"peak concurrency in each {seconds_text(width)}, mean (dashes)")
    top = max(float(np.nanmax(live.high)), float(np.nanmax(peak.mean)), 1.0)
    reserved = runs[0].get("reserved_concurrency")
    ceiling = top * 1.15
    for label, value, color in (
            ([(f"reserved concurrency ({reserved:,})", reserved, COLORS["reserved"])]
             if reserved is not None else [])
            + [(f"account concurrency limit ({account_limit:,})", account_limit,
                COLORS["limit"])]):
        if value <= top * 4.0:
            ceiling = max(ceiling, value * 1.08)
            ax.axhline(value, color=color, lw=1.4, ls="--", label=label)
        else:
            ax.plot([], [], color=color, lw=1.4, ls="--", label=f"{label}, above the chart")
    count_axis(ax, ceiling)
    ax.set_ylabel(f"execution environments\n(mean over each {seconds_text(width)})")
    title(fig, f"{name}: execution environments, {n} replications", _subtitle(n, width))
    legend(ax)
    return fig


def _requests(name, runs, table, axis, edges, width, length, n, account_limit) -> Chart:
    fig = Chart(figsize=TALL)
    top, middle, bottom = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 2])
    scale = time_axis(top, axis, label=False)
    time_axis(middle, axis, label=False, legend=False)
    time_axis(bottom, axis, legend=False)
    x = edges / scale
    arrivals = band([r["arrivals"] / width for r in runs], length)
    invocations = band([r["invocations"] / width for r in runs], length)
    _draw(top, x, arrivals, COLORS["arrivals"], "requests arrived per second")
    _draw(top, x, invocations, COLORS["invoking"],
          "invocations per second (handler runs, retries included)")
    top.set_ylabel("per second")
    top.set_ylim(bottom=0.0)
    thousands(top)
    legend(top)
    requests = table.get("requests") or {}
    for ax, key, color, label, total, empty in (
            (middle, "throttles_counted", COLORS["throttles"], "throttled attempts",
             table.get("throttles"), "no throttles"),
            (bottom, "cold_starts_counted", COLORS["cold"], "cold starts",
             table.get("cold_starts"), "no cold starts")):
        b = band([r[key] / width for r in runs], length)
        if not np.any(b.high > 0):
            empty_panel(ax, empty)
        else:
            _draw(ax, x, b, color, f"{label} per second, {_window(axis)} "
                                   f"(table: {_mean(total)} per run)")
            if key == "throttles_counted":
                throttled = band([r["throttled_counted"] / width for r in runs], length)
                if np.any(throttled.high > 0):
                    _draw(ax, x, throttled, COLORS["throttled"],
                          f"requests throttled in the end (429) per second (table: "
                          f"{_mean(requests.get('throttled'))} per run)")
            ax.set_ylim(0.0, float(np.max(b.high)) * 1.1)
            thousands(ax)
        ax.set_ylabel("per second")
        legend(ax)
    title(fig, f"{name}: requests, throttles and cold starts, {n} replications",
          _subtitle(n, width))
    return fig


def _window(axis) -> str:
    """Which requests a chart's totals count: the table's window."""
    if axis.warmup_s > 0:
        return "of requests after the warm-up"
    return "of all requests (no warm-up)"


def _mean(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.1f}"


def _latency(name, runs, table, axis, edges, width, length, n, account_limit) -> Chart:
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    scale = time_axis(ax, axis)
    x = edges / scale
    latency = table.get("latency_ms") or {}
    drawn = []
    for key, color in (("p50", COLORS["p50"]), ("p99", COLORS["p99"])):
        b = band([r[f"latency_{key}_ms"] for r in runs], length, fill=np.nan)
        if np.any(np.isfinite(b.mean)):
            _draw(ax, x, b, color, f"{key} of the requests arriving in each "
                                   f"{seconds_text(width)}, mean")
            drawn.append(b)
            if latency.get(key) is not None:
                ax.axhline(latency[key], color=color, lw=1.0, ls=":",
                           label=f"{key} over the measured window (table, mean): "
                                 f"{hz.duration_ms(latency[key])}")
    if not drawn:
        empty_panel(ax, "no request answered")
    else:
        # As on a single run: a log scale when the levels span more than 30x, else a linear
        # axis in the unit that fits (never 2,000,000 ms).
        finite = np.concatenate([b.mean for b in drawn])
        finite = finite[np.isfinite(finite) & (finite > 0)]
        high = max(float(np.nanmax(b.high)) for b in drawn)
        high = max([high] + [float(v) for v in (latency.get("p50"), latency.get("p99"))
                             if v is not None])
        low = float(np.min(finite)) if finite.size else 0.0
        if low > 0 and high / low > 30:
            ax.set_yscale("log")
            ax.set_ylim(low / 1.3, high * 1.3)
            latency_log_axis(ax.yaxis)
            ax.set_ylabel("end-to-end latency (log scale)")
        else:
            unit = duration_axis(ax, high * 1.1)
            ax.set_ylabel(f"end-to-end latency ({unit})")
    title(fig, f"{name}: end-to-end latency over time, {n} replications",
          _subtitle(n, width) + "; by arrival, retries included")
    legend(ax)
    return fig


def _cost(name, runs, table, axis, edges, width, length, n, account_limit) -> Chart:
    fig = Chart(figsize=TALL)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    scale = time_axis(top, axis, label=False)
    time_axis(bottom, axis, legend=False)
    x = edges / scale
    per_bin = band([r["cost_usd"] for r in runs], length)
    # A run that ended earlier keeps its final total in the later bins.
    running = band([_hold(np.cumsum(r["cost_usd"]), length) for r in runs], length)
    total = (table.get("cost_usd") or {}).get("total")
    if not np.any(per_bin.high > 0):
        empty_panel(top, "no cost")
        empty_panel(bottom, "no cost")
    else:
        _draw(top, x, per_bin, "#1f77b4", f"cost per {seconds_text(width)}, mean")
        usd_axis(top, float(np.max(per_bin.high)) * 1.15)
        bottom.fill_between(x, np.concatenate([[0.0], running.low]),
                            np.concatenate([[0.0], running.high]), color="#333333",
                            alpha=0.2, lw=0)
        running_text, total_text = usd_texts([float(running.mean[-1]), total])
        bottom.plot(x, np.concatenate([[0.0], running.mean]), color="#333333", lw=1.4,
                    label=f"running total, mean: {running_text}")
        if total is not None:
            bottom.axhline(total, color=COLORS["limit"], lw=1.0, ls=":",
                           label=f"the table's cost (mean): {total_text}")
        usd_axis(bottom, max(float(np.max(running.high)), float(total or 0.0)) * 1.12)
    top.set_ylabel(f"USD per {seconds_text(width)}")
    bottom.set_ylabel("USD, cumulative")
    legend(top)
    legend(bottom)
    title(fig, f"{name}: cost over time, {n} replications",
          _subtitle(n, width) + f"; {_window(axis)}")
    return fig


def _hold(values: np.ndarray, length: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)[:length]
    if values.size < length:
        values = np.append(values, np.full(length - values.size,
                                           values[-1] if values.size else 0.0))
    return values


def _source(kind: str, name: str, runs, axis, width: float, n: int, triggers) -> Chart | None:
    """The panels of one event-source chart (as a single run draws them), each line the mean
    of the replications with its band; None when no replication has the trigger."""
    title_text, panels = SOURCE_PANELS[kind]
    present = []
    for ylabel, lines, transform, counts, empty in panels:
        lines = [line for line in lines if any(line[0] in r.get("series", {}) for r in runs)]
        if lines:
            present.append((ylabel, lines, transform, counts, empty))
    if not {line[0] for _, lines, *_ in present for line in lines} - SHARED_COLUMNS:
        return None
    kafka = [t for t in triggers if t.get("type") == "kafka"] if kind == "kafka" else []
    # An async event is invoked no later than max_event_age after it was queued, or dropped
    # (invocation-async-retain-records.html): its age at invocation never exceeds it.
    age_cap = max((float(t["max_event_age"]) for t in triggers if t.get("type") == "async"
                   and t.get("max_event_age") is not None), default=np.inf) \
        if kind == "async" else np.inf
    if kafka:  # concurrency against the partitions, as on a single run
        present.append(("concurrent invocations", [], None, True, "no invocations"))
    fig = Chart(figsize=(11.0, 2.4 + 2.0 * len(present)))
    axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
    periods = set()
    for i, (ax, (ylabel, lines, transform, counts, empty)) in enumerate(zip(axes, present)):
        scale = time_axis(ax, axis, label=i == len(present) - 1, legend=i == 0)
        top = 0.0
        for j, (column, label, style) in enumerate(lines):
            # A column kept per metrics period (a long drain) is banded on that grid, over
            # the replications that kept it so.
            own = runs[0].get("series_width_s", {}).get(column, width)
            if own != width:
                periods.add(own)
            samples = [r["series"][column] for r in runs if column in r.get("series", {})
                       and r.get("series_width_s", {}).get(column, width) == own]
            if transform is not None:
                samples = [transform(np.asarray(v, dtype=np.float64), own) for v in samples]
            length = max(len(v) for v in samples)
            # Pollers are a level of a mapping that exists while its run lasts: a run that
            # ended earlier has none to average in the later bins (not zero pollers).
            b = band(samples, length, fill=np.nan if "Pollers" in column else 0.0)
            x = np.arange(length + 1) * own
            if "Age" in column:
                # An age (in seconds here) is at most the time elapsed since the start, and
                # an async event's at most its max_event_age.
                b.high = np.minimum(b.high, np.minimum(x[1:], age_cap))
            if column == "KafkaPollers" and kafka:
                b.high = np.minimum(b.high, _kafka_max_pollers(kafka))
            b.low = np.minimum(b.low, b.high)
            x = x / scale
            top = max(top, _top(b))
            if style == "bars":
                _draw(ax, x, b, COLORS["throttles"],
                      label + (", mean" if np.any(np.nan_to_num(b.high) > 0) else ": none"))
            else:
                _draw(ax, x, b, f"C{j}", label + ", mean", ls=style or "-")
        if kafka and ylabel == "event pollers":
            top = max(top, kafka_poller_limits(ax, kafka))
        if kafka and ylabel == "concurrent invocations":
            peak = band([r["busy_max"] for r in runs], max(len(r["busy_max"]) for r in runs))
            if len(kafka) == len(triggers):  # one batch per partition: never above them
                peak.high = np.minimum(peak.high, sum(int(t["partitions"]) for t in kafka))
            _draw(ax, np.arange(len(peak.mean) + 1) * width / scale, peak, COLORS["peak"],
                  f"peak concurrent executions in each {seconds_text(width)}, mean")
            partitions = sum(int(t["partitions"]) for t in kafka)
            ax.axhline(partitions, color=COLORS["limit"], lw=1.4, ls="--",
                       label=f"partitions ({partitions:,}): one batch in flight each")
            top = max(top, _top(peak), partitions * 1.05)
        ax.set_ylabel(ylabel)
        per_ms = _duration_label(ylabel)
        if top <= 0.0:
            empty_panel(ax, empty)
        elif counts:
            count_axis(ax, top * 1.1)
        elif per_ms is not None:  # an age or a latency: in the unit that fits, not 1,800 s
            unit = duration_axis(ax, top * 1.1, per_ms)
            ax.set_ylabel(ylabel.rsplit("(", 1)[0] + f"({unit})")
        else:
            ax.set_ylim(0.0, top * 1.1)
            thousands(ax)
        legend(ax)
    subtitle = _subtitle(n, width)
    for period in sorted(periods):
        subtitle += f"; per {seconds_text(period)} metrics period where a drain made it so"
    title(fig, f"{name}: {title_text}, {n} replications", subtitle)
    return fig


def _duration_label(ylabel: str) -> float | None:
    """Milliseconds per plotted unit of a panel whose label ends in ``(s)`` or ``(ms)``."""
    return {"(s)": 1000.0, "(ms)": 1.0}.get(ylabel.rsplit(" ", 1)[-1])


def _kafka_max_pollers(kafka) -> int:
    """The most pollers Kafka triggers can have: the provisioned maximum (at most the
    partitions), or on demand the number beyond which pollers would idle."""
    return sum(min(int(t["provisioned_pollers"]["maximum"]), int(t["partitions"]))
               if t["provisioned_pollers"] is not None
               else -(-int(t["partitions"]) // int(t["invocations_per_poller"]))
               for t in kafka)


def _top(b: Band) -> float:
    """The axis top a band needs: its mean everywhere, its upper bound where every
    replication has a value (where only two have one, the t interval with 1 degree of
    freedom is 12.7 standard errors wide and would squash the chart; it runs off the top)."""
    values = [b.mean]
    full = b.n == np.max(b.n) if b.n.size else b.n.astype(bool)
    values.append(b.high[full])
    finite = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size else 0.0


def _account(digests, axis, edges, width, length, n, account_limit) -> Chart:
    """Each function's busy environments and the account's peak, with bands; the limit."""
    fig = Chart(figsize=WIDE)
    ax = fig.add_subplot()
    scale = time_axis(ax, axis)
    x = edges / scale
    top = 1.0
    names = list(digests[0]["functions"])
    # With many functions the busiest apart and the others as one line (their sum in each
    # replication), ranked by the mean over replications of each function's peak.
    shown, others = account_groups(
        names,
        [float(np.mean([np.max(d["functions"][name]["busy_max"], initial=0.0)
                        for d in digests])) for name in names],
        [float(np.mean([np.sum(d["functions"][name]["busy"]) for d in digests]))
         for name in names])
    colors = [f"C{j}" for j in range(len(shown))] if not others else SHOWN_COLORS
    for j, name in enumerate(shown):
        b = band([d["functions"][name]["busy"] for d in digests], length)
        _draw(ax, x, b, colors[j], f"{name}: busy environments, mean")
        top = max(top, float(np.nanmax(b.high)))
    if others:
        b = band([_sum_padded([d["functions"][name]["busy"] for name in others], length)
                  for d in digests], length)
        _draw(ax, x, b, OTHERS_COLOR,
              f"other functions ({len(others):,}): busy environments summed, mean")
        top = max(top, float(np.nanmax(b.high)))
    peak = band([d["account_busy_max"] for d in digests], length)
    _draw(ax, x, peak, COLORS["peak"],
          f"account: peak concurrent executions in each {seconds_text(width)}, mean")
    top = max(top, float(np.nanmax(peak.high)))
    ceiling = top * 1.15
    label = f"account concurrency limit ({account_limit:,})"
    if account_limit <= top * 4.0:
        ceiling = max(ceiling, account_limit * 1.08)
        ax.axhline(account_limit, color=COLORS["limit"], lw=1.4, ls="--", label=label)
    else:
        ax.plot([], [], color=COLORS["limit"], lw=1.4, ls="--",
                label=f"{label}, above the chart")
    count_axis(ax, ceiling)
    ax.set_ylabel("concurrent executions")
    subtitle = _subtitle(n, width)
    if others:
        subtitle = (f"the {len(shown)} functions with the highest peak concurrency apart, the "
                    f"other {len(others):,} summed; " + subtitle)
    title(fig, f"account: concurrent executions by function, {n} replications", subtitle)
    legend(ax)
    return fig


def _sum_padded(arrays: Sequence[np.ndarray], length: int) -> np.ndarray:
    """The sum of per-bin arrays of one replication (shorter ones padded with zeros)."""
    total = np.zeros(length)
    for values in arrays:
        values = np.asarray(values, dtype=np.float64)[:length]
        total[:values.size] += values
    return total


def _dependencies(summary, digests, axis, n: int) -> Chart:
    """Shared dependencies over replications, per metrics period as on a single run
    (:func:`lambdasim.results.source_charts.dependency_chart`): units in use, peak and mean,
    against a pool's capacity (no bound above it: a pool never lends more units than it has),
    and the invocations that waited and were rejected; each line the mean with its band."""
    configs = (summary.get("config") or {}).get("dependencies") or {}
    fallback = float((summary.get("config") or {}).get("period") or 60.0)
    fig = Chart(figsize=(11.0, 6.4))
    top, bottom = fig.subplots(2, 1, sharex=True)
    scale = time_axis(top, axis, label=False)
    time_axis(bottom, axis, legend=False)
    peak, busiest, periods = 0.0, 0.0, set()
    for j, name in enumerate(digests[0]["dependencies"]):
        runs = [d["dependencies"].get(name) for d in digests]
        runs = [r for r in runs if r is not None]
        period = next((r["period_s"] for r in runs if r["period_s"]), fallback)
        periods.add(period)
        length = max(len(r["InUse_max"]) for r in runs)
        x = np.arange(length + 1) * period / scale
        capacity = (configs.get(name) or {}).get("capacity") \
            if (configs.get(name) or {}).get("type") == "pool" else None
        color = f"C{j}"
        for column, label, ls in (("InUse_max", "in use (peak), mean", "-"),
                                  ("InUse_avg", "in use (average), mean", "--")):
            b = band([r[column] for r in runs], length)
            if capacity is not None:
                b.high = np.minimum(b.high, float(capacity))
                b.low = np.minimum(b.low, b.high)
            _draw(top, x, b, color, f"{name}: {label}", ls=ls)
            peak = max(peak, _top(b))
        if capacity is not None:
            top.axhline(capacity, color=color, ls=":", lw=1.0,
                        label=f"{name}: capacity {int(capacity):,}")
            peak = max(peak, float(capacity))
        waits = band([r["Waits"] for r in runs], length)
        rejected = band([r["Rejected"] for r in runs], length)
        _draw(bottom, x, waits, color, f"{name}: invocations that waited, mean")
        # Red as on a single run; each dependency's own colour when there are several.
        several = len(digests[0]["dependencies"]) > 1
        _draw(bottom, x, rejected, color if several else COLORS["throttles"],
              f"{name}: rejected, mean"
              if np.any(rejected.high > 0) else f"{name}: rejected: none", ls=":")
        busiest = max(busiest, _top(waits), _top(rejected))
    top.set_ylabel("units / concurrent users")
    count_axis(top, max(peak, 1.0) * 1.1)
    bottom.set_ylabel("invocations per period")
    if busiest <= 0.0:
        empty_panel(bottom, "no waits, no rejections")
    else:
        bottom.set_ylim(0.0, busiest * 1.1)
        thousands(bottom)
    legend(top)
    legend(bottom)
    per = ", ".join(seconds_text(p) for p in sorted(periods))
    title(fig, f"shared dependencies, {n} replications",
          f"mean of {n} replications per {per} metrics period; band: 95 % confidence interval "
          "of the mean\npools: units held; rate quotas: invocations that called it and have "
          "not ended")
    return fig
