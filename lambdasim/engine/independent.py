"""Functions run one after another, each with a run loop of its own, when that is the same run.

Functions of the common configuration (:mod:`lambdasim.engine.fastpath`: synchronous calls to
an on-demand function, nothing else in the model) touch one another only through two shared
limits: the unreserved concurrency pool (lambda-concurrency.html) and the account's request
rate (10 x the concurrency limit, lambda-concurrency.html). Everything else a function uses is
its own: its environments, its scale-out token bucket, its random streams, its records.

Interleaving a thousand such functions in one event loop costs time for nothing: each request
touches its function's state, and with many functions that state is never in the CPU caches
(the 1,000-function row of ``benchmarks/throughput.py``). So a model of such functions runs
each function to the horizon on a :class:`~lambdasim.engine.loop.Simulation` of its own, one
after another, with its own copy of the account's request-rate bucket, and then checks that
running them together would have decided every request the same way:

* **the unreserved pool never filled**: at every admission, the units busy across the
  functions that share the pool (admissions up to that instant, less invocations ended by it)
  were within its limit, and no function of the pool was throttled for concurrency;
* **the account's request rate never ran out**: the account's bucket (GCRA, as
  :class:`~lambdasim.engine.account.TokenBucket`) over every function's arrivals, merged in
  time, always had a token, with a margin for rounding;
* **no order rested on event ids**: an arrival and a NORMAL event (a keep-alive timer) of a
  function never fell at the same instant (their order in one loop depends on when the
  previous arrival of *any* function was handled, :mod:`lambdasim.engine.loop`).

Then each function saw exactly the requests, the environments and the draws it would have
seen in one loop, and the run is the same run: the same rows, in the same order, the same
summary byte for byte (``tests/test_independent.py`` compares both ways on many scenarios).
When a check fails, :meth:`lambdasim.engine.model.Model.run` builds the model again and runs
the functions together. The drain after the horizon is reproduced too: one loop stops when the
last request in flight ends, so each function's events before that moment are processed.
"""
from __future__ import annotations

from heapq import heappop
from typing import Any, Callable

import numpy as np

from lambdasim.engine.account import DualTokenBucket, TokenBucket
from lambdasim.engine.fastpath import qualifies
from lambdasim.engine.function import THROTTLE_CONCURRENCY, THROTTLE_RATE
from lambdasim.engine.loop import Simulation
from lambdasim.engine.metrics import StepLevel

__all__ = ["can_run_separately", "separate", "run_separately", "PROGRESS_SLICES"]

#: With a progress callback, the functions advance together in this many slices of
#: simulated time (each function runs to the slice's end in turn).
PROGRESS_SLICES = 20


def can_run_separately(model) -> bool:
    """Whether ``model`` (built, not yet specialised or run) is made only of functions of the
    common configuration, more than one, with nothing else scheduled."""
    if len(model.functions) < 2 or model.sim._queue:
        return False
    return all(qualifies(function, model.triggers[name])
               for name, function in model.functions.items())


def separate(model) -> dict[str, Simulation]:
    """Give each function of ``model`` a run loop of its own and its own copy of the account's
    request-rate bucket; returns the loops by function name. Before :func:`specialise`."""
    taken = model.sim.take_arrivals()
    account = model.account
    shared_rate = account.request_rate
    sims: dict[str, Simulation] = {}
    for name, function in model.functions.items():
        sim = Simulation()
        sims[name] = sim
        function.sim = sim
        function.environments.sim = sim
        for trigger in model.triggers[name]:
            feeds = model.arrival_feeds.get(id(trigger), [])
            model.arrival_feeds[id(trigger)] = [sim.add_arrivals(*taken[feed])
                                                for feed in feeds]
        limiter = getattr(function._request_rate, "__self__", None)
        if limiter is shared_rate and type(limiter) is TokenBucket:
            function._request_rate = _copy(limiter).take
        elif type(limiter) is DualTokenBucket and limiter.first is shared_rate:
            function._request_rate = DualTokenBucket(_copy(limiter.first), limiter.second).take
    return sims


def _copy(bucket: TokenBucket) -> TokenBucket:
    return TokenBucket(bucket.capacity, bucket.rate)


def run_separately(model, limit: float,
                   progress: Callable[[float, int | None], None] | None = None) -> bool:
    """Run each function of ``model`` on its own loop to the horizon, drain, and check that
    running them together is the same run (module docstring).

    Sets ``model.end_s`` and ``model.events`` as a run in one loop would. Returns False when
    a check fails: the model's state is then spent, and the run must be done together.
    """
    sims: dict[str, Simulation] = model.separate_runs
    duration = model.duration_s
    tally = _Tally(sims)
    shared = _shared_limits(model)
    slices = 1 if progress is None else PROGRESS_SLICES
    for k in range(1, slices + 1):
        target = duration if k == slices else duration * k / slices
        for name, sim in sims.items():
            tally.runs[name] += _run_to(sim, target)
            if name in shared and _throttled_on_shared(model, name):
                return False  # known now: stop here rather than after every function
        if progress is not None:
            progress(target, tally.events())
    # The drain after the horizon: each function until its last request in flight ends.
    drained = False
    end = duration
    for name, sim in sims.items():
        function = model.functions[name]
        if function.in_use:
            drained = True
            while function.in_use and sim.peek() <= limit:
                sim.step()
            if function.in_use:  # the drain limit: let the joint run decide
                return False
            end = max(end, sim.now)
    if drained:
        # One loop would have stopped when the last request ended: every event before it
        # (keep-alive timers of the functions that had drained earlier) happened.
        for sim in sims.values():
            queue = sim._queue
            while queue and queue[0][0] < end:
                sim.step()
        if progress is not None:
            progress(end, None)
    if any(sim.normal_ties for sim in sims.values()):
        return False
    sorted_starts: dict[tuple[str, ...], np.ndarray] = {}
    if not _pools_never_full(model, sorted_starts) or not _request_rate_never_ran_out(
            model, sorted_starts):
        return False
    model.end_s = end
    # One loop's count: the model's events, plus its 'until' event and, when it drained,
    # that event put back by SimPy's stop.
    model.events = tally.events() + 1 + int(drained)
    return True


def _run_to(sim: Simulation, target: float) -> int:
    """``sim.run(until=target)`` without leaving SimPy's stop event queued; returns the runs
    made (0 or 1). Each run takes two event ids (the 'until' event and its re-scheduling)."""
    if target <= sim.now:
        return 0
    sim.run(until=target)
    queue = sim._queue
    if queue and queue[0][1] == -1:  # the 'until' event SimPy put back, ahead of all
        heappop(queue)
    return 1


class _Tally:
    """Counts what the functions' loops did that a single loop's event count leaves out."""

    __slots__ = ("sims", "runs", "reads")

    def __init__(self, sims: dict[str, Simulation]) -> None:
        self.sims = sims
        #: Per loop, its 'until' runs (two event ids each: the event and its re-scheduling).
        self.runs = dict.fromkeys(sims, 0)
        #: Reads of the id counters so far (reading one takes an id).
        self.reads = 0

    def events(self) -> int:
        """Events the loops processed: ids taken, less those still queued, arrivals' ids,
        the 'until' runs' and this tally's own reads."""
        reads, self.reads = self.reads, self.reads + 1
        return sum(next(sim._eid) - reads - len(sim._queue) - sim.arrivals_taken
                   - 2 * self.runs[name] for name, sim in self.sims.items())


def _shared_limits(model) -> set[str]:
    """The functions whose throttles for concurrency or request rate come only from a shared
    limit: those of a pool shared with another function, unless they have a request-rate
    limit of their own (reserved concurrency: its throttles are their own)."""
    users: dict[int, int] = {}
    for function in model.functions.values():
        users[id(function.pool)] = users.get(id(function.pool), 0) + 1
    return {name for name, function in model.functions.items()
            if users[id(function.pool)] > 1
            and type(getattr(function._request_rate, "__self__", None)) is not DualTokenBucket}


def _throttled_on_shared(model, name: str) -> bool:
    """A function (of :func:`_shared_limits`) was throttled for concurrency or request rate
    on its own: together, the shared limit would have throttled too, maybe elsewhere."""
    return _throttled(model, name, (THROTTLE_CONCURRENCY, THROTTLE_RATE))


def _throttled(model, name: str, reasons: tuple[int, ...]) -> bool:
    recorder = model.recorders[name]
    if not len(recorder.throttles):
        return False
    recorded = recorder.table("throttles")["reason"]
    return bool(np.isin(recorded, reasons).any())


#: The request-rate check works through this many arrivals at a time (bounded scratch memory).
CHECK_CHUNK = 1 << 20


def _pools_never_full(model, sorted_starts: dict) -> bool:
    """No pool shared by several functions reached its limit at an admission.

    ``sorted_starts`` gets the sorted admission times of each pool's functions, by the
    tuple of their names (for :func:`_request_rate_never_ran_out`)."""
    pools: dict[int, tuple[Any, list[str]]] = {}
    for name, function in model.functions.items():
        pools.setdefault(id(function.pool), (function.pool, []))[1].append(name)
    for pool, names in pools.values():
        if len(names) < 2:
            continue
        if any(_throttled(model, name, (THROTTLE_CONCURRENCY,)) for name in names):
            return False
        columns = [model.recorders[name].table("attempts") for name in names]
        # Busy at an admission (itself included): started by then, less ended by then (an
        # invocation ending at t frees its unit before an arrival at t is admitted): the
        # pool's concurrency level just after each start. The results need this very level
        # (the account's or the unreserved pool's concurrency): kept for them.
        level = StepLevel(np.concatenate([c["t"] for c in columns]),
                          np.concatenate([c["t"] + (c["init"] + c["duration"]) for c in columns]))
        model.merged_busy[frozenset(names)] = level
        sorted_starts[tuple(names)] = level.starts
        if level.highest() > pool.limit:
            return False
    return True


def _request_rate_never_ran_out(model, sorted_starts: dict) -> bool:
    """The account's request-rate bucket over every function's arrivals never throttled.

    GCRA without throttles: after the k-th arrival (from 0) the bucket's ``tat`` is
    ``max over j <= k of t_j + (k - j + 1) * interval``; the k-th arrival finds a token when
    ``tat(k - 1) - t_k <= tolerance``. The margin covers the rounding of the running sum.
    """
    bucket = model.account.request_rate
    if type(bucket) is not TokenBucket:
        return True  # switched off
    recorders = model.recorders
    arrivals = sorted_starts.get(tuple(recorders))
    if arrivals is None or any(len(r.throttles) for r in recorders.values()):
        times = []
        for recorder in recorders.values():
            times.append(recorder.table("attempts")["t"])
            if len(recorder.throttles):
                times.append(recorder.table("throttles")["t"])
        arrivals = np.sort(np.concatenate(times))
    if _never_out_by_seconds(arrivals, bucket):
        return True
    n = arrivals.size
    interval = bucket.interval
    margin = 4.0 * np.finfo(np.float64).eps * n * (abs(arrivals[-1]) + n * interval + 1.0
                                                   ) if n else 0.0
    highest = -np.inf  # max over the arrivals so far of t_j - j * interval
    for first in range(0, n, CHECK_CHUNK):
        chunk = arrivals[first:first + CHECK_CHUNK]
        k = np.arange(first, first + chunk.size, dtype=np.float64)
        running = np.maximum.accumulate(np.maximum(chunk - k * interval, highest))
        # tat before arrival k: the running maximum up to k - 1, plus k intervals.
        before = np.concatenate(([highest], running[:-1])) + k * interval
        if np.max(before - chunk) > bucket.tolerance - margin:
            return False
        highest = float(running[-1])
    return True


def _never_out_by_seconds(arrivals: np.ndarray, bucket: TokenBucket) -> bool:
    """A quick sufficient condition for :func:`_request_rate_never_ran_out`.

    With at most ``B`` arrivals in any whole second, arrivals that span ``m`` whole seconds
    are at most ``m * B`` and at least ``m - 2`` seconds apart; a bucket of ``capacity``
    tokens refilled at ``rate`` per second then always has a token when ``2 B`` fits the
    capacity and ``B`` the rate (one token to spare each, for rounding).
    """
    if not arrivals.size:
        return True
    seconds = np.floor(arrivals)
    edges = np.flatnonzero(seconds[1:] != seconds[:-1])
    most = int(np.diff(edges, prepend=-1, append=arrivals.size - 1).max())
    return 2 * most <= bucket.capacity - 2 and most <= bucket.rate - 1
