"""Fine-grained views of a finished run for charts: environment states over time, request
rates and latency distributions.

The summary answers "how much"; charts answer "when". A chart needs more resolution than the
60 s metrics periods (a sale ramp lasts two minutes) but far less than the raw records (one row
per request), so this module reduces a finished :class:`~lambdasim.engine.model.Model`'s columnar
records to a few hundred bins per function (:func:`bin_width`) and keeps only that:

* environment states per bin, as time-weighted means: ``initializing`` (an attempt's Init),
  ``invoking`` (its handler Duration) and ``idle`` (live environments doing neither); they add
  up to the live environments, so they can be stacked; for a function with provisioned
  concurrency ``idle_provisioned`` is the part of ``idle`` that is provisioned environments
  (live provisioned environments not running a provisioned invocation,
  :func:`provisioned_idle`), the rest of ``idle`` being on-demand environments awaiting reuse;
* ``busy_max``: the peak of initializing + invoking in each bin (the level Lambda's
  concurrency limits apply to, drawn against the reserved and account limits);
* counts per bin of arrivals, invocations, throttles and cold starts;
* latency distributions of the requests the function answered in ``[warmup, duration)``,
  split by whether the final attempt was a cold start, as quantile curves (empirical CDF);
* the same counts restricted to what the summary table counts (``*_counted``: requests that
  arrive in ``[warmup, duration)`` and the attempts made for them, retries included), so a
  chart's total is the table's figure and the warm-up part can be drawn apart;
* the end-to-end latency p50 and p99 of the requests arriving in each bin (retries included;
  NaN where none was answered), and the cost of each bin: every item of the table's
  ``cost_usd`` spread over the bins in proportion to the usage it bills
  (:func:`lambdasim.results.periods.cost_shares`, as metrics.csv's ``Cost_usd``), so the
  bins add up to the table's cost exactly, tiers and free tier included;
* the trigger-specific columns (asynchronous queue, SQS, streams, provisioned concurrency) on
  the same bins, from the reporters' ``series`` (SQS levels are tracked during the run at a
  period that divides both the metrics period and the chart bins,
  :func:`lambdasim.engine.online_levels.track_period`; where a long drain makes the bins
  coarser than planned and not a whole group of it, the SQS chart is drawn per metrics
  period and says so).

The bins are the metrics period when it gives between :data:`MIN_PERIOD_BINS` and
:data:`MAX_BINS` bins (the charts then show what metrics.csv holds), else the round width of
:func:`bin_width`. Every chart of a run uses these bins.

The sweep over intervals is :func:`level_integral`: the integral of the number of open
intervals from 0 to each grid point, from the sorted starts and ends with cumulative sums,
so the whole reduction is O(n log n) in the records and O(bins) in memory. Nothing here is
imported by the model; :func:`lambdasim.results.result.build_result` calls :func:`build_timeline`
once, after the run.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from lambdasim.engine.billing import COST_ITEMS
from lambdasim.engine.function import COLD, PROVISIONED
from lambdasim.engine.invoke.sync import FAILED, SUCCEEDED, THROTTLED
from lambdasim.engine.metrics import StepLevel, request_outcomes
from lambdasim.engine.online_levels import round_width
from lambdasim.results.periods import cost_shares, merge_series

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["Timeline", "FunctionTimeline", "LatencyCurve", "build_timeline", "bin_width",
           "chart_width", "replication_width", "digest", "DIGEST_FIELDS", "level_integral",
           "provisioned_idle", "MAX_BINS", "MIN_PERIOD_BINS", "COST_ITEMS"]

#: At most this many bins cover a run.
MAX_BINS = 300
#: The metrics period is used for the bins when it gives at least this many.
MIN_PERIOD_BINS = 60
#: Quantile levels of the latency curves: dense in the body, finer in the tail.
_QUANTILES = np.unique(np.concatenate([np.linspace(0.0, 0.99, 397),
                                       1.0 - np.logspace(-2, -5, 31), [1.0]]))


def bin_width(span_s: float, max_bins: int = MAX_BINS) -> float:
    """The smallest round bin width (0.1 s, 0.2 s, ... 1 d) that covers ``span_s`` in at most
    ``max_bins`` bins; whole days beyond."""
    return round_width(span_s, max_bins)


def chart_width(span_s: float, period_s: float, max_bins: int = MAX_BINS) -> float:
    """The bin width of a run's charts: the metrics period when ``span_s`` holds between
    :data:`MIN_PERIOD_BINS` and ``max_bins`` of them, else :func:`bin_width`."""
    if period_s > 0 and MIN_PERIOD_BINS <= np.ceil(span_s / period_s - 1e-9) <= max_bins:
        return float(period_s)
    return bin_width(span_s, max_bins)


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
    cumulative = np.cumsum(sorted_times)
    count = np.searchsorted(sorted_times, at, side="right")
    return count * at - np.where(count > 0, cumulative[np.maximum(count - 1, 0)], 0.0)


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
    """One function's chart data (see the module docstring); arrays of ``len(edges) - 1``.

    Counts per bin cover the whole run; their ``*_counted`` twins only what the summary
    table counts (requests arriving in ``[warmup, duration)`` and their attempts), so
    ``arrivals_counted.sum()`` is ``requests.arrived``, ``invocations_counted.sum()`` is
    ``invocations``, ``throttles_counted.sum()`` is ``throttles`` (attempts),
    ``throttled_counted.sum()`` is ``requests.throttled`` and ``cold_starts_counted.sum()``
    is ``cold_starts``. ``cost_usd`` maps each cost item to its per-bin share (adding up to
    the table's ``cost_usd`` item); ``series`` holds trigger columns on the same bins and
    ``series_edges`` the bins of any column monitored per metrics period instead.
    ``idle_provisioned`` is None for a function without provisioned concurrency, else the
    mean idle provisioned environments per bin (part of ``idle``).
    """

    __slots__ = ("name", "edges", "initializing", "invoking", "idle", "idle_provisioned",
                 "busy_max", "arrivals",
                 "invocations", "throttles", "cold_starts", "arrivals_counted",
                 "invocations_counted", "throttles_counted", "throttled_counted",
                 "cold_starts_counted", "latency_p50_ms", "latency_p99_ms", "latency_count",
                 "cost_usd", "series", "series_edges", "warm_latency", "cold_latency",
                 "reserved_concurrency", "active_end_s")

    def __init__(self, name: str, edges: np.ndarray, **arrays: Any) -> None:
        self.name = name
        self.edges = edges
        self.cost_usd = {}
        self.series = {}
        self.series_edges = {}
        self.idle_provisioned = None
        self.active_end_s = float(edges[-1]) if len(edges) else 0.0
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
    period_s : float or None
        The run's metrics period (metrics.csv), which may differ from the bin width.
    """

    __slots__ = ("edges", "end_s", "duration_s", "warmup_s", "account_limit",
                 "account_busy_max", "functions", "period_s")

    def __init__(self, edges, end_s, duration_s, warmup_s, account_limit, account_busy_max,
                 functions, period_s: float | None = None) -> None:
        self.period_s = period_s
        self.edges = edges
        self.end_s = end_s
        self.duration_s = duration_s
        self.warmup_s = warmup_s
        self.account_limit = account_limit
        self.account_busy_max = account_busy_max
        self.functions = functions

    @property
    def width_s(self) -> float:
        """The bin width in seconds, the same on every chart of the run."""
        return float(self.edges[1] - self.edges[0]) if len(self.edges) > 1 else 0.0

    def __repr__(self) -> str:
        return (f"Timeline(bins={len(self.edges) - 1}, width_s={self.edges[1] - self.edges[0]}, "
                f"functions={list(self.functions)})")


def build_timeline(model: "Model", max_bins: int = MAX_BINS,
                   costs: Mapping[str, Mapping[str, Any]] | None = None,
                   width_s: float | None = None,
                   period_shares: tuple[np.ndarray, Mapping[str, Any]] | None = None
                   ) -> Timeline:
    """Reduce a finished model's records to chart data (see the module docstring).

    ``costs``: each function's ``cost_usd`` block of the summary, spread over the bins.
    ``width_s``: a bin width to use instead of :func:`chart_width` (replications share one).
    ``period_shares``: the metrics periods' edges and each function's
    :func:`~lambdasim.results.periods.cost_shares` on them (the summary's), used as the cost
    bins when the bins are those periods.
    """
    end = max(model.end_s, model.duration_s)
    width = chart_width(end, model.period_s, max_bins) if width_s is None else float(width_s)
    count = max(1, int(np.ceil(end / width - 1e-9)))
    edges = np.arange(count + 1, dtype=np.float64) * width
    functions = {}
    reuse = period_shares is not None and np.array_equal(period_shares[0], edges)
    for name, recorder in model.recorders.items():
        functions[name] = _function_timeline(model, name, recorder, edges, end)
        if costs is not None and name in costs:
            if reuse and name in period_shares[1]:
                functions[name].cost_usd = period_shares[1][name]
            else:
                functions[name].cost_usd = cost_shares(model, name, edges, costs[name])
        _trigger_series(model, name, functions[name])
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
                    account_busy_max, functions, model.period_s)


def replication_width(duration_s: float, period_s: float) -> float:
    """The bin width that every replication of a scenario uses, from its horizon alone (the
    drain after it differs between replications)."""
    return chart_width(duration_s * 1.02, period_s)


#: Per-bin arrays of a function that replication charts average (see :func:`digest`).
DIGEST_FIELDS = ("busy", "live", "busy_max", "arrivals", "invocations", "throttles_counted",
                 "throttled_counted", "cold_starts_counted", "latency_p50_ms",
                 "latency_p99_ms", "cost_usd")


def digest(timeline: Timeline, dependency_rows: Mapping[str, list] | None = None
           ) -> dict[str, Any]:
    """The few per-bin arrays of a run that replication charts average, as plain data.

    ``busy`` is invoking + initializing (time-weighted mean per bin), ``live`` adds idle,
    ``cost_usd`` is the total of every cost item per bin; ``series`` the trigger columns
    (:attr:`FunctionTimeline.series`) with ``series_width_s`` the bin width of any column
    kept per metrics period instead; the rest as in :class:`FunctionTimeline`; at the top,
    ``account_busy_max`` (peak concurrent executions of the account per bin) and, given the
    run's ``dependency_series`` rows (one per metrics period and dependency), ``dependencies``:
    per dependency ``period_s`` and the arrays ``InUse_max``, ``InUse_avg``, ``Waits``,
    ``Rejected`` per metrics period. Small enough to send back from a worker process.
    """
    functions = {}
    for name, data in timeline.functions.items():
        busy = data.invoking + data.initializing
        cost = (np.sum(list(data.cost_usd.values()), axis=0) if data.cost_usd
                else np.zeros(len(busy)))
        functions[name] = {
            "busy": busy, "live": busy + data.idle, "busy_max": data.busy_max.astype(float),
            "arrivals": data.arrivals.astype(float),
            "invocations": data.invocations.astype(float),
            "throttles_counted": data.throttles_counted.astype(float),
            "throttled_counted": data.throttled_counted.astype(float),
            "cold_starts_counted": data.cold_starts_counted.astype(float),
            "latency_p50_ms": data.latency_p50_ms, "latency_p99_ms": data.latency_p99_ms,
            "cost_usd": cost,
            "reserved_concurrency": data.reserved_concurrency,
            "series": dict(data.series),
            "series_width_s": {column: float(edges[1] - edges[0])
                               for column, edges in data.series_edges.items()},
        }
    out = {"width_s": timeline.width_s, "end_s": timeline.end_s,
           "duration_s": timeline.duration_s, "warmup_s": timeline.warmup_s,
           "account_limit": timeline.account_limit, "functions": functions,
           "account_busy_max": np.asarray(timeline.account_busy_max, dtype=float)}
    if dependency_rows and dependency_rows.get("dependency"):
        out["dependencies"] = _dependency_digest(dependency_rows)
    return out


#: The dependency columns (``dependencies.csv``) that replication charts average.
DEPENDENCY_DIGEST = ("InUse_max", "InUse_avg", "Waits", "Rejected")


def _dependency_digest(rows: Mapping[str, list]) -> dict[str, dict[str, Any]]:
    names = np.asarray(rows["dependency"], dtype=object)
    starts = np.asarray(rows["period_start_s"], dtype=np.float64)
    out = {}
    for name in dict.fromkeys(rows["dependency"]):
        mine = names == name
        t = starts[mine]
        block: dict[str, Any] = {"period_s": float(t[1] - t[0]) if t.size > 1 else None}
        for column in DEPENDENCY_DIGEST:
            block[column] = np.asarray(rows[column], dtype=np.float64)[mine]
        out[str(name)] = block
    return out


def _function_timeline(model: "Model", name: str, recorder, edges: np.ndarray,
                       end: float) -> FunctionTimeline:
    widths = np.diff(edges)
    warmup, horizon = model.warmup_s, model.duration_s
    attempts = recorder.table("attempts")
    t, init, duration = attempts["t"], attempts["init"], attempts["duration"]
    # The summary's concurrency level (lambdasim.results.result), reused: its sorted ends
    # and the level after each start give the busy level and its peaks per bin.
    level = recorder.busy_level
    if level is None or level.starts.size != t.size:
        level = StepLevel(t, t + (init + duration))
    run_end = level.ends
    busy = np.diff(_open_area(level.starts, edges) - _open_area(run_end, edges)) / widths
    cold_init = init > 0.0  # few: only cold starts have an Init phase
    # Floating-point sums can leave a hair below zero where the levels cancel.
    initializing = np.maximum(np.diff(level_integral(
        t[cold_init], t[cold_init] + init[cold_init], edges)) / widths, 0.0)
    invoking = np.maximum(busy - initializing, 0.0)
    created, ended = recorder.environments()
    ended = np.where(np.isnan(ended), end, ended)
    live = np.diff(level_integral(created, ended, edges)) / widths
    idle = np.maximum(live - busy, 0.0)
    busy_max = level.period_maxima(edges)
    run_last = float(run_end[-1]) if run_end.size else 0.0
    del run_end, busy, level

    codes = attempts["code"].astype(np.int64)
    idle_provisioned = None
    if getattr(model.functions.get(name), "provisioned", None) is not None:
        idle_provisioned = provisioned_idle(created, ended, t, init + duration, codes,
                                            edges, idle)
    origin = attempts["origin"]
    counted = (origin >= warmup) & (origin < horizon)
    cold_code = (codes & COLD) != 0
    throttles = recorder.table("throttles")
    throttle_counted = (throttles["origin"] >= warmup) & (throttles["origin"] < horizon)

    requests = recorder.table("requests", ordered=False)
    arrived = requests["arrived"]
    # Request rows are often in arrival order already (derived from the attempts of a
    # synchronous function): then every count of arrivals is a few binary searches.
    by_arrival = arrived.size < 2 or bool(np.all(arrived[1:] >= arrived[:-1]))
    outcome = request_outcomes(requests["packed"])
    in_window = (arrived >= warmup) & (arrived < horizon)
    answered_all = (outcome == SUCCEEDED) | (outcome == FAILED)
    latency_all = requests["ended"][answered_all] - arrived[answered_all]
    p50, p99, n_answered = _latency_bins(arrived[answered_all], latency_all, edges,
                                         is_sorted=by_arrival)
    answered = answered_all & in_window
    latency = requests["ended"][answered] - arrived[answered]
    cold = (requests["packed"][answered].astype(np.int64) & COLD) != 0
    return FunctionTimeline(
        name, edges,
        initializing=initializing,
        invoking=invoking,
        idle=idle,
        busy_max=busy_max,
        arrivals=_counts(arrived, edges, is_sorted=by_arrival),
        invocations=_counts(t, edges, is_sorted=True),
        throttles=_counts(throttles["t"], edges, is_sorted=True),
        cold_starts=_counts(t[cold_code], edges, is_sorted=True),
        arrivals_counted=_counts(arrived[in_window], edges, is_sorted=by_arrival),
        invocations_counted=_counts(t[counted], edges, is_sorted=True),
        throttles_counted=_counts(throttles["t"][throttle_counted], edges, is_sorted=True),
        throttled_counted=_counts(arrived[in_window & (outcome == THROTTLED)], edges,
                                   is_sorted=by_arrival),
        cold_starts_counted=_counts(t[cold_code & counted], edges, is_sorted=True),
        latency_p50_ms=p50,
        latency_p99_ms=p99,
        latency_count=n_answered,
        warm_latency=LatencyCurve(latency[~cold]),
        cold_latency=LatencyCurve(latency[cold]),
        idle_provisioned=idle_provisioned,
        reserved_concurrency=model.scenario.config["functions"][name]["reserved_concurrency"],
        active_end_s=_active_end(edges, horizon, run_last, requests["ended"]),
    )


def provisioned_idle(created: np.ndarray, ended: np.ndarray, t: np.ndarray,
                     run: np.ndarray, codes: np.ndarray, edges: np.ndarray,
                     idle: np.ndarray) -> np.ndarray:
    """Mean idle provisioned environments in each bin (environments), a part of ``idle``.

    An idle provisioned environment is one that is live and provisioned but not running a
    provisioned invocation: the provisioned environments live in the bin (a time-weighted
    mean) less the provisioned invocations running (their mean), so ``idle`` less this is
    the on-demand environments awaiting reuse. Allocated capacity is not the count: capacity
    waiting for a free unit of its pool has no environment yet, and a busy environment above
    a decreased capacity lives until its invocation ends
    (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html).

    The recorder does not say which environment is provisioned; creation says it: every
    on-demand environment is created by a cold start recorded at its creation time (an
    attempt with ``COLD`` and without ``PROVISIONED``), and a provisioned one without any
    attempt, before the on-demand ones created at the same instant (Lambda gives a request a
    provisioned environment first). ``created`` and ``ended`` are by environment id (in
    creation order; ``ended`` without NaN), ``t``, ``run`` (Init + Duration) and ``codes``
    the attempts, ``edges`` the bins, ``idle`` the mean idle environments of each bin.
    """
    widths = np.diff(edges)
    provisioned = (codes & PROVISIONED) != 0
    cold = _sorted(t[((codes & COLD) != 0) & ~provisioned])
    created = np.asarray(created, dtype=np.float64)
    index = np.arange(created.size)
    first = np.searchsorted(created, created, side="left")   # created is non-decreasing
    together = np.searchsorted(created, created, side="right") - first
    on_demand = (np.searchsorted(cold, created, side="right")
                 - np.searchsorted(cold, created, side="left"))
    mine = (index - first) < (together - on_demand)
    live = np.diff(level_integral(created[mine], ended[mine], edges)) / widths
    starts = t[provisioned]
    busy = np.diff(level_integral(starts, starts + run[provisioned], edges)) / widths
    # Floating-point sums can leave a hair outside [0, idle] where the levels cancel.
    return np.minimum(np.maximum(live - busy, 0.0), idle)


def _active_end(edges: np.ndarray, horizon: float, last_attempt_end: float,
                ended: np.ndarray) -> float:
    """Where a function's charts may end: a little after its last attempt or answer (never
    before the horizon), on a bin edge; the run's end when the function worked until then.
    """
    last = max(horizon, last_attempt_end,
               float(np.nanmax(ended)) if ended.size and np.isfinite(ended).any() else 0.0)
    last += 0.05 * last
    k = int(np.searchsorted(edges, last, side="left"))
    return float(edges[min(k, len(edges) - 1)])


def _counts(times: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None, *,
            is_sorted: bool = False) -> np.ndarray:
    """How many times fall in each bin ``[edges[k], edges[k+1])`` (the last bin closed);
    with ``weights``, their sum per bin. ``is_sorted``: the times are in order (attempt
    starts and throttles are recorded so), counted in O(bins log n) plus one cumulative sum.
    """
    if not is_sorted:
        counts, _ = np.histogram(times, bins=edges, weights=weights)
        return counts
    bounds = np.searchsorted(times, edges, side="left")
    bounds[-1] = np.searchsorted(times, edges[-1], side="right")  # the last bin closed
    if weights is None:
        return np.diff(bounds)
    cumulative = np.concatenate([[0.0], np.cumsum(weights, dtype=np.float64)])
    return cumulative[bounds[1:]] - cumulative[bounds[:-1]]


def _latency_bins(arrived: np.ndarray, latency_s: np.ndarray, edges: np.ndarray, *,
                  is_sorted: bool = False):
    """p50 and p99 (ms, linear interpolation) of the latencies of requests arriving in each
    bin, NaN where none; and how many requests each bin holds. ``is_sorted``: the requests
    are in arrival order, so each bin is a slice found by binary search."""
    count = len(edges) - 1
    p50 = np.full(count, np.nan)
    p99 = np.full(count, np.nan)
    if is_sorted:
        bounds = np.searchsorted(arrived, edges, side="left")
        bounds[0], bounds[-1] = 0, arrived.size  # the first and last bins take what is beyond
        values = latency_s * 1000.0
    else:
        bins = np.clip(np.searchsorted(edges, arrived, side="right") - 1, 0, count - 1)
        if count < 32_000:  # NumPy sorts 16-bit integers stably by radix, in O(n)
            bins = bins.astype(np.int16)
        order = np.argsort(bins, kind="stable")
        values = latency_s[order] * 1000.0
        bounds = np.searchsorted(bins[order], np.arange(count + 1), side="left")
    sizes = np.diff(bounds)
    # NaN-free, as latencies of answered requests are: one partition per bin gives what
    # np.percentile gives (it would also look for NaNs, at about twice the cost per bin).
    exact = _p50_p99 if np.isfinite(values).all() else (
        lambda sample: np.percentile(sample, (50.0, 99.0)))
    for k in np.flatnonzero(sizes):
        p50[k], p99[k] = exact(values[bounds[k]:bounds[k + 1]])
    return p50, p99, sizes


def _p50_p99(sample: np.ndarray) -> tuple[float, float]:
    """``np.percentile(sample, (50, 99))`` of a non-empty sample without NaNs, bit for bit:
    the order statistics around each virtual index ``(n - 1) q`` from one partition, joined
    by NumPy's linear interpolation (``_lerp``: from the nearer side)."""
    n = sample.size
    virtual = [(n - 1) * 0.5, (n - 1) * (99.0 / 100)]
    lows = [math.floor(v) for v in virtual]
    part = np.partition(sample, sorted({min(i, n - 1) for low in lows for i in (low, low + 1)}))
    out = []
    for v, low in zip(virtual, lows):
        if v >= n - 1:  # the top of the sample
            out.append(float(part[n - 1]))
            continue
        a, b, t = float(part[low]), float(part[low + 1]), v - low
        diff = b - a
        out.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return out[0], out[1]


def _trigger_series(model: "Model", name: str, data: FunctionTimeline) -> None:
    """Trigger columns on the chart bins; per metrics period where the levels were tracked
    too coarsely for them (then ``series_edges`` says so)."""
    edges = data.edges
    count = max(1, int(np.ceil(model.end_s / model.period_s - 1e-9)))
    periods = np.arange(count + 1, dtype=np.float64) * model.period_s
    merged: dict[str, list] = {}
    on_periods: set[str] = set()  # columns kept per metrics period
    seen: list = []
    for reporter in model.reporters.get(name, ()):
        try:
            columns = reporter.series(model, edges)
            coarse = False
        except ValueError:  # levels tracked online per metrics period only
            columns = reporter.series(model, periods)
            coarse = True
        for column in [c for c in columns if c in merged and (c in on_periods) != coarse]:
            # A summed column (ProvisionedPollers) met on two grids: both on the periods.
            if coarse:
                merged[column] = _column_on_periods(model, name, column, periods, seen)
                on_periods.add(column)
            else:
                columns[column] = _column_on_periods(model, name, column, periods, [reporter])
        merge_series(merged, columns, name)  # ProvisionedPollers summed, others unique
        seen.append(reporter)
        if coarse:
            on_periods.update(columns)
    for column, values in merged.items():
        data.series[column] = np.array([np.nan if v is None else float(v) for v in values])
        if column in on_periods:
            data.series_edges[column] = periods


def _column_on_periods(model: "Model", name: str, column: str, periods: np.ndarray,
                       reporters: list) -> list:
    """``column`` per metrics period, summed over those of ``reporters`` (of function
    ``name``) that write it."""
    merged: dict[str, list] = {}
    for reporter in reporters:
        values = reporter.series(model, periods).get(column)
        if values is not None:
            merge_series(merged, {column: values}, name)
    return merged[column]
