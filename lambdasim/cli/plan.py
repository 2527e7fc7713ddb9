"""Find the cheapest settings of a function that keep its SLOs (capacity planning).

::

    python -m lambdasim plan SCENARIO --function F --vary KEY=V1,V2,... [--vary ...]
                             --slo "EXPR" [--slo ...] [--objective cost|p99] [--budget USD]
                             [--replications N] [--workers W] [--dask ADDRESS|local]
                             [--seed N] [--out DIR] [--json | --quiet]

Every combination of the ``--vary`` values (any dotted keys: memory, architecture, reserved
or provisioned concurrency, a provisioned schedule, ...) runs ``N`` replications with common
random numbers. A setting passes when every ``--slo`` (the ``expect:`` syntax, such as
``"api.latency_ms.p99 < 500"`` or ``"api.throttle_rate <= 0.001"``) holds at the 95 %
confidence bound. ``--objective cost`` picks the cheapest passing setting (the function's
cost over the simulated window), ``--objective p99`` the fastest within ``--budget``. The
ranked table says which SLO each rejected setting broke; ``plan.json``, ``plan.png`` and
``run.json`` go to ``results/<scenario name>-plan/`` or ``--out``, atomically. Exit code 0
when a setting passes, 1 when none does, 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from lambdasim.cli.common import EXIT_OK, InputError, _folder_name, _load, _seed
from lambdasim.results import humanize as hz
from lambdasim.cli.sweep import (_executor, _json, _progress, _run_info, _write,
                                 add_replication_arguments)

__all__ = ["add_arguments", "run", "format_plan_table", "plot_plan"]

EXIT_NO_SETTING = 1


def _money(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in USD, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    parser.add_argument("--function", required=True, metavar="F",
                        help="the function being planned (its cost and p99 rank settings)")
    parser.add_argument("--vary", dest="settings", action="append", default=[],
                        metavar="KEY=V1,V2,...",
                        help="a dotted key and its candidate values, e.g. "
                             "functions.api.provisioned_concurrency=0,5,10 (repeatable: "
                             "the cartesian product is evaluated)")
    parser.add_argument("--slo", dest="slos", action="append", default=[], metavar="EXPR",
                        help="a service-level objective in the expect: syntax, e.g. "
                             "'api.latency_ms.p99 < 500' (repeatable; all must hold)")
    parser.add_argument("--objective", choices=("cost", "p99"), default="cost",
                        help="cheapest passing setting, or lowest p99 within --budget "
                             "(default: %(default)s)")
    parser.add_argument("--budget", type=_money, metavar="USD",
                        help="with --objective p99: the most the function may cost over "
                             "the simulated window")
    add_replication_arguments(parser, default=5)
    parser.add_argument("--seed", type=_seed, metavar="N", help="seed root (overrides 'seed')")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default: results/<scenario name>-plan)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print plan.json on stdout")
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing on stdout")


def run(args: argparse.Namespace) -> int:
    from lambdasim.results.expect import ExpectationError, parse_expectation
    from lambdasim.scenario import ScenarioError
    from lambdasim.scenario.units import SpecError
    from lambdasim.studies.plan import evaluate_grid
    from lambdasim.studies.replications import _unknown_figure, figure_keys
    from lambdasim.studies.sweep import SweepPlan, parse_sweep_option

    base = _load(args.scenario, [f"seed={args.seed}"] if args.seed is not None else [])
    functions = list(base.config["functions"])
    if args.function not in functions:
        raise InputError(f"--function: no function {args.function!r} in {args.scenario}",
                         f"functions: {', '.join(functions)}")
    if not args.settings:
        raise InputError("nothing to vary: give at least one --vary KEY=V1,V2,...",
                         f"for example --vary functions.{args.function}.memory_mb=512,1024")
    if not args.slos:
        raise InputError("no SLO: give at least one --slo EXPR",
                         f"for example --slo '{args.function}.latency_ms.p99 < 500'")
    if args.budget is not None and args.objective != "p99":
        raise InputError("--budget goes with --objective p99 (the cheapest setting needs "
                         "no budget)")
    try:
        settings = [parse_sweep_option(text) for text in args.settings]
        grid = SweepPlan.from_settings(base, settings)
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    known = figure_keys(grid.scenarios[0].config)
    for index, text in enumerate(args.slos, 1):
        try:
            check = parse_expectation(text, f"--slo {index}")
            key = ".".join(check.target(functions))
        except SpecError as exc:
            raise InputError(f"--slo {text!r}: {exc.message}") from None
        except ExpectationError as exc:
            raise InputError(f"--slo: {exc}") from None
        if key not in known:
            raise InputError(f"--slo {text!r}: {_unknown_figure(key, known)}",
                             f"figures are dotted keys such as "
                             f"{args.function}.latency_ms.p99 or {args.function}.throttle_rate")
    out_dir = (Path(args.out) if args.out is not None
               else Path("results") / f"{_folder_name(base)}-plan")
    started = time.perf_counter()
    try:
        with _executor(args) as executor:
            result = evaluate_grid(grid, args.function, args.slos, objective=args.objective,
                                   budget_usd=args.budget, replications=args.replications,
                                   executor=executor, workers=args.workers,
                                   progress=_progress(args))
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    document = result.to_dict()
    run_info = _run_info(args, grid.scenarios[0], result.sweep.points[0].replications.seed,
                         time.perf_counter() - started, points=len(result.points),
                         replications=result.replications,
                         runs=len(result.points) * result.replications)
    _write(out_dir, {"plan.json": _json(document), "plan.png": plot_plan(result),
                     "run.json": _json(run_info)})
    if args.json:
        print(json.dumps(document, indent=2, allow_nan=False))
    elif not args.quiet:
        from lambdasim.results.console import print_page

        print_page(plan_page(result))
        print(f"results: {out_dir}")
    return EXIT_OK if result.chosen is not None else EXIT_NO_SETTING


# --------------------------------------------------------------------------- output

def _ci(figure: dict, fmt) -> str:
    ci = figure.get("ci95")
    return "-" if not ci else f"{fmt(ci[0])} .. {fmt(ci[1])}"


def _p99(figure: dict) -> tuple[str, str]:
    """The p99 mean and its interval in one duration unit (``910.2 ms``, ``12.5 s``)."""
    mean = figure.get("mean")
    if mean is None:
        return "-", "-"
    divisor, unit = hz.duration_unit(float(mean))
    text = lambda v: f"{v / divisor:,.1f} {unit}"  # noqa: E731
    return text(mean), _ci(figure, text)


def plan_page(result: Any) -> list:
    """The blocks of :func:`format_plan_table` (:mod:`lambdasim.results.console`)."""
    from lambdasim.results.console import Column, Lines, Paragraph, TextTable

    basis = (f"{result.replications} replications, SLOs judged on the 95 % confidence bound"
             if result.replications > 1 else "1 run per setting, SLOs judged on the value "
             "(no confidence interval; use --replications N)")
    objective = ("cheapest passing setting" if result.objective == "cost"
                 else "lowest p99 passing setting"
                 + (f" within USD {result.budget_usd:g}" if result.budget_usd else ""))
    blocks: list = [
        Paragraph(f"lambdasim plan: function {result.function}, {len(result.points)} settings, "
                  f"{basis}", bold=True),
        Paragraph(f"objective: {objective}; cost = the function's cost over the simulated "
                  f"window, p99 = end-to-end latency per request"),
        Paragraph("SLOs: " + "; ".join(result.slos)), Lines()]
    # The verdict is text: left-aligned after the right-aligned figures.
    columns = [Column("rank", "left"), Column("setting", "left")] + [
        Column(h) for h in ("cost", "cost 95 % CI", "p99 latency", "p99 95 % CI")] + [
        Column("verdict", "left", wrap=True)]
    # One precision for all the money of the table (issue 16: no 6 against 2 decimals), fine
    # enough that settings a few per cent apart read apart (four significant digits of the
    # smallest amount, where money_decimals gives two).
    digits = min(8, 2 + hz.money_decimals(v for point in result.ranked
                                          for v in [point.cost_usd.get("mean")]
                                          + list(point.cost_usd.get("ci95") or [])))
    usd = lambda v: hz.usd(v, digits)  # noqa: E731
    rows = []
    for point in result.ranked:
        mark = "*" if point is result.chosen else ""
        p99, p99_ci = _p99(point.p99_ms)
        rows.append([f"{point.rank}{mark}", point.label, usd(point.cost_usd.get("mean")),
                     _ci(point.cost_usd, usd), p99, p99_ci, point.verdict(digits)])
    blocks += [TextTable(columns, rows, keep=2), Lines()]
    if result.chosen is None:
        blocks.append(Paragraph("no setting meets every SLO" + (" within the budget"
                                                                 if result.budget_usd else "")))
    else:
        blocks.append(Paragraph(f"chosen (*): {result.chosen.label}"))
    return blocks


def format_plan_table(result: Any) -> str:
    """The ranked settings, the SLO verdict of each, and the choice; plain text, at most 100
    columns (laid out by rich), ending without newline."""
    from lambdasim.results.console import render_text

    return render_text(plan_page(result)).rstrip("\n")


def plot_plan(result: Any) -> bytes:
    """``plan.png``: the function's cost against the first SLO's figure, per setting."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from lambdasim.results.table import figure_label
    from lambdasim.studies.plan import figure_kind

    first = result.points[0].checks[0]
    slo = first.expectation
    # The y axis in the figure's unit: milliseconds, seconds, USD or % (fractions x 100).
    kind = figure_kind(first.key)
    scale, unit = {"ms": (1.0, "ms"), "s": (1.0, "s"), "usd": (1.0, "USD"),
                   "percent": (100.0, "%")}.get(kind, (1.0, ""))
    fig = Figure(figsize=(8, 5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    for passed, color, label in ((True, "#2a9d8f", "meets every SLO"),
                                 (False, "#e76f51", "breaks an SLO")):
        chosen = [p for p in result.points if p.passed == passed]
        xs = [p.cost_usd.get("mean") for p in chosen]
        ys = [None if p.checks[0].actual is None else p.checks[0].actual * scale
              for p in chosen]
        keep = [(x, y, p) for x, y, p in zip(xs, ys, chosen) if x is not None and y is not None]
        if keep:
            ax.scatter([k[0] for k in keep], [k[1] for k in keep], color=color, label=label,
                       zorder=3)
            for x, y, p in keep:
                ax.annotate(p.label, (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=7)
    if result.chosen is not None and result.chosen.checks[0].actual is not None:
        ax.scatter([result.chosen.cost_usd.get("mean")],
                   [result.chosen.checks[0].actual * scale],
                   s=180, facecolors="none", edgecolors="black", label="chosen", zorder=4)
    ax.axhline(slo.threshold * scale, color="grey", linestyle="--",
               label=f"SLO: {slo.text}")
    basis = {"value": "one run", "mean": "mean over replications"}.get(
        first.basis, first.basis.replace("ci95", "95 % CI") + " bound")
    ax.set_xlabel(f"cost of {result.function} over the simulated window (USD, mean)")
    ax.set_ylabel(f"{figure_label(first.key)} ({', '.join(filter(None, (unit, basis)))})")
    ax.set_title(f"plan: {result.function}, {len(result.points)} settings, "
                 f"{result.replications} replications each", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
