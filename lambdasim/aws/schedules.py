"""Schedule expressions of EventBridge and EventBridge Scheduler as arrival rates.

A schedule invokes its target at fixed times: ``rate(5 minutes)``, ``cron(0 9 ? * MON-FRI *)``
or, for EventBridge Scheduler, once ``at(2025-06-01T09:00:00)``
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html). A scenario needs its
arrival rate: a ``rate`` is exact; a ``cron`` is the average number of fire times per day over
the 28 years 2025-2052 (the Gregorian weekday pattern repeats every 28 years in that span)
intersected with the expression's year field, so a weekday-only schedule averages 5/7 of its
daily count. The cron grammar is AWS's six fields (minutes, hours, day of month, month, day
of week with 1 = SUN, year), with ``* ? , - /``, names (``JAN``, ``MON``), ``L``, ``W`` and ``#``.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re

__all__ = ["Schedule", "parse_schedule", "rate_text"]

_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_YEARS = range(2025, 2053)


class Schedule:
    """A parsed schedule: ``kind`` rate, cron or at; ``per_second`` the average rate (0 for a
    one-time ``at``); ``at`` the time of a one-time schedule; ``text`` the expression."""

    def __init__(self, kind: str, per_second: float, text: str, at: _dt.datetime | None = None) -> None:
        self.kind, self.per_second, self.text, self.at = kind, per_second, text, at


def rate_text(per_second: float) -> str:
    """A rate in the scenario's notation, in the unit that makes it a whole number when one
    does (``12/h``, ``1/min``), else per day with six significant digits."""
    for unit, seconds in (("s", 1), ("min", 60), ("h", 3600), ("d", 86400)):
        count = per_second * seconds
        if count >= 1 and abs(count - round(count)) < 1e-9 * max(1.0, count):
            return f"{round(count)}/{unit}"
    return f"{per_second * 86400:.6g}/d"


def parse_schedule(expression: object) -> Schedule:
    """Parse ``rate(...)``, ``cron(...)`` or ``at(...)``.

    Raises
    ------
    ValueError
        With a message naming the problem, when the expression is not one of these.
    """
    text = str(expression).strip()
    match = re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+?)s?\s*\)", text)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {match.group(2)!r} in {text} (minutes, hours or days)")
        if count <= 0:
            raise ValueError(f"{text}: the value must be a positive whole number")
        return Schedule("rate", 1.0 / (count * _UNITS[unit]), text)
    match = re.fullmatch(r"cron\((.*)\)", text)
    if match:
        fields = match.group(1).split()
        if len(fields) != 6:
            raise ValueError(f"{text}: a cron expression has 6 fields (minutes hours day-of-month "
                             f"month day-of-week year), got {len(fields)}")
        return Schedule("cron", _cron_rate(fields, text), text)
    match = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", text)
    if match:
        return Schedule("at", 0.0, text, _dt.datetime.fromisoformat(match.group(1)))
    raise ValueError(f"{text!r} is not a schedule expression (rate(...), cron(...) or at(...))")


def _values(field: str, low: int, high: int, names: dict[str, int], what: str, text: str) -> set[int]:
    out: set[int] = set()
    for part in field.upper().split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{text}: bad increment {step_text!r} in the {what} field")
            step = int(step_text)
        if part in ("*", "?"):
            first, last = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            first, last = _one(a, names, what, text), _one(b, names, what, text)
        else:
            first = _one(part, names, what, text)
            last = high if step > 1 else first
        if not (low <= first <= high and low <= last <= high):
            raise ValueError(f"{text}: {what} {part!r} is out of range {low}-{high}")
        if last < first:  # a wrapping range such as FRI-MON
            span = list(range(first, high + 1)) + list(range(low, last + 1))
        else:
            span = list(range(first, last + 1))
        out.update(span[::step])
    return out


def _one(token: str, names: dict[str, int], what: str, text: str) -> int:
    if token in names:
        return names[token]
    if token.isdigit():
        return int(token)
    raise ValueError(f"{text}: cannot read {token!r} in the {what} field")


def _day_matcher(dom: str, dow: str, text: str):
    """A function (date) -> bool for the day-of-month and day-of-week fields."""
    dom, dow = dom.upper(), dow.upper()
    if dom != "?" and dow != "?":
        raise ValueError(f"{text}: one of day-of-month and day-of-week must be '?'")

    def weekday(day: _dt.date) -> int:  # 1 = SUN .. 7 = SAT
        return (day.isoweekday() % 7) + 1

    if dom == "?":
        if dow == "*":
            return lambda day: True
        match = re.fullmatch(r"(\w+)#([1-5])", dow)
        if match:
            wanted, nth = _one(match.group(1), _DAYS, "day-of-week", text), int(match.group(2))
            return lambda day: weekday(day) == wanted and (day.day - 1) // 7 + 1 == nth
        match = re.fullmatch(r"(\w*)L", dow)
        if match:
            wanted = _one(match.group(1), _DAYS, "day-of-week", text) if match.group(1) else 7

            def last_weekday(day: _dt.date) -> bool:
                days = calendar.monthrange(day.year, day.month)[1]
                return weekday(day) == wanted and day.day + 7 > days
            return last_weekday
        allowed = _values(dow, 1, 7, _DAYS, "day-of-week", text)
        return lambda day: weekday(day) in allowed
    if dom == "L":
        return lambda day: day.day == calendar.monthrange(day.year, day.month)[1]
    match = re.fullmatch(r"(\d+|L)W", dom)
    if match:
        def nearest_weekday(day: _dt.date) -> bool:
            days = calendar.monthrange(day.year, day.month)[1]
            target = days if match.group(1) == "L" else min(int(match.group(1)), days)
            wanted = _dt.date(day.year, day.month, target)
            if wanted.isoweekday() == 6:  # Saturday: the Friday before, unless that leaves the month
                wanted = wanted - _dt.timedelta(days=1) if target > 1 else wanted + _dt.timedelta(days=2)
            elif wanted.isoweekday() == 7:
                wanted = wanted + _dt.timedelta(days=1) if target < days else wanted - _dt.timedelta(days=2)
            return day == wanted
        return nearest_weekday
    allowed = _values(dom, 1, 31, {}, "day-of-month", text)
    return lambda day: day.day in allowed


def _cron_rate(fields: list[str], text: str) -> float:
    minutes = _values(fields[0], 0, 59, {}, "minutes", text)
    hours = _values(fields[1], 0, 23, {}, "hours", text)
    months = _values(fields[3], 1, 12, _MONTHS, "month", text)
    years = _values(fields[5], 1970, 2199, {}, "year", text) & set(_YEARS)
    matches = _day_matcher(fields[2], fields[4], text)
    if not years:
        raise ValueError(f"{text}: fires in no year between {_YEARS[0]} and {_YEARS[-1]}")
    days = 0
    day = _dt.date(min(years), 1, 1)
    end = _dt.date(max(years), 12, 31)
    total_days = 0
    while day <= end:
        if day.year in years:
            total_days += 1
            if day.month in months and matches(day):
                days += 1
        day += _dt.timedelta(days=1)
    return days * len(minutes) * len(hours) / (total_days * 86400.0)
