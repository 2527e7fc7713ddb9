"""CloudWatch metric exports as counts with their times: what ``aws cloudwatch`` prints.

A ``format: counts`` trace may be the output of ``aws cloudwatch get-metric-statistics`` or
``get-metric-data`` in any of the CLI's output formats
(https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html):

* ``--output json``: ``{"Label", "Datapoints": [{"Timestamp", "Sum", "Unit"}]}`` or
  ``{"MetricDataResults": [{"Id", "Label", "Timestamps", "Values"}]}``;
* ``--output text``: ``LABEL<TAB>Invocations`` and ``DATAPOINTS<TAB>600.0<TAB>2024-03-01T12:00:00+00:00<TAB>Count``
  rows (the values in the alphabetical order of their keys), or ``METRICDATARESULTS<TAB>id<TAB>label<TAB>status``
  followed by its ``TIMESTAMPS`` and ``VALUES`` rows;
* ``--output table``: a ``Datapoints`` table whose header row names ``Timestamp`` and the
  statistics.

The statistic is ``Sum`` unless ``column`` names another (for get-metric-data: the ``Id`` or
``Label`` of a result, else the first). The CLI states no period; a JSON file that keeps it
beside the data (``Period`` at the top, in the result, or in the request's
``MetricDataQueries``) states it in seconds. Nothing here knows the scenario: errors go
through the ``fail(line, message)`` callback of the caller, which names the file.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable

__all__ = ["read_metric_export"]

Fail = Callable[[int, str], Exception]
_STATS = ("Average", "Maximum", "Minimum", "SampleCount", "Sum")


def read_metric_export(text: str, column: Any, fail: Fail) -> tuple[list[float], list[tuple[int, str]], Any] | None:
    """Counts, ``(line, time)`` pairs and the stated period (or None) of a CloudWatch export;
    None when ``text`` is not one (then it is a plain counts file).

    Raises
    ------
    Exception
        What ``fail`` returns, for an export that cannot be read (no data points, a negative
        count, several statistics where one is needed, ...).
    """
    stripped = text.lstrip()
    if stripped.startswith("{"):
        counts, stamps, stated = _json(text, column, fail)
    else:
        first = stripped.split("\n", 1)[0]
        if re.match(r"(LABEL|DATAPOINTS|METRICDATARESULTS|MESSAGES)\t", first):
            counts, stamps, stated = _text(text, column, fail)
        elif "GetMetricStatistics" in stripped[:2000] or re.search(r"\|\s*Timestamp\s*\|", stripped[:4000]):
            counts, stamps, stated = _table(text, column, fail)
        else:
            return None
    if not counts:
        raise fail(1, "no data points")
    for (line, _), count in zip(stamps, counts):
        if isinstance(count, bool) or not isinstance(count, (int, float)) or not math.isfinite(count) or count < 0:
            raise fail(line, f"a count must be a number >= 0, got {count!r}")
    return [float(c) for c in counts], stamps, stated


def _json(text: str, column: Any, fail: Fail) -> tuple[list, list, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise fail(getattr(exc, "lineno", 1), f"JSON syntax error: {getattr(exc, 'msg', exc)}") from None

    def line_of(needle: str) -> int:
        at = text.find(needle)
        return text.count("\n", 0, at) + 1 if at >= 0 else 1

    stated = data.get("Period") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(data.get("Datapoints"), list):
        stat = str(column) if column is not None else "Sum"
        counts, stamps = [], []
        for point in data["Datapoints"]:
            if not isinstance(point, dict) or "Timestamp" not in point or stat not in point:
                raise fail(line_of(json.dumps(point)[:20]), f"a data point without Timestamp and {stat}: {point!r}")
            counts.append(point[stat])
            stamps.append((line_of(str(point["Timestamp"])), str(point["Timestamp"])))
        return counts, stamps, stated
    if isinstance(data, dict) and isinstance(data.get("MetricDataResults"), list) and data["MetricDataResults"]:
        results = data["MetricDataResults"]
        chosen = results[0]
        if column is not None:
            found = [r for r in results if isinstance(r, dict) and column in (r.get("Id"), r.get("Label"))]
            if not found:
                raise fail(1, f"no MetricDataResults entry with Id or Label {column!r}")
            chosen = found[0]
        times, values = chosen.get("Timestamps"), chosen.get("Values")
        if not isinstance(times, list) or not isinstance(values, list) or len(times) != len(values):
            raise fail(1, "a MetricDataResults entry needs Timestamps and Values of the same length")
        stated = chosen.get("Period", stated)
        for query in data.get("MetricDataQueries") or []:
            if isinstance(query, dict) and query.get("Id") == chosen.get("Id"):
                metric_stat = query.get("MetricStat")
                period = metric_stat.get("Period") if isinstance(metric_stat, dict) else query.get("Period")
                stated = period if period is not None else stated
        return list(values), [(line_of(str(t)), str(t)) for t in times], stated
    raise fail(1, "JSON counts must be the output of aws cloudwatch get-metric-statistics "
                  "(Datapoints) or get-metric-data (MetricDataResults)")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _text(text: str, column: Any, fail: Fail) -> tuple[list, list, Any]:
    counts: list = []
    stamps: list[tuple[int, str]] = []
    results: list[dict] = []  # get-metric-data: {"id", "label", "times", "values"}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.rstrip("\r").split("\t")
        kind = fields[0]
        if kind == "DATAPOINTS":
            numbers = [(i, v) for i, v in enumerate(fields[1:], 1) if _number(v) is not None]
            times = [v for v in fields[1:] if re.match(r"\d{4}-\d{2}-\d{2}", v)]
            if not times or not numbers:
                raise fail(number, f"a DATAPOINTS row needs a Timestamp and a value: {line.strip()!r}")
            if len(numbers) > 1:
                raise fail(number, "a DATAPOINTS row with several statistics: the text output does not say "
                                   "which is which; export with --statistics Sum alone, or as JSON")
            counts.append(_number(numbers[0][1]))
            stamps.append((number, times[0]))
        elif kind == "METRICDATARESULTS":
            results.append({"fields": fields[1:], "times": [], "values": []})
        elif kind == "TIMESTAMPS" and results:
            results[-1]["times"].append((number, fields[1] if len(fields) > 1 else ""))
        elif kind == "VALUES" and results:
            results[-1]["values"].append(_number(fields[1]) if len(fields) > 1 else None)
    if results:
        chosen = results[0]
        if column is not None:
            found = [r for r in results if str(column) in r["fields"]]
            if not found:
                raise fail(1, f"no METRICDATARESULTS entry with Id or Label {column!r}")
            chosen = found[0]
        if len(chosen["times"]) != len(chosen["values"]):
            raise fail(1, "a METRICDATARESULTS entry needs as many TIMESTAMPS as VALUES rows")
        return chosen["values"], chosen["times"], None
    return counts, stamps, None


def _table(text: str, column: Any, fail: Fail) -> tuple[list, list, Any]:
    header: list[str] | None = None
    counts: list = []
    stamps: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not (stripped.startswith("|") and stripped.endswith("|")):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if "Timestamp" in cells:
            header = cells
            continue
        if header is None or len(cells) != len(header):
            continue
        row = dict(zip(header, cells))
        stat = str(column) if column is not None else ("Sum" if "Sum" in row else next(
            (s for s in _STATS if s in row), None))
        value = _number(row.get(stat, "")) if stat else None
        if value is None:
            raise fail(number, f"a Datapoints row without a {stat or 'statistic'} value: {stripped!r}")
        counts.append(value)
        stamps.append((number, row["Timestamp"]))
    return counts, stamps, None
