"""Fit a function's timings from its CloudWatch REPORT logs: ``lambdasim fit LOGFILE...``.

Lambda writes one REPORT line per invocation to the function's log group
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html#python-logging-output):

* text format: ``REPORT RequestId: ID<TAB>Duration: 102.25 ms<TAB>Billed Duration: 103 ms<TAB>
  Memory Size: 128 MB<TAB>Max Memory Used: 70 MB<TAB>Init Duration: 268.48 ms``, with
  ``Status: timeout`` (or ``error``) on invocations that did not end normally, fields separated
  by tabs or by spaces; older timeouts carry no Status but a separate ``Task timed out after``
  line with the same request id;
* JSON format (advanced logging controls,
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html):
  ``{"time": ..., "type": "platform.report", "record": {"requestId": ..., "metrics":
  {"durationMs": ..., "billedDurationMs": ..., "memorySizeMB": ..., "maxMemoryUsedMB": ...,
  "initDurationMs": ...}, "status": "success" | "timeout" | "error" | "failure"}}``.

Either may come as plain text (one log line each, optionally prefixed by a timestamp as in
S3 exports or ``aws logs tail``), as the CSV of the console's download, as JSON Lines, as the
output of ``aws logs filter-log-events`` (``{"events": [{"timestamp": ms, "message": ...}]}``),
or gzip-compressed (S3 exports). Other lines (START, END, application output) are skipped;
lines that look like REPORT lines but cannot be read are counted and reported.

Durations of invocations that did not end normally (timeouts) are censored at the timeout, so
they are left out of the Duration fit and reported instead (with the timeout they imply).
Duration and Init Duration are each fitted by maximum likelihood with lognormal, gamma and
Weibull distributions; the family with the lowest AIC wins, its Kolmogorov-Smirnov distance
and p-value say how well it fits, and when even the best family is rejected by that test at
1 % the empirical distribution (1,000 quantiles) is used instead. The result is a scenario
fragment (``memory_mb``, ``duration``, ``init``, and ``timeout`` when timeouts were seen),
preceded by the report as YAML comments. Log timestamps, when present, can also be written as
a ``trace`` arrival file (invocation start = log time - Duration - Init Duration).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = ["Report", "LogReader", "FitResult", "fit_times", "fragment", "architecture_factor", "add_arguments", "run"]

_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_FIELD = re.compile(
    r"(?<![A-Za-z])(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Duration|"
    r"Memory Size|Max Memory Used):[ \t]*" + _NUM + r"[ \t]*(ms|MB)\b"
)
_REPORT = re.compile(r"REPORT[ \t]+RequestId:[ \t]*([0-9A-Za-z-]+)")
_STATUS = re.compile(r"(?<![A-Za-z])Status:[ \t]*([A-Za-z]+)")
_TIMED_OUT = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F-]{27,})\s+Task timed out after")
_STAMP = re.compile(r'^\s*"?(\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?|\d{10,13}(?:\.\d+)?)"?[\s,]')


@dataclasses.dataclass
class Report:
    """One REPORT line: times in milliseconds, memory in MB, ``status`` as logged (or None)."""

    request_id: str
    duration_ms: float
    memory_mb: int | None
    max_memory_mb: int | None
    init_ms: float | None
    status: str | None
    time: _dt.datetime | None


class LogReader:
    """Collects REPORT records from log files and counts what it could not read."""

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self.unparsed: list[tuple[str, int, str]] = []  # (file, line, text) of bad REPORT lines
        self.other_lines = 0
        self.lines = 0
        self.timed_out: set[str] = set()

    # -- files ---------------------------------------------------------------------------
    def read_file(self, path: Path) -> int:
        """Read one file; return the number of REPORT records it held."""
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if not data.strip():
            raise ValueError("the file is empty")
        head = data[:4096]
        control = sum(1 for b in head if b < 9 or 13 < b < 32)
        if control > 0.1 * len(head):  # a stray control byte is a garbage line, many are binary
            raise ValueError("not a text log file (binary data)")
        text = data.decode("utf-8", errors="replace")
        before = len(self.reports)
        stripped = text.lstrip()
        if stripped[:1] in "{[":
            try:
                whole = json.loads(stripped)
            except ValueError:
                whole = None
            if isinstance(whole, dict) and isinstance(whole.get("events"), list):
                self._read_events(str(path), whole["events"])
                return len(self.reports) - before
            if isinstance(whole, list):
                self._read_events(str(path), whole)
                return len(self.reports) - before
        for number, line in enumerate(text.splitlines(), 1):
            self._read_line(str(path), number, line, None)
        return len(self.reports) - before

    def _read_events(self, file: str, events: list) -> None:
        for number, event in enumerate(events, 1):
            if isinstance(event, dict) and isinstance(event.get("message"), str):
                stamp = event.get("timestamp")
                time = (_dt.datetime.fromtimestamp(stamp / 1000, _dt.timezone.utc)
                        if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else None)
                for sub in event["message"].splitlines() or [""]:
                    self._read_line(file, number, sub, time)
            elif isinstance(event, dict) and event.get("type") == "platform.report":
                self.lines += 1
                self._read_json(file, number, event, json.dumps(event)[:120])
            else:
                self.lines += 1
                self.other_lines += 1

    # -- lines ---------------------------------------------------------------------------
    def _read_line(self, file: str, number: int, line: str, time: _dt.datetime | None) -> None:
        self.lines += 1
        if "platform.report" in line:
            start = line.find("{")
            try:
                obj = json.loads(line[start:]) if start >= 0 else None
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                self._read_json(file, number, obj, line)
            else:
                self.unparsed.append((file, number, line[:120]))
            return
        match = _REPORT.search(line)
        if not match:
            timed = _TIMED_OUT.search(line)
            if timed:
                self.timed_out.add(timed.group(1))
            if "REPORT" in line and "RequestId" in line:
                self.unparsed.append((file, number, line[:120]))
            else:
                self.other_lines += 1
            return
        fields: dict[str, float] = {}
        for name, value, _unit in _FIELD.findall(line[match.end():]):
            fields.setdefault(name, float(value))
        if "Duration" not in fields:
            self.unparsed.append((file, number, line[:120]))
            return
        status = _STATUS.search(line[match.end():])
        if time is None:
            time = _line_time(line[: match.start()])
        self.reports.append(Report(
            match.group(1), fields["Duration"], _int(fields.get("Memory Size")),
            _int(fields.get("Max Memory Used")), fields.get("Init Duration"),
            status.group(1).lower() if status else None, time))

    def _read_json(self, file: str, number: int, obj: dict, line: str) -> None:
        record = obj.get("record") if obj.get("type") == "platform.report" else None
        metrics = record.get("metrics") if isinstance(record, dict) else None
        duration = metrics.get("durationMs") if isinstance(metrics, dict) else None
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            self.unparsed.append((file, number, line[:120]))
            return
        time = None
        if isinstance(obj.get("time"), str):
            time = _parse_time(obj["time"])
        init = metrics.get("initDurationMs")
        status = record.get("status")
        self.reports.append(Report(
            str(record.get("requestId", "")), float(duration), _int(metrics.get("memorySizeMB")),
            _int(metrics.get("maxMemoryUsedMB")), float(init) if isinstance(init, (int, float)) else None,
            status.lower() if isinstance(status, str) else None, time))

    def finish(self) -> None:
        """Mark REPORTs of requests that a ``Task timed out`` line named as timeouts."""
        for report in self.reports:
            if report.status is None and report.request_id in self.timed_out:
                report.status = "timeout"


def _int(value: Any) -> int | None:
    return int(round(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _parse_time(text: str) -> _dt.datetime | None:
    text = text.strip().strip('"')
    try:
        if re.fullmatch(r"\d{10,13}(\.\d+)?", text):
            value = float(text)
            return _dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, _dt.timezone.utc)
        stamp = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except (ValueError, OverflowError, OSError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=_dt.timezone.utc)


def _line_time(prefix: str) -> _dt.datetime | None:
    match = _STAMP.match(prefix + " ")
    return _parse_time(match.group(1)) if match else None


# ======================================================================================
# Fitting
# ======================================================================================
@dataclasses.dataclass
class FitResult:
    """The chosen distribution of a sample of times (seconds).

    ``name`` is lognormal, gamma, weibull, empirical or constant; ``spec`` its scenario form;
    ``candidates`` maps each parametric family to ``(aic, ks_d, ks_p)``; ``reason`` says in
    words why ``name`` was chosen; ``quantile(q)`` evaluates the chosen distribution.
    """

    name: str
    spec: dict
    candidates: dict[str, tuple[float, float, float]]
    reason: str
    n: int
    _ppf: Any = dataclasses.field(repr=False, default=None)

    def quantile(self, q: float) -> float:
        """The chosen distribution's ``q`` quantile in seconds."""
        return float(self._ppf(q))


def _ms(seconds: float) -> str:
    ms = seconds * 1000.0
    return f"{float(f'{ms:.4g}'):g}ms"


def fit_times(values_s: Iterable[float], min_parametric: int = 20) -> FitResult:
    """Fit lognormal, gamma and Weibull by maximum likelihood and choose one (see the module).

    Parameters
    ----------
    values_s : iterable of float
        Positive times in seconds.
    min_parametric : int
        Below this many values, the values themselves are used (empirical).
    """
    import numpy as np
    from scipy import stats

    x = np.sort(np.asarray([v for v in values_s if v > 0], dtype=float))
    n = int(x.size)
    if n == 0:
        raise ValueError("no positive values to fit")
    if n == 1 or np.all(x == x[0]):
        value = float(x[0])
        return FitResult("constant", {"dist": "constant", "value": _ms(value)}, {},
                         f"{n} value(s), all equal", n, lambda q: value)
    if n < min_parametric:
        values = [round(float(v), 6) for v in x]
        return FitResult("empirical", {"dist": "empirical", "values": values}, {},
                         f"only {n} values: used as they are", n, lambda q: np.quantile(x, q))
    logs = np.log(x)
    mu, sigma = float(logs.mean()), float(logs.std())
    fitted = {"lognormal": stats.lognorm(sigma, scale=math.exp(mu))}
    shape, _, scale = stats.gamma.fit(x, floc=0)
    fitted["gamma"] = stats.gamma(shape, scale=scale)
    wshape, _, wscale = stats.weibull_min.fit(x, floc=0)
    fitted["weibull"] = stats.weibull_min(wshape, scale=wscale)
    candidates = {}
    for name, dist in fitted.items():
        loglik = float(np.sum(dist.logpdf(x)))
        aic = 2 * 2 - 2 * loglik
        ks = stats.kstest(x, dist.cdf)
        candidates[name] = (aic, float(ks.statistic), float(ks.pvalue))
    best = min(candidates, key=lambda k: (candidates[k][0], k))
    aic, d, p = candidates[best]
    if p < 0.01:
        q = (np.arange(1000) + 0.5) / 1000 if n > 1000 else None
        values = [round(float(v), 6) for v in (np.quantile(x, q) if q is not None else x)]
        reason = (f"empirical: the best family by AIC ({best}) is rejected by the "
                  f"Kolmogorov-Smirnov test at 1 % (D={d:.4f}, p={p:.2g})")
        return FitResult("empirical", {"dist": "empirical", "values": values}, candidates, reason, n,
                         lambda qq: np.quantile(x, qq))
    dist = fitted[best]
    if best == "lognormal":
        spec = {"dist": "lognormal", "median": _ms(math.exp(mu)), "p99": _ms(float(dist.ppf(0.99)))}
    elif best == "gamma":
        spec = {"dist": "gamma", "shape": float(f"{shape:.5g}"), "scale": _ms(scale)}
    else:
        spec = {"dist": "weibull", "shape": float(f"{wshape:.5g}"), "scale": _ms(wscale)}
    others = ", ".join(f"{k} {candidates[k][0]:.1f}" for k in candidates if k != best)
    reason = (f"{best}: lowest AIC ({aic:.1f}; {others}); Kolmogorov-Smirnov D={d:.4f}, "
              f"p={p:.2g}")
    return FitResult(best, spec, candidates, reason, n, dist.ppf)


# ======================================================================================
# The fragment
# ======================================================================================
def _flow(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False).strip()
    return text.removesuffix("...").strip()  # a plain scalar's document end marker


@dataclasses.dataclass
class Analysis:
    """Everything ``fit`` learnt from the logs (see :func:`analyse`)."""

    lines: list[str]                # the report, one line each
    body: dict                      # scenario keys: memory_mb, duration, init, timeout
    duration: FitResult
    init: FitResult | None
    duration_samples: list[float]   # seconds, invocations that ended normally
    cold_start_rate: float
    starts: list[_dt.datetime]      # invocation start times, when the logs had timestamps


def analyse(reader: LogReader, files: Sequence[str]) -> Analysis:
    """Fit the records of ``reader`` and describe the result."""
    import numpy as np

    reports = reader.reports
    sizes = Counter(r.memory_mb for r in reports if r.memory_mb is not None)
    lines = [f"lambdasim fit: {len(reports):,} REPORT lines from {len(files)} file(s) "
             f"({len(reader.unparsed):,} REPORT-like lines could not be parsed, "
             f"{reader.other_lines:,} other lines skipped)"]
    for file, number, text in reader.unparsed[:3]:
        lines.append(f"  not parsed: {file}:{number}: {text}")
    body: dict = {}
    if sizes:
        memory, count = sizes.most_common(1)[0]
        if len(sizes) > 1:
            detail = ", ".join(f"{m} MB x{c}" for m, c in sorted(sizes.items()))
            lines.append(f"Memory Size: several ({detail}); fitting the {count:,} invocations at {memory} MB")
            reports = [r for r in reports if r.memory_mb == memory]
        body["memory_mb"] = memory
        # The durations below were measured at this memory (one scenario, one answer).
        body["reference_mb"] = memory
    ended = [r for r in reports if r.status in (None, "success")]
    timeouts = [r for r in reports if r.status == "timeout"]
    errors = [r for r in reports if r.status not in (None, "success", "timeout")]
    if not ended:
        raise ValueError("every REPORT line is a timeout or an error: no Duration left to fit")
    duration = fit_times(r.duration_ms / 1000.0 for r in ended)
    body["duration"] = duration.spec
    lines.append(f"Duration ({duration.n:,} invocations that ended normally): {duration.reason}")
    lines.append(f"  median {duration.quantile(0.5) * 1000:.1f} ms, p99 {duration.quantile(0.99) * 1000:.1f} ms")
    inits = [r.init_ms / 1000.0 for r in reports if r.init_ms is not None]
    cold_rate = len(inits) / len(reports)
    init = None
    if inits:
        init = fit_times(inits)
        body["init"] = init.spec
        lines.append(f"Init Duration ({len(inits):,} cold starts, {100 * cold_rate:.2f} % of invocations): "
                     f"{init.reason}")
        lines.append(f"  median {init.quantile(0.5) * 1000:.1f} ms, p99 {init.quantile(0.99) * 1000:.1f} ms")
    else:
        lines.append("Init Duration: none in the logs (no cold start seen); init keeps its default")
    used = [r.max_memory_mb for r in reports if r.max_memory_mb is not None]
    if used:
        size = f" of {body['memory_mb']} MB" if "memory_mb" in body else ""
        lines.append(f"Max Memory Used: max {max(used)} MB, p99 {np.quantile(used, 0.99):.0f} MB{size}")
    if timeouts:
        limit_s = max(r.duration_ms for r in timeouts) / 1000.0
        body["timeout"] = f"{max(1, round(limit_s)):d}s"
        lines.append(f"timeouts: {len(timeouts):,} ({100 * len(timeouts) / len(reports):.2f} %), "
                     f"at about {limit_s:.2f} s: timeout {body['timeout']}; left out of the Duration fit")
    if errors:
        kinds = Counter(r.status for r in errors)
        lines.append("other statuses: " + ", ".join(f"{k} x{c}" for k, c in sorted(kinds.items()))
                     + " (left out of the Duration fit)")
    starts = sorted(r.time - _dt.timedelta(milliseconds=r.duration_ms + (r.init_ms or 0.0))
                    for r in reports if r.time is not None)
    if starts:
        lines.append(f"timestamps: {len(starts):,} of {len(reports):,} lines (usable with --trace)")
    return Analysis(lines, body, duration, init, [r.duration_ms / 1000.0 for r in ended],
                    cold_rate, starts)


def architecture_factor(analysis: Analysis, reader: "LogReader", architecture: str,
                        files: Sequence[str]) -> None:
    """Derive ``arm64_duration_factor`` from REPORT logs of the other architecture.

    ``reader`` holds the other architecture's logs of the same function; the factor is the
    ratio of mean Durations (arm64 / x86_64) of invocations that ended normally at the memory
    size of the main logs, with a 95 % interval (delta method on the log of the ratio). AWS
    states that arm64 is "up to 19 percent" faster, workload-dependent (AWS News Blog,
    2021-09-29), so only a measurement like this one settles it. Sets ``architecture``,
    ``reference_architecture`` and ``arm64_duration_factor`` in ``analysis.body``.
    """
    import numpy as np

    memory = analysis.body.get("memory_mb")
    other = [r for r in reader.reports if r.status in (None, "success")
             and (memory is None or r.memory_mb in (None, memory))]
    if len(other) < 2:
        raise ValueError(f"fewer than 2 normally ended invocations"
                         f"{f' at {memory} MB' if memory else ''} in the other architecture's logs")
    own = np.asarray(analysis.duration_samples, dtype=float)
    theirs = np.asarray([r.duration_ms / 1000.0 for r in other], dtype=float)
    arm, x86 = (own, theirs) if architecture == "arm64" else (theirs, own)
    factor = float(arm.mean() / x86.mean())
    # Var(log ratio) ~ CV_arm^2 / n_arm + CV_x86^2 / n_x86.
    spread = math.sqrt(arm.var(ddof=1) / arm.mean() ** 2 / arm.size
                       + x86.var(ddof=1) / x86.mean() ** 2 / x86.size)
    low, high = factor * math.exp(-1.96 * spread), factor * math.exp(1.96 * spread)
    medians = float(np.median(arm) / np.median(x86))
    analysis.body["architecture"] = architecture
    analysis.body["reference_architecture"] = architecture
    analysis.body["arm64_duration_factor"] = round(factor, 4)
    analysis.lines.append(
        f"arm64/x86_64 duration factor: {factor:.4f} (95 % interval {low:.4f}-{high:.4f}; ratio "
        f"of mean Durations, {arm.size:,} arm64 and {x86.size:,} x86_64 invocations; ratio of "
        f"medians {medians:.4f}) from {len(files)} file(s) of the other architecture")


def fragment(analysis: Analysis, function: str | None = None) -> str:
    """The scenario fragment: the report as comments, then the keys (under ``functions.NAME``
    when a function name is given)."""
    out = [f"# {line}" for line in analysis.lines]
    indent = "    " if function else ""
    if function:
        out += ["functions:", f"  {function}:"]
    for key, value in analysis.body.items():
        out.append(f"{indent}{key}: {_flow(value)}")
    return "\n".join(out) + "\n"
