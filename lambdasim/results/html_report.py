"""A one-page HTML report of a run: ``report.html`` in the results folder.

The page opens in any browser straight from the disk, with no server and nothing fetched:
styles are inline, the charts are embedded as base64 PNG (``data:`` URLs) and there is no
script. It shows, top to bottom: the scenario and the run, the ``expect:`` checks (when the
scenario has any) with their actual values, the summary table (one column per function,
then the account), the charts (:mod:`lambdasim.results.plots`), any trigger-specific summary blocks,
the fully resolved scenario (YAML) and how the run went (run.json).

Every value from the run is escaped; nothing in the page is executable.
"""
from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from lambdasim.results import humanize
from lambdasim.results.table import render_cell, span_text, table_sections

__all__ = ["render_report", "write_report", "REPORT_FILE"]

REPORT_FILE = "report.html"

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; color: #222;
       background: #fff; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 12px; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; }
td.num { text-align: right; }
td.label { white-space: pre; }
.pass { color: #1b7f3b; font-weight: 600; }
.fail { color: #b3261e; font-weight: 600; }
figure { margin: 16px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 12px; overflow-x: auto; font-size: 0.85em; }
details > summary { cursor: pointer; color: #333; }
"""


def render_report(result: Any, images: Iterable[tuple[str, bytes]] = ()) -> str:
    """The report page as a string.

    Parameters
    ----------
    result : lambdasim.results.result.Result
        A finished run (or anything with ``summary`` and ``run_info``).
    images : iterable of (file name, PNG bytes)
        Charts to embed, in order.
    """
    summary = result.summary
    config = summary.get("config") or {}
    name = str(summary.get("scenario"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>lambdasim: {_e(name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>lambdasim: {_e(name)}</h1>",
    ]
    if config.get("description"):
        parts.append(f'<p class="sub">{_e(config["description"])}</p>')
    facts = [f"seed {_e(summary.get('seed'))}"]
    span = span_text(summary.get("duration_s"), summary.get("warmup_s"))
    if span:
        facts.append(_e(span))
    facts.append(f"lambdasim {_e(summary.get('lambdasim_version'))}")
    parts.append(f'<p class="sub">{" &middot; ".join(facts)}</p>')

    parts += _expect_section(result, config)
    parts += _summary_section(summary)
    images = list(images)
    if images:
        parts.append("<h2>Charts</h2>")
        for file_name, data in images:
            encoded = base64.b64encode(data).decode("ascii")
            label = _caption(file_name)
            parts.append(f'<figure><img src="data:image/png;base64,{encoded}" '
                         f'alt="{_e(label)}"><figcaption>{_e(label)} '
                         f"({_e(file_name)})</figcaption></figure>")
    parts += _trigger_blocks(summary)
    parts.append("<h2>Resolved scenario</h2>")
    parts.append("<p class=\"sub\">Every key, defaults filled in: this reproduces the run.</p>")
    parts.append(f"<pre>{_e(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))}</pre>")
    run_info = getattr(result, "run_info", None) or {}
    if run_info:
        parts.append("<h2>Run</h2><table>")
        for key, value in run_info.items():
            parts.append(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_CAPTIONS = {
    "concurrency": "execution environments by state, with the concurrency limits",
    "requests": "requests, throttles and cold starts per second",
    "latency": "end-to-end latency distribution, warm vs cold start",
    "async": "asynchronous events: age, queue depth, received and dropped",
    "sqs": "SQS queue: backlog, age of the oldest message, pollers",
    "stream": "stream: iterator age and pollers",
    "front-door": "front door: API requests, 4XX and 5XX errors, latency",
}


def _caption(file_name: str) -> str:
    stem = file_name.rsplit(".", 1)[0]
    if stem == "concurrency":
        return "account: concurrent executions by function"
    if stem == "dependencies":
        return "shared dependencies: units in use against capacity, waits and rejections"
    if stem.startswith("front-door-"):
        return f"{stem[len('front-door-'):]}: {_CAPTIONS['front-door']}"
    kind, _, function = stem.partition("-")
    return f"{function}: {_CAPTIONS.get(kind, kind)}"


def _expect_section(result: Any, config: Mapping[str, Any]) -> list[str]:
    checks = config.get("expect") or []
    if not checks:
        return []
    from lambdasim.results.expect import ExpectationError, evaluate
    from lambdasim.scenario.units import SpecError

    out = ["<h2>Expectations</h2>", "<table><tr><th></th><th>check</th><th>value</th></tr>"]
    try:
        results = evaluate(checks, result.summary)
    except (ExpectationError, SpecError) as exc:
        return out + [f'<tr><td class="fail">ERROR</td><td colspan="2">{_e(exc)}</td></tr>',
                      "</table>"]
    for check in results:
        verdict = "PASS" if check.passed else "FAIL"
        out.append(f'<tr><td class="{verdict.lower()}">{verdict}</td>'
                   f"<td><code>{_e(check.expectation.text)}</code></td>"
                   f"<td>{_e(check.describe_actual())}</td></tr>")
    out.append("</table>")
    return out


def _summary_section(summary: Mapping[str, Any]) -> list[str]:
    """The summary table (:mod:`lambdasim.results.table`: the same rows and figures as the
    terminal's)."""
    sections = table_sections(summary)
    digits = humanize.money_decimals(v for sec in sections for row, values in sec.rows
                                     if row.kind == "usd" for v in values)
    out = ["<h2>Summary</h2>"]
    for section in sections:
        out.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>"
                                           for c in [section.title] + section.columns)
                   + "</tr>")
        for row, values in section.rows:
            cells = "".join(f'<td class="num">{_e(render_cell(v, row, digits))}</td>'
                            for v in values)
            out.append(f'<tr><td class="label">{_e(row.label)}</td>{cells}</tr>')
        out.append("</table>")
    return out


#: Keys of a function's block that the summary table already shows.
_TABLE_KEYS = {"requests", "invocations", "errors", "throttles", "cold_starts",
               "cold_start_rate", "throttle_rate", "latency_ms", "duration_ms",
               "init_duration_ms", "concurrency", "environments", "cost_usd"}


def _trigger_blocks(summary: Mapping[str, Any]) -> list[str]:
    """Trigger-specific blocks (async, sqs, stream, provisioned, ...) and replications."""
    out = []
    for name, block in (summary.get("functions") or {}).items():
        for key, value in block.items():
            if key in _TABLE_KEYS:
                continue
            out.append(f"<details open><summary><b>{_e(name)}.{_e(key)}</b></summary>"
                       f"<pre>{_e(json.dumps(value, indent=2))}</pre>"
                       "</details>")
    for name, block in (summary.get("dependencies") or {}).items():
        out.append(f"<details open><summary><b>dependencies.{_e(name)}</b></summary>"
                   f"<pre>{_e(json.dumps(block, indent=2))}</pre></details>")
    if summary.get("replications"):
        out.append("<details><summary><b>replications</b></summary>"
                   f"<pre>{_e(json.dumps(summary['replications'], indent=2))}</pre></details>")
    return (["<h2>Trigger details</h2>"] + out) if out else []
