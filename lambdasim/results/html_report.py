"""A one-page HTML report of a run: ``report.html`` in the results folder.

The page opens in any browser straight from the disk, with no server and nothing fetched:
styles are inline, the charts are embedded as base64 PNG (``data:`` URLs) and there is no
script. It shows, top to bottom: the scenario's name and the run's facts (seed, simulated
time, warm-up, bins), the findings when the summary has them, the ``expect:`` checks with
their actual values, the summary table (with replications: each figure's mean and its 95 %
interval), the cost broken down by item (requests, duration, init, ephemeral storage,
provisioned concurrency), the charts (:mod:`lambdasim.results.plots`), the trigger-specific
blocks as tables, the scenario as the user wrote it (the resolved form, distributions in
their resolved parameters, folded below it) and how the run went (run.json).

The page is a Jinja2 template (``templates/report.html.j2``) with autoescaping: every value
from the run is escaped and nothing in the page is executable. Jinja2 is imported only when
a report is written, so ``lambdasim --help`` and ``validate`` stay fast.
"""
from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from lambdasim.results import humanize
from lambdasim.results.humanize import ms_text, seconds_text, usd_text
from lambdasim.results.table import figure_key, render_cell, render_interval, table_sections

__all__ = ["render_report", "write_report", "REPORT_FILE"]

REPORT_FILE = "report.html"
_TEMPLATE = "report.html.j2"

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; color: #222;
       background: #fff; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
h4 { font-size: 0.95em; margin: 1em 0 0.2em; color: #444; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 12px; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; }
table.facts th { background: none; color: #555; font-weight: normal; }
td.num { text-align: right; }
table.summary td.num { white-space: nowrap; }
td.label { white-space: pre-wrap; min-width: 12em; }
div.scroll { overflow-x: auto; max-width: 100%; }
tr.total td { font-weight: 600; border-top: 1px solid #bbb; }
caption { text-align: left; color: #555; font-size: 0.9em; padding-top: 6px; }
.pass { color: #1b7f3b; font-weight: 600; }
.fail { color: #b3261e; font-weight: 600; }
ul.findings li { margin: 4px 0; }
figure { margin: 16px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 12px; overflow-x: auto; font-size: 0.85em; }
details { margin: 10px 0; }
details > summary { cursor: pointer; color: #333; }
"""


def render_report(result: Any, images: Iterable[tuple[str, bytes]] = ()) -> str:
    """The report page as a string.

    Parameters
    ----------
    result : lambdasim.results.result.Result
        A finished run (or anything with ``summary`` and ``run_info``; ``scenario`` and
        ``timeline`` are used when present).
    images : iterable of (file name, PNG bytes)
        Charts to embed, in order.
    """
    import jinja2  # here, not at import time: the command line starts fast without it

    images = list(images)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lambdasim.results", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    summary = result.summary
    config = summary.get("config") or {}
    context = {
        "css": _CSS,
        "name": str(summary.get("scenario")),
        "description": config.get("description"),
        "facts": _facts(result, charts=bool(images)),
        "findings": _findings(result),
        "assumptions": _assumptions(summary),
        "checks": _checks(result, config),
        "replications": _replications_note(summary),
        "summary_tables": _summary_tables(summary),
        "cost": _cost_table(summary),
        "charts": _charts(images),
        "details": _details(summary),
        "scenario": _scenario(result, config),
        "run": [(_label(key), _value(key, value))
                for key, value in (getattr(result, "run_info", None) or {}).items()],
    }
    return env.get_template(_TEMPLATE).render(**context)


def write_report(result: Any, folder: str | os.PathLike[str],
                 images: Iterable[Path] = ()) -> Path:
    """Write ``report.html`` into ``folder``, embedding the PNG files ``images``."""
    folder = Path(folder)
    loaded = [(Path(p).name, Path(p).read_bytes()) for p in images]
    path = folder / REPORT_FILE
    data = render_report(result, loaded).encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


# --------------------------------------------------------------------------- sections

def _facts(result: Any, charts: bool) -> list[tuple[str, str]]:
    summary = result.summary
    config = summary.get("config") or {}
    functions = summary.get("functions") or {}
    facts = [("seed", str(summary.get("seed")))]
    duration, warmup = summary.get("duration_s"), summary.get("warmup_s") or 0
    if duration is not None:
        facts.append(("simulated", seconds_text(float(duration))))
        facts.append(("measured window", (
            f"{seconds_text(float(warmup))} to {seconds_text(float(duration))}; the warm-up "
            f"before it is left out of the table and shaded on the charts") if warmup
            else "the whole run (no warm-up)"))
    if config.get("period"):
        facts.append(("metrics period", f"{seconds_text(float(config['period']))} "
                                        "(metrics.csv)"))
    # The chart bins only where there are charts: a run without them builds no chart data.
    timeline = getattr(result, "timeline", None) if charts else None
    if timeline is not None:
        facts.append(("chart bins", f"{seconds_text(timeline.width_s)}, the same on every "
                                    "chart"))
    n = len(functions)
    triggers = sum(len((f or {}).get("triggers") or ())
                   for f in (config.get("functions") or {}).values())
    facts.append(("functions", f"{n} function{'s' if n != 1 else ''}, {triggers} "
                               f"trigger{'s' if triggers != 1 else ''}"))
    reps = summary.get("replications")
    if reps:
        facts.append(("replications", f"{reps.get('n')} independent runs, "
                                      f"{round(100 * float(reps.get('level', 0.95)))} % "
                                      "confidence intervals (Student t)"))
    facts.append(("lambdasim", str(summary.get("lambdasim_version"))))
    return facts


def _findings(result: Any) -> list[str]:
    """Sentences that say what happened, when the run computed them (``findings``)."""
    found = getattr(result, "findings", None)
    if found is None:
        found = result.summary.get("findings")
    if isinstance(found, str):
        return [found]
    if isinstance(found, Mapping):
        return [str(v) for v in found.values()]
    return [str(s) for s in found or ()]


def _assumptions(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """The assumptions the run (or every replication) relied on, as the terminal lists them
    (:mod:`lambdasim.results.assumptions`)."""
    return [{"topic": str(a.get("topic")), "assumption": str(a.get("assumption")),
             "functions": ", ".join(a.get("functions") or ()),
             "replace_with": "" if a.get("replace_with") in (None, "-")
             else str(a.get("replace_with"))}
            for a in summary.get("assumptions") or ()]


def _checks(result: Any, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks = config.get("expect") or []
    if not checks:
        return []
    from lambdasim.results.expect import ExpectationError, evaluate
    from lambdasim.scenario.units import SpecError

    try:
        outcomes = evaluate(checks, result.summary)
    except (ExpectationError, SpecError) as exc:
        return [{"verdict": "ERROR", "text": None, "actual": str(exc)}]
    return [{"verdict": "PASS" if c.passed else "FAIL", "text": c.expectation.text,
             "actual": c.describe_actual()} for c in outcomes]


def _replications_note(summary: Mapping[str, Any]) -> dict[str, str] | None:
    reps = summary.get("replications")
    if not reps:
        return None
    return {"note": f"Each figure: the mean over {reps.get('n')} replications and, in "
                    "brackets, its 95 % confidence interval, clipped to the figure's range "
                    "(counts and rates are never negative, rates never above 100 %)."}


def _summary_tables(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary table (:mod:`lambdasim.results.table`: the terminal's rows and figures);
    with replications each figure as ``mean [low, high]``."""
    sections = table_sections(summary)
    figures = (summary.get("replications") or {}).get("figures")
    money = [v for sec in sections for row, values in sec.rows if row.kind == "usd"
             for v in values]
    digits = humanize.money_decimals(money)
    tables = []
    for index, section in enumerate(sections):
        rows = []
        for row, values in section.rows:
            cells = []
            for column, value in zip(section.columns, values):
                if figures is not None and value is not None:
                    cells.append(render_interval(figures.get(figure_key(index, column,
                                                                        row.path)),
                                                 row, digits))
                else:
                    cells.append(render_cell(value, row, digits))
            rows.append([row.label] + cells)
        tables.append({"header": [section.title] + list(section.columns), "rows": rows})
    return tables


def _clip(path: tuple[str, ...], interval: list[float]) -> tuple[float, float]:
    """A confidence interval kept inside the figure's range: no negative count, time or
    cost, no rate above 1."""
    low, high = float(interval[0]), float(interval[1])
    low, high = max(low, 0.0), max(high, 0.0)
    if path[-1].endswith("rate") or "utilization" in path:
        low, high = min(low, 1.0), min(high, 1.0)
    return low, high


#: Cost items in the order of the cost table, with their headings.
_COST_COLUMNS = (("requests", "requests"), ("duration", "duration (on demand)"),
                 ("init", "init (on demand cold starts)"), ("ephemeral_storage", "ephemeral storage"),
                 ("provisioned", "provisioned concurrency"), ("total", "total"))
#: Items shown only when some function has them (SnapStart, provisioned-mode pollers).
_FEATURE_COLUMNS = (("snap_start_cache", "SnapStart cache"),
                    ("snap_start_restore", "SnapStart restores"),
                    ("event_poller_units", "event pollers (EPU)"))


def _money(value: Any, decimals: int) -> str:
    if value is None:
        return "-"
    if value != 0 and abs(value) < 0.5 * 10 ** -decimals:
        return f"<${10 ** -decimals:.{decimals}f}"
    return humanize.usd(value, decimals)


def _cost_table(summary: Mapping[str, Any]) -> dict[str, Any]:
    functions: Mapping[str, Any] = summary.get("functions") or {}
    fconfigs = (summary.get("config") or {}).get("functions") or {}
    account = summary.get("account") or {}
    # Every item with a cost is a column, so the items add up to the total.
    columns = list(_COST_COLUMNS[:-1]) + [
        (key, label) for key, label in _FEATURE_COLUMNS
        if any(((block or {}).get("cost_usd") or {}).get(key) for block in functions.values())
    ] + [_COST_COLUMNS[-1]]
    keys = [key for key, _ in columns]

    def applies(name: str, key: str) -> bool:
        block = functions.get(name) or {}
        fconfig = fconfigs.get(name) or {}
        if key == "provisioned":
            return "provisioned" in block or bool((block.get("cost_usd") or {}).get(key))
        if key in dict(_FEATURE_COLUMNS):
            return bool((block.get("cost_usd") or {}).get(key))
        if key in ("duration", "init") and isinstance(block.get("provisioned"), Mapping):
            # Provisioned execution and Init are billed in the provisioned column; the
            # on-demand rates reach only spillover invocations.
            return bool(block["provisioned"].get("spillover_invocations")) or bool(
                (block.get("cost_usd") or {}).get(key))
        if key == "ephemeral_storage":  # only storage above the included 512 MB is billed
            return float(fconfig.get("ephemeral_storage_mb") or 512) > 512 or bool(
                (block.get("cost_usd") or {}).get(key))
        return True

    run_rows = [(name, (block or {}).get("cost_usd") or {}, name) for name, block in
                functions.items()] + [("account", account.get("cost_usd") or {}, None)]
    month = (account.get("cost_usd") or {}).get("per_30_days")
    projected = month if isinstance(month, Mapping) else {}
    # One precision for the whole table, the 30-day row included (issue 16 point 3).
    decimals = humanize.money_decimals([cost.get(key) for _, cost, _ in run_rows
                                        for key in keys] + [projected.get(key) for key in keys])
    rows = []
    for label, cost, name in run_rows:
        cells = []
        for key in keys:
            if name is not None and key != "total" and not applies(name, key):
                cells.append("-")
            elif name is None and key not in ("total",) and not any(
                    applies(n, key) for n in functions):
                cells.append("-")
            else:
                cells.append(_money(cost.get(key), decimals))
        rows.append({"label": label, "cells": cells, "total": name is None})
    basis = (summary.get("cost_projection") or {}).get("basis")
    note = (f"US dollars for the invocations of the requests that arrived in "
            f"{_window_text(summary)}, by item; '-' where an item does not apply.")
    if any(isinstance((block or {}).get("provisioned"), Mapping) for block in functions.values()):
        note += (" Invocations on provisioned concurrency are billed in the provisioned "
                 "concurrency column (its execution and Init rates); duration and init count "
                 "on-demand invocations only ('-' when every invocation ran on provisioned "
                 "concurrency).")
    if isinstance(month, Mapping) and month.get("total") is not None:
        rows.append({"label": f"account, per 30 days ({basis or 'projected'})",
                     "total": False,
                     "cells": ["-" if rows[-1]["cells"][i] == "-" else
                               _money(month.get(key), decimals) for i, key in enumerate(keys)]})
        note += (f" The 30-day row projects the run: {basis}." if basis else
                 " The 30-day row projects the measured window to 30 days.")
    elif basis:
        note += f" No 30-day projection: {basis}."
    return {"header": ["cost (USD)"] + [label for _, label in columns], "rows": rows,
            "note": note}


def _window_text(summary: Mapping[str, Any]) -> str:
    duration, warmup = summary.get("duration_s"), summary.get("warmup_s") or 0
    if duration is None:
        return "the run"
    if warmup:
        return (f"the measured window ({seconds_text(float(warmup))} to "
                f"{seconds_text(float(duration))})")
    return f"the run ({seconds_text(float(duration))})"


_CAPTIONS = {
    "concurrency": "execution environments by state, with the concurrency limits",
    "requests": "requests, throttles and cold starts per second",
    "latency": "end-to-end latency distribution, warm vs cold start",
    "latency_time": "end-to-end latency p50 and p99 over time",
    "cost": "cost over time by item, and its running total",
    "async": "asynchronous events: age, queue depth, received and dropped",
    "sqs": "SQS queue: backlog, age of the oldest message, pollers",
    "stream": "stream: iterator age and pollers",
    "kafka": "Kafka event source: offset lag, event pollers, concurrency against partitions",
    "front-door": "front door: API requests, 4XX and 5XX errors, latency",
}


def _caption(file_name: str) -> tuple[str, str]:
    """(group, caption) of a chart file: its function and what it shows."""
    stem = file_name.rsplit(".", 1)[0]
    if stem == "concurrency":
        return "account", "account: concurrent executions by function"
    if stem == "dependencies":
        return "account", "shared dependencies: units in use against capacity, waits and " \
                          "rejections"
    if stem.startswith("front-door-"):
        function = stem[len("front-door-"):]
        return function, f"{function}: {_CAPTIONS['front-door']}"
    kind, _, function = stem.partition("-")
    if not function:
        return "account", stem
    return function, f"{function}: {_CAPTIONS.get(kind, kind)}"


def _charts(images: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, str]]] = {}
    for file_name, data in images:
        group, caption = _caption(file_name)
        groups.setdefault(group, []).append({
            "file": file_name, "caption": caption,
            "data": base64.b64encode(data).decode("ascii")})
    return [{"title": "account" if group == "account" else f"function {group}",
             "charts": items} for group, items in groups.items()]


#: Keys of a function's block that the summary table already shows.
_TABLE_KEYS = {"requests", "invocations", "errors", "throttles", "cold_starts",
               "cold_start_rate", "throttle_rate", "latency_ms", "duration_ms",
               "init_duration_ms", "concurrency", "environments", "cost_usd"}


def _details(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Trigger-specific blocks (async, sqs, stream, provisioned, ...) as tables."""
    out = []
    for name, block in (summary.get("functions") or {}).items():
        others = []
        for key, value in (block or {}).items():
            if key in _TABLE_KEYS:
                continue
            if isinstance(value, Mapping):
                out.append({"title": f"{name}.{key}", "sections": _sections(value)})
            else:  # a figure of its own (crashes, ...): gathered in one table per function
                others.append((_label(key), _value(key, value)))
        if others:
            out.append({"title": f"{name}: other figures",
                        "sections": [{"title": None, "rows": others, "lists": []}]})
    for name, block in (summary.get("dependencies") or {}).items():
        out.append({"title": f"dependencies.{name}", "sections": _sections(block)})
    if summary.get("replications"):
        reps = summary["replications"]
        figures = reps.get("figures") or {}
        # The money of this table at one precision, in dollars (issue 16 point 3).
        digits = humanize.money_decimals(
            v for figure, stats in figures.items() if _is_money(figure)
            for v in [stats.get("mean")] + list(stats.get("ci95") or []))
        rows = [(figure, _interval_text(figure, stats, digits))
                for figure, stats in figures.items()]
        out.append({"title": "replications", "sections": [
            {"title": f"{reps.get('n')} replications: mean [95 % interval] of every figure",
             "rows": rows, "lists": []}]})
    return out


def _is_money(figure: str) -> bool:
    """Whether a dotted summary key is a USD amount (``...cost_usd.requests``)."""
    return ".cost_usd." in figure or figure.endswith("_usd")


def _interval_text(figure: str, stats: Mapping[str, Any], digits: int = 2) -> str:
    parts = figure.split(".")
    # The unit is in the key or its parent's (``latency_ms.p99`` is in ms).
    key = _unit_key(parts[-2], parts[-1]) if len(parts) > 1 else parts[-1]
    mean = stats.get("mean")
    if mean is None:
        return "-"
    text_of = (lambda v: _money(v, digits)) if _is_money(figure) else (
        lambda v: _value(key, v))
    text = text_of(mean)
    if stats.get("ci95"):
        low, high = _clip(tuple(figure.split(".")), stats["ci95"])
        text += f" [{text_of(low)}, {text_of(high)}]"
    return text


def _sections(value: Any, title: str | None = None) -> list[dict[str, Any]]:
    """A block as titled sections of (label, value) rows; lists of records as tables and
    per-trigger sub-blocks as sections of their own."""
    if not isinstance(value, Mapping):
        return [{"title": title, "rows": [("value", _value(title or "", value))], "lists": []}]
    rows: list[tuple[str, str]] = []
    lists: list[dict[str, Any]] = []
    nested: list[dict[str, Any]] = []
    for key, item in value.items():
        if key in ("triggers", "by_trigger") and isinstance(item, Mapping) and \
                all(isinstance(v, Mapping) for v in item.values()):
            if len(item) == 1:  # one trigger: only what the block above does not say
                (trigger, sub), = item.items()
                extra = {k: v for k, v in sub.items() if value.get(k) != v}
                if extra:
                    nested += _sections(extra, f"trigger {trigger}")
                continue
            for trigger, sub in item.items():
                nested += _sections(sub, f"trigger {trigger}")
        elif isinstance(item, Mapping) and not item:
            rows.append((_label(key), "none"))
        elif isinstance(item, Mapping) and all(
                not isinstance(v, (Mapping, list)) for v in item.values()):
            rows.append((_label(key), " · ".join(f"{_label(k)} {_value(_unit_key(key, k), v)}"
                                                 for k, v in item.items())))
        elif isinstance(item, Mapping):
            for sub in _sections(item, _label(key)):
                nested.append(sub)
        elif isinstance(item, list) and item and all(isinstance(v, Mapping) for v in item):
            header = list(dict.fromkeys(k for v in item for k in v))
            lists.append({"title": _label(key), "header": [_label(h) for h in header],
                          "rows": [[_value(h, v.get(h)) for h in header] for v in item]})
        elif isinstance(item, list):
            rows.append((_label(key), ", ".join(_value(key, v) for v in item) or "none"))
        else:
            rows.append((_label(key), _value(key, item)))
    return [{"title": title, "rows": rows, "lists": lists}] + nested


def _unit_key(parent: str, key: str) -> str:
    """The key whose unit a nested value has: ``iterator_age_ms.p99`` is in ms."""
    for suffix in ("_ms", "_s", "_usd", "_mb"):
        if parent.endswith(suffix) and not _is_rate(parent):
            return key + suffix
    if parent in ("utilization",) or parent.endswith("rate") or parent.endswith("_share"):
        return "rate"
    return key


def _is_rate(key: str) -> bool:
    """Whether a key is a figure per second (``events_per_wall_s``): a rate, not a time."""
    return key.endswith("_per_s") or key.endswith("_per_wall_s")


#: Keys whose words alone would not say what they are, once the unit is dropped.
_LABELS = {"t": "time", "reference": "reference memory"}

#: Unit suffixes a label drops: its value carries the unit (12.5 s, $1.41, 1,024 MB).
_UNIT_SUFFIXES = ("_ms", "_s", "_usd", "_mb")


def _label(key: str) -> str:
    """A key as words; its unit goes with each value (12.5 s, $1.41), not in the label.

    ``events_per_wall_s`` is a rate: ``events per wall second``;
    ``requests_per_s_per_unit``: ``requests per second per unit``.
    """
    words = re.sub(r"_per_(wall_)?s(?=_|$)", lambda m: f"_per_{m.group(1) or ''}second", key)
    if words == key:
        for suffix in _UNIT_SUFFIXES:
            if key.endswith(suffix) and key != suffix:
                words = key[: -len(suffix)]
                break
    words = _LABELS.get(words, words)
    return words.replace("_", " ")


def _value(key: str, value: Any) -> str:
    """A value of a details table in human units, by what its key says it is.

    ``*_ms`` and ``*_s`` are durations (``273 ms``, ``11.6 s``, ``30 min``), ``*_per_s`` and
    ``*_per_wall_s`` rates per second (``1,121,830``: the label says per what), ``*_usd``
    money, ``*_mb`` memory (``1,024 MB``), ``*bytes`` sizes in MB, ``*_rate`` (a float),
    ``*_share``, ``rate``, ``utilization`` and ``level`` fractions shown as percentages.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) or isinstance(value, list):
        return ", ".join(f"{_label(k)}: {_value(k, v)}" for k, v in value.items()) \
            if isinstance(value, Mapping) else ", ".join(_value(key, v) for v in value)
    if not isinstance(value, (int, float)):
        return str(value)
    if _is_rate(key):
        return _plain_number(value)
    if key.endswith("_ms"):
        return ms_text(float(value))
    if key.endswith("_usd") or key == "cost_usd":
        return usd_text(float(value))
    if key.endswith("_s"):
        return _seconds(float(value))
    if key.endswith("_mb"):
        return f"{_plain_number(value)} MB"
    if (key.endswith("_rate") and isinstance(value, float)) or key.endswith("_share") or \
            key in ("rate", "utilization", "level"):
        return f"{100.0 * float(value):.2f} %"  # a fraction; counts named *_rate stay counts
    if key.endswith("bytes"):
        return f"{float(value) / 1e6:,.1f} MB"
    return _plain_number(value)


def _seconds(value: float) -> str:
    """A duration in seconds: ``80.2 ms`` below a second, ``11.6 s``, ``30 min``, ``2 d``."""
    if value != value:
        return "-"
    if 0 < abs(value) < 1:
        return ms_text(value * 1000.0)
    if abs(value) < 60:
        return f"{value:.3g} s"
    return seconds_text(value)


def _plain_number(value: float) -> str:
    """A figure without a unit: ``1,024``, ``1,121,830``, ``17.83``, ``0.656``."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def _scenario(result: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario as written (the file's text, and any --set), and the resolved form."""
    import yaml

    scenario = getattr(result, "scenario", None)
    path = getattr(scenario, "path", None)
    source = None
    if path:
        try:
            source = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            source = None
    if source is None and getattr(scenario, "_raw", None) is not None:
        source = yaml.safe_dump(scenario._raw, sort_keys=False, allow_unicode=True)
        path = None
    overrides = [f"{key}={_override_text(value)}"
                 for key, value in getattr(scenario, "_overrides", ()) or ()]
    return {"source": source, "path": path, "overrides": overrides,
            "resolved": yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)}


def _override_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)
