"""Run a scenario and write its results folder: ``lambdasim [run] SCENARIO``.

The scenario is loaded (``--set``, ``--seed`` and ``--period`` applied as overrides, so the
resolved config in summary.json describes the run that produced it), simulated with a
progress bar on a terminal, its ``expect:`` checks evaluated, the results folder written
atomically, and the summary table (or ``--json``) printed. ``--replications N`` hands over to
:mod:`lambdasim.cli.sweep`.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from lambdasim.cli.common import (InputError, _add_set_option, _folder_name, _load, _seed,
                                  add_limit_arguments, check_out, check_work, expectations,
                                  limits_from, positive_duration, report_checks,
                                  writing_to)

__all__ = ["add_arguments", "run", "chart_notice"]


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The ``run`` subcommand's options."""
    run.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    run.add_argument("--seed", type=_seed, metavar="N", help="random seed (overrides 'seed')")
    run.add_argument("--out", metavar="DIR",
                     help="results folder (default: results/<scenario name>)")
    _add_set_option(run)
    run.add_argument("--period", metavar="DURATION",
                     help="metrics period, e.g. 1m or 10s (overrides 'period')")
    run.add_argument("--records", action="store_true",
                     help="also write per-request records (requests.csv.gz)")
    run.add_argument("--no-plots", dest="plots", action="store_false",
                     help="do not draw the charts (*.png); report.html is still written")
    importlib.import_module("lambdasim.cli.sweep").add_replication_arguments(run)
    add_limit_arguments(run)
    out = run.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="print the summary JSON on stdout instead of the table")
    out.add_argument("--quiet", "-q", action="store_true",
                     help="print nothing on stdout (errors still go to stderr)")


#: Charts drawn for each function at least (concurrency, requests, latency, latency over
#: time, cost: lambdasim.results.plots.FUNCTION_CHARTS without the trigger charts).
CHARTS_PER_FUNCTION = 5
#: CPU seconds to draw and embed one chart, measured on the benchmark machine (2 cores):
#: 5,005 charts of 1,000 functions took 323 s more than the same run with --no-plots.
SECONDS_PER_CHART = 0.065
#: Above this estimate, the run says before drawing how long the charts will take.
NOTICE_ABOVE_S = 20.0


def chart_notice(functions: int) -> str | None:
    """The line printed before drawing the charts of many functions, or None when they are
    quick: how many, about how long (at :data:`SECONDS_PER_CHART` each) and how to skip
    them. The whole run's charts scale with the number of functions, the simulation does
    not (benchmarks/README.md)."""
    charts = CHARTS_PER_FUNCTION * functions
    seconds = charts * SECONDS_PER_CHART
    if seconds <= NOTICE_ABOVE_S:
        return None
    took = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return (f"drawing at least {charts:,} charts ({CHARTS_PER_FUNCTION} for each of "
            f"{functions:,} functions): about {took} at about {SECONDS_PER_CHART * 1000:.0f} ms "
            f"a chart on a 2-core machine; --no-plots skips them (report.html and every figure "
            f"are written either way)")


def run(args: argparse.Namespace) -> int:
    """``lambdasim run``: simulate, write the results folder, print the table; the exit code."""
    from lambdasim.simulation import simulate
    from lambdasim.results.folder import write_results
    from lambdasim.results.table import summary_page

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.period is not None:
        positive_duration(args.period, "--period")
        overrides.append(f"period={args.period}")
    scenario = _load(args.scenario, overrides)

    out_dir = Path(args.out) if args.out is not None else Path("results") / _folder_name(scenario)
    check_work(scenario, args)  # absurd work is refused before anything is built
    check_out(out_dir)  # before any work: a bad --out is refused at once
    if args.replications > 1:  # mean, sd and 95 % CI over replications
        sweep_cli = importlib.import_module("lambdasim.cli.sweep")
        return sweep_cli.run_replications(args, scenario, out_dir)
    from lambdasim.scenario import ScenarioError

    from lambdasim.results.progress import progress_bar_for

    bar = progress_bar_for(sys.stderr, scenario.duration_s, quiet=args.quiet or args.json)
    try:
        result = simulate(scenario, records=args.records, progress=bar, limits=limits_from(args))
    except ScenarioError as exc:  # inconsistencies only found while building the model
        raise InputError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    checks = expectations(scenario, result.summary)  # before writing: a missing key is bad input
    notice = chart_notice(len(result.summary["functions"])) if args.plots else None
    if notice and not (args.quiet or args.json):
        print(notice, file=sys.stderr, flush=True)
    with writing_to(out_dir):
        write_results(result, out_dir, plots=args.plots)

    if args.json:
        print(json.dumps(result.summary, indent=2, allow_nan=False))
    elif not args.quiet:
        from lambdasim.results.console import Lines, print_page
        from lambdasim.results.findings import format_findings

        page = summary_page(result) + [Lines()]
        text = format_findings(result.findings)
        if text:
            page += [Lines(tuple(text.splitlines())), Lines()]
        print_page(page)
        print(f"results: {out_dir}")
    return report_checks(args, checks)
