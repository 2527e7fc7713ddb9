"""Findings: a few sentences that say what happened in a run and when, computed from it.

The table answers "how much"; a planner also wants "what happened and why": *the account limit
of 1,000 was reached from 6:00 to 13:00; 6.02 % of checkout's requests failed with a throttle
(429) after 3 attempts; 875 cold starts, 93 % of them between 5:00 and 8:00; p99 latency per 1
min period rose from 305 ms to 1.4 s in the period from 7:00*. Each finder below reads the
summary, the per-period series (``metrics.csv``) and the resolved config, and returns sentences
or nothing; :func:`findings` runs them in order. Times are elapsed simulated time (``m:ss`` or
``h:mm:ss``) at the resolution of the metrics period, whose length a sentence about periods
states (``in the 1 min period from 7:00``). A new finding is one more function in
:data:`FINDERS`.

:attr:`lambdasim.results.result.Result.findings` holds them; the command line prints them
under the table and report.html shows them at the top.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from lambdasim.results import humanize as hz

__all__ = ["findings", "format_findings", "FINDERS", "Context"]

#: The share of a function's cold starts a "burst of cold starts" window must hold.
COLD_START_SHARE = 0.8
#: A per-period p99 this many times the typical one counts as a rise.
LATENCY_RISE = 1.5


class Context:
    """What the finders read: the summary, its config and the per-period series by function.

    ``periods(name, column)`` gives ``[(start_s, value), ...]`` of one function's (or the
    ``(account)`` row's) column over the periods that start inside ``[warmup, duration)``.
    """

    def __init__(self, summary: Mapping[str, Any], series: Mapping[str, Sequence[Any]] | None,
                 config: Mapping[str, Any] | None = None) -> None:
        self.summary = summary
        self.config = config if config is not None else (summary.get("config") or {})
        self.series = series or {}
        self.warmup = float(summary.get("warmup_s") or 0.0)
        self.duration = float(summary.get("duration_s") or 0.0)
        self.period = float(self.config.get("period") or 60.0)
        #: The metrics period's length as a sentence says it: ``1 min``, ``30 s``.
        self.period_text = hz.seconds_text(self.period)
        self.functions: Mapping[str, Any] = summary.get("functions") or {}
        self.account: Mapping[str, Any] = summary.get("account") or {}

    def periods(self, name: str, column: str) -> list[tuple[float, Any]]:
        starts = self.series.get("period_start_s") or ()
        names = self.series.get("function") or ()
        values = self.series.get(column)
        if values is None:
            return []
        return [(float(t), v) for t, n, v in zip(starts, names, values)
                if n == name and self.warmup - self.period < t < self.duration
                and t + self.period > self.warmup]

    def who(self, name: str) -> str:
        """How a sentence names a function: nothing when the run has only one."""
        return "" if len(self.functions) == 1 else f"{name}: "


def _runs(starts: Iterable[float], period: float) -> list[tuple[float, float]]:
    """Contiguous stretches ``(first start, last end)`` of the given period starts."""
    out: list[list[float]] = []
    for t in sorted(starts):
        if out and abs(t - out[-1][1]) < 1e-9:
            out[-1][1] = t + period
        else:
            out.append([t, t + period])
    return [(a, b) for a, b in out]


def _when(runs: Sequence[tuple[float, float]]) -> str:
    parts = [f"{hz.clock(a)} to {hz.clock(b)}" for a, b in runs[:2]]
    text = "from " + " and from ".join(parts)
    if len(runs) > 2:
        text += f" (and {hz.plural(len(runs) - 2, 'more stretch', 'more stretches')})"
    return text


def _limits(ctx: Context) -> list[str]:
    """The account limit and reserved concurrency: reached, when."""
    out = []
    limit = (ctx.config.get("account") or {}).get("concurrency_limit")
    if limit:
        hit = [t for t, v in ctx.periods("(account)", "ConcurrentExecutions")
               if v is not None and v >= limit]
        if hit:
            out.append(f"The account concurrency limit of {hz.count(limit)} was reached "
                       f"{_when(_runs(hit, ctx.period))}.")
    for name in ctx.functions:
        reserved = ((ctx.config.get("functions") or {}).get(name) or {}).get(
            "reserved_concurrency")
        if not reserved:
            continue
        hit = [t for t, v in ctx.periods(name, "ConcurrentExecutions")
               if v is not None and v >= reserved]
        if hit:
            out.append(f"{ctx.who(name)}reserved concurrency of {hz.count(reserved)} was "
                       f"reached {_when(_runs(hit, ctx.period))}.")
    return out


def _attempts_per_request(ctx: Context, name: str) -> int | None:
    triggers = ((ctx.config.get("functions") or {}).get(name) or {}).get("triggers") or ()
    counts = {(t.get("client_retries") or {}).get("max_attempts", 1)
              for t in triggers if t.get("type") == "sync"}
    return counts.pop() if len(counts) == 1 else None


def _were(n: int) -> str:
    """The verb that agrees with a count: ``1 attempt was``, ``2 attempts were``."""
    return "was" if n == 1 else "were"


def _throttles(ctx: Context) -> list[str]:
    """Throttled requests against throttled attempts: what retries absorbed."""
    out = []
    for name, block in ctx.functions.items():
        requests = block.get("requests") or {}
        arrived, throttled = requests.get("arrived") or 0, requests.get("throttled") or 0
        attempts = block.get("throttles") or 0
        if throttled:
            tries = _attempts_per_request(ctx, name)
            how = ("" if tries is None else " with no client retry" if tries == 1
                   else f" after {hz.plural(tries, 'attempt')}")
            text = (f"{ctx.who(name)}{hz.percent(throttled / arrived)} of requests "
                    f"({hz.count(throttled)}) failed with a throttle (429){how}")
            if attempts > throttled:
                text += (f"; counting retries, {hz.plural(attempts, 'attempt')} "
                         f"({hz.percent(block.get('throttle_rate'))} of attempts) "
                         f"{_were(attempts)} throttled")
            out.append(text + ".")
        elif attempts:
            retried = "Lambda retried them" if "async" in block or "sqs" in block \
                or "stream" in block else "retries absorbed them"
            out.append(f"{ctx.who(name)}{hz.plural(attempts, 'attempt')} {_were(attempts)} "
                       "throttled "
                       f"({hz.percent(block.get('throttle_rate'))} of attempts) but no request "
                       f"ended throttled: {retried}.")
    return out


def _cold_starts(ctx: Context) -> list[str]:
    """How many cold starts, and the short stretch that holds most of them."""
    out = []
    for name, block in ctx.functions.items():
        total = block.get("cold_starts") or 0
        if not total:
            continue
        text = (f"{ctx.who(name)}{hz.plural(total, 'cold start')} "
                f"({hz.percent(block.get('cold_start_rate'))} of invocations)")
        # Only periods after the warm-up: one that straddles it also holds the warm-up's
        # cold starts, which the table's count (the "them" of the sentence) leaves out.
        periods = [(t, v or 0) for t, v in ctx.periods(name, "ColdStarts")
                   if t >= ctx.warmup - 1e-9]
        counted = sum(v for _, v in periods)
        window = _densest(periods, COLD_START_SHARE * counted) if counted else None
        if window is not None:
            (a, b), held = window
            span = ctx.duration - ctx.warmup
            if b - a <= span / 2 and len(periods) > 2:
                text += (f", {hz.percent(held / max(counted, total), 0)} of them between "
                         f"{hz.clock(a)} "
                         f"and {hz.clock(min(b, ctx.duration))}")
        out.append(text + ".")
    return out


def _densest(periods: Sequence[tuple[float, int]], wanted: float
             ) -> tuple[tuple[float, float], int] | None:
    """The shortest run of consecutive periods holding at least ``wanted`` (two pointers)."""
    best = None
    held, low = 0, 0
    for high, (_, value) in enumerate(periods):
        held += value
        while low <= high and held - periods[low][1] >= wanted:
            held -= periods[low][1]
            low += 1
        if held >= wanted and (best is None or high - low < best[1] - best[0]):
            best = (low, high, held)
    if best is None:
        return None
    low, high, held = best
    period = periods[1][0] - periods[0][0] if len(periods) > 1 else 0.0
    return (periods[low][0], periods[high][0] + period), held


def _latency(ctx: Context) -> list[str]:
    """p99 latency per metrics period (its length said): a rise and when, or the band it
    stayed in."""
    out = []
    for name in ctx.functions:
        values = [(t, v) for t, v in ctx.periods(name, "Latency_p99_ms") if v is not None]
        if len(values) < 3:
            continue
        ordered = sorted(v for _, v in values)
        typical = ordered[len(ordered) // 2]
        peak_t, peak = max(values, key=lambda tv: tv[1])
        if typical > 0 and peak >= LATENCY_RISE * typical:
            out.append(f"{ctx.who(name)}p99 latency per {ctx.period_text} period rose from "
                       f"{hz.duration_ms(typical)} (the median period) to "
                       f"{hz.duration_ms(peak)} in the period from {hz.clock(peak_t)}.")
        elif hz.duration_ms(ordered[0]) == hz.duration_ms(ordered[-1]):
            out.append(f"{ctx.who(name)}p99 latency per {ctx.period_text} period stayed at "
                       f"{hz.duration_ms(ordered[0])}.")
        elif ordered[-1] <= LATENCY_RISE * ordered[0]:
            out.append(f"{ctx.who(name)}p99 latency per {ctx.period_text} period stayed between "
                       f"{hz.duration_ms(ordered[0])} and {hz.duration_ms(ordered[-1])}.")
        else:
            low_t = min(values, key=lambda tv: tv[1])[0]
            out.append(f"{ctx.who(name)}p99 latency per {ctx.period_text} period ranged from "
                       f"{hz.duration_ms(ordered[0])} (period from {hz.clock(low_t)}) to "
                       f"{hz.duration_ms(peak)} (period from {hz.clock(peak_t)}).")
    return out


def _failures(ctx: Context) -> list[str]:
    """Requests that failed or were dropped."""
    out = []
    for name, block in ctx.functions.items():
        requests = block.get("requests") or {}
        arrived = requests.get("arrived") or 0
        if not arrived:
            continue
        failed, dropped = requests.get("failed") or 0, requests.get("dropped") or 0
        if failed:
            out.append(f"{ctx.who(name)}{hz.plural(failed, 'request')} "
                       f"({hz.percent(failed / arrived)}) failed with a function error or "
                       "timeout.")
        if dropped:
            reasons = ((block.get("async") or {}).get("dropped_by_reason") or {})
            why = ", ".join(f"{hz.count(v)} {_DROP_REASONS.get(k, k.replace('_', ' '))}"
                            for k, v in reasons.items() if v)
            out.append(f"{ctx.who(name)}{hz.plural(dropped, 'request')} "
                       f"({hz.percent(dropped / arrived)}) {_were(dropped)} dropped unanswered"
                       + (f" ({why})." if why else "."))
    return out


_DROP_REASONS = {"retries_exhausted": "out of retries", "event_age": "older than max_event_age",
                 "zero_concurrency": "sent away by reserved concurrency 0"}


def _queues(ctx: Context) -> list[str]:
    """Backlogs: the deepest queue, when, and how old its events grew."""
    out = []
    for name, block in ctx.functions.items():
        for key, column, unit, age_path in (
                ("async", "AsyncQueueDepth", "event", ("event_age_ms", "max")),
                ("sqs", "ApproximateNumberOfMessagesVisible", "message", None)):
            sub = block.get(key)
            if not isinstance(sub, Mapping):
                continue
            depth = (sub.get("queue_depth") or {}).get("max") or 0
            if not depth:
                continue
            kind = "SQS" if key == "sqs" else key
            text = f"{ctx.who(name)}the {kind} queue peaked at {hz.plural(int(depth), unit)}"
            peaks = [(t, v) for t, v in ctx.periods(name, column) if v is not None]
            if peaks:
                text += (f" in the {ctx.period_text} period from "
                         f"{hz.clock(max(peaks, key=lambda tv: tv[1])[0])}")
            if age_path is not None:
                age = (sub.get(age_path[0]) or {}).get(age_path[1])
                if age is not None:
                    text += f"; the oldest event waited {hz.duration_ms(age)}"
            elif sub.get("oldest_message_age_s"):
                age = (sub.get("oldest_message_age_s") or {}).get("max")
                if age is not None:
                    text += f"; the oldest message waited {hz.duration_s(age)}"
            out.append(text + ".")
        stream = block.get("stream")
        if isinstance(stream, Mapping):
            age = (stream.get("iterator_age_ms") or {}).get("max")
            if age:
                out.append(f"{ctx.who(name)}the stream's iterator age reached "
                           f"{hz.duration_ms(age)}.")
    return out


#: The offset lag counts as drained once a period's peak is at most this share of the run's.
KAFKA_DRAINED_SHARE = 0.01


def kafka_max_pollers(triggers: Iterable[Mapping[str, Any]]) -> int | None:
    """The most event pollers a function's Kafka triggers can have together: in provisioned
    mode the maximum (never above the partitions), on demand one poller per
    ``invocations_per_poller`` partitions with lag (kafka-scaling-modes.html:
    https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html); None without
    Kafka triggers."""
    total = None
    for t in triggers:
        if t.get("type") != "kafka":
            continue
        partitions = int(t.get("partitions") or 1)
        provisioned = t.get("provisioned_pollers")
        if isinstance(provisioned, Mapping) and provisioned.get("maximum") is not None:
            most = min(int(provisioned["maximum"]), partitions)
        else:
            most = -(-partitions // int(t.get("invocations_per_poller") or 5))
        total = (total or 0) + most
    return total


def _kafka(ctx: Context) -> list[str]:
    """Kafka consumer lag: its peak and when, the worst partition, pollers held at their
    maximum, and when the lag drained (the Kafka counterpart of the queue findings)."""
    out = []
    for name, block in ctx.functions.items():
        kafka = block.get("kafka")
        if not isinstance(kafka, Mapping):
            continue
        peak = (kafka.get("sum_offset_lag") or {}).get("max") or 0
        if not peak:
            continue
        text = f"{ctx.who(name)}the Kafka offset lag peaked at {hz.count(peak)} records"
        lags = [(t, v) for t, v in ctx.periods(name, "SumOffsetLag") if v is not None]
        peak_t = max(lags, key=lambda tv: tv[1])[0] if lags else None
        if peak_t is not None:
            text += f" in the {ctx.period_text} period from {hz.clock(peak_t)}"
        worst = (kafka.get("max_offset_lag") or {}).get("max")
        if worst:
            text += f", {hz.count(worst)} on the most-lagging partition"
        triggers = ((ctx.config.get("functions") or {}).get(name) or {}).get("triggers") or ()
        most = kafka_max_pollers(triggers)
        pinned = [t for t, v in ctx.periods(name, "KafkaPollers")
                  if v is not None and most and v >= most]
        if pinned:
            text += (f"; the event pollers were at their maximum of {hz.count(most)} "
                     f"{_when(_runs(pinned, ctx.period))}")
        elif most and (kafka.get("pollers") or {}).get("max") is not None:
            text += (f"; the event pollers peaked at {hz.count(kafka['pollers']['max'])} "
                     f"of at most {hz.count(most)}")
        waiting = kafka.get("records_waiting") or 0
        later = [(t, v) for t, v in lags if peak_t is not None and t > peak_t]
        drained = next((t for t, v in later if v <= KAFKA_DRAINED_SHARE * peak), None)
        if waiting:
            text += f"; {hz.count(waiting)} records were still waiting at the end"
        elif drained is not None:
            text += (f"; the lag was back under {hz.percent(KAFKA_DRAINED_SHARE, 0)} of its "
                     f"peak by {hz.clock(drained)}")
        out.append(text + ".")
    return out


def _cost(ctx: Context) -> list[str]:
    """What the run cost, and the projection with its basis."""
    cost = ctx.account.get("cost_usd") or {}
    total = cost.get("total")
    if total is None:
        return []
    month = (cost.get("per_30_days") or {}).get("total")
    digits = hz.money_decimals([total, month])
    text = f"The run cost {hz.usd(total, digits)}"
    basis = (ctx.summary.get("cost_projection") or {}).get("basis")
    if month is not None:
        text += f"; {hz.usd(month, digits)} per 30 days" + (f" ({basis})" if basis else "")
    elif basis:
        text += f"; {basis}"
    return [text + "."]


#: The finders, in the order their sentences are shown.
FINDERS: tuple[Callable[[Context], list[str]], ...] = (
    _limits, _throttles, _cold_starts, _latency, _failures, _queues, _kafka, _cost)


def findings(summary: Mapping[str, Any], series: Mapping[str, Sequence[Any]] | None = None,
             config: Mapping[str, Any] | None = None) -> list[str]:
    """The findings of a run: short sentences, most telling first.

    Parameters
    ----------
    summary : dict
        The run's summary (``summary.json``).
    series : dict of columns, optional
        The per-period series (``result.series``); without it the findings that need times
        (limits reached, bursts of cold starts, latency over time) are left out.
    config : dict, optional
        The resolved scenario (default: ``summary["config"]``).

    Returns
    -------
    list of str
    """
    ctx = Context(summary, series, config)
    out: list[str] = []
    for finder in FINDERS:
        out.extend(_capitalised(text, ctx.functions) for text in finder(ctx))
    return out


def _capitalised(text: str, names: Iterable[str]) -> str:
    """The sentence with a capital first letter, unless it starts with ``name: ``."""
    if any(text.startswith(f"{name}: ") for name in names):
        return text
    return text[:1].upper() + text[1:]


def format_findings(sentences: Sequence[str], width: int = 100) -> str:
    """The findings as the terminal shows them under the table: a heading and one wrapped
    ``- `` item per sentence; empty when there are none."""
    import textwrap

    if not sentences:
        return ""
    import re

    glue = re.compile(r"(\d) (ms|s|min|h|d|%)(?=\W|$)")  # never break "87.6 s" apart
    lines = ["findings:"]
    for sentence in sentences:
        lines += [line.replace("\u00a0", " ") for line in textwrap.wrap(
            glue.sub("\\1\u00a0\\2", sentence), width, initial_indent="- ",
            subsequent_indent="  ")]
    return "\n".join(lines) + "\n"
