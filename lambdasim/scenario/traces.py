"""Trace replay: arrivals read from recorded traffic.

A ``trace`` arrival spec replays what a system really received. Three file formats are read,
every one relative to the scenario file's folder when the path is relative:

``format: timestamps`` (default)
    One arrival per line: seconds (``12.5``, or Unix epoch seconds) or an ISO 8601 time
    (``2026-03-01T12:00:00.250Z``; a time without zone is UTC). With ``column: NAME`` the file is
    a CSV whose header row names the column holding the times. Blank lines and ``#`` comments
    are skipped; the times need not be sorted. ``origin`` is the trace time replayed at the
    spec's ``start``: ``first`` (the earliest time; the default for ISO times), a number of
    seconds (default 0 for numbers, so relative times replay as written) or an ISO time.
    Numbers of 1e9 or more without an ``origin`` look like epoch seconds and are refused.
``format: counts``
    Arrivals per interval of ``interval`` seconds, e.g. a CloudWatch ``Invocations`` export.
    Without ``interval``, timed counts take the period the file states (``Period``) or the one
    the spacing of their times shows (:mod:`lambdasim.scenario.periods`; ambiguous spacing is
    refused), and untimed counts 1 minute. The AWS CLI's metric outputs (JSON, text, table) are
    read by :mod:`lambdasim.scenario.metric_exports`. A line holds a count, or ``time,count``; with
    ``column: NAME`` (the counts) and optionally ``time_column: NAME`` the file is a CSV with a
    header. When times are given the counts are placed by time (CloudWatch leaves out periods
    without data, so gaps are zeros); otherwise the lines are consecutive intervals. Within an
    interval the arrivals are spread as a Poisson process conditioned on the recorded count
    (uniform random instants, ``spread: poisson``, the default) or evenly (``spread: even``,
    at ``(j + 1/2) / n`` of the interval).
``format: azure``
    The Azure Functions 2019 public trace (``invocations_per_function_md.anon.d*.csv``): one row
    per function, columns ``HashOwner, HashApp, HashFunction, Trigger, 1 .. 1440`` holding
    invocations per minute. ``function: HASH`` picks a row by its ``HashFunction`` (a unique
    prefix is enough); ``rank: N`` picks the N-th busiest row (default 1). Spread as for counts.

``time_scale`` stretches the trace (2 = replay at half speed, 0.5 = twice as fast);
``rate_scale`` amplifies it: each recorded arrival (or each unit of count) is replayed
``floor(r)`` times plus once more with probability ``frac(r)`` (randomised rounding, so the
expectation is exactly ``r`` times the trace); a copy beyond the first of a timestamp lands
uniformly between it and the next recorded arrival. With both scales at 1 a timestamp trace
replays its times exactly and a counts trace its per-interval totals exactly.

The resolved spec carries the data itself (``times`` as offsets in seconds from the origin, or
``counts`` with their ``interval``) plus ``source`` (the file as written and its SHA-256), so a
stored config replays without the file. Errors are :class:`~lambdasim.scenario.units.SpecError` naming
the spec's ``file`` key, with the trace file and its line in the message.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import math
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from lambdasim.scenario.metric_exports import read_metric_export
from lambdasim.scenario.periods import infer_period
from lambdasim.scenario.reading import read_bytes
from lambdasim.scenario.units import SpecError, parse_duration, parse_number

__all__ = ["TRACE_KEYS", "resolve_trace", "trace_times", "expected_trace_count", "parse_timestamp"]

#: Keys of a trace spec (besides ``process``, ``start`` and ``end``).
TRACE_KEYS = (
    "file", "format", "column", "time_column", "interval", "spread", "function", "rank", "origin",
    "time_scale", "rate_scale", "times", "counts", "source",
)
FORMATS = ("timestamps", "counts", "azure")
SPREADS = ("poisson", "even")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _sub(key: str | None, name: str) -> str:
    return f"{key}.{name}" if key else name


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------
def parse_timestamp(text: str) -> tuple[str, Any]:
    """Read one timestamp: ``("num", seconds)`` or ``("iso", aware datetime)``.

    Raises
    ------
    ValueError
        When the text is neither a finite number nor an ISO 8601 time.
    """
    text = text.strip().strip('"').strip()
    if _NUMERIC.match(text):
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text)
        return "num", value
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    stamp = _dt.datetime.fromisoformat(iso)  # ValueError when not ISO 8601
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return "iso", stamp


def _offset(kind: str, value: Any, origin: Any) -> float:
    if kind == "iso":
        return (value - origin).total_seconds()
    return value - origin


class _Reader:
    """Data lines of a trace file with their line numbers; errors name file and line."""

    def __init__(self, raw_file: Any, key: str, base_dir: Path | None) -> None:
        self.key = key
        if not isinstance(raw_file, str) or not raw_file.strip():
            raise SpecError(f"expected the path of a trace file; got {raw_file!r}", key)
        self.written = raw_file
        path = Path(raw_file)
        self.path = path = path if path.is_absolute() or base_dir is None else Path(base_dir) / path
        try:  # bounded (lambdasim.scenario.reading): /dev/zero, a bomb, a 1 GiB line
            data = read_bytes(path, what="the trace file")
        except FileNotFoundError:
            raise SpecError(f"trace file {raw_file!r} not found (looked for {path})", key) from None
        except IsADirectoryError:
            raise SpecError(f"trace file {raw_file!r} is a folder", key) from None
        except OSError as exc:
            raise SpecError(f"cannot read trace file {raw_file!r}: {exc.strerror or exc}", key) from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise SpecError(f"{raw_file}:{line}: not UTF-8 text (is this a trace file?)", key) from None
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.text = text
        self.lines = [
            (n, line) for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not self.lines:
            raise SpecError(f"trace file {raw_file!r} is empty (no data lines)", key)

    def fail(self, line: int, message: str) -> SpecError:
        return SpecError(f"{self.written}:{line}: {message}", self.key)

    def rows(self) -> list[tuple[int, list[str]]]:
        out = []
        for n, line in self.lines:
            try:
                row = next(csv.reader(io.StringIO(line)))
            except (csv.Error, StopIteration) as exc:
                raise self.fail(n, f"cannot read the line as CSV: {exc}") from None
            out.append((n, [cell.strip() for cell in row]))
        return out

    def header(self, rows: list, names: list[str], what: str) -> list[int]:
        line, head = rows[0]
        found = []
        for name in names:
            if name not in head:
                shown = ", ".join(repr(h) for h in head[:12])
                raise self.fail(line, f"no column {name!r} ({what}) in the header row; columns: {shown}")
            found.append(head.index(name))
        return found

    def source(self) -> str:
        return f"{self.written} (sha256:{self.sha256[:16]})"


# --------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------
def _allowed(spec: Mapping[str, Any], form: str, key: str | None) -> None:
    accepted = {
        "timestamps": ("file", "format", "column", "origin"),
        "counts": ("file", "format", "column", "time_column", "interval", "spread", "origin"),
        "azure": ("file", "format", "function", "rank", "spread"),
        "times": ("times",),
        "counts-inline": ("counts", "interval", "spread"),
    }[form]
    common = ("process", "start", "end", "time_scale", "rate_scale", "source")
    for name, value in spec.items():
        if name in common or name in accepted:
            continue
        if value is None and name in TRACE_KEYS:  # the null keys of a resolved spec
            continue
        raise SpecError(
            f"{name!r} does not apply to a trace of this form ({form}); accepted: "
            f"{', '.join(accepted)}, time_scale, rate_scale",
            _sub(key, name),
        )


def _scale(spec: Mapping[str, Any], name: str, key: str | None) -> float:
    value = parse_number(spec.get(name, 1.0) if spec.get(name) is not None else 1.0,
                         _sub(key, name), "a positive number")
    if not value > 0:
        raise SpecError(f"must be > 0, got {value:g}", _sub(key, name))
    return value


def resolve_trace(spec: Mapping[str, Any], key: str | None, base_dir: Any = None) -> dict:
    """Resolve a trace spec: read its file (or inline data) into canonical form.

    Returns
    -------
    dict
        ``times`` (sorted offsets in seconds) or ``counts`` (per interval) with ``interval`` and
        ``spread``; ``time_scale``, ``rate_scale`` and ``source``. Keys that do not apply are
        None, so the form is the same for every trace and resolves to itself.
    """
    base = Path(base_dir) if base_dir is not None else None
    given = [name for name in ("file", "times", "counts") if spec.get(name) is not None]
    if len(given) != 1:
        raise SpecError(
            "a trace needs exactly one of: file (a trace file), times (a list of seconds) or "
            f"counts (a list of counts per interval); got {', '.join(given) or 'none'}",
            _sub(key, "file"),
        )
    out = {"times": None, "counts": None, "interval": None, "spread": None,
           "time_scale": _scale(spec, "time_scale", key), "rate_scale": _scale(spec, "rate_scale", key),
           "source": spec.get("source")}
    if out["source"] is not None and not isinstance(out["source"], str):
        raise SpecError(f"expected a string; got {out['source']!r}", _sub(key, "source"))
    if given == ["times"]:
        _allowed(spec, "times", key)
        raw = spec["times"]
        if not isinstance(raw, (list, tuple)) or not raw:
            raise SpecError("expected a non-empty list of times in seconds", _sub(key, "times"))
        values = [parse_number(v, _sub(key, f"times.{i}"), "a time in seconds") for i, v in enumerate(raw)]
        out["times"] = sorted(values)
        return out
    if given == ["counts"]:
        _allowed(spec, "counts-inline", key)
        raw = spec["counts"]
        if not isinstance(raw, (list, tuple)) or not raw:
            raise SpecError("expected a non-empty list of counts", _sub(key, "counts"))
        counts = []
        for i, v in enumerate(raw):
            c = parse_number(v, _sub(key, f"counts.{i}"), "a count")
            if c < 0:
                raise SpecError(f"a count cannot be negative; got {v!r}", _sub(key, f"counts.{i}"))
            counts.append(c)
        out.update(counts=counts, interval=_interval(spec, key), spread=_spread(spec, key))
        return out
    fmt = spec.get("format", "timestamps")
    if fmt not in FORMATS:
        raise SpecError(f"expected one of {', '.join(FORMATS)}; got {fmt!r}", _sub(key, "format"))
    _allowed(spec, fmt, key)
    reader = _Reader(spec["file"], _sub(key, "file"), base)
    out["source"] = reader.source()
    if fmt == "timestamps":
        out["times"] = _read_timestamps(reader, spec, key)
    elif fmt == "counts":
        interval = _interval(spec, key) if spec.get("interval") is not None else None
        counts, interval = _read_counts(reader, spec, key, interval)
        out.update(counts=counts, interval=interval,
                   spread=_spread(spec, key))
    else:
        out.update(counts=_read_azure(reader, spec, key), interval=60.0, spread=_spread(spec, key))
    return out


def _interval(spec: Mapping[str, Any], key: str | None) -> float:
    value = parse_duration(spec.get("interval", 60.0) if spec.get("interval") is not None else 60.0,
                           _sub(key, "interval"))
    if not value > 0:
        raise SpecError("interval must be longer than 0s", _sub(key, "interval"))
    return value


def _spread(spec: Mapping[str, Any], key: str | None) -> str:
    value = spec.get("spread") or "poisson"
    if value not in SPREADS:
        raise SpecError(f"expected one of {', '.join(SPREADS)}; got {value!r}", _sub(key, "spread"))
    return value


def _origin(spec: Mapping[str, Any], key: str | None, kind: str, default_first: bool) -> Any:
    """The origin as given: "first", or a parsed timestamp of the file's kind."""
    raw = spec.get("origin")
    okey = _sub(key, "origin")
    if raw is None:
        return "first" if default_first or kind == "iso" else 0.0
    if raw == "first":
        return "first"
    if isinstance(raw, _dt.datetime):
        raw = raw.isoformat()
    try:
        okind, value = parse_timestamp(str(raw))
    except ValueError:
        raise SpecError(f"expected 'first', seconds or an ISO 8601 time; got {raw!r}", okey) from None
    if okind != kind:
        raise SpecError(f"the trace holds {'ISO 8601 times' if kind == 'iso' else 'seconds'}; "
                        f"give origin the same way, got {raw!r}", okey)
    return value


def _read_times(reader: _Reader, values: list[tuple[int, str]]) -> tuple[str, list]:
    kind, parsed = None, []
    for line, text in values:
        try:
            k, v = parse_timestamp(text)
        except ValueError:
            raise reader.fail(line, f"cannot read {text!r} as a timestamp (seconds or ISO 8601)") from None
        if kind is None:
            kind = k
        elif k != kind:
            raise reader.fail(line, f"{text!r} mixes ISO 8601 times and seconds in one trace")
        parsed.append(v)
    return kind, parsed


def _read_timestamps(reader: _Reader, spec: Mapping[str, Any], key: str | None) -> list[float]:
    column = spec.get("column")
    if column is None:
        values = []
        for line, text in reader.lines:
            if "," in text or "\t" in text:
                raise reader.fail(line, f"expected one timestamp per line, got {text.strip()!r} "
                                        "(for a CSV file give column: NAME)")
            values.append((line, text))
    else:
        rows = reader.rows()
        (idx,) = reader.header(rows, [str(column)], "the timestamps")
        values = []
        for line, row in rows[1:]:
            if idx >= len(row):
                raise reader.fail(line, f"the row has no column {column!r}")
            values.append((line, row[idx]))
        if not values:
            raise reader.fail(rows[0][0], "only a header row, no timestamps")
    kind, parsed = _read_times(reader, values)
    if kind == "num" and spec.get("origin") is None and min(parsed) >= 1e9:
        raise SpecError(
            f"the times in {reader.written} look like Unix epoch seconds (first {min(parsed):.0f}); "
            "replayed from origin 0 they would lie decades into the run: set origin: first (or "
            "the epoch second to replay at start)",
            _sub(key, "origin"),
        )
    origin = _origin(spec, key, kind, default_first=False)
    if origin == "first":
        origin = min(parsed)
    return sorted(_offset(kind, v, origin) for v in parsed)


def _read_counts(reader: _Reader, spec: Mapping[str, Any], key: str | None,
                 interval: float | None) -> tuple[list[float], float]:
    """The counts on their interval grid, and the interval: as given, else as stated in the
    file or inferred from the spacing of its times (:func:`_infer_interval`), else 1 minute."""
    export = read_metric_export(reader.text, spec.get("column"), reader.fail)
    if export is not None:
        counts, stamps, stated = export
        if interval is None:
            interval = _infer_interval(reader, spec, key, stamps, stated)
        return _place_counts(reader, spec, key, interval, counts, stamps), interval
    column, time_column = spec.get("column"), spec.get("time_column")
    rows = reader.rows()
    if column is not None:
        names = [str(column)] + ([str(time_column)] if time_column is not None else [])
        idx = reader.header(rows, names, "the counts" if len(names) == 1 else "counts and times")
        cidx, tidx = idx[0], (idx[1] if len(idx) > 1 else None)
        body = rows[1:]
        if not body:
            raise reader.fail(rows[0][0], "only a header row, no counts")
    else:
        if time_column is not None:
            raise SpecError("time_column needs column (the counts column of a CSV with a header)",
                            _sub(key, "time_column"))
        width = len(rows[0][1])
        if width not in (1, 2):
            raise reader.fail(rows[0][0], "expected a count or time,count per line "
                                          "(for a CSV file with a header give column: NAME)")
        cidx, tidx, body = width - 1, (0 if width == 2 else None), rows
    counts, stamps = [], []
    for line, row in body:
        need = max(cidx, tidx if tidx is not None else 0)
        if need >= len(row):
            raise reader.fail(line, f"expected {need + 1} fields, got {len(row)}")
        try:
            count = float(row[cidx])
        except ValueError:
            raise reader.fail(line, f"cannot read {row[cidx]!r} as a count") from None
        if not math.isfinite(count) or count < 0:
            raise reader.fail(line, f"a count must be a number >= 0, got {row[cidx]!r}")
        counts.append(count)
        if tidx is not None:
            stamps.append((line, row[tidx]))
    if tidx is None:
        return counts, interval if interval is not None else 60.0
    if interval is None:
        interval = _infer_interval(reader, spec, key, stamps, None)
    return _place_counts(reader, spec, key, interval, counts, stamps), interval


def _infer_interval(reader: _Reader, spec: Mapping[str, Any], key: str | None,
                    stamps: list[tuple[int, str]], stated: Any) -> float:
    """The period of timed counts written without ``interval``: the one the file states, else
    the one the spacing of the times shows (:func:`lambdasim.scenario.periods.infer_period`)."""
    if stated is not None:
        if isinstance(stated, bool) or not isinstance(stated, (int, float)) or not stated > 0:
            raise reader.fail(1, f"Period must be a number of seconds > 0, got {stated!r}")
        return float(stated)
    kind, parsed = _read_times(reader, stamps)
    try:
        return infer_period([_offset(kind, v, parsed[0]) for v in parsed])
    except ValueError as exc:
        raise SpecError(f"{reader.written}: {exc}; set interval to the period the data was taken "
                        "with (e.g. interval: 5m for --period 300)", _sub(key, "interval")) from None


def _place_counts(reader: _Reader, spec: Mapping[str, Any], key: str | None, interval: float,
                  counts: list[float], stamps: list[tuple[int, str]]) -> list[float]:
    """Counts placed on the interval grid by their times; missing intervals are zeros."""
    kind, parsed = _read_times(reader, stamps)
    origin = _origin(spec, key, kind, default_first=True)
    if origin == "first":
        origin = min(parsed)
    slots: dict[int, float] = {}
    for (line, text), value, count in zip(stamps, parsed, counts):
        pos = _offset(kind, value, origin) / interval
        index = round(pos)
        if abs(pos - index) > 1e-6 or index < 0:
            raise reader.fail(line, f"time {text!r} is not on the {interval:g}s grid from the origin "
                                    "(set interval to the export's period)")
        if index in slots:
            raise reader.fail(line, f"a second count for the interval at {text!r}")
        slots[index] = count
    out = [0.0] * (max(slots) + 1)
    for index, count in slots.items():
        out[index] = count
    return out


def _read_azure(reader: _Reader, spec: Mapping[str, Any], key: str | None) -> list[float]:
    rows = reader.rows()
    line0, head = rows[0]
    if "HashFunction" not in head or "1" not in head:
        raise reader.fail(line0, "not an Azure Functions 2019 invocation-count file: the header "
                                 "needs HashFunction and the minute columns 1 .. 1440")
    hidx, first = head.index("HashFunction"), head.index("1")
    function, rank = spec.get("function"), spec.get("rank")
    if function is not None and rank is not None:
        raise SpecError("give function or rank, not both", _sub(key, "rank"))
    if rank is None and function is None:
        rank = 1
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
        raise SpecError(f"expected a rank 1, 2, ... (1 = busiest function); got {rank!r}", _sub(key, "rank"))

    def counts_of(line: int, row: list[str]) -> np.ndarray:
        if len(row) != len(head):
            raise reader.fail(line, f"expected {len(head)} fields like the header, got {len(row)}")
        try:
            values = np.array(row[first:], dtype=float)
        except ValueError:
            raise reader.fail(line, "the minute columns must hold numbers") from None
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise reader.fail(line, "the minute columns must hold counts >= 0")
        return values

    if function is not None:
        matches = [(line, row) for line, row in rows[1:] if len(row) > hidx and row[hidx].startswith(str(function))]
        if not matches:
            raise SpecError(f"no row whose HashFunction starts with {function!r} in {reader.written}",
                            _sub(key, "function"))
        if len({row[hidx] for _, row in matches}) > 1:
            raise SpecError(f"{function!r} is the prefix of several functions in {reader.written}; "
                            "give more of the hash", _sub(key, "function"))
        line, row = matches[0]
        return counts_of(line, row).tolist()
    totals = [(line, row, counts_of(line, row)) for line, row in rows[1:]]
    if rank > len(totals):
        raise SpecError(f"rank {rank} asked, but {reader.written} holds {len(totals)} functions",
                        _sub(key, "rank"))
    order = sorted(range(len(totals)), key=lambda i: (-float(totals[i][2].sum()), i))
    return totals[order[rank - 1]][2].tolist()


# --------------------------------------------------------------------------------------
# Expected counts and generation
# --------------------------------------------------------------------------------------
def expected_trace_count(spec: Mapping[str, Any], a: float, b: float) -> float:
    """Expected arrivals of a resolved trace spec in ``[a, b)`` (already clipped to its window)."""
    start, ts, r = spec["start"], spec["time_scale"], spec["rate_scale"]
    if spec["times"] is not None:
        t = start + np.asarray(spec["times"]) * ts
        return float(np.count_nonzero((t >= a) & (t < b))) * r
    counts = np.asarray(spec["counts"], dtype=float)
    w = spec["interval"] * ts
    lo = start + np.arange(counts.size) * w
    overlap = np.clip(np.minimum(lo + w, b) - np.maximum(lo, a), 0.0, None)
    return float(np.sum(counts * overlap / w)) * r


def _copies(n: int, r: float, rng: np.random.Generator) -> np.ndarray:
    whole, frac = math.floor(r), r - math.floor(r)
    k = np.full(n, whole, dtype=np.int64)
    if frac > 0:
        k += rng.random(n) < frac
    return k


def trace_times(
    spec: Mapping[str, Any], t0: float, t1: float, rng: np.random.Generator, block: int
) -> Iterator[np.ndarray]:
    """Arrival times of a resolved trace spec in ``[t0, t1)``, sorted, in blocks."""
    start, ts, r = float(spec["start"]), float(spec["time_scale"]), float(spec["rate_scale"])
    if spec["times"] is not None:
        t = start + np.asarray(spec["times"], dtype=np.float64) * ts
        if r != 1.0:
            k = _copies(t.size, r, rng)
            gaps = np.diff(t, append=np.nan)
            gaps[-1] = float(np.median(gaps[:-1])) if t.size > 1 else 0.0
            idx = np.repeat(np.arange(t.size), k)
            rank = np.arange(idx.size) - np.repeat(np.cumsum(k) - k, k)
            t = np.sort(t[idx] + np.where(rank > 0, rng.random(idx.size) * gaps[idx], 0.0))
        t = t[(t >= t0) & (t < t1)]
        for i in range(0, t.size, block):
            yield t[i : i + block]
        return
    counts = np.asarray(spec["counts"], dtype=np.float64) * r
    w = float(spec["interval"]) * ts
    lo = start + np.arange(counts.size) * w
    live = (lo + w > t0) & (lo < t1)
    counts, lo = counts[live], lo[live]
    n = np.floor(counts).astype(np.int64)
    frac = counts - n
    if np.any(frac > 0):
        n += rng.random(n.size) < frac
    cum = np.cumsum(n)
    i = 0
    while i < n.size:
        # a chunk of whole intervals with about `block` arrivals
        j = max(i + 1, int(np.searchsorted(cum, (cum[i - 1] if i else 0) + block, side="right")))
        k = n[i:j]
        idx = np.repeat(np.arange(i, j), k)
        if spec["spread"] == "even":
            rank = np.arange(idx.size) - np.repeat(np.cumsum(k) - k, k)
            t = lo[idx] + (rank + 0.5) / n[idx] * w
        else:
            t = np.sort(lo[idx] + rng.random(idx.size) * w)
        t = t[(t >= t0) & (t < t1)]
        if t.size:
            yield t
        i = j
