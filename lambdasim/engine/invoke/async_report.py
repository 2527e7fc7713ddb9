"""The ``functions.<name>.async`` summary block and the Async* columns of metrics.csv.

:class:`AsyncReporter` reduces an :class:`~lambdasim.engine.invoke.async_.AsyncQueue`'s flat
logs (receive times, drops with their reason, event ages at the end of each attempt,
destination deliveries) after a run. It reads the queue by its attributes and imports nothing
of the queue's module, so the queue can build its reporter without an import cycle; the drop
reasons and destination kinds that both share are defined here.

The ``backlog`` figures make the drain of a backlog visible, because how fast Lambda drains
one is not documented: AWS gives the 1 s -> 5 min backoff and says that "if the queue contains
many entries, Lambda increases the retry interval and reduces the rate at which it reads
events" (invocation-async-error-handling.html), but no drain rate. The longest spell during
which events waited is the backlog: ``drain_s`` is its length, ``ideal_drain_s`` the time the
concurrency pool the function draws on would need at full use for the work it did meanwhile
(busy unit-seconds / pool limit), and ``idle_share`` the share of that pool left unused while
events waited (over all waiting spells). With ``throttle_backoff: exponential`` every waiting
event sleeps on its own timer, so a freed unit can stay idle until the next backoff ends: that
idle share is the model's *assumption*, and ``throttle_backoff: none`` (a work-conserving line,
idle share about 0) is the optimistic bound to compare with.
"""
from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from lambdasim.engine.invoke.sync import SUCCEEDED
from lambdasim.engine.metrics import StepLevel, period_mean_max_ms, time_stats_ms, unpack_requests

__all__ = ["AsyncReporter", "DROP_REASONS", "DESTINATION_KINDS", "RETRIES_EXHAUSTED",
           "EVENT_AGE", "ZERO_CONCURRENCY"]

# Drop reasons, in the order of ``dropped_by_reason``.
RETRIES_EXHAUSTED = 0
EVENT_AGE = 1
ZERO_CONCURRENCY = 2
DROP_REASONS = ("retries_exhausted", "event_age", "zero_concurrency")
DESTINATION_KINDS = ("on_success", "on_failure", "dead_letter")


def _pairs(buffer: array, width: int) -> np.ndarray:
    data = np.frombuffer(buffer, dtype=np.float64)
    return data.reshape(-1, width) if data.size else np.empty((0, width))


class AsyncReporter:
    """The ``functions.<name>.async`` block and the Async* columns of metrics.csv."""

    summary_key = "async"

    def __init__(self, queue: Any) -> None:  # an AsyncQueue
        self.queue = queue

    def _in_window(self, model, received: np.ndarray) -> np.ndarray:
        return (received >= model.warmup_s) & (received < model.duration_s)

    def summary(self, model) -> dict[str, Any]:
        queue = self.queue
        warmup, horizon = model.warmup_s, model.duration_s
        received = sum(inlet.arrived_in_window for inlet in queue.inlets)
        requests = model.recorders[queue.name].table("requests")
        packed = unpack_requests(requests["packed"])
        mine = np.isin(packed["trigger"], [inlet.index for inlet in queue.inlets])
        mine &= self._in_window(model, requests["arrived"])
        succeeded = int(np.count_nonzero(mine & (packed["outcome"] == SUCCEEDED)))
        drops = _pairs(queue.drop_log, 3)
        counted = self._in_window(model, drops[:, 0])
        by_reason = np.bincount(drops[counted, 2].astype(np.int64), minlength=3)
        dropped = int(by_reason.sum())
        ages = _pairs(queue.age_log, 2)
        in_flight = queue.running_counted
        depth = self._depth(model)
        return {
            "events_received": received,
            "events_succeeded": succeeded,
            "events_dropped": dropped,
            "dropped_by_reason": {reason: int(by_reason[i])
                                  for i, reason in enumerate(DROP_REASONS)},
            "events_waiting": received - succeeded - dropped - in_flight,
            "events_in_flight": in_flight,
            "event_age_ms": time_stats_ms(ages[self._in_window(model, ages[:, 0]), 1]),
            "queue_depth": {"max": int(depth.max(warmup, horizon)),
                            "mean": round(depth.mean(warmup, horizon), 6)},
            "retries": int(np.count_nonzero(
                self._in_window(model, np.frombuffer(queue.retry_log, dtype=np.float64)))),
            "throttle_retries": int(np.count_nonzero(
                self._in_window(model, np.frombuffer(queue.throttle_log, dtype=np.float64)))),
            "destinations": {
                kind: ({} if queue.destinations[kind] is None
                       else {queue.destinations[kind].label: queue.destinations[kind].count})
                for kind in DESTINATION_KINDS},
            "backlog": self._backlog(model, depth),
            "options": {"max_retry_attempts": queue.max_retries,
                        "max_event_age_s": queue.max_age,
                        "throttle_backoff": "none" if queue.fifo else "exponential",
                        "backlog_slowdown": (None if queue.slow_entries == float("inf") else
                                             {"entries": int(queue.slow_entries),
                                              "factor": queue.slow_factor})},
        }

    def _backlog(self, model, depth: StepLevel) -> dict[str, Any]:
        """The longest waiting spell, its drain time against the ideal, and the idle share."""
        starts, ends = depth.starts, depth.ends
        empty = {"drain_s": 0.0, "started_s": None, "ideal_drain_s": 0.0, "waits": 0,
                 "waiting_s": 0.0, "idle_share": None, "pool_limit": None}
        if starts.size == 0:
            return empty
        # Spells of depth > 0: merge the events' waiting intervals ([start, end) each).
        times = np.concatenate([starts, ends])
        steps = np.concatenate([np.ones(starts.size), -np.ones(ends.size)])
        order = np.lexsort((steps, times))  # at equal times an end (-1) comes first
        level = np.cumsum(steps[order])
        times = times[order]
        opened = np.flatnonzero((level > 0) & (np.concatenate([[0.0], level[:-1]]) == 0))
        closed = np.flatnonzero((level == 0) & (np.concatenate([[0.0], level[:-1]]) > 0))
        spell_a, spell_b = times[opened], times[closed]
        keep = spell_b > spell_a
        spell_a, spell_b = spell_a[keep], spell_b[keep]
        if spell_a.size == 0:
            return empty
        queue = self.queue
        pool = queue.function.pool
        sharing = [name for name, function in model.functions.items() if function.pool is pool]
        busy = StepLevel.merge([_busy(model.recorders[name]) for name in sharing])
        limit = float(pool.limit)
        longest = int(np.argmax(spell_b - spell_a))
        a, b = float(spell_a[longest]), float(spell_b[longest])
        used = busy.mean(a, b) * (b - a)
        waiting_s = float((spell_b - spell_a).sum())
        used_all = sum(busy.mean(float(x), float(y)) * (float(y) - float(x))
                       for x, y in zip(spell_a, spell_b))
        return {
            "drain_s": round(b - a, 6),
            "started_s": round(a, 6),
            "ideal_drain_s": round(used / limit, 6) if limit > 0 else None,
            "waits": int(np.count_nonzero((starts >= a) & (starts < b))),
            "waiting_s": round(waiting_s, 6),
            "idle_share": (round(max(0.0, 1.0 - used_all / (limit * waiting_s)), 6)
                           if limit > 0 and waiting_s > 0 else None),
            "pool_limit": int(limit) if limit > 0 else 0,
        }

    def _depth(self, model) -> StepLevel:
        queue = self.queue
        starts = np.frombuffer(queue.wait_starts, dtype=np.float64)
        ends = np.frombuffer(queue.wait_ends, dtype=np.float64)
        open_spells = len(starts) - len(ends)
        if open_spells:
            ends = np.concatenate([ends, np.full(open_spells, max(model.end_s, model.sim.now))])
        return StepLevel(starts, ends)

    def series(self, model, edges: np.ndarray) -> dict[str, list]:
        queue = self.queue
        received = np.frombuffer(queue.received_log, dtype=np.float64)
        drops = _pairs(queue.drop_log, 3)
        ages = _pairs(queue.age_log, 2)
        invoked_at = ages[:, 0] + ages[:, 1]
        avg, peak = period_mean_max_ms(invoked_at, ages[:, 1], edges)
        return {
            "AsyncEventsReceived": _per_period(received, edges),
            "AsyncEventAge_avg_ms": avg,
            "AsyncEventAge_max_ms": peak,
            "AsyncEventsDropped": _per_period(drops[:, 1], edges),
            "AsyncQueueDepth": [int(v) for v in self._depth(model).period_maxima(edges)],
        }


def _busy(recorder) -> StepLevel:
    """A function's busy and initializing environments over time, from its attempts."""
    attempts = recorder.table("attempts")
    t = attempts["t"]
    return StepLevel(t, t + attempts["init"] + attempts["duration"])


def _per_period(times: np.ndarray, edges: np.ndarray) -> list[int]:
    """How many of the (sorted) times fall in each period."""
    bounds = np.searchsorted(times, edges[:-1], side="left").tolist() + [len(times)]
    return [int(v) for v in np.diff(bounds)]
