"""What a run records, and the statistics computed from it afterwards.

During the run nothing is aggregated: each function appends to a few ``array.array``
columns (about 60 bytes per request, no objects, no string formatting):

* attempts: start time, the served request's arrival time (``origin``), Init Duration,
  Duration and a code of flags (cold start, error, timeout, suppressed init);
* throttles: time, origin, reason;
* environments: creation and end time (NaN while alive);
* requests: arrival, end, outcome, attempts, trigger and the final attempt's code.

After the run, NumPy turns the columns into statistics. Levels that vary in time
(concurrency, live environments) are rebuilt from their intervals by :class:`StepLevel`, a
time-weighted level monitor that answers the mean and maximum over any window and per
period. Concurrency is the number of environments that are
initializing or invoking, exactly the span of each admitted attempt.

Periods follow CloudWatch: 60 s by default, an invocation counted in the period in which it
started (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
"""
from __future__ import annotations

from array import array
from typing import Iterable

import numpy as np

__all__ = ["FunctionRecorder", "StepLevel", "time_stats_ms", "period_mean_max_ms", "pack_request", "unpack_requests",
           "request_outcomes",
           "PERCENTILES", "ATTEMPT_FIELDS", "THROTTLE_FIELDS", "REQUEST_FIELDS"]

#: Percentile keys of every ``*_ms`` block in the summary.
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))


class FunctionRecorder:
    """Columnar records of one function.

    Fixed-width rows in flat ``array('d')`` buffers, one ``extend`` per row:

    * ``attempts``: (start, origin, init_s, duration_s, code) -- :data:`ATTEMPT_FIELDS`;
    * ``throttles``: (time, origin, reason) -- :data:`THROTTLE_FIELDS`;
    * ``requests``: (arrived, ended, packed) -- :data:`REQUEST_FIELDS`, where ``packed`` holds
      the final attempt's code, the outcome, the trigger index and the attempt count
      (:func:`pack_request`);
    * ``env_created`` / ``env_ended``: indexed by environment id (NaN while alive).
    """

    __slots__ = ("attempts", "throttles", "requests", "env_created", "env_ended",
                 "derive_requests")

    def __init__(self) -> None:
        self.attempts = array("d")
        self.throttles = array("d")
        self.requests = array("d")
        self.env_created = array("d")
        self.env_ended = array("d")
        #: ``derive_requests(ordered) -> columns`` when request rows are not recorded but
        #: derived from the attempt and throttle rows (lambdasim.engine.fastpath), else None.
        self.derive_requests = None

    def table(self, name: str, ordered: bool = True) -> dict[str, np.ndarray]:
        """The rows of ``attempts``, ``throttles`` or ``requests`` as named columns.

        The columns are views on the recorded buffer (no copy); do not record after calling.
        Derived request rows are computed on each call; ``ordered=False`` spares their sort
        when the caller does not need the recording order.
        """
        if name == "requests" and self.derive_requests is not None:
            return self.derive_requests(ordered)
        fields = _FIELDS[name]
        data = np.frombuffer(getattr(self, name), dtype=np.float64)
        rows = data.reshape(-1, len(fields)) if data.size else np.empty((0, len(fields)))
        return {field: rows[:, i] for i, field in enumerate(fields)}

    def environments(self) -> tuple[np.ndarray, np.ndarray]:
        """Creation and end times of every environment (end NaN while alive)."""
        return (np.frombuffer(self.env_created, dtype=np.float64),
                np.frombuffer(self.env_ended, dtype=np.float64))

    def nbytes(self) -> int:
        """Memory held by the records."""
        return sum(len(getattr(self, name)) * 8 for name in
                   ("attempts", "throttles", "requests", "env_created", "env_ended"))


ATTEMPT_FIELDS = ("t", "origin", "init", "duration", "code")
THROTTLE_FIELDS = ("t", "origin", "reason")
REQUEST_FIELDS = ("arrived", "ended", "packed")
_FIELDS = {"attempts": ATTEMPT_FIELDS, "throttles": THROTTLE_FIELDS,
           "requests": REQUEST_FIELDS}


def pack_request(code: int, outcome: int, trigger: int, attempts: int) -> int:
    """Pack a request's final code (8 bits), outcome (2), trigger (8) and attempts (16)."""
    return code | (outcome << 8) | (trigger << 10) | (attempts << 18)


def unpack_requests(packed: np.ndarray) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack_request`, vectorised."""
    values = packed.astype(np.int64)
    return {"code": values & 0xFF, "outcome": (values >> 8) & 0x3,
            "trigger": (values >> 10) & 0xFF, "attempts": values >> 18}


def request_outcomes(packed: np.ndarray) -> np.ndarray:
    """Just the outcome of packed request rows (uint8), without the other fields."""
    return ((packed.astype(np.int64) >> 8) & 0x3).astype(np.uint8)


class StepLevel:
    """A time-weighted level monitor built from the intervals during which it counts one.

    The level at time t is the number of intervals with ``start <= t < end`` (concurrency:
    each admitted attempt from the start of its Init to the end of its invocation; live
    environments: creation to reclaim). Where a start and an end coincide the end applies
    first, so an environment released and reused at the same instant is not counted twice.

    It keeps the starts and the sorted ends plus the level just after each start (about
    12 bytes per interval beyond the starts, which are used in place when already sorted, as
    attempt start times are). The level only rises at a start, so maxima are found among the
    levels just after starts; the mean over a window is the total overlap of the intervals
    with it divided by its length.
    """

    def __init__(self, starts: np.ndarray, ends: np.ndarray) -> None:
        starts = np.asarray(starts, dtype=np.float64)
        if starts.size > 1 and not bool(np.all(starts[1:] >= starts[:-1])):
            starts = np.sort(starts)
        self.starts = starts
        self.ends = np.sort(np.asarray(ends, dtype=np.float64))
        # Level just after the k-th start: starts so far minus ends at or before it.
        after = np.searchsorted(self.ends, starts, side="right").astype(np.int32)
        np.subtract(np.arange(1, len(starts) + 1, dtype=np.int32), after, out=after)
        self._after_start = after

    @classmethod
    def merge(cls, levels: "list[StepLevel]") -> "StepLevel":
        """The sum of several levels (account concurrency from the functions')."""
        if len(levels) == 1:
            return levels[0]
        if not levels:
            return cls(np.empty(0), np.empty(0))
        return cls(np.concatenate([lv.starts for lv in levels]),
                   np.concatenate([lv.ends for lv in levels]))

    def value_at(self, t: np.ndarray | float) -> np.ndarray:
        """Level just after time ``t`` (all changes at ``t`` applied)."""
        return (np.searchsorted(self.starts, t, side="right")
                - np.searchsorted(self.ends, t, side="right"))

    def mean(self, a: float, b: float) -> float:
        """Time-weighted mean over ``[a, b)``: the intervals' overlap with it over its length.

        Each interval ``[s, e)`` overlaps ``[a, b)`` by ``clip(e, a, b) - clip(s, a, b)``;
        summed over intervals, the sorted starts and ends can be clipped separately.
        """
        if b <= a:
            return 0.0
        total = (float(np.clip(self.ends, a, b).sum())
                 - float(np.clip(self.starts, a, b).sum()))
        return total / (b - a)

    def max(self, a: float, b: float) -> float:
        """Maximum over ``[a, b)``."""
        best = int(self.value_at(a))
        lo = np.searchsorted(self.starts, a, side="right")
        hi = np.searchsorted(self.starts, b, side="left")
        if hi > lo:
            best = max(best, int(self._after_start[lo:hi].max()))
        return float(best)

    def period_maxima(self, edges: np.ndarray) -> np.ndarray:
        """Maximum in each period ``[edges[k], edges[k+1])``."""
        result = self.value_at(edges[:-1]).astype(np.int64)
        if len(self.starts):
            bounds = np.searchsorted(self.starts, edges, side="left")
            for k in np.flatnonzero(bounds[1:] > bounds[:-1]):
                # Starts exactly at edges[k] are already in value_at(edges[k]).
                peak = int(self._after_start[bounds[k]:bounds[k + 1]].max())
                if peak > result[k]:
                    result[k] = peak
        return result


def time_stats_ms(values_s: Iterable[float] | np.ndarray) -> dict[str, float | None]:
    """Mean, percentiles and maximum of times in seconds, reported in milliseconds.

    Percentiles use linear interpolation between order statistics; an empty sample gives
    None for every key.
    """
    values = np.asarray(values_s, dtype=np.float64)
    keys = ["mean"] + [key for key, _ in PERCENTILES] + ["max"]
    if values.size == 0:
        return {key: None for key in keys}
    quantiles = np.percentile(values, [q for _, q in PERCENTILES])
    out = {"mean": _tidy(values.mean() * 1000.0)}
    for (key, _), value in zip(PERCENTILES, quantiles):
        out[key] = _tidy(value * 1000.0)
    out["max"] = _tidy(values.max() * 1000.0)
    return out


def period_mean_max_ms(times: np.ndarray, values_s: np.ndarray,
                       edges: np.ndarray) -> tuple[list[float | None], list[float | None]]:
    """Per period: the mean and the maximum, in ms, of ``values_s`` by their (sorted) ``times``.

    Period k holds ``edges[k] <= t < edges[k + 1]`` (the last period also what comes later);
    a period without values gets ``None`` for both, as CloudWatch shows no datapoint.
    """
    bounds = np.searchsorted(times, edges[:-1], side="left").tolist() + [len(times)]
    means: list[float | None] = []
    maxima: list[float | None] = []
    for k in range(len(edges) - 1):
        sample = values_s[bounds[k]:bounds[k + 1]]
        if sample.size:
            means.append(round(float(sample.mean()) * 1000.0, 6))
            maxima.append(round(float(sample.max()) * 1000.0, 6))
        else:
            means.append(None)
            maxima.append(None)
    return means, maxima


def _tidy(value: float) -> float:
    """Round to a nanosecond in milliseconds: stable, readable JSON."""
    return round(float(value), 6)
