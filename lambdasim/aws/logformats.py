"""The shapes in which CloudWatch tools hand out a Lambda function's log events.

``lambdasim fit`` needs the REPORT records of a function, and each tool wraps them differently.
This module turns any of these shapes into one stream of *items*, each either a text line of a
log message (with the event's time when the shape carries one) or a structured REPORT record:

==========================================  ==================================  ===================
source                                      shape                               timestamp
==========================================  ==================================  ===================
S3 export (``create-export-task``), text    ``2024-07-01T08:54:54.127Z REPORT``  line prefix
``aws logs tail``, ``sam logs``             ``TIME STREAM REPORT ...``           any prefix token
``filter-log-events``/``get-log-events``    ``{"events": [{"timestamp", ...}]}`` ``timestamp`` (ms)
 ``--output json`` (pages concatenated)
``... --output text``                       ``EVENTS<TAB>...<TAB>message<TAB>ts``  last field (ms)
``... --output yaml``                       ``events:`` entries                   ``timestamp`` (ms)
``... --output table``, ``--query``         ``| ts | REPORT ... |`` rows           header or cell
console download (CSV)                      ``timestamp,message`` with a header  named column
Logs Insights: CSV, Markdown, ASCII table   ``@timestamp``, ``@message`` columns  ``@timestamp``
Logs Insights: JSON, ``get-query-results``  ``[{"@message": ...}]``,              ``@timestamp``
                                            ``{"results": [[{field, value}]]}``,
                                            ``RESULTS<TAB>field<TAB>value`` lines
Logs Insights discovered fields             ``@duration``, ``@initDuration``,     ``@timestamp``
                                            ``@memorySize`` (bytes), ...
subscription payload, Firehose to S3        ``{"logEvents": [...]}``, several     ``timestamp`` (ms)
                                            documents back to back, gzip
subscription event of a Lambda consumer     ``{"awslogs": {"data": base64}}``     as above
JSON Lines (any of the above one a line)    one object a line                    its own
Lambda JSON log format                      ``{"type": "platform.report", ...}``  ``time``
==========================================  ==================================  ===================

(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html.)

The input is read as JSON first: one document, JSON Lines, or documents back to back (as
Firehose writes them). JSON is walked for message fields (``message``, ``@message``), structured
records and nested lists; a message that is itself a JSON document (a JSON-format function's
log line) is walked in turn. Only input that is not JSON is read as text, line by line, where
table rows, CSV with a header and ``EVENTS`` rows are recognised by their shape. The walk is
iterative, so nesting depth costs no Python stack.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as _dt
import gzip
import io
import json
import re
import zlib
from typing import Any, Iterator, NamedTuple

__all__ = ["Item", "items", "parse_time", "find_time", "trailing_time"]

#: Keys that hold a log event's message, in order of preference.
MESSAGE_KEYS = ("message", "@message", "Message", "log")
#: Keys that hold a log event's time (never ``ingestionTime``: when CloudWatch received it).
TIME_KEYS = ("timestamp", "@timestamp", "time", "Timestamp", "eventTime")
#: Logs Insights fields discovered in Lambda REPORT events
#: (CWL_AnalyzeLogData-discoverable-fields.html); memory is in bytes there.
INSIGHTS_FIELDS = ("@duration", "@billedDuration", "@initDuration", "@memorySize", "@maxMemoryUsed")

_ISO = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|z| ?[+-]\d{2}:?\d{2}| ?UTC)?"
_EPOCH = r"\d{13}(?:\.\d+)?|\d{10}\.\d+"
_TIME_TOKEN = re.compile(rf"(?<![\w.:-])({_ISO}|{_EPOCH})(?![\w.:])")
_TIME_FULL = re.compile(rf"\s*\"?({_ISO}|{_EPOCH}|\d{{10}})\"?\s*")
_REPORT = re.compile(r"REPORT[ \t]+RequestId:")


class Item(NamedTuple):
    """One thing found in a log file.

    ``kind`` is ``"line"`` (``value`` a text line of a log message), ``"report"`` (``value`` a
    Lambda JSON ``platform.report`` object), ``"fields"`` (``value`` a Logs Insights row with
    discovered REPORT fields) or ``"other"`` (a structured event that holds no message);
    ``line`` is the line of the file it starts on; ``time`` the event's time when the shape
    gives one.
    """

    kind: str
    value: Any
    line: int
    time: _dt.datetime | None


# ======================================================================================
# Times
# ======================================================================================
def parse_time(raw: Any) -> _dt.datetime | None:
    """A log time: epoch milliseconds or seconds (number or digits) or ISO 8601 (``T`` or a
    space between date and time, ``Z``/offset/``UTC`` or none, meaning UTC); None otherwise."""
    if isinstance(raw, bool):
        return None
    try:
        if isinstance(raw, (int, float)):
            value = float(raw)
        else:
            text = str(raw).strip().strip('"').strip()
            if re.fullmatch(r"\d{10,13}(\.\d+)?", text):
                value = float(text)
            else:
                text = re.sub(r"\s+(?=[+-]\d{2}:?\d{2}$)", "", text.replace(",", "."))
                if text.endswith("UTC"):
                    text = text[:-3].strip() + "+00:00"
                if text[-1:] in ("Z", "z"):
                    text = text[:-1] + "+00:00"
                stamp = _dt.datetime.fromisoformat(text)
                return stamp if stamp.tzinfo else stamp.replace(tzinfo=_dt.timezone.utc)
        if not 1e9 <= value < 1e14:  # 2001 .. 5138: a log time, not a count or a duration
            return None
        return _dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, _dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def find_time(text: str) -> _dt.datetime | None:
    """The first time token (ISO date-time or epoch milliseconds) in ``text``, else None."""
    for match in _TIME_TOKEN.finditer(text):
        stamp = parse_time(match.group(1))
        if stamp is not None:
            return stamp
    return None


def trailing_time(line: str) -> _dt.datetime | None:
    """The time in the last tab- or space-separated field of ``line`` (``--query
    'events[*].[message,timestamp]' --output text`` puts it there), else None."""
    match = re.search(rf"[\t ]({_ISO}|{_EPOCH})\s*$", line)
    return parse_time(match.group(1)) if match else None


def _is_time_cell(cell: str) -> bool:
    return bool(_TIME_FULL.fullmatch(cell)) and parse_time(cell) is not None


def _record_time(obj: dict) -> _dt.datetime | None:
    for key in TIME_KEYS:
        if key in obj:
            stamp = parse_time(obj[key])
            if stamp is not None:
                return stamp
    return None


# ======================================================================================
# JSON
# ======================================================================================
def json_documents(text: str) -> list[tuple[int, Any]] | None:
    """The JSON documents of ``text`` with their first lines, when the whole text is JSON (one
    document, JSON Lines, or documents back to back); None when it is not (then it is text).

    Raises
    ------
    ValueError
        When the JSON nests too deeply to be read.
    """
    decoder = json.JSONDecoder()
    docs: list[tuple[int, Any]] = []
    pos, line, size = 0, 1, len(text)
    ws = re.compile(r"[ \t\r\n]*")
    while True:
        end = ws.match(text, pos).end()
        line += text.count("\n", pos, end)
        pos = end
        if pos >= size:
            break
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:
            return None
        except RecursionError:
            raise ValueError(f"line {line}: the JSON nests too deeply to be read") from None
        if not isinstance(obj, (dict, list)):
            return None  # a bare number or string first: a text log that starts with a time
        docs.append((line, obj))
        line += text.count("\n", pos, end)
        pos = end
    return docs or None


def _awslogs(data: Any) -> Any:
    """The payload of a subscription event delivered to a Lambda function
    (``{"awslogs": {"data": base64(gzip(json))}}``), or None."""
    if not isinstance(data, str):
        return None
    try:
        raw = base64.b64decode(data, validate=False)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError, RecursionError):
        return None


def _insights_row(value: list) -> dict | None:
    """A Logs Insights ``get-query-results`` row (``[{"field": ..., "value": ...}, ...]``) as a
    dict, or None."""
    if value and all(isinstance(c, dict) and "field" in c and "value" in c for c in value):
        return {str(c["field"]): c["value"] for c in value}
    return None


def walk(doc: Any, line: int, time: _dt.datetime | None = None) -> Iterator[Item]:
    """Items of one JSON document (see the module), in document order."""
    stack: list[tuple[Any, _dt.datetime | None]] = [(doc, time)]
    while stack:
        value, hint = stack.pop()
        if isinstance(value, list):
            row = _insights_row(value)
            if row is not None:
                stack.append((row, hint))
            else:
                stack.extend((v, hint) for v in reversed(value) if isinstance(v, (dict, list)))
            continue
        if not isinstance(value, dict):
            continue
        own = _record_time(value) or hint
        kind = value.get("type")
        if isinstance(kind, str) and kind.startswith("platform."):
            yield Item("report" if kind == "platform.report" else "other", value, line, own)
            continue
        if any(k in value for k in INSIGHTS_FIELDS) and not any(k in value for k in MESSAGE_KEYS):
            yield Item("fields", value, line, own)
            continue
        message = next((value[k] for k in MESSAGE_KEYS if k in value), None)
        if isinstance(message, str):
            yield from _message(message, line, own)
            continue
        if isinstance(message, (dict, list)):
            stack.append((message, own))
            continue
        if isinstance(value.get("awslogs"), dict):
            payload = _awslogs(value["awslogs"].get("data"))
            if payload is not None:
                stack.append((payload, own))
                continue
        children = [v for v in value.values() if isinstance(v, (dict, list))]
        stack.extend((v, hint) for v in reversed(children))


def _message(message: str, line: int, time: _dt.datetime | None) -> Iterator[Item]:
    """A log event's message: a JSON-format log line (walked) or text lines."""
    stripped = message.strip()
    if stripped[:1] == "{" and stripped[-1:] == "}":
        try:
            inner = json.loads(stripped)
        except (ValueError, RecursionError):
            inner = None
        if isinstance(inner, dict):
            yield from walk(inner, line, time)
            return
    for sub in message.splitlines() or [""]:
        yield Item("line", sub, line, time)


# ======================================================================================
# Text
# ======================================================================================
def _cells(line: str) -> list[str] | None:
    """The cells of a table row (``| a | b |``, ``|| a | b ||``, Markdown or ASCII), or None."""
    stripped = line.strip()
    if not (stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 2):
        return None
    return [c.strip() for c in stripped.strip("|").split("|")]


def _rule(cells: list[str]) -> bool:
    return all(re.fullmatch(r":?-*:?|[+-]*", c) for c in cells)


def _csv_header(line: str) -> list[str] | None:
    try:
        row = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None
    names = [c.strip() for c in row]
    if len(names) >= 2 and any(n.lower() in ("message", "@message") for n in names):
        return names
    if len(names) >= 2 and any(n in INSIGHTS_FIELDS for n in names):
        return names
    return None


def text_items(text: str) -> Iterator[Item]:
    """Items of a text log (see the module): plain lines, table rows, CSV with a header,
    ``EVENTS`` rows of the AWS CLI's text output, a time alone on its line before the message
    (the console's copied rows); JSON objects on one line or spread over several are walked."""
    lines = text.splitlines(keepends=True)
    first = next((i for i, l in enumerate(lines) if l.strip()), None)
    if first is not None:
        header = _csv_header(lines[first].strip("\r\n"))
        if header is not None:
            yield from _csv_items(text, header)
            return
    tables: dict[int, list[str]] = {}  # table header names by cell count
    pending: int | None = None         # index of an EVENTS item waiting for its timestamp line
    stamp_line: _dt.datetime | None = None  # a time alone on the line before
    decoder = json.JSONDecoder()
    out: list[Item] = []
    offset, skip_to = 0, 0
    result: dict[str, str] = {}  # a Logs Insights result assembled from RESULTS lines
    row_line = 0
    for number, raw in enumerate(lines, 1):
        at, offset = offset, offset + len(raw)
        if at < skip_to:
            continue
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if pending is not None and re.fullmatch(r"\d{13}", stripped):
            item = out[pending]
            out[pending] = item._replace(time=parse_time(stripped))
            pending = None
            continue
        pending = None
        if stripped and _is_time_cell(stripped) and not re.fullmatch(r"\d{10}", stripped):
            stamp_line = parse_time(stripped)
            continue
        before, stamp_line = stamp_line, None
        cells = _cells(line)
        if cells is not None:
            if _rule(cells):
                continue
            if not any(_REPORT.search(c) for c in cells) and any(
                    c.lower() in ("timestamp", "@timestamp", "message", "@message") or c in INSIGHTS_FIELDS
                    for c in cells):
                tables[len(cells)] = cells
                continue
            names = tables.get(len(cells))
            if names is not None:
                row = dict(zip(names, cells))
                if any(k in row for k in INSIGHTS_FIELDS) and not any(k in row for k in MESSAGE_KEYS):
                    out.append(Item("fields", row, number, _record_time(row)))
                    continue
                message = next((row[k] for k in MESSAGE_KEYS if k in row), None)
                if message is not None:
                    out.extend(_message(message, number, _record_time(row)))
                    continue
            report = [c for c in cells if _REPORT.search(c) or (c[:1] == "{" and "platform.report" in c)]
            if report:
                stamps = [parse_time(c) for c in cells if _is_time_cell(c)]
                out.extend(_message(report[0], number, min(stamps) if stamps else None))
                continue
            out.append(Item("line", line, number, None))
            continue
        if line.startswith("RESULTS\t"):  # get-query-results --output text: a field a line
            parts = line.split("\t", 2)
            if len(parts) == 3:
                if parts[1] in result:
                    out.extend(_row_items(result, row_line))
                    result = {}
                row_line = row_line if result else number
                result[parts[1]] = parts[2]
                continue
        if result:
            out.extend(_row_items(result, row_line))
            result = {}
        if line.startswith("EVENTS\t"):
            parts = line.split("\t")
            stamp = parse_time(parts[-1]) if _is_time_cell(parts[-1]) else None
            body = "\t".join(parts[1:-1] if stamp else parts[1:])
            out.append(Item("line", body, number, stamp))
            if stamp is None:
                pending = len(out) - 1
            continue
        if stripped[:1] == "{":
            obj, end = None, None
            try:
                if stripped[-1:] == "}":
                    obj = json.loads(stripped)
                else:  # a pretty-printed object among text lines: read on from here
                    obj, end = decoder.raw_decode(text, at + raw.index("{"))
            except (ValueError, RecursionError):
                obj = None
            if isinstance(obj, dict):
                out.extend(walk(obj, number, before))
                if end is not None:
                    skip_to = end
                    offset = at + len(raw)
                continue
        out.append(Item("line", line, number, before))
        if len(out) > 4096 and pending is None:
            yield from out
            out.clear()
    if result:
        out.extend(_row_items(result, row_line))
    yield from out


def _row_items(row: dict, line: int) -> Iterator[Item]:
    """Items of one Logs Insights result row (a field name -> value mapping)."""
    if any(k in row for k in INSIGHTS_FIELDS) and not any(k in row for k in MESSAGE_KEYS):
        yield Item("fields", row, line, _record_time(row))
        return
    message = next((row[k] for k in MESSAGE_KEYS if k in row), None)
    if message is not None:
        yield from _message(message, line, _record_time(row))


def _csv_items(text: str, header: list[str]) -> Iterator[Item]:
    reader = csv.reader(io.StringIO(text))
    seen_header = False
    for row in reader:
        number = reader.line_num
        if not seen_header:
            if [c.strip() for c in row] == header:
                seen_header = True
            continue
        if not row or not any(c.strip() for c in row):
            continue
        record = dict(zip(header, row))
        if any(k in record for k in INSIGHTS_FIELDS) and not any(k in record for k in MESSAGE_KEYS):
            yield Item("fields", record, number, _record_time(record))
            continue
        message = next((record[k] for k in MESSAGE_KEYS if k in record), "")
        yield from _message(message, number, _record_time(record))


def yaml_document(text: str) -> Any:
    """The document of the AWS CLI's ``--output yaml`` (``events:``, ``results:``, ...), or
    None when ``text`` does not open like one or does not parse. Anchors and aliases are never
    followed (a CLI never writes them), so no alias bomb can be expanded."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not re.fullmatch(r"[A-Za-z@_][\w@-]*:\s*(\[\]|\{\})?\s*|-\s+[A-Za-z@_][\w@-]*:.*", first):
        return None
    if re.search(r"(^|[\s\[{,:-])[&*][A-Za-z0-9_]", text):
        return None
    import yaml

    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    return doc if isinstance(doc, (dict, list)) else None


def items(text: str) -> Iterator[Item]:
    """Every item of a log file's text: JSON (or the CLI's YAML) when it is that, text otherwise."""
    text = text.lstrip("\ufeff")  # a byte-order mark would hide the first column's name
    docs = json_documents(text) if text.lstrip()[:1] in ("{", "[") else None
    if docs is None:
        doc = yaml_document(text)
        docs = [(1, doc)] if doc is not None else None
    if docs is None:
        yield from text_items(text)
        return
    for line, doc in docs:
        yield from walk(doc, line)
