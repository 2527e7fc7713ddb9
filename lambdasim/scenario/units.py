"""Physical units in scenario files: times and rates.

A scenario states times as strings with a unit (``250ms``, ``30s``, ``5m``, ``2h``, ``1d``,
``1.5s``, ``100us``) or as bare numbers meaning seconds, and rates as ``count/unit``
(``200/s``, ``12000/min``, ``3e6/h``, ``10/d``) or bare numbers meaning per second.
Inside lambdasim every time is a float number of seconds and every rate a float per second;
this module is the only place that converts.

Invariants
----------
* Parsed values are finite floats and never negative.
* Booleans are not numbers: YAML's ``true`` is rejected, not read as 1.
* Errors are :class:`SpecError` (a :class:`ValueError`) carrying the dotted ``key`` that was
  being parsed, so that :mod:`lambdasim.scenario` can add the file and line.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "SpecError",
    "parse_duration",
    "parse_rate",
    "parse_number",
    "format_duration",
    "TIME_UNITS",
    "RATE_UNITS",
    "DURATION_PATTERN",
    "RATE_PATTERN",
]

#: Seconds per time unit accepted in durations.
TIME_UNITS: dict[str, float] = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}

#: Seconds per unit accepted after the slash of a rate. Milliseconds are deliberately absent:
#: ``5/ms`` is almost always a typo for ``5/s`` or a duration.
RATE_UNITS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"^\s*({_NUMBER})\s*$")
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*([a-zµ]+)?\s*$", re.IGNORECASE)
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/\s*([a-z]+))?\s*$", re.IGNORECASE)

#: Regular expressions (JSON Schema dialect) for the string forms, used by the schema.
DURATION_PATTERN = (
    r"^\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*(us|µs|ms|s|sec|m|min|h|d)?\s*$"
)
RATE_PATTERN = r"^\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*(/\s*(s|sec|m|min|h|d))?\s*$"


class SpecError(ValueError):
    """A value in a scenario is malformed.

    Parameters
    ----------
    message : str
        What is wrong, phrased for a user ("expected a time such as 250ms; got 'fast'").
    key : str, optional
        Dotted path of the offending value (``functions.checkout.duration.median``).
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


def _describe(value: Any) -> str:
    """Render a bad value for an error message (repr for strings, YAML words for bools)."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return _short(f"a {'mapping' if isinstance(value, dict) else 'list'} {value!r}")
    return _short(repr(value) if isinstance(value, str) else str(value))


def _short(text: str, limit: int = 80) -> str:
    """One line of at most about ``limit`` characters (a 4,000-digit number is not echoed)."""
    if len(text) <= limit and text.isprintable():
        return text
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text):,} characters)"


def parse_number(value: Any, key: str | None = None, what: str = "a number") -> float:
    """Read a plain number (int, float or numeric string such as ``"1e-3"``) as a float.

    PyYAML reads ``1e-3`` (no dot) as a string, so numeric strings are accepted.

    Parameters
    ----------
    value : Any
        The raw value.
    key : str, optional
        Dotted key for the error message.
    what : str
        Description of the expected value for the error message.

    Returns
    -------
    float
        The finite value.

    Raises
    ------
    SpecError
        For booleans, non-numeric strings, other types, NaN and infinities.
    """
    if isinstance(value, bool) or value is None:
        raise SpecError(f"expected {what}; got {_describe(value)}", key)
    try:
        if isinstance(value, (int, float)):
            result = float(value)
        elif isinstance(value, str) and _NUMBER_RE.match(value):
            result = float(value)
        else:
            raise SpecError(f"expected {what}; got {_describe(value)}", key)
    except OverflowError:  # an int too large for a float (e.g. 401 digits)
        raise SpecError(f"expected {what}; got {_describe(value)}, too large for a "
                        "floating-point number", key) from None
    if not math.isfinite(result):
        raise SpecError(f"expected {what}; got {_describe(value)}", key)
    return result


def _finite_or_inf(value: int | float) -> float:
    """``float(value)``, or infinity for an int too large for a float (refused by the caller)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_duration(value: Any, key: str | None = None) -> float:
    """Parse a time into seconds.

    Parameters
    ----------
    value : str, int or float
        ``"250ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1.5s"``, ``"100us"``, or a bare
        number (or numeric string) of seconds.
    key : str, optional
        Dotted key, recorded in the error.

    Returns
    -------
    float
        Seconds, finite and >= 0.

    Raises
    ------
    SpecError
        When the value is not a time or is negative.

    Examples
    --------
    >>> parse_duration("250ms")
    0.25
    >>> parse_duration(90)
    90.0
    """
    hint = "expected a time such as 250ms, 30s, 5m"
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
        raise SpecError(f"{hint}; got {_describe(value)}", key)
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if not match:
            raise SpecError(f"{hint}; got {_describe(value)}", key)
        number, unit = match.group(1), match.group(2)
        if unit is None:
            factor = 1.0
        else:
            factor = TIME_UNITS.get(unit.lower()) or TIME_UNITS.get(unit)
            if factor is None:
                known = ", ".join(sorted(set(TIME_UNITS) - {"µs"}, key=TIME_UNITS.get))
                raise SpecError(
                    f"{hint}; unknown time unit {unit!r} in {value!r} (known units: {known})", key
                )
        seconds = float(number) * factor
    else:
        seconds = _finite_or_inf(value)
    if not math.isfinite(seconds):
        raise SpecError(f"{hint}; got {_describe(value)}", key)
    if seconds < 0:
        raise SpecError(f"a time cannot be negative; got {_describe(value)}", key)
    return seconds


def parse_rate(value: Any, key: str | None = None) -> float:
    """Parse a rate into events per second.

    Parameters
    ----------
    value : str, int or float
        ``"200/s"``, ``"12000/min"``, ``"3e6/h"``, ``"10/d"``, or a bare number per second.
    key : str, optional
        Dotted key, recorded in the error.

    Returns
    -------
    float
        Events per second, finite and >= 0.

    Raises
    ------
    SpecError
        When the value is not a rate (``5/ms`` is refused) or is negative.

    Examples
    --------
    >>> parse_rate("12000/min")
    200.0
    """
    hint = "expected a rate such as 200/s, 12000/min, 3e6/h"
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
        raise SpecError(f"{hint}; got {_describe(value)}", key)
    if isinstance(value, str):
        match = _RATE_RE.match(value)
        if not match:
            raise SpecError(f"{hint}; got {_describe(value)}", key)
        number, unit = match.group(1), match.group(2)
        if unit is None:
            per_second = float(number)
        else:
            seconds = RATE_UNITS.get(unit.lower())
            if seconds is None:
                raise SpecError(
                    f"{hint}; unknown rate unit '/{unit}' in {value!r} "
                    "(known: /s, /min, /h, /d)",
                    key,
                )
            per_second = float(number) / seconds
    else:
        per_second = _finite_or_inf(value)
    if not math.isfinite(per_second):
        raise SpecError(f"{hint}; got {_describe(value)}", key)
    if per_second < 0:
        raise SpecError(f"a rate cannot be negative; got {_describe(value)}", key)
    return per_second


def format_duration(seconds: float) -> str:
    """Render seconds compactly for messages and reports.

    Parameters
    ----------
    seconds : float
        A time in seconds.

    Returns
    -------
    str
        ``"250ms"``, ``"30s"``, ``"5m"``, ``"1.5h"``, ``"2d"``, ``"100us"``; ``"inf"`` for
        infinity.

    Examples
    --------
    >>> format_duration(0.25), format_duration(300), format_duration(5400)
    ('250ms', '5m', '1.5h')
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"format_duration expects a number of seconds, got {seconds!r}")
    if math.isnan(seconds):
        return "nan"
    if math.isinf(seconds):
        return "inf" if seconds > 0 else "-inf"
    sign = "-" if seconds < 0 else ""
    magnitude = abs(float(seconds))
    if magnitude == 0:
        return "0s"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if magnitude >= size:
            return f"{sign}{magnitude / size:.4g}{unit}"
    return f"{sign}{magnitude / 1e-6:.4g}us"
