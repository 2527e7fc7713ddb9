"""The summary table: which figures a run shows, what each one counts, and how it is written.

A planner reads the table, not summary.json, so every row says what it counts: **requests**
(one unit of work arriving at a trigger -- a call, an event, a message, a record -- counted
once, whatever happened to it) or **attempts** (each try to run it: invocations, which ran
the handler, and throttled attempts, which Lambda refused), or environments, events,
messages, records, batches. Both throttle rates are shown where both exist: the share of
requests that ended throttled and the share of attempts that were throttled.

The rows are data: :data:`FUNCTION_ROWS` (every function), :data:`BLOCK_ROWS` (shown when
some function's summary has the block they read: ``async``, ``sqs``, ``stream``,
``provisioned``, ...; a function without the block shows ``-``), :data:`COST_ROWS` and
:data:`ACCOUNT_ROWS`. A new summary key gets a table row by adding one :class:`Row` to these
tables. :func:`table_sections` turns a summary into labelled cells, which
:func:`format_summary_table` (a single run), :func:`format_replications_table` (``mean [low,
high]`` per figure) and report.html render; the terminal tables are laid out by rich through
:mod:`lambdasim.results.console` (plain text when not on a terminal). Figures are written by
:mod:`lambdasim.results.humanize`: durations of 10 s or more in s, min, h or d, money at one
precision per table, ``-`` where a figure does not apply.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping, Sequence

from lambdasim.results import humanize as hz
from lambdasim.results.assumptions import format_assumptions
from lambdasim.results.console import Block, Column, Lines, Paragraph, TextTable, render_text

__all__ = ["Row", "Section", "FUNCTION_ROWS", "BLOCK_ROWS", "COST_ROWS", "ACCOUNT_ROWS",
           "DEPENDENCY_ROWS",
           "UNITS", "table_sections", "format_summary_table", "format_replications_table",
           "figure_label", "figure_row", "render_cell", "render_interval", "span_text",
           "projection_label", "summary_page", "replications_page", "figure_key"]


#: The words a row's ``unit`` may take: what its figure counts or measures.
UNITS = ("requests", "attempts", "invocations", "cold starts", "environments", "events",
         "messages", "records", "batches", "pollers", "USD", "latency", "duration", "age",
         "MB", "factor", "units")


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of the summary table.

    Attributes
    ----------
    label : str
        What the row shows, naming what it counts (``requests throttled (% of requests)``).
        A label that starts with two spaces is a part of the row above it (the unit of the
        row above applies).
    path : tuple of str
        Where the figure sits in a function's (or the account's) summary block.
    kind : str
        How it is written: ``count``, ``percent`` (a fraction), ``ms`` (a duration in
        milliseconds), ``s`` (in seconds), ``usd`` or ``number`` (a mean of a count).
    unit : str
        What the figure counts or measures, one of :data:`UNITS`.
    needs : str or None
        A block key the function's summary must have for the figure to apply (``-`` else).
    define : str
        One sentence for the README's definitions.
    applies : callable or None
        A further test on the function's summary block: the figure applies only when it
        returns true (``-`` else), e.g. an event poller cost only for a provisioned-mode
        mapping. A figure that applies and is exactly zero is shown (``$0``).
    """

    label: str
    path: tuple[str, ...]
    kind: str
    unit: str
    needs: str | None = None
    define: str = ""
    applies: Callable[[Mapping[str, Any]], bool] | None = None


@dataclasses.dataclass
class Section:
    """Rendered rows of one table: a header (first cell the title) and rows of cells."""

    title: str
    columns: list[str]
    rows: list[tuple[Row, list[Any]]]


FUNCTION_ROWS: tuple[Row, ...] = (
    Row("requests arrived", ("requests", "arrived"), "count", "requests",
        define="requests (calls, events, messages, records) that arrived in the window"),
    Row("  succeeded", ("requests", "succeeded"), "count", "requests",
        define="requests the function answered without error"),
    Row("  failed (error or timeout)", ("requests", "failed"), "count", "requests",
        define="requests whose last attempt ended in a function error or timeout (for queues "
               "and streams: sent to the dead-letter queue or discarded)"),
    Row("  throttled (429 on the last attempt)", ("requests", "throttled"), "count", "requests",
        define="requests refused with 429 on their last attempt, after any client retries"),
    Row("  dropped", ("requests", "dropped"), "count", "requests",
        define="requests Lambda gave up on without an answer: async events too old, expired "
               "queue messages and stream records"),
    Row("  in flight at the end", ("requests", "in_flight"), "count", "requests",
        define="requests still queued or running when the run ended"),
    Row("requests throttled (% of requests)", ("request_throttle_rate",), "percent", "requests",
        define="requests throttled / requests arrived"),
    Row("attempts (invocations + throttled)", ("attempts",), "count", "attempts",
        define="every try to run a request: invocations plus throttled attempts"),
    Row("  invocations (handler runs)", ("invocations",), "count", "invocations",
        define="attempts that ran the handler, retries included (CloudWatch Invocations)"),
    Row("  throttled attempts", ("throttles",), "count", "attempts",
        define="attempts Lambda refused for lack of concurrency or rate (CloudWatch "
               "Throttles)"),
    Row("attempts throttled (% of attempts)", ("throttle_rate",), "percent", "attempts",
        define="throttled attempts / attempts"),
    Row("invocations with an error", ("errors",), "count", "invocations",
        define="invocations that ended in a function error or timeout (CloudWatch Errors)"),
    Row("cold starts (invocations with Init)", ("cold_starts",), "count", "cold starts",
        define="invocations that had to initialize a new execution environment"),
    Row("cold starts (% of invocations)", ("cold_start_rate",), "percent", "invocations",
        define="cold starts / invocations"),
    Row("latency p50 per request", ("latency_ms", "p50"), "ms", "latency",
        define="end-to-end latency of the requests answered (succeeded or failed): arrival "
               "to final response, retries and backoff included"),
    Row("latency p99 per request", ("latency_ms", "p99"), "ms", "latency"),
    Row("latency max per request", ("latency_ms", "max"), "ms", "latency"),
    Row("duration p50 per invocation", ("duration_ms", "p50"), "ms", "duration",
        define="handler Duration of each invocation, Init excluded"),
    Row("duration p99 per invocation", ("duration_ms", "p99"), "ms", "duration"),
    Row("durations measured at (MB)", ("duration_basis", "reference_mb"), "count", "MB",
        define="the memory size at which the duration distribution was measured"),
    Row("arm64/x86_64 duration factor", ("duration_basis", "arm64_duration_factor"), "number",
        "factor", define="handler time on arm64 over x86_64 (1 = the same speed)"),
    Row("concurrency max (environments)", ("concurrency", "max"), "count", "environments",
        define="busy and initializing execution environments at the peak (what the limits "
               "count)"),
    Row("concurrency mean (environments)", ("concurrency", "mean"), "number", "environments",
        define="the same, time-weighted mean over the window"),
    Row("environments created", ("environments", "created"), "count", "environments",
        define="execution environments started in the window"),
)

#: Rows shown when some function's summary has the block named first; before the cost rows.
def _provisioned_pollers(block: Mapping[str, Any]) -> bool:
    """Whether a function has an event source mapping in provisioned mode (SQS or Kafka): only
    those bill event poller units (https://aws.amazon.com/lambda/pricing/)."""
    sqs, kafka = block.get("sqs"), block.get("kafka")
    return ((isinstance(sqs, Mapping) and "provisioned_pollers" in sqs)
            or (isinstance(kafka, Mapping) and kafka.get("mode") == "provisioned"))


def _snap_start_pays(block: Mapping[str, Any]) -> bool:
    """Whether the function's runtime pays the SnapStart cache and restore charges (Java
    managed runtimes pay neither: https://aws.amazon.com/lambda/pricing/)."""
    return bool((block.get("snap_start") or {}).get("runtime_pays_snap_start", True))


def _had_backlog(block: Mapping[str, Any]) -> bool:
    """Whether some async event waited in the queue (a backlog has a start)."""
    backlog = (block.get("async") or {}).get("backlog") or {}
    return backlog.get("started_s") is not None


#: The event poller units of provisioned-mode mappings (SQS and Kafka blocks share it).
_EPU_COST = Row("event poller cost", ("cost_usd", "event_poller_units"), "usd", "USD",
                define="provisioned event pollers, per second with a 1-minute minimum; '-' "
                       "for a function without a provisioned-mode mapping",
                applies=_provisioned_pollers)

BLOCK_ROWS: tuple[tuple[str, tuple[Row, ...]], ...] = (
    ("async", (
        Row("async events dropped", ("async", "events_dropped"), "count", "events",
            needs="async"),
        Row("async event age p99 per invocation (queued to start)",
            ("async", "event_age_ms", "p99"), "ms", "age", needs="async",
            define="AsyncEventAge: time from Lambda queuing an event to each invocation of it "
                   "(retries included); about 0 when no event waited"),
        Row("async event age max per invocation (queued to start)",
            ("async", "event_age_ms", "max"), "ms", "age", needs="async"),
        Row("async queue depth max (events)", ("async", "queue_depth", "max"), "count",
            "events", needs="async"),
        Row("async backlog drain duration", ("async", "backlog", "drain_s"), "s", "duration",
            needs="async", applies=_had_backlog,
            define="length of the longest spell during which events waited in the queue ('-' "
                   "when no event waited)"),
        Row("async backlog ideal drain duration", ("async", "backlog", "ideal_drain_s"), "s",
            "duration", needs="async", applies=_had_backlog,
            define="time the function's concurrency pool would need at full use for the work "
                   "done meanwhile ('-' when no event waited)"),
        Row("async idle environments while events wait (% of pool)",
            ("async", "backlog", "idle_share"), "percent", "environments", needs="async",
            define="share of the pool's concurrency left unused while events waited (the "
                   "drain is an assumption: compare throttle_backoff none)"),
    )),
    ("sqs", (
        Row("sqs messages deleted", ("sqs", "messages_deleted"), "count", "messages",
            needs="sqs"),
        Row("sqs messages to DLQ", ("sqs", "messages_to_dlq"), "count", "messages",
            needs="sqs"),
        Row("sqs queue depth max (messages)", ("sqs", "queue_depth", "max"), "count",
            "messages", needs="sqs"),
        Row("sqs oldest message age max", ("sqs", "oldest_message_age_s", "max"), "s", "age",
            needs="sqs"),
        Row("sqs pollers max (batches)", ("sqs", "pollers", "max"), "count", "batches",
            needs="sqs"),
        Row("sqs provisioned pollers max", ("sqs", "provisioned_pollers", "max"), "count",
            "pollers", needs="sqs",
            define="the most event pollers of the function's SQS mappings in provisioned mode"),
        _EPU_COST,
    )),
    ("kafka", (
        Row("kafka records processed", ("kafka", "records_processed"), "count", "records",
            needs="kafka"),
        Row("kafka records discarded", ("kafka", "records_discarded"), "count", "records",
            needs="kafka"),
        Row("kafka offset lag max (records, all partitions)", ("kafka", "sum_offset_lag", "max"),
            "count", "records", needs="kafka",
            define="SumOffsetLag: records produced and not yet committed, summed over partitions"),
        Row("kafka offset lag max (records, one partition)", ("kafka", "max_offset_lag", "max"),
            "count", "records", needs="kafka",
            define="MaxOffsetLag: the largest partition's records not yet committed"),
        Row("kafka pollers max", ("kafka", "pollers", "max"), "count", "pollers",
            needs="kafka"),
        _EPU_COST,
    )),
    ("snap_start", (
        Row("snapstart restores (cold starts)", ("snap_start", "restores"), "count",
            "cold starts", needs="snap_start",
            define="cold starts that restored the SnapStart snapshot instead of running Init"),
        Row("snapstart restore duration p99", ("snap_start", "restore_duration_ms", "p99"), "ms",
            "duration", needs="snap_start"),
        Row("snapstart full inits (cold starts with Init)", ("snap_start", "full_inits"),
            "count", "cold starts", needs="snap_start",
            define="Inits on the request path after the version went inactive (14 days)"),
        Row("snapstart cache cost", ("cost_usd", "snap_start_cache"), "usd", "USD",
            needs="snap_start", applies=_snap_start_pays,
            define="the snapshot cache per GB-second; '-' without SnapStart or for a runtime "
                   "that pays no SnapStart charge (Java)"),
        Row("snapstart restore cost", ("cost_usd", "snap_start_restore"), "usd", "USD",
            needs="snap_start", applies=_snap_start_pays,
            define="restores per GB restored; '-' as for the cache"),
    )),
    ("stream", (
        Row("stream records processed", ("stream", "records_processed"), "count", "records",
            needs="stream"),
        Row("stream records discarded", ("stream", "records_discarded"), "count", "records",
            needs="stream"),
        Row("stream records expired", ("stream", "records_expired"), "count", "records",
            needs="stream"),
        Row("iterator age p99", ("stream", "iterator_age_ms", "p99"), "ms", "age",
            needs="stream"),
        Row("iterator age max", ("stream", "iterator_age_ms", "max"), "ms", "age",
            needs="stream"),
    )),
    ("front_door", (
        Row("front door requests", ("front_door", "requests"), "count", "requests",
            needs="front_door",
            define="requests that came through API Gateway, an ALB or a function URL"),
        Row("  throttled by API Gateway (429)", ("front_door", "throttled"), "count",
            "requests", needs="front_door",
            define="requests whose final answer was API Gateway's own 429 (they never reached "
                   "Lambda)"),
        Row("  timed out at the front door (504)", ("front_door", "timed_out"), "count",
            "requests", needs="front_door",
            define="requests whose final answer was a 504 at the integration timeout (the "
                   "invocation ran on, billed)"),
        Row("API request attempts (Count)", ("front_door", "api_requests"), "count",
            "attempts", needs="front_door",
            define="requests at the front door, client retries included (API Gateway's Count)"),
        Row("  4XXError (attempts)", ("front_door", "4XXError"), "count", "attempts",
            needs="front_door", define="attempts answered 4XX (429s)"),
        Row("  5XXError (attempts)", ("front_door", "5XXError"), "count", "attempts",
            needs="front_door", define="attempts answered 5XX (500, 502, 503, 504)"),
        Row("IntegrationLatency p99 per attempt", ("front_door", "integration_latency_ms",
                                                   "p99"), "ms", "latency", needs="front_door",
            define="time from handing an attempt to Lambda to its answer (or the 504)"),
    )),
    ("provisioned", (
        Row("provisioned environments max", ("provisioned", "allocated", "max"), "count",
            "environments", needs="provisioned"),
        Row("provisioned environments mean", ("provisioned", "allocated", "mean"), "number",
            "environments", needs="provisioned"),
        Row("provisioned utilization (% of environments)", ("provisioned", "utilization",
                                                            "mean"), "percent",
            "environments", needs="provisioned"),
        Row("provisioned invocations", ("provisioned", "invocations"), "count", "invocations",
            needs="provisioned"),
        Row("spillover invocations", ("provisioned", "spillover_invocations"), "count",
            "invocations", needs="provisioned"),
        Row("provisioned cost", ("cost_usd", "provisioned"), "usd", "USD",
            needs="provisioned"),
    )),
)

#: Figures that have a name but no row of their own in the table (sweeps and comparisons name
#: them): the other latency and duration statistics.
FIGURE_ROWS: tuple[Row, ...] = tuple(
    Row(f"{what} {stat} per {per}", (key, stat), "ms", what)
    for key, what, per in (("latency_ms", "latency", "request"),
                           ("duration_ms", "duration", "invocation"),
                           ("init_duration_ms", "Init duration", "cold start"))
    for stat in ("mean", "p50", "p90", "p95", "p99", "p999", "max"))

#: The cost rows, last; the projection's label carries its basis (:func:`projection_label`).
COST_ROWS: tuple[Row, ...] = (
    Row("cost of the run", ("cost_usd", "total"), "usd", "USD",
        define="what the window's requests cost: requests, duration, Init, storage and "
               "provisioned concurrency"),
    Row("cost per 30 days", ("cost_usd", "per_30_days", "total"), "usd", "USD",
        define="the run's cost projected to 30 days as the scenario's 'recurs' says"),
)

#: The dependency section: one column per shared dependency (``summary["dependencies"]``).
DEPENDENCY_ROWS: tuple[Row, ...] = (
    Row("capacity (units)", ("capacity",), "count", "units",
        define="units of a pool (connections); '-' for a rate quota"),
    Row("units in use max", ("in_use", "max"), "count", "units",
        define="units held at the peak (for a quota: invocations that called it, not ended)"),
    Row("units in use mean", ("in_use", "mean"), "number", "units"),
    Row("invocations that acquired it", ("acquired",), "count", "invocations"),
    Row("  of which waited", ("waits", "count"), "count", "invocations",
        define="invocations that had to wait for a unit or a token (billed handler time)"),
    Row("wait duration p50 of those that waited", ("waits", "p50_ms"), "ms", "duration"),
    Row("wait duration p99 of those that waited", ("waits", "p99_ms"), "ms", "duration"),
    Row("invocations rejected (gave up: function error)", ("rejected",), "count",
        "invocations"),
)

ACCOUNT_ROWS: tuple[Row, ...] = (
    Row("concurrency max (environments)", ("concurrency", "max"), "count", "environments"),
    Row("concurrency mean (environments)", ("concurrency", "mean"), "number", "environments"),
    Row("throttled attempts", ("throttles",), "count", "attempts"),
) + COST_ROWS


# --------------------------------------------------------------------------- building

def _get(block: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(block, Mapping) or key not in block:
            return None
        block = block[key]
    return block


def projection_label(summary: Mapping[str, Any]) -> str:
    """The label of the 30-day projection with its basis, e.g. ``cost per 30 days (USD,
    window repeated daily)``."""
    projection = summary.get("cost_projection") or {}
    basis = projection.get("basis")
    return f"cost per 30 days ({basis})" if basis else "cost per 30 days"


def _label(row: Row, summary: Mapping[str, Any]) -> str:
    if row.path == ("cost_usd", "per_30_days", "total"):
        return projection_label(summary)
    return row.label


def function_rows(functions: Mapping[str, Any]) -> list[Row]:
    """The rows a set of function blocks shows: the common ones, the blocks some function
    has, then the cost."""
    rows = list(FUNCTION_ROWS)
    for key, extra in BLOCK_ROWS:
        if any(isinstance(b, Mapping) and key in b for b in functions.values()):
            rows.extend(row for row in extra if row not in rows)
    rows.extend(COST_ROWS)
    return rows


def _value(block: Any, row: Row) -> Any:
    if row.needs is not None and not (isinstance(block, Mapping) and row.needs in block):
        return None
    if row.applies is not None and not (isinstance(block, Mapping) and row.applies(block)):
        return None
    return _get(block, row.path)


def table_sections(summary: Mapping[str, Any]) -> list[Section]:
    """The table's sections (functions, account) with raw figures (None: ``-``).

    Labels are final (the projection's basis included); figures are the summary's values,
    unformatted; :func:`render_cell` writes them.
    """
    functions: Mapping[str, Any] = summary.get("functions") or {}
    account = summary.get("account") or {}
    rows = function_rows(functions)
    main = Section("function", list(functions),
                   [(dataclasses.replace(r, label=_label(r, summary)),
                     [_value(b, r) for b in functions.values()]) for r in rows])
    acct = Section("account", [""],
                   [(dataclasses.replace(r, label=_label(r, summary)), [_value(account, r)])
                    for r in ACCOUNT_ROWS])
    dependencies: Mapping[str, Any] = summary.get("dependencies") or {}
    if not dependencies:
        return [main, acct]
    deps = Section("dependency", list(dependencies),
                   [(r, [_value(b, r) for b in dependencies.values()]) for r in DEPENDENCY_ROWS])
    return [main, acct, deps]


def figure_row(key: str) -> tuple[str, Row] | None:
    """The owner (a function's name or ``account``) and the table row of a dotted summary key
    (``functions.api.latency_ms.p99``), or None when no row shows it."""
    parts = key.split(".")
    if parts[0] == "functions" and len(parts) > 2:
        owner, path = parts[1], tuple(parts[2:])
        rows: Iterable[Row] = list(FUNCTION_ROWS) + [r for _, rs in BLOCK_ROWS for r in rs] \
            + list(COST_ROWS) + list(FIGURE_ROWS)
    elif parts[0] == "account":
        owner, path, rows = "account", tuple(parts[1:]), ACCOUNT_ROWS
    else:
        return None
    for row in rows:
        if row.path == path:
            return owner, row
    return None


def figure_label(key: str) -> str:
    """A readable name for a dotted summary key: ``functions.api.latency_ms.p99`` -> ``api
    latency p99 per request``; the key itself when no row shows it."""
    found = figure_row(key)
    if found is None:
        return key
    owner, row = found
    label = row.label.strip()
    if row.path == ("cost_usd", "per_30_days", "total"):
        label = "cost per 30 days"
    if row.label.startswith("  ") and row.unit not in label:
        label = f"{row.unit} {label}"  # a part of the row above: "requests succeeded"
    return f"{owner} {label}"


# --------------------------------------------------------------------------- writing

def render_cell(value: Any, row: Row, money_digits: int) -> str:
    """One figure as the table writes it."""
    if hz.is_missing(value):
        return hz.NOT_APPLICABLE
    kind = row.kind
    if kind == "count":
        return hz.count(value)
    if kind == "percent":
        return hz.percent(value)
    if kind == "ms":
        return hz.duration_ms(value)
    if kind == "s":
        return hz.duration_s(value)
    if kind == "usd":
        return hz.usd(value, money_digits)
    return hz.number(value)


def render_interval(stats: Mapping[str, Any] | None, row: Row, money_digits: int) -> str:
    """``mean [low, high]`` of a figure over replications, bounds in the mean's unit."""
    if not stats or hz.is_missing(stats.get("mean")):
        return hz.NOT_APPLICABLE
    mean = stats["mean"]
    ci = stats.get("ci95")
    if row.kind in ("ms", "s"):
        ms = 1000.0 if row.kind == "s" else 1.0
        divisor, unit = hz.duration_unit(mean * ms)
        f = lambda v: f"{v * ms / divisor:,.1f}"  # noqa: E731
        tail = f" {unit}"
    elif row.kind == "percent":
        f = lambda v: f"{100.0 * v:,.2f}"  # noqa: E731
        tail = " %"
    elif row.kind == "usd":
        f = lambda v: f"{v:,.{money_digits}f}"  # noqa: E731
        same = not ci or ci[0] == ci[1] == mean
        return f"${f(mean)}" + ("" if same else f" [{f(ci[0])}, {f(ci[1])}]")
    elif row.kind == "count":
        whole = all(float(v).is_integer() for v in [mean] + list(ci or ()))
        f = (lambda v: f"{v:,.0f}") if whole else (lambda v: f"{v:,.1f}")  # noqa: E731
        tail = ""
    else:
        f = lambda v: f"{v:,.2f}"  # noqa: E731
        tail = ""
    text = f(mean)
    if ci and not ci[0] == ci[1] == mean:  # an interval of one value says nothing more
        text += f" [{f(ci[0])}, {f(ci[1])}]"
    return text + tail


def _money_values(sections: Iterable[Section]) -> list[Any]:
    return [v for s in sections for row, values in s.rows if row.kind == "usd" for v in values]


def span_text(duration_s: Any, warmup_s: Any) -> str:
    """``20 min simulated, statistics over requests arriving in 1:00-20:00 (...)``."""
    if duration_s is None:
        return ""
    text = f"{hz.span(duration_s)} simulated"
    if warmup_s:
        text += (f", statistics over requests arriving in {hz.clock(warmup_s)}-"
                 f"{hz.clock(duration_s)} (first {hz.span(warmup_s)} warm-up excluded)")
    return text


def _tables(sections: list[Section], cell) -> list[Block]:
    """One table per section (its title heads the label column), a blank line between."""
    blocks: list[Block] = []
    for section in sections:
        if blocks:
            blocks.append(Lines())
        columns = [Column(section.title, "left")] + [Column(c) for c in section.columns]
        rows = [[row.label] + [cell(v, row) for v in values] for row, values in section.rows]
        blocks.append(TextTable(columns, rows))
    return blocks


def summary_page(result: Any) -> list[Block]:
    """The blocks of :func:`format_summary_table`, for :func:`lambdasim.results.console.print_page`."""
    summary = result if isinstance(result, Mapping) else result.summary
    title = f"lambdasim: scenario {summary.get('scenario')!s}, seed {summary.get('seed')!s}"
    span = span_text(summary.get("duration_s"), summary.get("warmup_s"))
    sections = table_sections(summary)
    digits = hz.money_decimals(_money_values(sections))
    blocks: list[Block] = [Paragraph(title, bold=True)]
    if span:
        blocks.append(Paragraph(span))
    blocks.append(Lines())
    blocks += _tables(sections, lambda v, row: render_cell(v, row, digits))
    assumed = format_assumptions(summary.get("assumptions") or [])
    if assumed:
        blocks += [Lines(), Lines(tuple(assumed))]
    return blocks


def format_summary_table(result: Any) -> str:
    """A plain-text summary of a run: one column per function, then the account.

    Parameters
    ----------
    result : lambdasim.results.result.Result or dict
        A finished run, or its ``summary`` dict.

    Returns
    -------
    str
        The table as rich lays it out (:mod:`lambdasim.results.console`), each label naming
        what its figure counts, at most 100 columns, no colours, ending in a newline.
    """
    return render_text(summary_page(result))


def figure_key(section: int, column: str, path: Sequence[str]) -> str:
    """The dotted key of ``replications.figures`` behind a cell of :func:`table_sections`:
    section 0 is per function, 1 the account, 2 per dependency."""
    prefix = {0: f"functions.{column}.", 1: "account."}.get(section, f"dependencies.{column}.")
    return prefix + ".".join(path)


def replications_page(summary: Mapping[str, Any], figures: Mapping[str, Any], n: int,
                      seed: Any) -> list[Block]:
    """The blocks of :func:`format_replications_table`."""
    sections = table_sections(summary)
    stats_sections = []
    for index, section in enumerate(sections):
        rows = []
        for row, values in section.rows:
            stats = []
            for column, value in zip(section.columns, values):
                if value is None:
                    stats.append(None)
                    continue
                stats.append(figures.get(figure_key(index, column, row.path)))
            rows.append((row, stats))
        stats_sections.append(Section(section.title, section.columns, rows))
    money = [s.get("mean") for sec in stats_sections for row, values in sec.rows
             if row.kind == "usd" for s in values if s]
    digits = hz.money_decimals(money)
    span = span_text(summary.get("duration_s"), summary.get("warmup_s"))
    blocks: list[Block] = [
        Paragraph(f"lambdasim: scenario {summary.get('scenario')}, seed {seed}, "
                  f"{hz.plural(n, 'replication')}", bold=True)]
    if span:
        blocks.append(Paragraph(span))
    blocks += [Paragraph("each figure: mean [95 % confidence interval] over the replications"),
               Lines()]
    return blocks + _tables(stats_sections, lambda s, row: render_interval(s, row, digits))


def format_replications_table(summary: Mapping[str, Any], figures: Mapping[str, Any],
                              n: int, seed: Any) -> str:
    """The single-run table's rows over replications, each ``mean [low, high]`` (95 %
    Student-t interval, clipped to the figure's range); plain text, at most 100 columns."""
    return render_text(replications_page(summary, figures, n, seed))
