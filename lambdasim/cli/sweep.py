"""Run a scenario over a grid of settings, with replications and confidence intervals.

::

    python -m lambdasim sweep SCENARIO --set KEY=V1,V2,... [--set ...] [--replications N]
                              [--workers W] [--dask ADDRESS|local] [--metric KEY]
                              [--compare [A.yaml B.yaml]] [--seed N] [--out DIR]
                              [--json | --quiet]
    python -m lambdasim run SCENARIO --replications N [--workers W] [--dask ADDRESS|local]

``sweep`` runs the cartesian product of the settings, each point ``N`` times (replications
``0..N-1`` of one seed root, shared by every point: common random numbers), and writes
``sweep.csv`` (one row per point: means and 95 % interval bounds of the main figures),
``sweep.json`` (every figure's statistics per point; byte-identical for the same seed,
whatever the executor), ``sweep.png`` (the main figure against the first swept key) and
``run.json`` (executor, wall time, host) to ``results/<name>-sweep/`` or ``--out``,
atomically.
``--compare`` prints the paired difference of two points (the two values of one ``--set``) or
of two scenario files, with its confidence interval and the unpaired one for contrast.

``run --replications N`` writes ``summary.json`` (each figure the mean over replications,
plus a ``replications`` block with mean, sd and 95 % interval of every figure),
``replications.json`` (each replication's own summary) and ``run.json``.

Runs go to a local process pool (one worker per usable core) by default, stay in this process
with ``--workers 1``, or go to Dask (``--dask local`` starts a LocalCluster, ``--dask
tcp://host:8786`` uses a running scheduler). A progress bar on stderr counts finished runs
when stderr is a terminal.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from lambdasim.cli.common import (EXIT_OK, InputError, _folder_name, _load, _seed, add_limit_arguments,
                                  check_out, check_work, expectations, limits_from, report_checks,
                                  whole_number, writing_to)

__all__ = ["add_arguments", "add_replication_arguments", "run", "run_replications",
           "write_folder", "format_replications_table"]



#: ``--replications``, ``--workers``: a whole number >= 1.
_count = whole_number(1)


def add_replication_arguments(parser: argparse.ArgumentParser, default: int = 1) -> None:
    """``--replications``, ``--workers`` and ``--dask`` (for ``run`` and ``sweep``)."""
    parser.add_argument("--replications", type=_count, default=default, metavar="N",
                        help=f"independent replications from one seed root (default {default}); "
                             "figures get mean, sd and a 95 %% confidence interval")
    parser.add_argument("--workers", type=_count, metavar="W",
                        help="parallel runs (default: usable cores; 1 runs in this process)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on Dask: 'local' starts a LocalCluster, or a scheduler "
                             "address such as tcp://host:8786 (needs the dask extra)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?",
                        help="scenario YAML file (omit with --compare A.yaml B.yaml)")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=V1,V2,...",
                        help="a dotted key and the values to sweep, e.g. "
                             "functions.api.memory_mb=512,1024,2048 (repeatable: the "
                             "cartesian product is run)")
    add_replication_arguments(parser, default=10)
    add_limit_arguments(parser)
    parser.add_argument("--seed", type=_seed, metavar="N", help="seed root (overrides 'seed')")
    parser.add_argument("--metric", metavar="KEY",
                        help="main figure for the plot, e.g. functions.api.cost_usd.total "
                             "(default: the first function's latency_ms.p99)")
    parser.add_argument("--compare", nargs="*", metavar="FILE",
                        help="print the paired difference of the two points (one --set with "
                             "two values), or of two scenario files A.yaml B.yaml")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default: results/<scenario name>-sweep)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print sweep.json on stdout")
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing on stdout")


# --------------------------------------------------------------------------- executors

@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
    """The Dask executor asked for with ``--dask``, or None (local pool or in process)."""
    if not args.dask:
        yield None
        return
    from lambdasim.studies.executors import SchedulerUnreachable, dask_executor

    address = args.dask.strip()
    if address != "local" and (not address or any(c.isspace() for c in address)):
        raise InputError(f"--dask: expected 'local' or a scheduler address such as "
                         f"tcp://host:8786, got {args.dask!r}")
    stack = contextlib.ExitStack()
    try:
        executor = stack.enter_context(dask_executor(address, workers=args.workers))
    except SchedulerUnreachable as exc:
        raise InputError(f"--dask: {exc}", "start one with 'dask scheduler' and "
                         "'dask worker ADDRESS', or use --dask local") from None
    with stack:
        yield executor


def _executor_name(args: argparse.Namespace) -> str:
    from lambdasim.studies.executors import usable_cores

    if args.dask:
        return f"dask {args.dask}"
    workers = args.workers or usable_cores()
    return "in-process" if workers == 1 else f"process pool ({workers} workers)"


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


# --------------------------------------------------------------------------- run --replications

def run_replications(args: argparse.Namespace, scenario: Any, out_dir: Path) -> int:
    """``run SCENARIO --replications N``: statistics over replications, written atomically."""
    from lambdasim.scenario import ScenarioError
    from lambdasim.studies.sweep import simulate_many

    if args.records:
        raise InputError("--records cannot be combined with --replications",
                         "per-request records are written for single runs only")
    started = time.perf_counter()
    plots = getattr(args, "plots", True)
    try:
        with _executor(args) as executor:
            reps = simulate_many(scenario, args.replications, executor=executor,
                                 workers=args.workers, progress=_progress(args),
                                 limits=limits_from(args), charts=plots)
    except ScenarioError as exc:  # inconsistencies only found while building the model
        raise InputError(str(exc)) from None
    from lambdasim.studies.replication_findings import replication_findings

    summary = reps.summary
    findings = replication_findings(reps.summaries, reps.config)
    checks = expectations(scenario, summary)  # on the CI bounds; before writing anything
    run_info = _run_info(args, scenario, reps.seed, time.perf_counter() - started,
                         replications=reps.n)
    files = {
        "summary.json": _json(summary),
        "replications.json": _json(reps.replications_json()),
        "run.json": _json(run_info),
    }
    files.update(_report_files(reps, scenario, summary, run_info, plots, findings))
    _write(out_dir, files)
    if args.json:
        print(json.dumps(summary, indent=2, allow_nan=False))
    elif not args.quiet:
        from lambdasim.results.console import Lines, print_page
        from lambdasim.results.table import replications_page

        page = replications_page(summary, reps.figures, reps.n, reps.seed) + [Lines()]
        print_page(page + _findings_blocks(summary, findings))
        print(f"results: {out_dir}")
    return report_checks(args, checks)


def _report_files(reps: Any, scenario: Any, summary: Mapping[str, Any],
                  run_info: Mapping[str, Any], plots: bool,
                  findings: Sequence[str] = ()) -> dict[str, bytes]:
    """The charts of the replications (mean and 95 % band over time) and report.html, with
    the replications' findings at its top."""
    from types import SimpleNamespace

    from lambdasim.results.html_report import REPORT_FILE, render_report

    images: list[tuple[str, bytes]] = []
    width = None
    if plots and reps.charts:
        width = float(reps.charts[0]["width_s"])
        for name, chart in reps.plots():
            images.append((name, chart.png()))  # dropped, not cleared (clearing rebuilds axes)
    page = SimpleNamespace(summary=summary, run_info=run_info, scenario=scenario,
                           findings=list(findings),
                           timeline=None if width is None else SimpleNamespace(width_s=width))
    return {**dict(images), REPORT_FILE: render_report(page, images).encode("utf-8")}


def _findings_blocks(summary: Mapping[str, Any], findings: Any) -> list:
    """The assumptions and the findings under the replication table, as a single run has."""
    from lambdasim.results.assumptions import format_assumptions
    from lambdasim.results.console import Lines
    from lambdasim.results.findings import format_findings

    blocks = []
    for lines in (format_assumptions(summary.get("assumptions") or []),
                  format_findings(findings).splitlines()):
        if lines:
            blocks += [Lines(tuple(lines)), Lines()]
    return blocks


def _run_info(args: argparse.Namespace, scenario: Any, seed: int, wall_s: float,
              **extra: Any) -> dict[str, Any]:
    from lambdasim._version import __version__

    return {"lambdasim_version": __version__, "scenario": scenario.name,
            "scenario_path": scenario.path, "seed": seed, **extra,
            "executor": _executor_name(args), "wall_time_s": round(wall_s, 6),
            "python": sys.version.split()[0], "platform": platform.platform(),
            "host": platform.node(), "cpu_count": os.cpu_count(),
            "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def format_replications_table(reps: Any) -> str:
    """The single-run table's rows over replications, each ``mean [low, high]`` (95 %
    interval, clipped to the figure's range); every figure's statistics are in
    summary.json."""
    from lambdasim.results.table import format_replications_table as table

    return table(reps.summary, reps.figures, reps.n, reps.seed)


# --------------------------------------------------------------------------- sweep

def run(args: argparse.Namespace) -> int:
    from lambdasim.scenario import ScenarioError

    plan, base_name = _plan(args)
    if args.metric is not None:
        _check_metric(args.metric, plan.scenarios[0].config)
    if args.compare is not None and len(plan) != 2:
        raise InputError(f"--compare needs exactly two points, the sweep has {len(plan)}",
                         "give one --set with two values, e.g. "
                         "--set functions.api.memory_mb=1024,1536 --compare")
    out_dir = Path(args.out) if args.out is not None else Path("results") / f"{base_name}-sweep"
    for point in plan.scenarios:  # absurd work is refused before anything runs
        check_work(point, args)
    check_out(out_dir)  # before any work: a bad --out is refused at once
    started = time.perf_counter()
    try:
        with _executor(args) as executor:
            result = plan.run(args.replications, metric=args.metric, executor=executor,
                              workers=args.workers, progress=_progress(args),
                              limits=limits_from(args))
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    comparisons = result.compare(0, 1) if args.compare is not None else []
    document = result.to_dict(comparisons)
    document["config"] = plan.scenarios[0].config
    run_info = _run_info(args, plan.scenarios[0], result.points[0].replications.seed,
                         time.perf_counter() - started, points=len(result.points),
                         replications=result.replications,
                         runs=len(result.points) * result.replications)
    from lambdasim.results.folder import columns_to_csv

    _write(out_dir, {
        "sweep.csv": columns_to_csv(result.table).encode("utf-8"),
        "sweep.json": _json(document),
        "sweep.png": _plot(result),
        "run.json": _json(run_info),
    })
    if args.json:
        print(json.dumps(document, indent=2, allow_nan=False))
    elif not args.quiet:
        from lambdasim.results.console import Lines, print_page

        page = sweep_page(result) + [Lines()]
        if comparisons:
            page += comparisons_page(comparisons) + [Lines()]
        print_page(page)
        print(f"results: {out_dir}")
    return EXIT_OK


def _plan(args: argparse.Namespace):
    """The sweep's points, every one resolved (bad input fails here, before anything runs)."""
    from lambdasim.scenario import ScenarioError
    from lambdasim.studies.sweep import SweepPlan, parse_sweep_option

    files = args.compare or []
    if files and len(files) != 2:
        raise InputError(f"--compare takes two scenario files (A.yaml B.yaml), got {len(files)}",
                         "or no file: --compare then compares the two values of one --set")
    if files and args.scenario is not None:
        raise InputError("give either SCENARIO or --compare A.yaml B.yaml, not both")
    if not files and args.scenario is None:
        raise InputError("a scenario file is required",
                         "lambdasim sweep SCENARIO --set KEY=V1,V2,...")
    try:
        settings = [parse_sweep_option(text) for text in args.settings]
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    fixed = [f"seed={args.seed}"] if args.seed is not None else []
    if files:
        many = [key for key, values in settings if len(values) > 1]
        if many:
            raise InputError(f"--set {many[0]}: with --compare A.yaml B.yaml each --set "
                             f"takes one value (applied to both files)")
        overrides = [f"{k}={json.dumps(v[0])}" for k, v in settings] + fixed
        a = _load(files[0], overrides)
        # Common random numbers need one seed root: B runs with A's (or --seed).
        b = _load(files[1], overrides + [f"seed={a.seed}"])
        plan = SweepPlan(["scenario"], [{"scenario": files[0]}, {"scenario": files[1]}], [a, b])
        return plan, f"{_folder_name(a)}-vs-{_folder_name(b)}"
    if not settings:
        raise InputError("nothing to sweep: give at least one --set KEY=V1,V2,...",
                         "for example --set functions.api.memory_mb=512,1024,2048")
    base = _load(args.scenario, fixed)
    try:
        plan = SweepPlan.from_settings(base, settings)
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    return plan, _folder_name(base)


def _check_metric(metric: str, config: Mapping[str, Any]) -> None:
    """A bad ``--metric`` fails before the sweep runs, with the closest figure name."""
    from lambdasim.studies.sweep import _unknown_figure, figure_keys

    known = figure_keys(config)
    if metric not in known:
        raise InputError(f"--metric: {_unknown_figure(metric, known)}",
                         f"figures are dotted keys such as {known[0]} or "
                         f"account.cost_usd.total")


def sweep_page(result: Any) -> list:
    """The blocks of :func:`format_sweep_table` (:mod:`lambdasim.results.console`)."""
    from lambdasim.results.console import Column, Lines, Paragraph, TextTable, wrap_header
    from lambdasim.results.humanize import money_decimals
    from lambdasim.results.table import Row, figure_label, figure_row, render_interval

    first = result.points[0].replications
    shown = [result.metric] + [f for f in (f"functions.{next(iter(first.config['functions']))}"
                                           ".throttle_rate", "account.cost_usd.total")
                               if f != result.metric and f in first.figures]
    short = [k.rsplit(".", 1)[-1] for k in result.keys]
    if len(set(short)) < len(short):
        short = list(result.keys)
    # Headers wrap at spaces, not underscores; units in words: memory_mb -> memory (MB).
    units = {"mb": "MB", "s": "s", "ms": "ms", "usd": "USD"}
    short = [re.sub(r"_(mb|s|ms|usd)$", lambda m: f" ({units[m.group(1)]})", k).replace("_", " ")
             for k in short]
    rows_of = {f: (figure_row(f) or (None, Row(f, (), "number", "")))[1] for f in shown}
    digits = money_decimals(p.replications.figures[f]["mean"] for p in result.points
                            for f in shown if rows_of[f].kind == "usd")
    header = short + [figure_label(f) for f in shown]
    rows = [[_text(p.settings[k]) for k in result.keys]
            + [render_interval(p.replications.figures[f], rows_of[f], digits) for f in shown]
            for p in result.points]
    title = (f"lambdasim sweep: scenario {first.config['name']}, seed {first.seed}, "
             f"{_plural(len(result.points), 'point')} x "
             f"{_plural(result.replications, 'replication')} "
             f"(common random numbers)")
    columns = [Column(wrap_header(text, [row[i] for row in rows]), "left" if i == 0 else "right")
               for i, text in enumerate(header)]
    return [Paragraph(title, bold=True), Paragraph("each figure: mean [95 % confidence interval]"),
            Lines(), TextTable(columns, rows, keep=len(result.keys))]


def format_sweep_table(result: Any) -> str:
    """One row per point: its settings, then ``mean [95 % CI]`` of a few main figures, headed
    by what they measure; plain text, at most 100 columns (laid out by rich)."""
    from lambdasim.results.console import render_text

    return render_text(sweep_page(result))


def comparisons_page(comparisons: Sequence[Any]) -> list:
    """The blocks of :func:`format_comparisons`."""
    from lambdasim.results.console import Column, Lines, Paragraph, TextTable, wrap_header
    from lambdasim.results.table import figure_label, figure_row

    c0 = comparisons[0]
    blocks: list = [Paragraph(f"paired difference B - A over {c0.n} replications; ± is the "
                              "half-width of its 95 % confidence interval, paired (common "
                              "random numbers) and, for contrast, unpaired (Welch)"),
                    Lines((f"A = {c0.a_label}", f"B = {c0.b_label}", ""))]
    rows = []
    owner = None
    for c in comparisons:
        found = figure_row(c.figure)
        kind = found[1].kind if found else "number"
        label = figure_label(c.figure)
        if found and label.startswith(found[0] + " "):  # grouped under its function
            if found[0] != owner:
                owner = found[0]
                rows.append([owner] + [""] * 5)
            label = "  " + label[len(owner) + 1:]
        rows.append([label, _value(c.a_mean, kind), _value(c.b_mean, kind),
                     _value(c.difference, kind, signed=True),
                     _half(c.paired_ci, kind), _half(c.unpaired_ci, kind)])
    header = ["figure", "A mean", "B mean", "B - A", "paired ±", "unpaired ±"]
    columns = [Column(wrap_header(text, [row[i] for row in rows]), "left" if i == 0 else "right")
               for i, text in enumerate(header)]
    return blocks + [TextTable(columns, rows)]


def format_comparisons(comparisons: Sequence[Any]) -> str:
    """The paired differences B - A with the paired and the unpaired 95 % intervals."""
    from lambdasim.results.console import render_text

    return render_text(comparisons_page(comparisons))


def _value(value: Any, kind: str, signed: bool = False) -> str:
    """A figure of a comparison in its unit: ms, %, USD (4 significant digits) or a count."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sign = "+" if signed and value > 0 else ""
    if kind == "percent":
        return f"{sign}{100.0 * value:,.3g} %"
    if kind == "ms":
        from lambdasim.results.humanize import duration_unit

        divisor, unit = duration_unit(value)
        return f"{sign}{_num(value / divisor)} {unit}"
    if kind == "usd":
        return f"{sign}{'-' if value < 0 else ''}${_num(abs(value))}"
    return f"{sign}{_num(value)}"


def _half(ci: Sequence[float] | None, kind: str) -> str:
    """A symmetric interval as ``±`` its half-width."""
    if ci is None:
        return "-"
    return "±" + _value((ci[1] - ci[0]) / 2.0, kind)


# --------------------------------------------------------------------------- plot

def _plot(result: Any) -> bytes:
    """The main figure (mean and 95 % interval) against the first swept key, as PNG bytes.

    One line per combination of the other keys. Uses the Agg canvas directly (no pyplot
    state), so it works without a display and in worker threads.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x_key, others = result.keys[0], result.keys[1:]
    xs = [p.settings[x_key] for p in result.points]
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    categories = list(dict.fromkeys(_text(x) for x in xs))
    lines: dict[str, list] = {}
    for p in result.points:
        label = ", ".join(f"{k.rsplit('.', 1)[-1]}={_text(p.settings[k])}" for k in others)
        lines.setdefault(label, []).append(p)
    figure = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for label, points in lines.items():
        points = [p for p in points if p.replications.figures[result.metric]["mean"] is not None]
        if not points:
            continue
        x = [p.settings[x_key] if numeric else categories.index(_text(p.settings[x_key]))
             for p in points]
        stats = [p.replications.figures[result.metric] for p in points]
        y = [s["mean"] for s in stats]
        err = [[s["mean"] - s["ci95"][0] if s["ci95"] else 0.0 for s in stats],
               [s["ci95"][1] - s["mean"] if s["ci95"] else 0.0 for s in stats]]
        axes.errorbar(x, y, yerr=err, marker="o", capsize=3, label=label or None)
    if not numeric:
        axes.set_xticks(range(len(categories)), categories)
    axes.set_xlabel(x_key)
    axes.set_ylabel(result.metric)
    axes.set_title(f"{result.metric}: mean and 95 % CI over "
                   f"{_plural(result.replications, 'replication')}",
                   fontsize=10)
    axes.grid(True, alpha=0.3)
    if len(lines) > 1:
        axes.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------- output

def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, allow_nan=False, default=str) + "\n").encode("utf-8")


def _write(out_dir: Path, files: Mapping[str, bytes]) -> None:
    with writing_to(out_dir):
        write_folder(out_dir, files)


def write_folder(out_dir: str | os.PathLike[str], files: Mapping[str, bytes]) -> Path:
    """Replace ``out_dir`` atomically with a folder holding ``files`` (name -> bytes).

    The same protocol as :func:`lambdasim.results.folder.write_results`: write and fsync a temporary
    sibling, rename the old folder aside, rename the new one in, delete the old one; an
    existing folder is replaced only when empty or written by lambdasim and holding nothing
    else (:func:`lambdasim.results.folder.check_out_dir`).
    """
    from lambdasim.results.folder import _write_bytes, replace_folder

    def fill(folder: Path) -> None:
        for name, data in files.items():
            _write_bytes(folder / name, data)

    return replace_folder(out_dir, fill)


def _plural(count: int, noun: str) -> str:
    from lambdasim.results.humanize import plural

    return plural(count, noun)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _num(value: Any) -> str:
    """Four significant digits, thousands separated: ``1,234``, ``0.01173``, ``-18.01``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0:
        return "0"
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    digits = max(0, 3 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{digits}f}"


def _interval(ci: Sequence[float] | None) -> str:
    return "-" if ci is None else f"[{_num(ci[0])}, {_num(ci[1])}]"
