"""Numbers as a capacity planner reads them: counts with thousands separators, durations in the
unit that fits, money at one precision per table, percentages, clock times and plurals.

Every table lambdasim prints (a run, replications, a sweep, tune) formats its figures here, so
they agree: ``1,975,271`` requests, ``273.3 ms`` but ``14.2 min`` (never ``852,004.8 ms``:
a duration of 10 s or more is written in s, min, h or d), ``$10.12`` and ``$0.0012`` (one
number of decimals for all the money of a table, chosen by :func:`money_decimals`),
``34.55 %``, ``1 function`` but ``2 functions``, and ``-`` for a figure that does not apply or
has no value. Nothing here knows the summary's layout; :mod:`lambdasim.results.table` does.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

__all__ = ["NOT_APPLICABLE", "is_missing", "count", "plural", "number", "percent",
           "duration_unit", "duration_ms", "duration_s", "span", "clock", "money_decimals", "usd",
           "ms_text", "seconds_text", "usd_text"]

#: What a cell shows when the figure does not apply or has no value.
NOT_APPLICABLE = "-"

#: (upper bound in ms, divisor to that unit, unit name): the first row whose bound exceeds the
#: value is used. Under 10 s a duration stays in milliseconds.
_DURATION_UNITS = (
    (10_000.0, 1.0, "ms"),
    (120_000.0, 1_000.0, "s"),
    (7_200_000.0, 60_000.0, "min"),
    (172_800_000.0, 3_600_000.0, "h"),
    (math.inf, 86_400_000.0, "d"),
)


def is_missing(value: Any) -> bool:
    """Whether ``value`` is no figure at all: None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: Any) -> str:
    """A whole count with thousands separators (``1,975,271``); ``-`` when missing."""
    if is_missing(value):
        return NOT_APPLICABLE
    return f"{int(round(value)):,}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 function``, ``2 functions``, ``1,000 replications`` (``nouns`` for irregulars)."""
    word = noun if n == 1 else (nouns or noun + "s")
    return f"{n:,} {word}"


def number(value: Any, digits: int = 2) -> str:
    """A figure without a unit: whole values as counts, others with ``digits`` decimals."""
    if is_missing(value):
        return NOT_APPLICABLE
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def percent(fraction: Any, digits: int = 2) -> str:
    """A fraction as a percentage: ``0.3455`` -> ``34.55 %``; ``-`` when missing."""
    if is_missing(fraction):
        return NOT_APPLICABLE
    if 0 < abs(100.0 * fraction) < 0.5 * 10.0 ** -digits:  # not zero: never shown as 0.00 %
        return f"< {10.0 ** -digits:.{digits}f} %"
    return f"{100.0 * fraction:,.{digits}f} %"


def duration_unit(ms: float) -> tuple[float, str]:
    """The divisor and unit name that suit a duration of ``ms`` milliseconds.

    Below 10 s: milliseconds; below 2 min: seconds; below 2 h: minutes; below 2 d: hours;
    beyond: days. Several values shown together (a mean and its interval) use the unit of one
    of them, so they read alike.
    """
    magnitude = abs(ms)
    for bound, divisor, unit in _DURATION_UNITS:
        if magnitude < bound:
            return divisor, unit
    return _DURATION_UNITS[-1][1:]  # pragma: no cover - the last bound is infinite


def duration_ms(ms: Any, digits: int = 1) -> str:
    """A duration given in milliseconds, in the unit that fits: ``273.3 ms``, ``14.2 min``."""
    if is_missing(ms):
        return NOT_APPLICABLE
    divisor, unit = duration_unit(float(ms))
    return f"{ms / divisor:,.{digits}f} {unit}"


def duration_s(seconds: Any, digits: int = 1) -> str:
    """A duration given in seconds, in the unit that fits (``duration_ms`` of it)."""
    if is_missing(seconds):
        return NOT_APPLICABLE
    return duration_ms(float(seconds) * 1000.0, digits)


def span(seconds: Any) -> str:
    """A length of simulated time without needless decimals: ``20 min``, ``90 s``, ``1.5 h``."""
    text = duration_s(seconds)
    return text.replace(".0 ", " ")


def clock(seconds: float) -> str:
    """A moment of the run as elapsed time: ``6:58`` (min:s), ``1:02:03`` (h:min:s),
    ``2d 01:02:03`` beyond a day. Fractions of a second are dropped."""
    total = int(math.floor(max(0.0, seconds) + 1e-9))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}:{minutes:02d}:{secs:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def money_decimals(values: Iterable[Any], *, least: int = 2, most: int = 8) -> int:
    """One number of decimals for a set of USD amounts shown together.

    Enough for two significant digits of the smallest non-zero amount, at least ``least``
    (cents) and at most ``most``: ``[10.12, 22999.2]`` -> 2, ``[0.0012, 0.81]`` -> 4.
    """
    smallest = min((abs(float(v)) for v in values if not is_missing(v) and v != 0),
                   default=None)
    if smallest is None:
        return least
    wanted = math.ceil(-math.log10(smallest)) + 1 if smallest < 1 else least
    return max(least, min(most, wanted))


def usd(value: Any, decimals: int = 2) -> str:
    """A USD amount: ``$10.12``, ``$22,999.20``, ``$0`` for exactly nothing; ``-`` when missing.

    Use one ``decimals`` (:func:`money_decimals`) for all amounts of a table.
    """
    if is_missing(value):
        return NOT_APPLICABLE
    if value == 0:
        return "$0"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def ms_text(value: float) -> str:
    """A latency in human units: 45.3 ms, 1,232 ms, 12.5 s, 3.2 min."""
    if value is None or value != value:
        return "-"
    if value >= 600_000:
        return f"{value / 60_000:,.1f} min"
    if value >= 10_000:
        return f"{value / 1000:,.1f} s"
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2g} ms" if value >= 1 else f"{value:.2f} ms"


def seconds_text(value: float) -> str:
    """A length of time in seconds, in human units: 45 s, 12.5 min, 3.2 h."""
    if value >= 2 * 86400:
        return f"{value / 86400:,.1f} d".replace(".0 d", " d")
    if value >= 2 * 3600:
        return f"{value / 3600:,.1f} h".replace(".0 h", " h")
    if value >= 60:
        return f"{value / 60:,.1f} min".replace(".0 min", " min")
    return f"{value:g} s"


def usd_text(value: float) -> str:
    """Money: $1,234 / $12.34 / $0.1234 / $0.000123 (three significant digits below a cent)."""
    if value is None or value != value:
        return "-"
    if abs(value) >= 1000:
        return f"${value:,.0f}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if abs(value) >= 0.01:
        return f"${value:.4f}"
    if value == 0:
        return "$0"
    decimals = min(12, 2 - int(np.floor(np.log10(abs(value)))))  # three significant digits
    return f"${value:.{decimals}f}"
