"""What a run records, and the statistics computed from it afterwards.

During the run nothing is aggregated: each function appends to a few ``array.array``
columns (about 60 bytes per request, no objects, no string formatting; 16 bytes for a warm
request of the fast path, :meth:`FunctionRecorder.compact_attempts`):

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

__all__ = ["FunctionRecorder", "StepLevel", "time_stats_ms", "time_stats_ms_many",
           "period_mean_max_ms",
           "period_time_stats_ms", "period_time_stats_ms_many", "PERIOD_QUANTILES",
           "deal_rows", "sorted_within", "round6", "round_to", "pack_request", "unpack_requests",
           "request_outcomes",
           "PERCENTILES", "ATTEMPT_FIELDS", "COMPACT_FIELDS", "THROTTLE_FIELDS",
           "REQUEST_FIELDS"]

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

    The fast path (:mod:`lambdasim.engine.fastpath`) records attempts compactly instead
    (:meth:`compact_attempts`): a warm attempt that ended well, by far the most common, is
    just its start and its Duration; :meth:`table` gives the same attempt rows either way.
    """

    __slots__ = ("attempts", "throttles", "requests", "env_created", "env_ended",
                 "derive_requests", "busy_level", "_compact", "_merged")

    def __init__(self) -> None:
        self.attempts = array("d")
        self.throttles = array("d")
        self.requests = array("d")
        self.env_created = array("d")
        self.env_ended = array("d")
        #: ``derive_requests(ordered) -> columns`` when request rows are not recorded but
        #: derived from the attempt and throttle rows (lambdasim.engine.fastpath), else None.
        self.derive_requests = None
        #: The attempts' concurrency level (a :class:`StepLevel` over start to start + init +
        #: duration), once someone built it after the run (the summary does, and the chart
        #: timeline reuses it); None before.
        self.busy_level: StepLevel | None = None
        #: Compact attempt buffers (warm starts, warm Durations, other rows), or None.
        self._compact: tuple[array, array, array] | None = None
        #: The compact attempts merged into columns (after the run), or None.
        self._merged: dict[str, np.ndarray] | None = None

    def compact_attempts(self) -> tuple[array, array, array]:
        """Record attempts compactly; returns the three buffers to append to.

        * a warm attempt that ended well (code 0: no Init, no error, no timeout): its start
          time to the first buffer and its Duration to the second (two appends, no row);
        * any other attempt: ``(start, init_s, duration_s, code, warm)`` to the third
          (:data:`COMPACT_FIELDS`), ``warm`` the number of warm attempts recorded before it.

        The origin of each is its start (a synchronous call without retries). Call before
        recording anything.
        """
        self._compact = (array("d"), array("d"), array("d"))
        return self._compact

    def attempt_count(self) -> int:
        """Attempts recorded so far."""
        if self._merged is not None:
            return len(self._merged["t"])
        if self._compact is not None:
            starts, _, other = self._compact
            return len(starts) + len(other) // len(COMPACT_FIELDS)
        return len(self.attempts) // len(ATTEMPT_FIELDS)

    def attempt_starts(self) -> np.ndarray:
        """Start times of the attempts recorded so far, in recording order (during a run)."""
        if self._compact is None or self._merged is not None:
            return self.table("attempts")["t"]
        return self._merge_compact()["t"]

    def _merge_compact(self) -> dict[str, np.ndarray]:
        """The compact buffers as attempt columns (ATTEMPT_FIELDS), in recording order.

        Contiguous columns; ``origin`` is the ``t`` array itself (each attempt's origin is
        its start).
        """
        starts, durations, other = (np.frombuffer(b, dtype=np.float64) for b in self._compact)
        other = other.reshape(-1, len(COMPACT_FIELDS))
        n = starts.size + len(other)
        t, init, duration, code = np.empty(n), np.zeros(n), np.empty(n), np.zeros(n)
        if len(other):
            # The k-th other row follows `warm` warm rows and k other rows.
            places = other[:, 4].astype(np.int64) + np.arange(len(other))
            warm = np.ones(n, dtype=bool)
            warm[places] = False
            t[warm] = starts
            duration[warm] = durations
            t[places] = other[:, 0]
            init[places] = other[:, 1]
            duration[places] = other[:, 2]
            code[places] = other[:, 3]
        else:
            t[:] = starts
            duration[:] = durations
        return {"t": t, "origin": t, "init": init, "duration": duration, "code": code}

    def table(self, name: str, ordered: bool = True) -> dict[str, np.ndarray]:
        """The rows of ``attempts``, ``throttles`` or ``requests`` as named columns.

        The columns are views on the recorded buffer (no copy); do not record after calling.
        Derived request rows are computed on each call; ``ordered=False`` spares their sort
        when the caller does not need the recording order.
        """
        if name == "requests" and self.derive_requests is not None:
            return self.derive_requests(ordered)
        fields = _FIELDS[name]
        if name == "attempts" and self._compact is not None:
            if self._merged is None:
                # The run is over: merge once, and free the compact buffers.
                self._merged = self._merge_compact()
                for buffer in self._compact:
                    del buffer[:]
            return dict(self._merged)
        data = np.frombuffer(getattr(self, name), dtype=np.float64)
        rows = data.reshape(-1, len(fields)) if data.size else np.empty((0, len(fields)))
        return {field: rows[:, i] for i, field in enumerate(fields)}

    def environments(self) -> tuple[np.ndarray, np.ndarray]:
        """Creation and end times of every environment (end NaN while alive)."""
        return (np.frombuffer(self.env_created, dtype=np.float64),
                np.frombuffer(self.env_ended, dtype=np.float64))

    def nbytes(self) -> int:
        """Memory held by the records."""
        held = sum(len(getattr(self, name)) * 8 for name in
                   ("attempts", "throttles", "requests", "env_created", "env_ended"))
        if self._merged is not None:
            held += sum(column.nbytes for key, column in self._merged.items() if key != "origin")
        elif self._compact is not None:
            held += sum(len(buffer) * 8 for buffer in self._compact)
        return held


ATTEMPT_FIELDS = ("t", "origin", "init", "duration", "code")
#: An attempt other than a warm one that ended well, recorded compactly (the fast path).
COMPACT_FIELDS = ("t", "init", "duration", "code", "warm")
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


#: Levels with at most this many changes each on average are reduced together.
_FEW_CHANGES = 64


def _clipped_sum(ordered: np.ndarray, a: float, b: float) -> float:
    """``float(np.clip(ordered, a, b).sum())`` of sorted values; no copy when none is clipped."""
    if ordered.size and a < ordered[0] and ordered[-1] < b and ordered.flags.c_contiguous:
        return float(np.add.reduce(ordered))  # the same pairwise sum as its contiguous copy's
    return float(np.add.reduce(np.clip(ordered, a, b)))


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
        if starts.size > 1 and not (starts[1:] >= starts[:-1]).all():
            starts = np.sort(starts)
        self.starts = starts
        self.ends = np.sort(np.asarray(ends, dtype=np.float64))
        # Level just after the k-th start: starts so far minus ends at or before it.
        after = self.ends.searchsorted(starts, side="right").astype(np.int32)
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

    def highest(self) -> int:
        """The highest level ever reached (0 for no intervals)."""
        return int(self._after_start.max()) if self._after_start.size else 0

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
        total = _clipped_sum(self.ends, a, b) - _clipped_sum(self.starts, a, b)
        return total / (b - a)

    def max(self, a: float, b: float) -> float:
        """Maximum over ``[a, b)``."""
        # The level just after a (value_at), then the levels just after the starts in (a, b).
        lo = int(self.starts.searchsorted(a, side="right"))
        best = lo - int(self.ends.searchsorted(a, side="right"))
        hi = int(self.starts.searchsorted(b, side="left"))
        if hi > lo:
            best = max(best, int(np.maximum.reduce(self._after_start[lo:hi])))
        return float(best)

    @staticmethod
    def max_mean_many(levels: "list[StepLevel]", a: float, b: float) -> tuple[list[int],
                                                                             list[float]]:
        """``int(level.max(a, b))`` and ``level.mean(a, b)`` of every level, each exactly as
        alone. Levels with few changes (live environments of a thousand functions) are
        reduced together in a few passes; busier ones one at a time (a few searches and two
        sums each beat a pass over every change)."""
        size = len(levels)
        sizes = np.array([len(level.starts) for level in levels], dtype=np.int64)
        if size <= 1 or int(sizes.sum()) > _FEW_CHANGES * size:
            return ([int(level.max(a, b)) for level in levels],
                    [level.mean(a, b) for level in levels])
        owner = np.repeat(np.arange(size, dtype=np.int64), sizes)
        starts = np.concatenate([level.starts for level in levels])
        ends = np.concatenate([level.ends for level in levels])
        # The level just after a: starts minus ends at or before it ...
        best = (np.bincount(owner[starts <= a], minlength=size)
                - np.bincount(owner[ends <= a], minlength=size))
        # ... raised to the highest level just after a start inside (a, b).
        inside = (starts > a) & (starts < b)
        if inside.any():
            after = np.concatenate([level._after_start for level in levels])[inside]
            groups = owner[inside]
            runs = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
            best[groups[runs]] = np.maximum(best[groups[runs]],
                                            np.maximum.reduceat(after, runs))
        if b <= a:
            return best.tolist(), [0.0] * size
        # Each level's clipped sums over its own rows, in its own order (as mean does).
        clipped_ends = np.clip(ends, a, b)
        clipped_starts = np.clip(starts, a, b)
        stops = np.cumsum(sizes).tolist()
        means = [(float(clipped_ends[lo:hi].sum()) - float(clipped_starts[lo:hi].sum())) / (b - a)
                 for lo, hi in zip([0] + stops[:-1], stops)]
        return best.tolist(), means

    @staticmethod
    def period_maxima_many(levels: "list[StepLevel]", edges: np.ndarray) -> list[np.ndarray]:
        """``level.period_maxima(edges)`` of every level, each exactly as alone. Levels with
        fewer changes than periods in all (live environments of a thousand functions) are
        reduced together in a few passes; busier ones one at a time (a few searches each)."""
        size, count = len(levels), len(edges) - 1
        sizes = [len(level.starts) for level in levels]
        if size <= 1 or sum(sizes) > size * count:
            return [level.period_maxima(edges) for level in levels]
        owner = np.repeat(np.arange(size, dtype=np.int64), sizes)
        starts = np.concatenate([level.starts for level in levels])
        ends = np.concatenate([level.ends for level in levels])

        def at_or_before(times: np.ndarray) -> np.ndarray:
            # Per level and k, how many times are <= edges[k]: each counts from the first
            # edge at or after it.
            first = np.searchsorted(edges[:-1], times, side="left")
            keep = first < count
            hits = np.bincount(owner[keep] * count + first[keep], minlength=size * count)
            return np.cumsum(hits.reshape(size, count), axis=1)

        # The level at each period's start (all changes at it applied) ...
        result = at_or_before(starts) - at_or_before(ends)
        # ... raised to the highest level just after a start within the period.
        period = np.searchsorted(edges, starts, side="right") - 1
        keep = (period >= 0) & (period < count)
        if keep.any():
            after = np.concatenate([level._after_start for level in levels])[keep]
            groups = owner[keep] * count + period[keep]
            runs = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
            flat = result.reshape(-1)
            flat[groups[runs]] = np.maximum(flat[groups[runs]], np.maximum.reduceat(after, runs))
        return list(result)

    def period_maxima(self, edges: np.ndarray) -> np.ndarray:
        """Maximum in each period ``[edges[k], edges[k+1])``."""
        bounds = self.starts.searchsorted(edges, side="left")
        # The level at each edge, its ends applied but not its starts: at most value_at(edge),
        # the level after the edge's last start, among the peaks below (one search fewer).
        result = bounds[:-1] - self.ends.searchsorted(edges[:-1], side="right")  # int64
        busy = np.flatnonzero(bounds[1:] > bounds[:-1])
        if busy.size:
            # One reduction over the periods that have starts (contiguous slices, so each
            # ends where the next non-empty one begins).
            peaks = np.maximum.reduceat(self._after_start[:bounds[-1]], bounds[busy])
            result[busy] = np.maximum(result[busy], peaks)
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


#: The summary's percentiles (PERCENTILES) as fractions, the way ``np.percentile`` makes them.
SUMMARY_QUANTILES = np.true_divide(np.array([q for _, q in PERCENTILES]), 100)
#: Samples up to this size are reduced together by :func:`time_stats_ms_many` (one sort);
#: larger ones alone (``np.percentile`` selects without sorting).
_MANY_LIMIT = 4096


def time_stats_ms_many(samples: list) -> list[dict[str, float | None]]:
    """:func:`time_stats_ms` of several samples (one per function), each exactly as alone.

    The small samples (thousands of quiet functions) are sorted one after the other and
    their percentiles taken at once; the mean of each is NumPy's (pairwise) mean, as alone.
    """
    out: list[dict | None] = []
    small, sizes = [], []
    for values_s in samples:
        values = np.asarray(values_s, dtype=np.float64)
        if values.size == 0 or values.size > _MANY_LIMIT:
            out.append(time_stats_ms(values))
            continue
        out.append(None)
        small.append((len(out) - 1, values))
        sizes.append(values.size)
    if not small:
        return out
    n = np.array(sizes, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    values = np.concatenate([sample for _, sample in small])
    if np.signbit(values).any():
        # A negative value (or -0.0, which a sort may place either side of 0.0): the
        # stable sort of them all, whose order of equal values is fixed.
        ordered = sorted_within(values, np.repeat(np.arange(n.size), n))
    else:
        # Each sample sorted on its own (NumPy's vectorised sort of doubles), one after the
        # other: the same array as sorting by (sample, value), several times faster.
        ordered = np.concatenate([np.sort(sample) for _, sample in small])
    quantiles = round6(_grouped_quantiles(ordered, n, offsets, SUMMARY_QUANTILES) * 1000.0)
    maxima = round6(np.maximum.reduceat(values, offsets) * 1000.0)
    keys = [key for key, _ in PERCENTILES]
    for (place, sample), row, peak in zip(small, quantiles, maxima):
        # ndarray.mean without its wrapper: NumPy's (pairwise) sum over the size.
        stats = {"mean": _tidy(np.add.reduce(sample) / sample.size * 1000.0)}
        stats.update(zip(keys, row))
        stats["max"] = peak
        out[place] = stats
    return out


#: Per-period percentiles of the series (``Duration_p50_ms`` ...), as fractions the way
#: ``np.percentile`` turns ``[50, 90, 99]`` into them.
PERIOD_QUANTILES = np.true_divide(np.array([50.0, 90.0, 99.0]), 100)


def period_time_stats_ms(values_s: np.ndarray, bounds: np.ndarray) -> list[tuple]:
    """Per period: ``(mean, p50, p90, p99, max)`` in ms of ``values_s[bounds[k]:bounds[k+1]]``.

    Values are rounded to 1e-6 ms; a period without values gets five ``None`` (CloudWatch
    shows no datapoint). Percentiles interpolate linearly between order statistics, the same
    arithmetic as ``np.percentile``. Few large periods (one busy function) are reduced one at
    a time; many small ones (thousands of functions) at once, with one sort for all of them,
    so the cost does not grow with the number of periods. There the mean is a sequential sum
    over the period (``np.add.reduceat``), which may differ from ``np.mean``'s pairwise sum in
    the last bit.
    """
    return period_time_stats_ms_many([(values_s, bounds)])[0]


def period_time_stats_ms_many(samples: list[tuple[np.ndarray, np.ndarray]]) -> list[list[tuple]]:
    """:func:`period_time_stats_ms` of several ``(values_s, bounds)`` (one per function).

    Each gets exactly the figures it would get alone; the many small periods of all of them
    are reduced together, with one sort (thousands of functions cost a few NumPy calls).
    """
    if len({len(bounds) for _, bounds in samples}) > 1:  # periods of different lengths
        return [period_time_stats_ms_many([sample])[0] for sample in samples]
    if not samples:
        return []
    bounds = np.array([np.asarray(b, dtype=np.int64) for _, b in samples], dtype=np.int64)
    counts = np.diff(bounds, axis=1)
    periods = counts.shape[1]
    busy = counts > 0
    filled = np.count_nonzero(busy, axis=1)
    out: list[list[tuple] | None] = [None] * len(samples)
    large = (filled > 0) & (counts.sum(axis=1) >= 256 * filled)
    for f in np.flatnonzero(~large).tolist():
        out[f] = [(None,) * 5] * periods
    for f in np.flatnonzero(large).tolist():
        # Few large periods (one busy function): one at a time.
        values_s, rows = samples[f][0], [(None,) * 5] * periods
        for k in np.flatnonzero(busy[f]).tolist():
            sample = values_s[bounds[f, k]:bounds[f, k + 1]]
            p50, p90, p99 = np.percentile(sample, [50.0, 90.0, 99.0]) * 1000.0
            rows[k] = (_tidy(float(sample.mean()) * 1000.0), _tidy(p50), _tidy(p90),
                       _tidy(p99), _tidy(float(sample.max()) * 1000.0))
        out[f] = rows
    small = np.flatnonzero((filled > 0) & ~large).tolist()
    if not small:
        return out
    # The many small periods of every other sample: one sort for all of them.
    values = np.concatenate([samples[f][0][bounds[f, 0]:bounds[f, -1]] for f in small])
    n = counts[small][busy[small]]
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    ordered = sorted_within(values, np.repeat(np.arange(n.size), n))
    quantiles = _grouped_quantiles(ordered, n, offsets, PERIOD_QUANTILES) * 1000.0
    means = np.add.reduceat(values, offsets) / n * 1000.0
    maxima = np.maximum.reduceat(values, offsets) * 1000.0
    table = list(zip(round6(means), *round6(quantiles.T), round6(maxima)))
    places = busy[small]
    if len(table) == places.size:  # every period of every sample has values
        flat = table
    else:
        flat = [(None,) * 5] * places.size
        for at, row in zip(np.flatnonzero(places.ravel()).tolist(), table):
            flat[at] = row
    for i, f in enumerate(small):
        out[f] = flat[i * periods:(i + 1) * periods]
    return out


def _grouped_quantiles(ordered: np.ndarray, n: np.ndarray, offsets: np.ndarray,
                       quantiles: np.ndarray) -> np.ndarray:
    """``np.percentile``'s linear quantiles of each group of ``ordered`` (sorted within its
    groups of sizes ``n`` (none empty) at ``offsets``), one row per group, the same
    arithmetic: virtual index (n - 1) q, its floor and the next index (both the last value
    when the index reaches n - 1), weight the fractional part."""
    virtual = (n - 1).astype(np.float64)[:, None] * quantiles[None, :]
    previous = np.floor(virtual)
    last = virtual >= (n - 1)[:, None]
    previous[last] = -1.0
    gamma = virtual - previous
    lower = np.where(last, n[:, None] - 1, previous).astype(np.int64) + offsets[:, None]
    upper = np.where(last, n[:, None] - 1, previous + 1).astype(np.int64) + offsets[:, None]
    a, b = ordered[lower], ordered[upper]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def sorted_within(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``values`` sorted by ``(group, value)``: ``values[np.lexsort((values, group))]``.

    One ``np.sort`` of complex numbers ``group + i value`` (NumPy orders complex numbers by
    real part, then imaginary part, exactly), several times faster than ``lexsort``'s
    indirect sort on large arrays. ``group`` holds integers below 2**53.
    """
    keys = np.empty(values.size, dtype=np.complex128)
    keys.real = group
    keys.imag = values
    # Timsort: the groups usually come in runs already (periods in time order), which it
    # merges instead of sorting from scratch; the result is the same either way.
    keys.sort(kind="stable")
    return keys.imag.copy()


def deal_rows(table: list[tuple], owners: list[tuple[list, list[int]]]) -> None:
    """Hand ``table``'s rows out in order: to each ``(rows, places)``, one per place."""
    at = 0
    for rows, places in owners:
        size = len(places)
        if size == len(rows):  # every period has values: one slice
            rows[:] = table[at:at + size]
        else:
            for k, row in zip(places, table[at:at + size]):
                rows[k] = row
        at += size


def round6(values: np.ndarray) -> list:
    """``[round(v, 6) for v in values]`` (Python's correctly rounded ``round``), vectorised;
    :func:`round_to` with 6 digits."""
    return round_to(values, 6)


def round_to(values: np.ndarray, digits: int) -> list:
    """``[round(v, digits) for v in values]`` (Python's correctly rounded ``round``),
    vectorised. Keeps nesting (a 2-D array gives a list of lists).

    ``np.round`` scales, rounds to an integer and scales back; that integer is Python's
    except where the scaled value lies within a few ulps of a half, so those few (and
    values too large for the shortcut) go through Python's ``round``. Scaling back divides
    by ``10**digits``, exact as a double for ``digits <= 22``, so the quotient is the double
    nearest the decimal, as Python's is.
    """
    values = np.asarray(values, dtype=np.float64)
    factor = float(10 ** digits)
    # Huge values overflow when scaled; they are doubtful and rounded by Python below.
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * factor
        fast = np.round(scaled) / factor
        distance = np.abs(scaled - np.floor(scaled) - 0.5)
        doubtful = ~(distance > 8.0 * np.spacing(np.abs(scaled))) | ~(np.abs(scaled) < 2.0 ** 51)
    out = fast.tolist()
    if doubtful.any():
        flat_out = fast.ravel()
        flat_in = values.ravel()
        for i in np.flatnonzero(doubtful.ravel()).tolist():
            flat_out[i] = round(float(flat_in[i]), digits)
        out = flat_out.reshape(values.shape).tolist()
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
