"""What every command of the command line shares: exit codes, errors, options, loading, writing.

The only modules that know argv, stdout and exit codes are those of :mod:`lambdasim.cli`;
this one holds their common helpers: the exit codes, the argument parser with lambdasim's
error format, ``--seed`` and ``--set``, loading a scenario with bad input turned into
:class:`~lambdasim.errors.InputError`, positive durations, writing a folder or a file, and
reporting ``expect:`` checks.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

from lambdasim.errors import InputError

__all__ = ["PROG", "EXIT_OK", "EXIT_EXPECT_FAILED", "EXIT_BAD_INPUT", "EXIT_INTERNAL",
           "EXIT_INTERRUPTED", "InputError", "positive_duration", "writing_to", "check_out",
           "add_limit_arguments", "limits_from", "check_work",
           "write_text_atomic", "report_checks", "expectations"]

PROG = "lambdasim"
EXIT_OK, EXIT_EXPECT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _version() -> str:
    from lambdasim._version import __version__

    return __version__


class _Parser(argparse.ArgumentParser):
    """argparse with lambdasim's error format: one error line and one hint, exit 2."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{PROG}: error: {message}", file=sys.stderr)
        print(f"{PROG}: hint: see '{self.prog} --help'", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number of at least *minimum*, else a one-line error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


#: ``--seed``: a whole number >= 0.
_seed = whole_number(0)


def _add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a scenario key by its dotted path, e.g. "
                             "functions.checkout.memory_mb=2048 (repeatable)")


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-arrivals``, ``--max-events``, ``--max-memory``: the work a run may ask for
    (:mod:`lambdasim.scenario.workload`), estimated before anything is built."""
    group = parser.add_argument_group(
        "limits", "a scenario whose estimated work is beyond these is refused up front (exit 2)")
    group.add_argument("--max-arrivals", metavar="N", default="1e8",
                       help="expected requests over the horizon (default 1e8; 'none': no limit)")
    group.add_argument("--max-events", metavar="N", default="1e9",
                       help="estimated simulation events (default 1e9; 'none': no limit)")
    group.add_argument("--max-memory", metavar="SIZE", default="8GiB",
                       help="estimated memory, e.g. 16GB (default 8GiB; 'none': no limit)")


def limits_from(args: argparse.Namespace):
    """The :class:`~lambdasim.scenario.workload.Limits` of the command-line options."""
    from lambdasim.scenario.units import SpecError
    from lambdasim.scenario.workload import Limits, parse_limit

    try:
        return Limits(parse_limit(args.max_arrivals, "--max-arrivals"),
                      parse_limit(args.max_events, "--max-events"),
                      parse_limit(args.max_memory, "--max-memory", size=True))
    except SpecError as exc:
        raise InputError(str(exc)) from None


def check_work(scenario, args: argparse.Namespace, period_s: float | None = None) -> None:
    """Refuse a scenario whose estimated work is beyond the command line's limits."""
    from lambdasim.scenario import ScenarioError
    from lambdasim.scenario.workload import check_scenario_workload

    try:
        check_scenario_workload(scenario, limits_from(args), period_s)
    except ScenarioError as exc:
        raise InputError(str(exc)) from None


def _fail(message: str, hint: str | None = None) -> int:
    from lambdasim.scenario.reading import shorten

    # One line each, of bounded length, whatever a file or an option held.
    print(f"{PROG}: error: {shorten(str(message), 700)}", file=sys.stderr)
    if hint:
        print(f"{PROG}: hint: {shorten(str(hint), 300)}", file=sys.stderr)
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


def positive_duration(text: str, flag: str) -> float:
    """A command-line duration (``250ms``, ``1m``) in seconds, longer than zero."""
    from lambdasim.scenario.units import SpecError, parse_duration

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


def check_out(out_dir: Path) -> None:
    """Refuse an ``--out`` folder up front, before any simulation: a symbolic-link loop, a
    file, a folder lambdasim did not write or one holding files it did not write (see
    :func:`lambdasim.results.folder.check_out_dir`)."""
    from lambdasim.results.folder import check_out_dir

    with writing_to(out_dir):
        check_out_dir(out_dir)


def report_checks(args: argparse.Namespace, checks) -> int:
    """Print the ``expect:`` checks of a run; the exit code (1 when any failed)."""
    if checks:
        from lambdasim.results.expect import format_checks

        failed = [c for c in checks if not c.passed]
        # stdout carries only the summary JSON with --json, so every check goes to stderr;
        # --quiet shows failures only, on stderr.
        if args.json:
            sys.stderr.write(format_checks(checks))
        elif args.quiet:
            if failed:
                sys.stderr.write(format_checks(checks, failed_only=True))
        else:
            sys.stdout.write(format_checks(checks))
        if failed:
            return EXIT_EXPECT_FAILED
    return EXIT_OK


def expectations(scenario, summary) -> list:
    """The scenario's ``expect:`` checks evaluated on a summary (with replications: on the CI
    bounds); a key the summary lacks is bad input."""
    from lambdasim.results.expect import ExpectationError, evaluate

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


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
