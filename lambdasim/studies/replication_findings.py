"""Findings and assumptions of ``run --replications N``: what happened, over the replications.

A single run's findings (:mod:`lambdasim.results.findings`) read one run's summary and its
per-period series. Over replications each quoted number is the mean of the replications' own
figures with its 95 % Student-t interval, clipped to the figure's range (a share stays in
[0 %, 100 %], a count never goes below 0): *22.1 % [20.3 %, 23.9 %] of requests (10,735
[10,415, 11,056] per run) were dropped unanswered*. A threshold the runs may or may not cross
(a concurrency limit reached, pollers at their maximum) is counted over the replications:
*the account concurrency limit of 1,000 was reached in 3 of 3 replications*. Shares are the
mean of each replication's own share (dropped / arrived of that run), not a ratio of means.

The assumptions of replications are
:func:`lambdasim.studies.replications.replication_assumptions`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from lambdasim.results import humanize as hz
from lambdasim.results.findings import _DROP_REASONS, _capitalised, kafka_max_pollers
from lambdasim.studies.replications import clip_interval, figure_stats

__all__ = ["replication_findings"]


class _Runs:
    """The replications' summaries and how a figure of each reads as ``mean [low, high]``."""

    def __init__(self, summaries: Sequence[Mapping[str, Any]],
                 config: Mapping[str, Any]) -> None:
        self.summaries = list(summaries)
        self.n = len(self.summaries)
        self.config = config
        self.functions = list((self.summaries[0].get("functions") or {}))

    def values(self, get: Callable[[Mapping[str, Any]], Any]) -> list[float | None]:
        out = []
        for summary in self.summaries:
            try:
                value = get(summary)
            except (KeyError, TypeError, ZeroDivisionError):
                value = None
            out.append(None if value is None else float(value))
        return out

    def function(self, name: str, *path: str) -> list[float | None]:
        def get(summary):
            block = summary["functions"][name]
            for part in path:
                block = block[part]
            return block
        return self.values(get)

    def who(self, name: str) -> str:
        return "" if len(self.functions) == 1 else f"{name}: "


def _stats(values: Sequence[float | None], high: float | None = None
           ) -> tuple[float, float, float] | None:
    """Mean and clipped 95 % interval; None when no replication has the figure."""
    stats = clip_interval(figure_stats(values), (0.0, high))
    if stats["mean"] is None:
        return None
    low, top = stats["ci95"] or (stats["mean"], stats["mean"])
    return stats["mean"], low, top


def _text(stats: tuple[float, float, float], one: Callable[[float], str]) -> str:
    mean, low, high = stats
    if one(low) == one(high) == one(mean):
        return one(mean)
    return f"{one(mean)} [{one(low)}, {one(high)}]"


def _count(stats) -> str:
    """Counts per run: whole from 100 up (``10,735 [10,415, 11,056]``), else one decimal
    (``14.3 [10.5, 18.1]``; a mean of counts need not be whole)."""
    if stats[0] >= 100:
        return _text(stats, hz.count)
    return _text(stats, lambda v: f"{v:,.1f}".removesuffix(".0"))


def _percent(stats) -> str:
    """Shares with one decimal, two below 1 % (``0.08 %``)."""
    digits = 2 if stats[0] < 0.01 else 1
    return _text(stats, lambda v: hz.percent(v, digits))


def _duration(stats, per_ms: float = 1.0) -> str:
    """A duration triple in the unit of its mean: ``29.7 min [29.6 min, 29.7 min]``."""
    divisor, unit = hz.duration_unit(stats[0] * per_ms)
    return _text(stats, lambda v: f"{v * per_ms / divisor:,.1f} {unit}")


def _share(runs: _Runs, name: str, part: str) -> tuple[float, float, float] | None:
    return _stats(runs.values(lambda s: s["functions"][name]["requests"][part]
                              / s["functions"][name]["requests"]["arrived"]), high=1.0)


def _reached(runs: _Runs, values: Sequence[float | None], limit: float) -> int:
    return sum(1 for v in values if v is not None and v >= limit)


def _limits(runs: _Runs) -> list[str]:
    out = []
    limit = (runs.config.get("account") or {}).get("concurrency_limit")
    if limit:
        hit = _reached(runs, runs.values(lambda s: s["account"]["concurrency"]["max"]), limit)
        if hit:
            out.append(f"The account concurrency limit of {hz.count(limit)} was reached in "
                       f"{hit} of {runs.n} replications.")
    for name in runs.functions:
        reserved = ((runs.config.get("functions") or {}).get(name) or {}).get(
            "reserved_concurrency")
        if reserved:
            hit = _reached(runs, runs.function(name, "concurrency", "max"), reserved)
            if hit:
                out.append(f"{runs.who(name)}reserved concurrency of {hz.count(reserved)} was "
                           f"reached in {hit} of {runs.n} replications.")
    return out


def _throttles(runs: _Runs) -> list[str]:
    out = []
    for name in runs.functions:
        throttled = _stats(runs.function(name, "requests", "throttled"))
        attempts = _stats(runs.function(name, "throttles"))
        rate = _stats(runs.function(name, "throttle_rate"), high=1.0)
        if throttled and throttled[2] > 0:
            triggers = ((runs.config.get("functions") or {}).get(name) or {}).get(
                "triggers") or ()
            tries = {(t.get("client_retries") or {}).get("max_attempts", 1)
                     for t in triggers if t.get("type") == "sync"}
            how = "" if len(tries) != 1 else (" with no client retry" if tries == {1} else
                                              f" after {tries.pop()} attempts")
            text = (f"{runs.who(name)}{_percent(_share(runs, name, 'throttled'))} of requests "
                    f"({_count(throttled)} per run) failed with a throttle (429){how}")
            if attempts and rate and attempts[0] > throttled[0]:
                text += (f"; counting retries, {_count(attempts)} attempts per run "
                         f"({_percent(rate)} of attempts) were throttled")
            out.append(text + ".")
        elif attempts and attempts[2] > 0 and rate:
            block = runs.summaries[0]["functions"][name]
            retried = "Lambda retried them" if {"async", "sqs", "stream", "kafka"} & set(block) \
                else "retries absorbed them"
            out.append(f"{runs.who(name)}{_count(attempts)} attempts per run were throttled "
                       f"({_percent(rate)} of attempts) but no request ended throttled: "
                       f"{retried}.")
    return out


def _cold_starts(runs: _Runs) -> list[str]:
    out = []
    for name in runs.functions:
        total = _stats(runs.function(name, "cold_starts"))
        if total and total[2] > 0:
            rate = _stats(runs.function(name, "cold_start_rate"), high=1.0)
            out.append(f"{runs.who(name)}{_count(total)} cold starts per run"
                       + (f" ({_percent(rate)} of invocations)." if rate else "."))
    return out


def _failures(runs: _Runs) -> list[str]:
    out = []
    for name in runs.functions:
        for part, what in (("failed", "failed with a function error or timeout"),
                           ("dropped", "were dropped unanswered")):
            count = _stats(runs.function(name, "requests", part))
            if not count or count[2] <= 0:
                continue
            text = (f"{runs.who(name)}{_percent(_share(runs, name, part))} of requests "
                    f"({_count(count)} per run) {what}")
            if part == "dropped":
                reasons = (runs.summaries[0]["functions"][name].get("async") or {}).get(
                    "dropped_by_reason") or {}
                why = []
                for key in reasons:
                    stats = _stats(runs.function(name, "async", "dropped_by_reason", key))
                    if stats and stats[2] > 0:
                        why.append(f"{_count(stats)} "
                                   f"{_DROP_REASONS.get(key, key.replace('_', ' '))}")
                if why:
                    text += f" ({', '.join(why)})"
            out.append(text + ".")
    return out


def _queues(runs: _Runs) -> list[str]:
    out = []
    for name in runs.functions:
        block = runs.summaries[0]["functions"][name]
        for key, kind, unit, age_path, per_ms, what in (
                ("async", "async", "events", ("event_age_ms", "max"), 1.0, "event"),
                ("sqs", "SQS", "messages", ("oldest_message_age_s", "max"), 1000.0,
                 "message")):
            if not isinstance(block.get(key), Mapping):
                continue
            depth = _stats(runs.function(name, key, "queue_depth", "max"))
            if not depth or depth[2] <= 0:
                continue
            text = (f"{runs.who(name)}the {kind} queue peaked at {_count(depth)} {unit} per "
                    "run")
            age = _stats(runs.function(name, key, *age_path))
            if age and age[2] > 0:
                text += f"; the oldest {what} waited {_duration(age, per_ms)}"
            out.append(text + ".")
        if isinstance(block.get("stream"), Mapping):
            age = _stats(runs.function(name, "stream", "iterator_age_ms", "max"))
            if age and age[2] > 0:
                out.append(f"{runs.who(name)}the stream's iterator age reached "
                           f"{_duration(age)}.")
    return out


def _kafka(runs: _Runs) -> list[str]:
    """Consumer lag over replications: its peak, the worst partition, pollers at their
    maximum and records left waiting (:func:`lambdasim.results.findings._kafka`)."""
    out = []
    for name in runs.functions:
        if not isinstance(runs.summaries[0]["functions"][name].get("kafka"), Mapping):
            continue
        lag = _stats(runs.function(name, "kafka", "sum_offset_lag", "max"))
        if not lag or lag[2] <= 0:
            continue
        text = f"{runs.who(name)}the Kafka offset lag peaked at {_count(lag)} records per run"
        worst = _stats(runs.function(name, "kafka", "max_offset_lag", "max"))
        if worst and worst[2] > 0:
            text += f", {_count(worst)} on the most-lagging partition"
        triggers = ((runs.config.get("functions") or {}).get(name) or {}).get("triggers") or ()
        most = kafka_max_pollers(triggers)
        if most:
            hit = _reached(runs, runs.function(name, "kafka", "pollers", "max"), most)
            text += (f"; the event pollers reached their maximum of {hz.count(most)} in {hit} "
                     f"of {runs.n} replications")
        waiting = runs.function(name, "kafka", "records_waiting")
        left = sum(1 for v in waiting if v)
        text += ("; the lag drained before the end in every replication" if not left else
                 f"; records were still waiting at the end in {left} of {runs.n} replications")
        out.append(text + ".")
    return out


def _cost(runs: _Runs) -> list[str]:
    total = _stats(runs.values(lambda s: s["account"]["cost_usd"]["total"]))
    if total is None:
        return []
    month = _stats(runs.values(lambda s: s["account"]["cost_usd"]["per_30_days"]["total"]))
    digits = hz.money_decimals([total[0]] + ([month[0]] if month else []))
    text = f"The run cost {_text(total, lambda v: hz.usd(v, digits))}"
    basis = (runs.summaries[0].get("cost_projection") or {}).get("basis")
    if month is not None:
        text += (f"; {_text(month, lambda v: hz.usd(v, digits))} per 30 days"
                 + (f" ({basis})" if basis else ""))
    elif basis:
        text += f"; {basis}"
    return [text + "."]


_FINDERS = (_limits, _throttles, _cold_starts, _failures, _queues, _kafka, _cost)


def replication_findings(summaries: Sequence[Mapping[str, Any]],
                         config: Mapping[str, Any]) -> list[str]:
    """The findings of replications: sentences whose numbers read ``mean [low, high]``.

    Parameters
    ----------
    summaries : list of dict
        Each replication's own summary (``Replications.summaries``).
    config : dict
        The resolved scenario every replication ran.

    Returns
    -------
    list of str
        Sentences, most telling first; empty without replications.
    """
    if not summaries:
        return []
    runs = _Runs(summaries, config)
    out: list[str] = []
    for finder in _FINDERS:
        out.extend(_capitalised(text, runs.functions) for text in finder(runs))
    if out:
        out.insert(0, f"Over {hz.plural(runs.n, 'replication')}; each figure: the mean "
                      "[95 % confidence interval] of the replications' own figures.")
    return out
