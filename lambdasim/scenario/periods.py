"""The period of a metric export, told from the spacing of its data points.

``aws cloudwatch get-metric-statistics --period 300`` returns one data point per 5 minutes,
and neither it nor ``get-metric-data`` states the period in its output. Replayed on a 1-minute
grid, each 5-minute count would arrive within one minute: bursts five times too high. So a
timed counts trace without ``interval`` takes its period from its times.

CloudWatch aggregates over 1, 5, 10 or 30 s (high resolution) or any multiple of 60 s
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html),
and it leaves out periods without data, so every gap between data points is a whole number of
periods: the period divides their greatest common divisor ``g``.
"""

from __future__ import annotations

import math

__all__ = ["infer_period", "is_cloudwatch_period"]


def is_cloudwatch_period(seconds: float) -> bool:
    """True for 1, 5, 10, 30 s and every multiple of 60 s."""
    return seconds in (1.0, 5.0, 10.0, 30.0) or (seconds >= 60.0 and seconds % 60.0 == 0.0)


def infer_period(offsets_s: list[float]) -> float:
    """The period of data points at ``offsets_s`` (seconds, any order, millisecond precision).

    ``g`` (the greatest common divisor of the gaps) is the period when it is 60 s (Lambda's
    metrics have 1-minute resolution, so no shorter period is possible for them) or when at
    least two gaps equal it (three evenly spaced points, as ``--period 300`` gives). A ``g``
    that is no CloudWatch period gives 60 s: the caller's grid check then names the first
    misplaced time.

    Raises
    ------
    ValueError
        When the period is ambiguous: a single data point, or too few evenly spaced points
        to tell 60 s with missing minutes from ``g``.
    """
    seconds = sorted({round(float(t), 3) for t in offsets_s})
    gaps = [b - a for a, b in zip(seconds, seconds[1:])]
    if not gaps:
        raise ValueError("a single data point: its period cannot be told from the times")
    step = 0
    for gap in gaps:
        step = math.gcd(step, int(round(gap * 1000)))
    g = step / 1000.0
    if not is_cloudwatch_period(g):
        return 60.0
    if g == 60.0 or sum(1 for gap in gaps if gap == g) >= 2:
        return g
    raise ValueError(f"the data points are {g:g}s apart or more, but too few are evenly spaced "
                     f"to tell the period (60s with missing minutes, or {g:g}s)")
