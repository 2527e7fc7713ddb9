"""The ``lambdasim`` command line.

::

    python -m lambdasim SCENARIO [--seed N] [--out DIR] [--set KEY=VALUE]... [--period DURATION]
                                 [--records] [--json | --quiet]
    python -m lambdasim run SCENARIO ...        # the same, spelled out
    python -m lambdasim validate SCENARIO...    # check files only
    python -m lambdasim schema                  # JSON Schema of the scenario format
    python -m lambdasim --version

Exit codes: 0 success; 1 an ``expect:`` check failed; 2 bad input (scenario errors, a bad
``--set`` or ``--period``, a missing file, usage errors); 3 an internal error (a bug: the
traceback is printed); 130 interrupted. Bad input gives one ``lambdasim: error: ...`` line on
stderr (at most one hint line more), no traceback, and writes nothing: the results folder is
written only after the run has finished, and atomically (see :mod:`lambdasim.report`).

``--seed`` and ``--period`` are applied as overrides of the scenario's ``seed`` and
``period``, after any ``--set``, so the resolved config in ``summary.json`` always describes
the run that produced it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser"]

PROG = "lambdasim"
EXIT_OK, EXIT_EXPECT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


#: Subcommands implemented in their own modules: command -> (module, help line). Each module
#: has ``add_arguments(parser)`` and ``run(args) -> int``, raises :class:`InputError` for bad
#: input and imports anything heavy inside ``run``, so ``lambdasim --help`` stays fast.
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "tune": ("lambdasim.tune", "find the best memory size and architecture of a function"),
    "fit": ("lambdasim.fit", "fit duration and init distributions to CloudWatch REPORT logs"),
    "import-sam": ("lambdasim.sam", "write a scenario skeleton from a SAM or CloudFormation template"),
    "sweep": ("lambdasim.sweep_cli", "run a grid of settings with replications and CIs"),
}


class InputError(Exception):
    """Bad input found by the command line itself; ``hint`` is an optional second line."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _version() -> str:
    import lambdasim

    version = getattr(lambdasim, "__version__", None)
    if version is None:
        from importlib.metadata import PackageNotFoundError, version as installed_version

        try:
            version = installed_version("lambdasim")
        except PackageNotFoundError:
            version = "unknown"
    return version


class _Parser(argparse.ArgumentParser):
    """argparse with lambdasim's error format: one error line and one hint, exit 2."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{PROG}: error: {message}", file=sys.stderr)
        print(f"{PROG}: hint: see '{self.prog} --help'", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands (``run``, ``validate``, ``schema``)."""
    parser = _Parser(
        prog=PROG,
        description="Simulate AWS Lambda scaling, cold starts, throttles and cost.",
        epilog="A bare 'lambdasim SCENARIO ...' means 'lambdasim run SCENARIO ...'.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write its results folder")
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
    importlib.import_module("lambdasim.sweep_cli").add_replication_arguments(run)
    out = run.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="print the summary JSON on stdout instead of the table")
    out.add_argument("--quiet", "-q", action="store_true",
                     help="print nothing on stdout (errors still go to stderr)")
    run.set_defaults(handler=_cmd_run)

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", metavar="SCENARIO", nargs="+", help="scenario YAML files")
    _add_set_option(validate)
    validate.set_defaults(handler=_cmd_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    schema.set_defaults(handler=_cmd_schema)

    for command, (module_name, help_text) in COMMAND_MODULES.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(command, help=help_text,
                                        description=(module.__doc__ or "").split("\n\n")[0])
        module.add_arguments(command_parser)
        command_parser.set_defaults(handler=module.run)
    return parser


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a scenario key by its dotted path, e.g. "
                             "functions.checkout.memory_mb=2048 (repeatable)")


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # argparse offers no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments without the program name (default: ``sys.argv[1:]``).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # 'lambdasim SCENARIO ...' is 'lambdasim run SCENARIO ...'.
    if args_list and args_list[0] not in _subcommands(parser) | {"-h", "--help", "--version"}:
        args_list.insert(0, "run")
    try:
        args = parser.parse_args(args_list)  # usage errors exit 2 through SystemExit
        if args.command is None:
            return _fail("a scenario file or a command is required",
                         f"usage: {PROG} SCENARIO [options]; see '{PROG} --help'")
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. 'lambdasim schema | head': the reader has gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit-time flush stays quiet
        return EXIT_OK
    except InputError as exc:
        return _fail(str(exc), exc.hint)
    except Exception as exc:  # a bug, not bad input: show everything needed for a report
        traceback.print_exc()
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def _fail(message: str, hint: str | None = None) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    if hint:
        print(f"{PROG}: hint: {hint}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _load(path_text: str, overrides: list[str]):
    """Load and validate one scenario; bad input becomes :class:`InputError`."""
    from lambdasim.scenario import ScenarioError, load_scenario

    path = Path(path_text)
    if not path.exists():
        raise InputError(f"{path_text}: no such file")
    if path.is_dir():
        raise InputError(f"{path_text}: is a folder, not a scenario file")
    for item in overrides:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set {item!r}: expected KEY=VALUE",
                             "for example --set functions.checkout.memory_mb=2048")
    try:
        return load_scenario(path, overrides=overrides or None)
    except ScenarioError as exc:
        raise InputError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path_text}: cannot read: {exc}") from None


def _cmd_run(args: argparse.Namespace) -> int:
    from lambdasim.model import simulate
    from lambdasim.report import format_summary_table, write_results

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.period is not None:
        positive_duration(args.period, "--period")
        overrides.append(f"period={args.period}")
    scenario = _load(args.scenario, overrides)

    out_dir = Path(args.out) if args.out is not None else Path("results") / _folder_name(scenario)
    if args.replications > 1:  # mean, sd and 95 % CI over replications
        sweep_cli = importlib.import_module("lambdasim.sweep_cli")
        return sweep_cli.run_replications(args, scenario, out_dir)
    from lambdasim.scenario import ScenarioError

    from lambdasim.progress import progress_bar_for

    bar = progress_bar_for(sys.stderr, scenario.duration_s, quiet=args.quiet or args.json)
    try:
        result = simulate(scenario, records=args.records, progress=bar)
    except ScenarioError as exc:  # inconsistencies only found while building the model
        raise InputError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    checks = expectations(scenario, result.summary)  # before writing: a missing key is bad input
    with writing_to(out_dir):
        write_results(result, out_dir, plots=args.plots)

    if args.json:
        print(json.dumps(result.summary, indent=2, allow_nan=False))
    elif not args.quiet:
        print(format_summary_table(result))
        print(f"results: {out_dir}")
    return report_checks(args, checks)


def positive_duration(text: str, flag: str) -> float:
    """A command-line duration (``250ms``, ``1m``) in seconds, longer than zero."""
    from lambdasim.units import SpecError, parse_duration

    try:
        seconds = parse_duration(text, key=flag)
    except SpecError as exc:
        raise InputError(str(exc)) from None
    if seconds <= 0:
        raise InputError(f"{flag}: must be longer than 0s, got {text!r}")
    return seconds


@contextlib.contextmanager
def writing_to(out_dir: Path):
    """Writing a results folder: an OSError becomes bad input with a hint, nothing written."""
    try:
        yield
    except OSError as exc:
        detail = (f"cannot write results to {out_dir}: {exc.strerror}" if exc.strerror
                  else f"cannot write results: {exc}")
        raise InputError(detail, "choose another folder with --out DIR") from None


def report_checks(args: argparse.Namespace, checks) -> int:
    """Print the ``expect:`` checks of a run; the exit code (1 when any failed)."""
    if checks:
        from lambdasim.expect import format_checks

        failed = [c for c in checks if not c.passed]
        # stdout carries only the summary JSON with --json; --quiet shows failures only.
        if args.json or args.quiet:
            if failed:
                sys.stderr.write(format_checks(checks, failed_only=args.quiet))
        else:
            sys.stdout.write(format_checks(checks))
        if failed:
            return EXIT_EXPECT_FAILED
    return EXIT_OK


def expectations(scenario, summary) -> list:
    """The scenario's ``expect:`` checks evaluated on a summary (with replications: on the CI
    bounds); a key the summary lacks is bad input."""
    from lambdasim.expect import ExpectationError, evaluate

    try:
        return evaluate(scenario.config.get("expect") or (), summary)
    except ExpectationError as exc:
        raise InputError(f"expect: {exc}",
                         "see the keys of summary.json (lambdasim SCENARIO --json)") from None


def _folder_name(scenario) -> str:
    name = str(scenario.name)
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise InputError(f"name: {name!r} cannot be used as a folder name",
                         "rename the scenario or choose a folder with --out DIR")
    return name


def _cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for path_text in args.scenarios:
        try:
            scenario = _load(path_text, list(args.overrides))
        except InputError as exc:
            _fail(str(exc), exc.hint)
            bad += 1
            continue
        functions = scenario.config.get("functions") or {}
        triggers = sum(len(f.get("triggers") or ()) for f in functions.values())
        print(f"ok: {path_text} ({len(functions)} functions, {triggers} triggers)")
    return EXIT_BAD_INPUT if bad else EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from lambdasim.scenario import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK
