"""Queueing theory and replication confidence intervals: what lambdasim is validated against.

Where theory applies, the model must agree with it: synchronous throttling with zero Init is
an M/G/c/c loss system (Erlang B), mean concurrency obeys Little's law, a queue drained by c
workers is M/M/c (Erlang C). The test suite and ``benchmarks/validation.py`` use these
formulas, and a capacity planner can use them for a first estimate before simulating.

Erlang B is the blocking probability of M/G/c/c (c servers, no waiting room), which is
insensitive to the service-time distribution beyond its mean; Erlang C the probability of
waiting in M/M/c. Both use the numerically stable recursion
``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))`` rather than factorials.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

__all__ = ["erlang_b", "erlang_c", "mmc_mean_wait", "mean_ci", "ci_contains"]


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/G/c/c with ``servers`` servers and offered ``load`` (Erlangs)."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be non-negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (requires ``load < servers``)."""
    if not 0 <= load < servers:
        raise ValueError("Erlang C needs 0 <= load < servers")
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, mean_service: float) -> float:
    """Mean time in queue of M/M/c: ``C(c, a) / (c mu - lambda)``."""
    load = arrival_rate * mean_service
    return erlang_c(servers, load) / (servers / mean_service - arrival_rate)


def mean_ci(values: Sequence[float], level: float = 0.99) -> tuple[float, float, float]:
    """Student-t confidence interval of the mean of independent replication values.

    Returns ``(mean, low, high)``.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        raise ValueError("a confidence interval needs at least two replications")
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2.0, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def ci_contains(values: Sequence[float], target: float, level: float = 0.99) -> bool:
    """Whether the ``level`` t-interval of the replication means contains ``target``."""
    _, low, high = mean_ci(values, level)
    return low <= target <= high
