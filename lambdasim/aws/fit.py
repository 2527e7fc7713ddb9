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

Either may come in any shape a CloudWatch tool writes (:mod:`lambdasim.aws.logformats`: S3
exports, ``aws logs tail``, ``filter-log-events``/``get-log-events`` as JSON, text or table,
the console's and Logs Insights' CSV, Markdown and JSON, subscription payloads and Firehose
objects, JSON Lines), gzip-compressed or not. JSON is read as JSON, never as text, so a
JSON-escaped tab cannot hide a field, and a bare ``Duration`` is never the tail of ``Billed
Duration``. Other lines (START, END, application output) are skipped; lines that look like
REPORT lines but cannot be read are counted and reported.

SnapStart's ``Restore Duration`` marks a cold start of its own kind (a snapshot restored
instead of Init, https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html): it is
counted and fitted apart from Init Duration. ``Status: error`` and ``failure`` are counted into
a suggested ``error_rate``.

Durations of invocations that did not end normally (timeouts) are censored at the timeout, so
they are left out of the Duration fit and reported instead (with the timeout they imply).
Duration and Init Duration are each fitted by maximum likelihood with lognormal, gamma and
Weibull distributions; the family with the lowest AIC wins, its Kolmogorov-Smirnov distance
and p-value say how well it fits, and when even the best family is rejected by that test at
1 % the empirical distribution (1,000 quantiles) is used instead. The result is a scenario
fragment (``memory_mb``, ``duration``, ``init``, ``timeout`` when timeouts were seen,
``error_rate`` when errors were, ``snap_start.restore`` and ``snap_start.after_restore`` when
the scenario format has them, split as :func:`_snap_start_fits` says),
preceded by the report as YAML comments. Log timestamps, when present, can also be written as
a ``trace`` arrival file (invocation start = log time - Duration - Init or Restore Duration).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from lambdasim.aws import logformats, support
from lambdasim.scenario.reading import MAX_LOG_BYTES, read_bytes

__all__ = ["Report", "LogReader", "FitResult", "fit_times", "fragment", "architecture_factor", "add_arguments", "run"]

_NUM = r"([0-9]+(?:\.[0-9]+)?)"
# A bare "Duration" must not be the tail of "Billed Duration", "Init Duration" or "Restore
# Duration", whatever separates the fields (tabs, spaces, or a JSON-escaped "\t").
_FIELD = re.compile(
    r"(?<![A-Za-z])(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|"
    r"(?<!Billed )(?<!Init )(?<!Restore )Duration|Memory Size|Max Memory Used):[ \t]*" + _NUM + r"[ \t]*(ms|MB)\b"
)
_REPORT = re.compile(r"REPORT[ \t]+RequestId:[ \t]*([0-9A-Za-z-]+)")
_STATUS = re.compile(r"(?<![A-Za-z])Status:[ \t]*([A-Za-z]+)")
_TIMED_OUT = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F-]{27,})\s+Task timed out after")


@dataclasses.dataclass
class Report:
    """One REPORT record: times in milliseconds, memory in MB, ``status`` as logged (or None);
    ``restore_ms`` is SnapStart's Restore Duration (a cold start that restored a snapshot
    instead of running Init, https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html),
    ``billed_restore_ms`` its Billed Restore Duration (the part after the snapshot restore:
    loading the runtime and running the after-restore hooks, the part that is billed)."""

    request_id: str
    duration_ms: float
    memory_mb: int | None
    max_memory_mb: int | None
    init_ms: float | None
    status: str | None
    time: _dt.datetime | None
    restore_ms: float | None = None
    billed_restore_ms: float | None = None


class LogReader:
    """Collects REPORT records from log files and counts what it could not read.

    Every shape of :mod:`lambdasim.aws.logformats` is read: JSON is walked as JSON, and only
    text is read line by line.
    """

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self.unparsed: list[tuple[str, int, str]] = []  # (file, line, text) of bad REPORT lines
        self.other_lines = 0
        self.lines = 0
        self.timed_out: set[str] = set()

    # -- files ---------------------------------------------------------------------------
    def read_file(self, path: Path) -> int:
        """Read one file; return the number of REPORT records it held."""
        # Read at the input boundary with limits: size, decompressed size (a gzip bomb stops at
        # the limit), line length (lambdasim.scenario.reading).
        data = read_bytes(path, MAX_LOG_BYTES, what="the log file")
        if not data.strip():
            raise ValueError("the file is empty")
        head = data[:4096]
        control = sum(1 for b in head if b < 9 or 13 < b < 32)
        if control > 0.1 * len(head):  # a stray control byte is a garbage line, many are binary
            raise ValueError("not a text log file (binary data)")
        text = data.decode("utf-8", errors="replace")
        before = len(self.reports)
        self.read_text(str(path), text)
        return len(self.reports) - before

    def read_text(self, file: str, text: str) -> None:
        """Read the text of one log file (any shape of :mod:`lambdasim.aws.logformats`).

        Raises
        ------
        ValueError
            When the text is JSON nested too deeply to be read.
        """
        for item in logformats.items(text):
            if item.kind == "line":
                self._read_line(file, item.line, item.value, item.time)
                continue
            self.lines += 1
            if item.kind == "report":
                self._read_json(file, item.line, item.value, json.dumps(item.value)[:120], item.time)
            elif item.kind == "fields":
                self._read_fields(file, item.line, item.value, item.time)
            else:
                self.other_lines += 1

    # -- lines ---------------------------------------------------------------------------
    def _read_line(self, file: str, number: int, line: str, time: _dt.datetime | None) -> None:
        self.lines += 1
        if "platform.report" in line:
            start = line.find("{")
            try:
                obj = json.loads(line[start:]) if start >= 0 else None
            except (ValueError, RecursionError):
                obj = None
            if isinstance(obj, dict):
                self._read_json(file, number, obj, line, time or logformats.find_time(line[:start]))
            else:
                self.unparsed.append((file, number, line[:120]))
            return
        matches = list(_REPORT.finditer(line))
        if not matches:
            timed = _TIMED_OUT.search(line)
            if timed:
                self.timed_out.add(timed.group(1))
            if "REPORT" in line and "RequestId" in line:
                self.unparsed.append((file, number, line[:120]))
            else:
                self.other_lines += 1
            return
        if "\\t" in line:  # a JSON message read as text: its tabs are still escaped
            line = line.replace("\\t", "\t").replace("\\n", " ")
            matches = list(_REPORT.finditer(line))
        if time is None:  # before REPORT (exports, tail), else a last field (--query [message, timestamp])
            time = logformats.find_time(line[: matches[0].start()]) or logformats.trailing_time(line)
        ends = [m.start() for m in matches[1:]] + [len(line)]
        for match, end in zip(matches, ends):  # several REPORTs on one line: each its own
            body = line[match.end():end]
            fields: dict[str, float] = {}
            for name, value, _unit in _FIELD.findall(body):
                fields.setdefault(name, float(value))
            if "Duration" not in fields:
                self.unparsed.append((file, number, line[match.start():match.start() + 120]))
                continue
            status = _STATUS.search(body)
            self.reports.append(Report(
                match.group(1), fields["Duration"], _int(fields.get("Memory Size")),
                _int(fields.get("Max Memory Used")), fields.get("Init Duration"),
                status.group(1).lower() if status else None, time, fields.get("Restore Duration"),
                fields.get("Billed Restore Duration")))

    def _read_json(self, file: str, number: int, obj: dict, line: str,
                   time: _dt.datetime | None = None) -> None:
        """A ``platform.report`` record of the Lambda JSON log format
        (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html#platform-report)."""
        record = obj.get("record") if obj.get("type") == "platform.report" else None
        metrics = record.get("metrics") if isinstance(record, dict) else None
        duration = _number(metrics.get("durationMs")) if isinstance(metrics, dict) else None
        if duration is None:
            self.unparsed.append((file, number, line[:120]))
            return
        if time is None:
            time = logformats.parse_time(obj.get("time"))
        status = record.get("status")
        self.reports.append(Report(
            str(record.get("requestId", "")), duration, _int(_number(metrics.get("memorySizeMB"))),
            _int(_number(metrics.get("maxMemoryUsedMB"))), _number(metrics.get("initDurationMs")),
            status.lower() if isinstance(status, str) else None, time,
            _number(metrics.get("restoreDurationMs")),
            _number(metrics.get("billedRestoreDurationMs"))))

    def _read_fields(self, file: str, number: int, row: dict, time: _dt.datetime | None) -> None:
        """A Logs Insights row of the fields it discovers in REPORT events (``@duration``,
        ``@initDuration``, ``@memorySize`` and ``@maxMemoryUsed`` in bytes, ...;
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html)."""
        kind = row.get("@type")
        if kind not in (None, "", "REPORT"):
            self.other_lines += 1
            return
        duration = _number(row.get("@duration"))
        if duration is None:
            self.unparsed.append((file, number, json.dumps(row)[:120]))
            return

        def megabytes(key: str) -> int | None:
            value = _number(row.get(key))
            # Insights gives bytes (1 MB = 10^6 bytes: "@memorySize / 1000 / 1000" in the
            # AWS sample queries); a value within Lambda's MB range was already converted.
            return None if value is None else _int(value / 1e6 if value > 10240 else value)

        self.reports.append(Report(
            str(row.get("@requestId", "")), duration, megabytes("@memorySize"),
            megabytes("@maxMemoryUsed"), _number(row.get("@initDuration")), None, time,
            _number(row.get("@restoreDuration"))))

    def finish(self) -> None:
        """Mark REPORTs of requests that a ``Task timed out`` line named as timeouts."""
        for report in self.reports:
            if report.status is None and report.request_id in self.timed_out:
                report.status = "timeout"


def _number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric text; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    return int(round(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


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
    restores: int = 0               # SnapStart restores seen (cold starts without Init)


def _ms_text(ms: float, digits: int = 1) -> str:
    """A duration in milliseconds with thousands separators: ``1,031.1 ms``."""
    return f"{ms:,.{digits}f} ms"


def analyse(reader: LogReader, files: Sequence[str],
            ms_text: Callable[[float, int], str] = _ms_text) -> Analysis:
    """Fit the records of ``reader`` and describe the result.

    ``ms_text(milliseconds, decimals)`` writes the durations of the report (the command line
    passes :func:`lambdasim.results.humanize.duration_ms`, which this layer may not import, so
    the report reads like the run table: ``1,031.1 ms``, ``12.5 s``)."""
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
    lines.append(f"  median {ms_text(duration.quantile(0.5) * 1000, 1)}, "
                 f"p99 {ms_text(duration.quantile(0.99) * 1000, 1)}")
    inits = [r.init_ms / 1000.0 for r in reports if r.init_ms is not None]
    restores = [r.restore_ms / 1000.0 for r in reports if r.restore_ms is not None]
    # A SnapStart restore is a cold start of its own kind: the environment resumes a snapshot
    # instead of running Init (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html).
    cold_rate = (len(inits) + len(restores)) / len(reports)
    init = None
    if inits:
        init = fit_times(inits)
        body["init"] = init.spec
        lines.append(f"Init Duration ({len(inits):,} cold starts with Init, "
                     f"{100 * len(inits) / len(reports):.2f} % of invocations): {init.reason}")
        lines.append(f"  median {ms_text(init.quantile(0.5) * 1000, 1)}, "
                     f"p99 {ms_text(init.quantile(0.99) * 1000, 1)}")
    elif restores:
        lines.append("Init Duration: none in the logs (the cold starts seen are SnapStart restores, "
                     "below); init keeps its default")
    else:
        lines.append("Init Duration: none in the logs (no cold start seen); init keeps its default")
    if restores:
        restore = fit_times(restores)
        lines.append(f"SnapStart restores (Restore Duration): {len(restores):,} of {len(reports):,} "
                     f"invocations ({100 * len(restores) / len(reports):.2f} %), cold starts that "
                     f"restored a snapshot instead of running Init: {restore.reason}")
        lines.append(f"  median {ms_text(restore.quantile(0.5) * 1000, 2)}, "
                     f"p99 {ms_text(restore.quantile(0.99) * 1000, 2)}")
        if support.function_key("snap_start", "restore"):
            body["snap_start"] = _snap_start_fits(reports, restore, lines, ms_text)
        else:
            lines.append("Note: this lambdasim does not model SnapStart: the restores are not in the "
                         "fragment, and cold starts use the runtime's Init (init keeps its non-SnapStart "
                         "default unless Init Duration was seen)")
    used = [r.max_memory_mb for r in reports if r.max_memory_mb is not None]
    if used:
        size = f" of {body['memory_mb']} MB" if "memory_mb" in body else ""
        lines.append(f"Max Memory Used: max {max(used)} MB, p99 {np.quantile(used, 0.99):.0f} MB{size}")
    if timeouts:
        limit_s = max(r.duration_ms for r in timeouts) / 1000.0
        body["timeout"] = f"{max(1, round(limit_s)):d}s"
        lines.append(f"timeouts: {len(timeouts):,} ({100 * len(timeouts) / len(reports):.2f} %), "
                     f"at about {limit_s:.2f} s: timeout {body['timeout']}; left out of the Duration fit")
    failed = [r for r in errors if r.status in ("error", "failure")]
    if failed:
        # Status: error / failure (https://docs.aws.amazon.com/lambda/latest/dg/
        # telemetry-schema-reference.html#platform-report): the invocation ended with a function
        # error. Timeouts are not counted: the model times out invocations longer than timeout.
        body["error_rate"] = float(f"{len(failed) / len(reports):.4g}")
        lines.append(f"errors: {len(failed):,} of {len(reports):,} invocations ended with Status: error "
                     f"or failure: error_rate {body['error_rate']:g} (timeouts not counted: the model "
                     "times out invocations longer than timeout); left out of the Duration fit")
    others = [r for r in errors if r.status not in ("error", "failure")]
    if others:
        kinds = Counter(r.status for r in others)
        lines.append("other statuses: " + ", ".join(f"{k} x{c}" for k, c in sorted(kinds.items()))
                     + " (left out of the Duration fit)")
    starts = sorted(r.time - _dt.timedelta(milliseconds=r.duration_ms + (r.init_ms or 0.0)
                                           + (r.restore_ms or 0.0))
                    for r in reports if r.time is not None)
    if starts:
        lines.append(f"timestamps: {len(starts):,} of {len(reports):,} lines (usable with --trace)")
    return Analysis(lines, body, duration, init, [r.duration_ms / 1000.0 for r in ended],
                    cold_rate, starts, len(restores))


def _snap_start_fits(reports: Sequence[Report], whole: FitResult, lines: list[str],
                     ms_text: Callable[[float, int], str] = _ms_text) -> dict:
    """``snap_start.restore`` and ``snap_start.after_restore`` from the restores' REPORT fields.

    "Restore Duration: The time it takes for Lambda to restore a snapshot, load the runtime,
    and run any after-restore runtime hooks"; "Billed Restore Duration: The time it takes for
    Lambda to load the runtime and run any after-restore hooks. You are not charged for the
    time it takes to restore a snapshot"
    (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html). So
    ``after_restore`` is fitted to Billed Restore Duration and ``restore`` to Restore Duration
    minus Billed Restore Duration, per record (the model's Restore Duration is their sum, its
    Billed Restore Duration the after-restore part). Billed Restore Duration is logged in whole
    milliseconds, so the restore part can be up to 1 ms short [assumption]. Records without
    Billed Restore Duration cannot be split: when none has it, the whole Restore Duration
    becomes ``restore`` and ``after_restore`` is 0 (said in the report).
    """
    pairs = [(r.restore_ms, r.billed_restore_ms) for r in reports
             if r.restore_ms is not None and r.billed_restore_ms is not None]
    if not pairs:
        lines.append("Note: no Billed Restore Duration in these logs: the whole Restore Duration is "
                     "fitted as snap_start.restore and after_restore is 0 s, so the restores bill no "
                     "after-restore time; set after_restore from REPORT lines that carry it")
        return {"restore": whole.spec, "after_restore": "0s"}
    after = [billed / 1000.0 for _, billed in pairs]
    before = [max(0.0, restore - billed) / 1000.0 for restore, billed in pairs]
    out = {}
    parts = (("restore", before, "snapshot restore (Restore Duration - Billed Restore Duration), "
              "not billed"),
             ("after_restore", after, "runtime load and after-restore hooks (Billed Restore "
              "Duration), billed with the invocation"))
    for key, values, what in parts:
        if max(values) <= 0.0:
            out[key] = "0s"
            lines.append(f"  {key}: {what}: 0 ms in every record")
            continue
        fit = fit_times(values)
        out[key] = fit.spec
        lines.append(f"  {key}: {what}: {fit.reason}; median {ms_text(fit.quantile(0.5) * 1000, 2)}, "
                     f"p99 {ms_text(fit.quantile(0.99) * 1000, 2)}")
    if len(pairs) < sum(r.restore_ms is not None for r in reports):
        lines.append(f"  split from the {len(pairs):,} restores that carry Billed Restore Duration")
    return out


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
