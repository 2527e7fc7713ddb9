"""Levels monitored online, during the run: per-period maxima and window statistics.

Most levels of a run (concurrency, live environments) are rebuilt after the run from the
recorded intervals (:class:`lambdasim.engine.metrics.StepLevel`). Some levels of a trigger change on
every message -- the depth of a queue, the batches in flight, the age of the oldest message --
and recording each change would cost more memory than the messages themselves, so they are
monitored as they change instead, with O(1) work per change (plus one step per period
boundary crossed):

* :class:`LevelTrack`: an integer level; the maximum in each period ``[k p, (k+1) p)`` and the
  time-weighted mean and maximum over a window ``[lo, hi)`` (warm-up to horizon);
* :class:`AgeTrack`: ``now - oldest`` for a reference time ``oldest`` that changes now and
  then (the send time of the oldest message): its maximum per period and over the window.

A level held for no time (set twice at one instant) counts for nothing, as a sampled metric
would not see it. Call ``finish(end)`` once the run is over, before reading.
"""
from __future__ import annotations

import math

__all__ = ["LevelTrack", "AgeTrack", "track_period", "regroup_max"]

#: Round chart bin widths, in seconds (:func:`lambdasim.results.timeline.bin_width`).
ROUND_STEPS_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
                 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0)
#: At most this many periods are tracked online over a run's horizon.
MAX_TRACKED = 20_000


def round_width(span_s: float, max_bins: int = 300) -> float:
    """The smallest round width of :data:`ROUND_STEPS_S` that covers ``span_s`` in at most
    ``max_bins`` bins; whole days beyond."""
    for step in ROUND_STEPS_S:
        if span_s / step <= max_bins:
            return step
    return 86400.0 * float(math.ceil(span_s / (86400.0 * max_bins)))


def track_period(period_s: float, duration_s: float, max_bins: int = 300) -> float:
    """The period at which levels are tracked online: a divisor of the metrics period that is
    also one of the chart bins of the run (:func:`round_width` of its horizon, and the next
    round width, which the bins take when the drain after the horizon needs more than
    ``max_bins`` of them), so both the metrics period and the chart bins are exact groups of
    it; the metrics period itself when that would track more than :data:`MAX_TRACKED`
    periods."""
    period_ms = round(period_s * 1000.0)
    width_s = round_width(duration_s, max_bins)
    fine_ms = math.gcd(period_ms, round(width_s * 1000.0))
    wider = [step for step in ROUND_STEPS_S if step > width_s]
    candidates = [fine_ms]
    if wider:
        candidates.insert(0, math.gcd(fine_ms, round(wider[0] * 1000.0)))
    for candidate_ms in candidates:
        fine = candidate_ms / 1000.0
        if fine > 0.0 and duration_s / fine <= MAX_TRACKED:
            return fine
    return period_s


def regroup_max(values: list, track_s: float, edges) -> list | None:
    """Maxima per bin ``[edges[k], edges[k+1])`` from maxima per tracked period ``track_s``;
    None when the bins are not whole groups of tracked periods starting at 0."""
    count = len(edges) - 1
    if count < 1 or abs(edges[0]) > 1e-9:
        return None
    width = float(edges[1] - edges[0])
    group = round(width / track_s)
    if group < 1 or abs(group * track_s - width) > 1e-6 * max(width, 1.0):
        return None
    out = []
    for k in range(count):
        chunk = values[k * group:(k + 1) * group]
        out.append(max(chunk) if chunk else values[-1] if values else 0)
    return out


class LevelTrack:
    """An integer level monitored online: per-period maxima, mean and max over a window.

    ``set(now, level)`` closes the segment held since the last change. Levels held for no time
    (set twice at one instant) count for nothing, as a sampled metric would not see them.
    """

    __slots__ = ("level", "last_t", "period_s", "period_end", "period_max", "maxima", "lo",
                 "hi", "w_integral", "w_max")

    def __init__(self, period_s: float, lo: float, hi: float) -> None:
        self.level = 0
        self.last_t = 0.0
        self.period_s = period_s
        self.period_end = period_s
        self.period_max = 0
        self.maxima: list[int] = []
        self.lo = lo
        self.hi = hi
        self.w_integral = 0.0
        self.w_max = 0

    def set(self, now: float, level: int) -> None:
        if now > self.last_t:
            self._close(now)
        self.level = level

    def _close(self, now: float) -> None:
        old = self.level
        t = self.last_t
        while now > self.period_end:
            if self.period_end > t and old > self.period_max:
                self.period_max = old
            self.maxima.append(self.period_max)
            self.period_max = 0
            t = self.period_end
            self.period_end += self.period_s
        if old > self.period_max:
            self.period_max = old
        a = self.last_t if self.last_t > self.lo else self.lo
        b = now if now < self.hi else self.hi
        if b > a:
            self.w_integral += old * (b - a)
            if old > self.w_max:
                self.w_max = old
        self.last_t = now

    def finish(self, end: float) -> None:
        if end > self.last_t:
            self._close(end)

    def per_period(self, count: int) -> list:
        values = self.maxima + [self.period_max]
        return (values + [self.level] * count)[:count]

    def mean(self) -> float:
        return self.w_integral / (self.hi - self.lo) if self.hi > self.lo else 0.0


class AgeTrack:
    """Age of the oldest undeleted message, monitored online (per-period and window maxima).

    The age grows between changes of the oldest message, so its maximum over any span is
    reached at the span's end: it is read when the oldest message changes and at period ends.
    """

    __slots__ = ("oldest", "last_t", "period_s", "period_end", "period_max", "maxima", "lo",
                 "hi", "w_max")

    def __init__(self, period_s: float, lo: float, hi: float) -> None:
        self.oldest: float | None = None
        self.last_t = 0.0
        self.period_s = period_s
        self.period_end = period_s
        self.period_max = 0.0
        self.maxima: list[float] = []
        self.lo = lo
        self.hi = hi
        self.w_max = 0.0

    def change(self, now: float, oldest: float | None) -> None:
        if now > self.last_t:
            self._close(now)
        self.oldest = oldest

    def _close(self, now: float) -> None:
        s = self.oldest
        t = self.last_t
        while now > self.period_end:
            if s is not None and self.period_end > t and self.period_end - s > self.period_max:
                self.period_max = self.period_end - s
            self.maxima.append(self.period_max)
            self.period_max = 0.0
            t = self.period_end
            self.period_end += self.period_s
        if s is not None:
            if now - s > self.period_max:
                self.period_max = now - s
            a = self.last_t if self.last_t > self.lo else self.lo
            b = now if now < self.hi else self.hi
            if b > a and b - s > self.w_max:
                self.w_max = b - s
        self.last_t = now

    def finish(self, end: float) -> None:
        if end > self.last_t:
            self._close(end)

    def per_period(self, count: int) -> list:
        values = [round(v, 6) for v in self.maxima + [self.period_max]]
        return (values + [0.0] * count)[:count]
