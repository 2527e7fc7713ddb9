"""Traffic-aware power tuning: which memory size (and architecture) should a function get?

The command line of :mod:`lambdasim.studies.tune`: options, their checks, the table on the
terminal, and ``tune.json`` / ``tune.png`` written atomically (see the study's module for the
strategies and the statistics).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from lambdasim.cli.common import (InputError, _add_set_option, _folder_name, _load, _seed,
                                  positive_duration, writing_to, check_out,
                                  add_limit_arguments, limits_from)
from lambdasim.scenario import ScenarioError
from lambdasim.studies.tune import (ARCHITECTURES, DEFAULT_ARM64_FACTORS, DEFAULT_MEMORY_MB,
                                    MAX_MEMORY_MB, MIN_MEMORY_MB, OBJECTIVES, STRATEGIES, tune)
from lambdasim.studies.tune_report import tune_page, write_tune

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``tune`` subcommand's options."""
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    parser.add_argument("--function", required=True, metavar="NAME",
                        help="the function to tune (the others run as configured)")
    parser.add_argument("--memory", metavar="MB,MB,...",
                        default=",".join(map(str, DEFAULT_MEMORY_MB)),
                        help="memory sizes to try, 128 to 10240 (default: %(default)s)")
    parser.add_argument("--arch", metavar="ARCH,...", default=None,
                        help="architectures to try: x86_64, arm64 (default: the function's)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="cost",
                        help="what 'best' means (default: %(default)s)")
    parser.add_argument("--weight", type=float, default=0.5, metavar="W",
                        help="balanced strategy: weight of cost, 0 to 1 (default: %(default)s)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="mean",
                        help="latency statistic that is 'time' (default: %(default)s)")
    parser.add_argument("--max-p99", metavar="DURATION", default=None,
                        help="only configurations whose p99 latency is at most this, e.g. 500ms")
    parser.add_argument("--replications", type=int, default=1, metavar="N",
                        help="runs per configuration; N >= 2 adds 95 %% intervals (default: 1)")
    parser.add_argument("--tolerance", type=float, default=0.01, metavar="REL",
                        help="speed: relative time difference counted as equal "
                             "(default: %(default)s)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="runs in parallel processes (default: 1; results do not change)")
    parser.add_argument("--seed", type=_seed, metavar="N", help="random seed (overrides 'seed')")
    parser.add_argument("--out", metavar="DIR",
                        help="results folder (default: results/<scenario name>)")
    add_limit_arguments(parser)
    parser.add_argument("--arm64-factors", metavar="F,F,...", default=None,
                        help="with --arch x86_64,arm64: arm64/x86_64 duration factors at which to "
                             "re-run the choice, showing where it flips (default: "
                             + ",".join(f"{f:g}" for f in DEFAULT_ARM64_FACTORS) + ")")
    _add_set_option(parser)
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print tune.json on stdout")
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing on stdout")


def _parse_memory(text: str) -> list[int]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise InputError("--memory: empty list", "for example --memory 128,512,1024,1769,3008")
    values: list[int] = []
    for item in items:
        try:
            value = int(item.removesuffix("MB").removesuffix("mb"))
        except ValueError:
            raise InputError(f"--memory: {item!r} is not a whole number of MB",
                             "for example --memory 128,512,1024") from None
        if not MIN_MEMORY_MB <= value <= MAX_MEMORY_MB:
            raise InputError(f"--memory: {value} MB is out of range; Lambda allows "
                             f"{MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB")
        if value in values:
            raise InputError(f"--memory: {value} MB is listed twice")
        values.append(value)
    return values


def _parse_arch(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise InputError("--arch: empty list", "use x86_64, arm64 or x86_64,arm64")
    for item in items:
        if item not in ARCHITECTURES:
            raise InputError(f"--arch: unknown architecture {item!r}",
                             f"choose from {', '.join(ARCHITECTURES)}")
        if items.count(item) > 1:
            raise InputError(f"--arch: {item} is listed twice")
    return items


def _parse_factors(text: str) -> list[float]:
    factors = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            value = float(item)
        except ValueError:
            raise InputError(f"--arm64-factors: {item!r} is not a number",
                             "for example --arm64-factors 0.8,1.0,1.2") from None
        if not math.isfinite(value) or not 0.1 <= value <= 10.0:
            raise InputError(f"--arm64-factors: {item} is outside 0.1..10")
        factors.append(value)
    if not factors:
        raise InputError("--arm64-factors: empty list", "for example --arm64-factors 0.8,1.0,1.2")
    return sorted(set(factors))


def run(args: argparse.Namespace) -> int:
    """``python -m lambdasim tune``: exit 0, 1 when no configuration meets ``--max-p99``,
    2 on bad input."""
    memories = _parse_memory(args.memory)
    if not 0.0 <= args.weight <= 1.0:
        raise InputError(f"--weight: must be between 0 and 1, got {args.weight}")
    if args.jobs < 1:
        raise InputError(f"--jobs: must be at least 1, got {args.jobs}")
    if args.replications < 1:
        raise InputError(f"--replications: must be at least 1, got {args.replications}")
    if not 0.0 <= args.tolerance < 1.0:
        raise InputError(f"--tolerance: must be at least 0 and below 1, got {args.tolerance}")
    max_p99_ms = None
    if args.max_p99 is not None:
        max_p99_ms = positive_duration(args.max_p99, "--max-p99") * 1000.0
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    scenario = _load(args.scenario, overrides)
    functions = scenario.config["functions"]
    if args.function not in functions:
        raise InputError(f"--function {args.function!r}: no such function in {args.scenario}",
                         f"functions: {', '.join(functions)}")
    archs = (_parse_arch(args.arch) if args.arch is not None
             else [functions[args.function]["architecture"]])
    factors = None
    if set(archs) == set(ARCHITECTURES):
        factors = (_parse_factors(args.arm64_factors) if args.arm64_factors is not None
                   else list(DEFAULT_ARM64_FACTORS))
    elif args.arm64_factors is not None:
        raise InputError("--arm64-factors: needs --arch x86_64,arm64 (both architectures)")
    out_dir = Path(args.out) if args.out is not None else Path("results") / _folder_name(scenario)
    limits_from(args)  # a bad --max-* option is refused before any work
    check_out(out_dir)  # before any work: a bad --out is refused at once

    try:
        report = tune(scenario, args.function, memories, archs, strategy=args.strategy,
                      weight=args.weight, objective=args.objective, max_p99_ms=max_p99_ms,
                      arm64_factors=factors,
                      replications=args.replications, tolerance=args.tolerance,
                      jobs=args.jobs, limits=limits_from(args))
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    with writing_to(out_dir):
        write_tune(report, out_dir)

    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    elif not args.quiet:
        from lambdasim.results.console import print_page

        print_page(tune_page(report))
        print(f"results: {out_dir / 'tune.json'}, {out_dir / 'tune.png'}")
    if report["best"] is None:
        if any(c["latency_ms"]["mean"]["value"] is not None for c in report["configurations"]):
            print(f"lambdasim: no configuration meets --max-p99 {args.max_p99}", file=sys.stderr)
        else:
            print(f"lambdasim: {args.function} answered no request in the measured window at "
                  "any configuration; nothing to compare", file=sys.stderr)
        return 1
    return 0


