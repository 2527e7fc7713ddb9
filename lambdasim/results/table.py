"""The summary table printed after a run: one column per function, then the account.

Rows are data (a label with its unit, the path of the figure in a summary block, a format),
so the terminal table and report.html show the same rows. Trigger-specific rows appear only
when some function's summary carries their block.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

__all__ = ["format_summary_table"]

# (label, path inside a function's summary block, formatter)
_FUNCTION_ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("requests arrived", ("requests", "arrived"), "int"),
    ("  succeeded", ("requests", "succeeded"), "int"),
    ("  failed", ("requests", "failed"), "int"),
    ("  throttled", ("requests", "throttled"), "int"),
    ("  dropped", ("requests", "dropped"), "int"),
    ("invocations", ("invocations",), "int"),
    ("cold starts", ("cold_starts",), "int"),
    ("cold start rate (%)", ("cold_start_rate",), "pct"),
    ("throttle rate (%)", ("throttle_rate",), "pct"),
    ("latency p50 (ms)", ("latency_ms", "p50"), "ms"),
    ("latency p99 (ms)", ("latency_ms", "p99"), "ms"),
    ("latency max (ms)", ("latency_ms", "max"), "ms"),
    ("duration p50 (ms)", ("duration_ms", "p50"), "ms"),
    ("duration p99 (ms)", ("duration_ms", "p99"), "ms"),
    ("durations measured at (MB)", ("duration_basis", "reference_mb"), "int"),
    ("arm64/x86_64 duration factor", ("duration_basis", "arm64_duration_factor"), "num"),
    ("concurrency max", ("concurrency", "max"), "num"),
    ("concurrency mean", ("concurrency", "mean"), "num"),
    ("environments created", ("environments", "created"), "int"),
    ("cost (USD)", ("cost_usd", "total"), "usd"),
    ("cost per 30 days (USD)", ("cost_usd", "per_30_days", "total"), "usd"),
)

#: Rows shown only when some function's summary has the block they read, before the cost row.
_BLOCK_ROWS: tuple[tuple[str, tuple[tuple[str, tuple[str, ...], str], ...]], ...] = (
    ("async", (
        ("async events dropped", ("async", "events_dropped"), "int"),
        ("async event age p99 (ms)", ("async", "event_age_ms", "p99"), "ms"),
        ("async event age max (ms)", ("async", "event_age_ms", "max"), "ms"),
        ("async queue depth max", ("async", "queue_depth", "max"), "int"),
    )),
    ("sqs", (
        ("sqs messages deleted", ("sqs", "messages_deleted"), "int"),
        ("sqs messages to DLQ", ("sqs", "messages_to_dlq"), "int"),
        ("sqs queue depth max", ("sqs", "queue_depth", "max"), "int"),
        ("sqs oldest message max (s)", ("sqs", "oldest_message_age_s", "max"), "num"),
        ("sqs pollers max", ("sqs", "pollers", "max"), "int"),
        ("sqs provisioned pollers max", ("sqs", "provisioned_pollers", "max"), "int"),
        ("event poller cost (USD)", ("cost_usd", "event_poller_units"), "usd"),
    )),
    ("kafka", (
        ("kafka records processed", ("kafka", "records_processed"), "int"),
        ("kafka records discarded", ("kafka", "records_discarded"), "int"),
        ("kafka SumOffsetLag max", ("kafka", "sum_offset_lag", "max"), "int"),
        ("kafka MaxOffsetLag max", ("kafka", "max_offset_lag", "max"), "int"),
        ("kafka pollers max", ("kafka", "pollers", "max"), "int"),
        ("event poller cost (USD)", ("cost_usd", "event_poller_units"), "usd"),
    )),
    ("stream", (
        ("stream records processed", ("stream", "records_processed"), "int"),
        ("stream records discarded", ("stream", "records_discarded"), "int"),
        ("stream records expired", ("stream", "records_expired"), "int"),
        ("iterator age p99 (ms)", ("stream", "iterator_age_ms", "p99"), "ms"),
        ("iterator age max (ms)", ("stream", "iterator_age_ms", "max"), "ms"),
    )),
    ("provisioned", (
        ("provisioned allocated max", ("provisioned", "allocated", "max"), "int"),
        ("provisioned allocated mean", ("provisioned", "allocated", "mean"), "num"),
        ("provisioned utilization (%)", ("provisioned", "utilization", "mean"), "pct"),
        ("provisioned invocations", ("provisioned", "invocations"), "int"),
        ("spillover invocations", ("provisioned", "spillover_invocations"), "int"),
        ("provisioned cost (USD)", ("cost_usd", "provisioned"), "usd"),
    )),
    ("snap_start", (
        ("snapstart restores", ("snap_start", "restores"), "int"),
        ("snapstart restore p99 (ms)", ("snap_start", "restore_duration_ms", "p99"), "ms"),
        ("snapstart full inits", ("snap_start", "full_inits"), "int"),
        ("snapstart cache cost (USD)", ("cost_usd", "snap_start_cache"), "usd"),
        ("snapstart restore cost (USD)", ("cost_usd", "snap_start_restore"), "usd"),
    )),
)

_ACCOUNT_ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("concurrency max", ("concurrency", "max"), "num"),
    ("concurrency mean", ("concurrency", "mean"), "num"),
    ("throttles", ("throttles",), "int"),
    ("cost (USD)", ("cost_usd", "total"), "usd"),
    ("cost per 30 days (USD)", ("cost_usd", "per_30_days", "total"), "usd"),
)


def format_summary_table(result: Any) -> str:
    """A plain-text summary of a run: one column per function, then the account.

    Parameters
    ----------
    result : lambdasim.results.result.Result or dict
        A finished run, or its ``summary`` dict.

    Returns
    -------
    str
        Aligned text with units in the row labels, no colours, ending in a newline.
    """
    summary = result if isinstance(result, Mapping) else result.summary
    functions: Mapping[str, Any] = summary.get("functions") or {}
    title = f"lambdasim: scenario {summary.get('scenario')!s}, seed {summary.get('seed')!s}"
    span = _span(summary)
    lines = [title + (f", {span}" if span else ""), ""]

    header = ["function"] + list(functions)
    specs = list(_FUNCTION_ROWS)
    cost_at = next(i for i, spec in enumerate(specs) if spec[1] == ("cost_usd", "total"))
    for key, extra in _BLOCK_ROWS:
        if any(isinstance(b, Mapping) and key in b for b in functions.values()):
            labels = {spec[0] for spec in specs}
            extra = tuple(spec for spec in extra if spec[0] not in labels)
            specs[cost_at:cost_at] = extra
            cost_at += len(extra)
    rows = [[label] + [_fmt(_get(block, path), kind) for block in functions.values()]
            for label, path, kind in specs]
    lines += _align([header] + rows)

    account = summary.get("account") or {}
    lines += [""]
    rows = [[label, _fmt(_get(account, path), kind)] for label, path, kind in _ACCOUNT_ROWS]
    lines += _align([["account", ""]] + rows)
    return "\n".join(lines) + "\n"


def _span(summary: Mapping[str, Any]) -> str:
    duration, warmup = summary.get("duration_s"), summary.get("warmup_s")
    if duration is None:
        return ""
    text = f"{_fmt(duration, 'num')} s simulated"
    if warmup:
        text += f" (first {_fmt(warmup, 'num')} s warm-up excluded)"
    return text


def _get(block: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(block, Mapping) or key not in block:
            return None
        block = block[key]
    return block


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{100 * value:.2f}"
    if kind == "ms":
        return f"{value:,.1f}"
    if kind == "usd":
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.6f}"
    # "num": integers stay integers, others get two decimals
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _align(rows: list[list[str]]) -> list[str]:
    """Left-align the first column, right-align the others, underline the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
