"""Event pollers of event source mappings: counting them over time, and their billed units.

An event source mapping reads its source with *event pollers*. In provisioned mode (Kafka,
SQS) the pollers are dedicated and billed as event poller units (EPU): "billed per second
with a 1-minute minimum" (https://aws.amazon.com/lambda/pricing/, provisioned mode of event
source mappings). A mapping records its poller count as a step function -- ``(t, pollers)``
after every change, from time 0 -- and this module turns that into billed poller-seconds
and per-period maxima (the ``ProvisionedPollers`` metric), without any per-event work.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["unit_seconds", "step_max", "step_min", "step_period_maxima", "step_mean",
           "window_unit_seconds"]


def unit_seconds(changes: Sequence[tuple[float, int]], a: float, b: float,
                 minimum_s: float = 0.0) -> float:
    """Unit-seconds of a step function of whole units (pollers) within ``[a, b]``.

    Parameters
    ----------
    changes : sequence of (t, units)
        The level after each change, in time order; 0 before the first.
    a, b : float
        The window, in seconds.
    minimum_s : float
        Per-allocation minimum: a unit enabled and disabled inside the window after less than
        ``minimum_s`` counts ``minimum_s`` (EPU's 1-minute minimum). Units still enabled at
        ``b`` count up to ``b``.

    Returns
    -------
    float
        Unit-seconds; the units are cut into layers, each counted from its enabling to its
        disabling (last in, first out), clipped to ``[a, b]``.
    """
    layers: list[list[float]] = []  # [low, high, since]
    level = 0
    total = 0.0

    def close(low: float, high: float, since: float, until: float, ended: bool) -> float:
        length = min(until, b) - max(since, a)
        if ended and since >= a and until <= b and length < minimum_s:
            length = minimum_s
        return (high - low) * length if length > 0.0 and high > low else 0.0

    for t, units in changes:
        if units > level:
            layers.append([level, units, t])
        while units < level:
            low, high, since = layers[-1]
            if low >= units:
                layers.pop()
                total += close(low, high, since, t, True)
                level = low
            else:
                total += close(units, high, since, t, True)
                layers[-1][1] = units
                level = units
        level = units
    for low, high, since in layers:
        total += close(low, high, since, b, False)
    return total


def step_max(changes: Sequence[tuple[float, int]], a: float, b: float) -> int:
    """Largest level of the step function held for some time within ``[a, b)``."""
    best = 0
    for k, (t, value) in enumerate(changes):
        end = changes[k + 1][0] if k + 1 < len(changes) else math.inf
        if end > a and t < b and end > t and value > best:
            best = value
    return int(best)


def step_min(changes: Sequence[tuple[float, int]], a: float, b: float) -> int:
    """Lowest level of the step function held for some time within ``[a, b)`` (0 before the
    first change): the units held throughout the window."""
    if b <= a:
        return 0
    low = None
    level, since = 0, -math.inf
    for t, value in list(changes) + [(math.inf, 0)]:
        if t > since and t > a and since < b:  # ``level`` held over [since, t) within [a, b)
            low = level if low is None else min(low, level)
        level, since = value, t
    return int(low or 0)


def window_unit_seconds(changes: Sequence[tuple[float, int]], edges: np.ndarray, a: float,
                        b: float) -> np.ndarray:
    """Unit-seconds of the step function in each bin ``[edges[k], edges[k + 1])`` clipped
    to ``[a, b]``, without any minimum: where a bill's units were used, for spreading it over
    periods. O((changes + bins) log changes)."""
    points = np.clip(np.asarray(edges, dtype=np.float64), a, b)
    if not changes:
        return np.zeros(len(points) - 1)
    times = np.array([t for t, _ in changes], dtype=np.float64)
    levels = np.array([float(v) for _, v in changes])
    # The integral from 0 to each change, then to each point (0 before the first change).
    cumulative = np.concatenate([[0.0], np.cumsum(levels[:-1] * np.diff(times))])
    j = np.searchsorted(times, points, side="right") - 1
    safe = np.maximum(j, 0)
    at = np.where(j >= 0, cumulative[safe] + levels[safe] * (points - times[safe]), 0.0)
    return np.diff(at)


def step_mean(changes: Sequence[tuple[float, int]], a: float, b: float) -> float:
    """Time-weighted mean of the step function over ``[a, b)``."""
    return unit_seconds(changes, a, b) / (b - a) if b > a else 0.0


def step_period_maxima(changes: Sequence[tuple[float, int]], edges: np.ndarray) -> list[int]:
    """Largest level in each period ``[edges[k], edges[k + 1])``; O(changes + periods)."""
    count = len(edges) - 1
    out = [0] * count
    if not changes:
        return out
    times = np.array([t for t, _ in changes], dtype=np.float64)
    for k in range(count):
        a, b = float(edges[k]), float(edges[k + 1])
        # The level in force at a, and every level set inside [a, b).
        lo = int(np.searchsorted(times, a, side="right")) - 1
        hi = int(np.searchsorted(times, b, side="left"))
        best = 0
        for j in range(max(lo, 0), hi):
            end = changes[j + 1][0] if j + 1 < len(changes) else math.inf
            if end > a and end > changes[j][0] and changes[j][1] > best:
                best = changes[j][1]
        out[k] = int(best)
    return out


class ProvisionedPollers:
    """The provisioned event pollers of one mapping: their count over time and its summary.

    ``minimum`` pollers are held from the start; ``track(now, concurrency)`` sets the count
    to what the mapping's allowed concurrent invocations need (``ceil(concurrency /
    per_poller)``, at least ``minimum``) and records it when it changes.
    """

    __slots__ = ("minimum", "maximum", "per_poller", "changes")

    def __init__(self, minimum: int, maximum: int, per_poller: int) -> None:
        self.minimum = int(minimum)
        self.maximum = int(maximum)
        self.per_poller = int(per_poller)
        #: (t, pollers) after every change, from time 0.
        self.changes: list[tuple[float, int]] = [(0.0, self.minimum)]

    def track(self, now: float, concurrency: int) -> None:
        pollers = -(-concurrency // self.per_poller)
        if pollers < self.minimum:
            pollers = self.minimum
        if pollers != self.changes[-1][1]:
            self.changes.append((now, pollers))

    def block(self, a: float, b: float) -> dict:
        """``{minimum, maximum, max, mean}`` over the window ``[a, b)``."""
        return {"minimum": self.minimum, "maximum": self.maximum,
                "max": step_max(self.changes, a, b),
                "mean": round(step_mean(self.changes, a, b), 6)}
