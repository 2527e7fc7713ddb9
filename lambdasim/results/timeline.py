"""Fine-grained views of a finished run for charts: environment states over time, request
rates and latency distributions.

The summary answers "how much"; charts answer "when". A chart needs more resolution than the
60 s metrics periods (a sale ramp lasts two minutes) but far less than the raw records (one row
per request), so this module reduces a finished :class:`~lambdasim.engine.model.Model`'s columnar
records to a few hundred bins per function (:func:`bin_width`) and keeps only that:

* environment states per bin, as time-weighted means: ``initializing`` (an attempt's Init),
  ``invoking`` (its handler Duration) and ``idle`` (live environments doing neither); they add
  up to the live environments, so they can be stacked;
* ``busy_max``: the peak of initializing + invoking in each bin (the level Lambda's
  concurrency limits apply to, drawn against the reserved and account limits);
* counts per bin of arrivals, invocations, throttles and cold starts;
* latency distributions of the requests the function answered in ``[warmup, duration)``,
  split by whether the final attempt was a cold start, as quantile curves (empirical CDF).

The sweep over intervals is :func:`level_integral`: the integral of the number of open
intervals from 0 to each grid point, from the sorted starts and ends with cumulative sums,
so the whole reduction is O(n log n) in the records and O(bins) in memory. Nothing here is
imported by the model; :func:`lambdasim.results.result.build_result` calls :func:`build_timeline`
once, after the run.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lambdasim.engine.function import COLD
from lambdasim.engine.invoke.sync import FAILED, SUCCEEDED
from lambdasim.engine.metrics import StepLevel, request_outcomes

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["Timeline", "FunctionTimeline", "LatencyCurve", "build_timeline", "bin_width",
           "level_integral", "MAX_BINS"]

#: At most this many bins cover a run.
MAX_BINS = 300
#: Round bin widths, in seconds.
_STEPS_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0,
            1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0)
#: Quantile levels of the latency curves: dense in the body, finer in the tail.
_QUANTILES = np.unique(np.concatenate([np.linspace(0.0, 0.99, 397),
                                       1.0 - np.logspace(-2, -5, 31), [1.0]]))


def bin_width(span_s: float, max_bins: int = MAX_BINS) -> float:
    """The smallest round bin width (0.1 s, 0.2 s, ... 1 d) that covers ``span_s`` in at most
    ``max_bins`` bins; whole days beyond."""
    for step in _STEPS_S:
        if span_s / step <= max_bins:
            return step
    return 86400.0 * float(np.ceil(span_s / (86400.0 * max_bins)))


def level_integral(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The integral from 0 to each ``at`` of the number of intervals ``[start, end)`` open.

    Each interval contributes ``clip(t, s, e) - s``; summed over intervals this is
    ``sum_{s <= t} (t - s) - sum_{e <= t} (t - e)``, evaluated for every ``t`` at once from the
    sorted starts and ends and their cumulative sums.
    """
    at = np.asarray(at, dtype=np.float64)
    return _open_area(_sorted(starts), at) - _open_area(_sorted(ends), at)


def _sorted(values: np.ndarray) -> np.ndarray:
    """``values`` sorted; used as it is when already sorted (attempt start times are)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size > 1 and not bool(np.all(values[1:] >= values[:-1])):
        return np.sort(values)
    return values


def _open_area(sorted_times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``sum over times <= t of (t - time)`` for each ``t`` in ``at``."""
    if sorted_times.size == 0:
        return np.zeros_like(at)
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_times)])
    count = np.searchsorted(sorted_times, at, side="right")
    return count * at - cumulative[count]


def _quantiles(sorted_values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of sorted values by linear interpolation (NumPy's default method)."""
    position = levels * (sorted_values.size - 1)
    lo = np.floor(position).astype(np.int64)
    hi = np.minimum(lo + 1, sorted_values.size - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (position - lo)


class LatencyCurve:
    """The latency distribution of a set of requests, as quantile levels and values.

    ``values_ms[i]`` is the ``levels[i]`` quantile (linear interpolation), so
    ``(values_ms, levels)`` is the empirical CDF; ``p50_ms`` and ``p99_ms`` as in the summary.
    """

    __slots__ = ("count", "levels", "values_ms", "p50_ms", "p99_ms")

    def __init__(self, latencies_s: np.ndarray) -> None:
        values = np.sort(np.asarray(latencies_s, dtype=np.float64)) * 1000.0
        self.count = int(values.size)
        if values.size:
            self.levels = _QUANTILES
            self.values_ms = _quantiles(values, _QUANTILES)
            self.p50_ms, self.p99_ms = (float(v) for v in _quantiles(values, np.array([0.5, 0.99])))
        else:
            self.levels = np.empty(0)
            self.values_ms = np.empty(0)
            self.p50_ms = self.p99_ms = None

    def __repr__(self) -> str:
        return f"LatencyCurve(count={self.count}, p50_ms={self.p50_ms}, p99_ms={self.p99_ms})"


class FunctionTimeline:
    """One function's chart data (see the module docstring); arrays of ``len(edges) - 1``."""

    __slots__ = ("name", "edges", "initializing", "invoking", "idle", "busy_max", "arrivals",
                 "invocations", "throttles", "cold_starts", "warm_latency", "cold_latency",
                 "reserved_concurrency")

    def __init__(self, name: str, edges: np.ndarray, **arrays: Any) -> None:
        self.name = name
        self.edges = edges
        for key, value in arrays.items():
            setattr(self, key, value)

    @property
    def width_s(self) -> float:
        return float(self.edges[1] - self.edges[0]) if len(self.edges) > 1 else 0.0


class Timeline:
    """Chart data of a run: a :class:`FunctionTimeline` per function on one grid.

    Attributes
    ----------
    edges : numpy.ndarray
        Bin edges in simulated seconds, ``edges[0] == 0`` and ``edges[-1] >= end_s``.
    end_s, duration_s, warmup_s : float
        End of the run (drain included), the horizon and the warm-up.
    account_limit : int
        The account's concurrency limit.
    account_busy_max : numpy.ndarray
        Peak concurrent executions of the whole account in each bin.
    functions : dict of str to FunctionTimeline
    """

    __slots__ = ("edges", "end_s", "duration_s", "warmup_s", "account_limit",
                 "account_busy_max", "functions")

    def __init__(self, edges, end_s, duration_s, warmup_s, account_limit, account_busy_max,
                 functions) -> None:
        self.edges = edges
        self.end_s = end_s
        self.duration_s = duration_s
        self.warmup_s = warmup_s
        self.account_limit = account_limit
        self.account_busy_max = account_busy_max
        self.functions = functions

    def __repr__(self) -> str:
        return (f"Timeline(bins={len(self.edges) - 1}, width_s={self.edges[1] - self.edges[0]}, "
                f"functions={list(self.functions)})")


def build_timeline(model: "Model", max_bins: int = MAX_BINS) -> Timeline:
    """Reduce a finished model's records to chart data (see the module docstring)."""
    end = max(model.end_s, model.duration_s)
    width = bin_width(end, max_bins)
    count = max(1, int(np.ceil(end / width - 1e-9)))
    edges = np.arange(count + 1, dtype=np.float64) * width
    functions = {}
    for name, recorder in model.recorders.items():
        functions[name] = _function_timeline(model, name, recorder, edges, end)
    if len(functions) == 1:
        account_busy_max = next(iter(functions.values())).busy_max
    else:
        starts, ends = [], []
        for recorder in model.recorders.values():
            attempts = recorder.table("attempts")
            starts.append(attempts["t"])
            ends.append(attempts["t"] + (attempts["init"] + attempts["duration"]))
        account_busy_max = StepLevel(np.concatenate(starts),
                                     np.concatenate(ends)).period_maxima(edges)
    return Timeline(edges, end, model.duration_s, model.warmup_s,
                    int(model.scenario.config["account"]["concurrency_limit"]),
                    account_busy_max, functions)


def _function_timeline(model: "Model", name: str, recorder, edges: np.ndarray,
                       end: float) -> FunctionTimeline:
    widths = np.diff(edges)
    attempts = recorder.table("attempts")
    t, init, duration = attempts["t"], attempts["init"], attempts["duration"]
    # Sorted once, shared by the busy level and its peaks, and with the summary's
    # concurrency level when it kept them (lambdasim.results.result).
    run_end = recorder.ends_sorted
    if run_end is None or run_end.size != t.size:
        run_end = np.sort(t + (init + duration))
    busy = np.diff(level_integral(t, run_end, edges)) / widths
    cold_init = init > 0.0  # few: only cold starts have an Init phase
    # Floating-point sums can leave a hair below zero where the levels cancel.
    initializing = np.maximum(np.diff(level_integral(
        t[cold_init], t[cold_init] + init[cold_init], edges)) / widths, 0.0)
    invoking = np.maximum(busy - initializing, 0.0)
    created, ended = recorder.environments()
    ended = np.where(np.isnan(ended), end, ended)
    live = np.diff(level_integral(created, ended, edges)) / widths
    idle = np.maximum(live - busy, 0.0)
    busy_max = StepLevel(t, run_end).period_maxima(edges)
    del run_end, busy

    codes = attempts["code"].astype(np.int64)
    requests = recorder.table("requests", ordered=False)
    arrived = requests["arrived"]
    outcome = request_outcomes(requests["packed"])
    answered = ((outcome == SUCCEEDED) | (outcome == FAILED)) & (arrived >= model.warmup_s) \
        & (arrived < model.duration_s)
    latency = requests["ended"][answered] - arrived[answered]
    cold = (requests["packed"][answered].astype(np.int64) & COLD) != 0
    return FunctionTimeline(
        name, edges,
        initializing=initializing,
        invoking=invoking,
        idle=idle,
        busy_max=busy_max,
        arrivals=_counts(arrived, edges),
        invocations=_counts(t, edges),
        throttles=_counts(recorder.table("throttles")["t"], edges),
        cold_starts=_counts(t[(codes & COLD) != 0], edges),
        warm_latency=LatencyCurve(latency[~cold]),
        cold_latency=LatencyCurve(latency[cold]),
        reserved_concurrency=model.scenario.config["functions"][name]["reserved_concurrency"],
    )


def _counts(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """How many times fall in each bin ``[edges[k], edges[k+1])`` (the last bin closed)."""
    counts, _ = np.histogram(times, bins=edges)
    return counts
