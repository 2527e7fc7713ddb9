"""One function's part of a result, from its records: its summary block and its periods.

:func:`function_block` reads one function's columnar records (attempts, throttles,
environments, requests; :class:`~lambdasim.engine.metrics.FunctionRecorder`) and returns its
summary block, its billable usage, its concurrency level and its per-period metrics;
:mod:`lambdasim.results.result` calls it once per function and reduces what is left (time
statistics, levels) for all functions at once.

A run of thousands of functions calls it thousands of times on arrays of about a thousand
rows, where each NumPy call costs about as much as its work: it takes few passes. What is
usually true costs no pass over the rows when it is: a window that holds every row is a
slice, not a mask (:func:`window`); codes are counted once by value (a function's attempts
carry a handful of distinct flag sets) and the counts by flag read from a table; errors and
cold starts per period are counted over the flagged attempts only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lambdasim.engine.billing import UsageBill, billed_ms
from lambdasim.engine.function import (COLD, CRASH, ERROR, PROVISIONED, RESTORE, TIMEOUT,
                                       architecture_factor, duration_factor)
from lambdasim.engine.invoke.sync import DROPPED, FAILED, SUCCEEDED, THROTTLED
from lambdasim.engine.metrics import StepLevel, request_outcomes

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["function_block", "function_periods", "duration_basis", "window", "EVERY"]

#: The rows of a window that holds them all (indexes a column without a copy).
EVERY = slice(None)


def window(times: np.ndarray, start: float, stop: float) -> "slice | np.ndarray":
    """The rows of ``times`` in ``[start, stop)``: :data:`EVERY` when that is all of them (two
    reductions, no mask to build or apply), else a boolean mask of ``times``' shape."""
    if times.size == 0 or (start <= times.min() and times.max() < stop):
        return EVERY
    return (times >= start) & (times < stop)


def _rate(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 9) if denominator else 0.0


#: By attempt code (uint8 flags), which of a function's counts the attempt adds to: cold
#: starts, errors (an error or a timeout), crashes, provisioned attempts and Init Durations
#: (a cold start other than a SnapStart restore, whose Restore Duration is reported and billed
#: by lambdasim.engine.snapstart).
_TALLIES = np.array([[bool(code & COLD), bool(code & (ERROR | TIMEOUT)), bool(code & CRASH),
                      bool(code & PROVISIONED), (code & (COLD | RESTORE)) == COLD]
                     for code in range(256)], dtype=np.int64)


def duration_basis(fconfig) -> dict[str, Any]:
    """The memory and architecture the durations were measured at and the factors applied."""
    scaling = fconfig["memory_scaling"]
    return {
        "reference_mb": fconfig["reference_mb"],
        "memory_mb": fconfig["memory_mb"],
        "memory_factor": round(duration_factor(fconfig["memory_mb"], fconfig["reference_mb"],
                                               scaling["cpu_bound"], scaling["threads"]), 9),
        "reference_architecture": fconfig["reference_architecture"],
        "architecture": fconfig["architecture"],
        "arm64_duration_factor": fconfig["arm64_duration_factor"],
        "architecture_factor": round(architecture_factor(
            fconfig["architecture"], fconfig["reference_architecture"],
            fconfig["arm64_duration_factor"]), 9),
    }


def function_block(model: "Model", name: str, recorder, fconfig, prices, bill_init: bool,
                   edges: np.ndarray):
    """One function's summary block, usage, concurrency and periods.

    Returns
    -------
    block : dict
        The function's summary.json block; ``latency_ms``, ``duration_ms``,
        ``init_duration_ms``, the ``max`` and ``mean`` of ``concurrency`` and
        ``environments`` and ``cost_usd`` are None, filled by the caller.
    usage : UsageBill
        Its billable usage over ``[warmup, duration)`` (on-demand Duration and Init).
    busy : StepLevel
        Its concurrency level (also kept as ``recorder.busy_level``).
    periods : dict
        :func:`function_periods`, plus ``latency`` (arrival time and latency in seconds of
        every answered request) and ``summary`` (the block and its time samples in seconds:
        ``latency_ms``, ``duration_ms``, ``init_duration_ms``) for the caller to reduce.
    """
    warmup, horizon = model.warmup_s, model.duration_s
    attempts = recorder.table("attempts")
    t = attempts["t"]
    busy = StepLevel(t, t + (attempts["init"] + attempts["duration"]))
    recorder.busy_level = busy  # the one sort of the ends, kept for the chart timeline
    env_created, env_ended = recorder.environments()
    # Environments still alive count until the end of the run.
    live = StepLevel(env_created, np.where(np.isnan(env_ended), model.end_s, env_ended))

    requests = recorder.table("requests", ordered=False)
    arrived_at = requests["arrived"]
    latency = requests["ended"] - arrived_at
    outcome = request_outcomes(requests["packed"])
    in_window = window(arrived_at, warmup, horizon)
    counts = np.bincount(outcome[in_window], minlength=4).tolist()  # by outcome
    succeeded, failed = counts[SUCCEEDED], counts[FAILED]
    throttled, dropped = counts[THROTTLED], counts[DROPPED]
    # Per period: every answered request (SUCCEEDED 0 or FAILED 1) by the period it arrived
    # in, warm-up included; reduced with every function's at once (build_result).
    answered = outcome <= FAILED
    if answered.all():
        period_latency = (arrived_at, latency)
    else:
        period_latency = (arrived_at[answered], latency[answered])
    # Summary statistics are reduced with other functions' at once (_period_statistics).
    samples = {"latency_ms": period_latency[1] if in_window is EVERY
               else latency[answered & in_window]}
    del outcome, answered, latency
    arrived = sum(trigger.arrived_in_window for trigger in model.triggers[name])

    throttles = recorder.table("throttles")
    throttle_origin = throttles["origin"]
    n_throttles = len(throttle_origin[window(throttle_origin, warmup, horizon)])

    codes = attempts["code"].astype(np.uint8)
    attempt_window = window(attempts["origin"], warmup, horizon)
    w_codes = codes[attempt_window]
    # Contiguous (a view of every row of recorded rows may be strided), as sums expect.
    durations = np.ascontiguousarray(attempts["duration"][attempt_window])
    histogram = np.bincount(w_codes)  # attempts by code
    cold_starts, errors, crashes, provisioned, with_init = (
        histogram @ _TALLIES[:histogram.size]).tolist()
    invocations = int(durations.size)
    samples["duration_ms"] = durations
    # Billed Duration = ceil_ms(Duration [+ Init Duration on on-demand cold starts]).
    billed_each = billed_ms(durations)
    if provisioned:
        # Billed at the provisioned execution rate by lambdasim.engine.provisioned, not here.
        billed = float(billed_each[(w_codes & PROVISIONED) == 0].sum())
    else:
        billed = float(billed_each.sum())
    if with_init:
        cold = (w_codes & (COLD | RESTORE)) == COLD
        inits = attempts["init"][attempt_window][cold]
    else:
        inits = np.empty(0)
    samples["init_duration_ms"] = inits
    if bill_init and inits.size:
        init_billed = float((billed_ms(durations[cold] + inits) - billed_each[cold]).sum())
        billed += init_billed
    else:
        init_billed = 0.0
    usage = UsageBill(name, fconfig["architecture"], fconfig["memory_mb"],
                      fconfig["ephemeral_storage_mb"], invocations, billed,
                      prices["ephemeral_storage_free_mb"], init_billed_ms=init_billed,
                      epu_minimum_s=prices["event_poller_unit_minimum_s"])
    block = {
        "requests": {
            "arrived": arrived,
            "succeeded": succeeded,
            "failed": failed,
            "throttled": throttled,
            "dropped": dropped,
            "in_flight": arrived - (succeeded + failed + throttled + dropped),
        },
        "invocations": invocations,
        "errors": errors,
        # Errors that crashed the runtime and reset the environment (crash_share).
        "crashes": crashes,
        "throttles": n_throttles,
        "attempts": invocations + n_throttles,
        "cold_starts": cold_starts,
        "cold_start_rate": _rate(cold_starts, invocations),
        "throttle_rate": _rate(n_throttles, invocations + n_throttles),
        "request_throttle_rate": _rate(throttled, arrived),
        "latency_ms": None,  # these three: _period_statistics
        "duration_ms": None,
        "init_duration_ms": None,
        # Where the handler times were measured and how they were stretched for this run.
        "duration_basis": duration_basis(fconfig),
        # max and mean of these two: _level_statistics, for every function at once
        "concurrency": {"max": None, "mean": None},
        "environments": {
            "created": int(np.count_nonzero(env_created >= warmup)),
            "max": None,
            "mean": None,
        },
        "cost_usd": None,  # filled by the caller: tiers and free tier are account-wide
    }
    periods = function_periods(edges, t, codes, attempts["duration"], throttles["t"], live)
    periods["latency"] = period_latency
    periods["summary"] = (block, samples)
    return block, usage, busy, periods


def function_periods(edges: np.ndarray, t: np.ndarray, codes: np.ndarray,
                     durations: np.ndarray, throttle_t: np.ndarray,
                     live: StepLevel) -> dict[str, Any]:
    """CloudWatch-style metrics of one function per period (by invocation start).

    ``t``, ``codes`` and ``durations`` are its attempts' start times (seconds, in time
    order, none before ``edges[0]``), codes (uint8 flags) and Durations (seconds);
    ``throttle_t`` its throttles' times. Returns per period (``len(edges) - 1`` of them)
    ``Invocations``, ``Errors``, ``Throttles`` and ``ColdStarts`` (int64 arrays),
    ``durations`` (the Durations and the bounds of each period's rows, for
    :func:`~lambdasim.engine.metrics.period_time_stats_ms_many`), ``live`` (the level of
    live environments) and placeholders the caller fills.
    """
    count = len(edges) - 1
    bounds = np.empty(count + 1, dtype=np.int64)
    bounds[:count] = t.searchsorted(edges[:-1], side="left")
    bounds[count] = len(t)
    throttle_bounds = np.empty(count + 1, dtype=np.int64)
    throttle_bounds[:count] = throttle_t.searchsorted(edges[:-1], side="left")
    throttle_bounds[count] = len(throttle_t)
    # Errors and cold starts are rare: counted over the attempts with any flag, each in the
    # period whose rows hold it.
    flagged = np.flatnonzero(codes)
    if flagged.size:
        period, flags = bounds.searchsorted(flagged, side="right") - 1, codes[flagged]
        errors = np.bincount(period[(flags & (ERROR | TIMEOUT)) != 0], minlength=count)
        cold_starts = np.bincount(period[(flags & COLD) != 0], minlength=count)
    else:
        errors = cold_starts = np.zeros(count, dtype=np.int64)
    return {
        "Invocations": bounds[1:] - bounds[:-1],
        "Errors": errors,
        "Throttles": throttle_bounds[1:] - throttle_bounds[:-1],
        "ColdStarts": cold_starts,
        "durations": (durations, bounds),  # reduced with every function's (build_result)
        "ConcurrentExecutions": None, "Environments": None,  # these two: _level_statistics
        "live": live,
        "extra": {},
    }
