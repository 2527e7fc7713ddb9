"""Fit a function's timings from its CloudWatch REPORT logs: ``lambdasim fit LOGFILE...``.

The command line of :mod:`lambdasim.aws.fit`: it reads the log files named, prints the fit
report and the scenario fragment, and writes ``--out`` and ``--trace`` atomically.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from lambdasim.aws.fit import LogReader, analyse, architecture_factor, fragment
from lambdasim.cli.common import InputError, write_text_atomic
from lambdasim.results import humanize as hz
from lambdasim.scenario import FUNCTION_NAME_PATTERN

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``lambdasim fit``."""
    parser.add_argument("logfiles", metavar="LOGFILE", nargs="+",
                        help="CloudWatch Logs exports or text with REPORT lines (.gz allowed)")
    parser.add_argument("--function", metavar="NAME",
                        help="write the fragment under functions.NAME (default: bare keys)")
    parser.add_argument("--out", metavar="FILE", help="write the scenario fragment to FILE")
    parser.add_argument("--trace", metavar="FILE",
                        help="also write the invocation start times as a trace arrival file")
    parser.add_argument("--arch", choices=("x86_64", "arm64"), default=None,
                        help="the architecture the LOGFILEs come from (written to the fragment)")
    parser.add_argument("--other-arch", metavar="LOGFILE", nargs="+", default=None,
                        help="REPORT logs of the same function on the other architecture: "
                             "derives arm64_duration_factor (needs --arch)")


def _check_out(path_text: str | None, option: str) -> Path | None:
    if path_text is None:
        return None
    path = Path(path_text)
    if path.is_dir():
        raise InputError(f"{option} {path_text}: is a folder, expected a file name")
    if not path.parent.is_dir():
        raise InputError(f"{option} {path_text}: folder {path.parent} does not exist")
    return path


def run(args: argparse.Namespace) -> int:
    """``lambdasim fit``: read, fit, print the report and fragment, write --out/--trace."""

    if args.function is not None and not re.fullmatch(FUNCTION_NAME_PATTERN, args.function):
        raise InputError(f"--function {args.function!r}: use 1-64 letters, digits, hyphens or underscores")
    out, trace = _check_out(args.out, "--out"), _check_out(args.trace, "--trace")
    reader = LogReader()
    for name in args.logfiles:
        path = Path(name)
        if not path.exists():
            raise InputError(f"{name}: no such file")
        if path.is_dir():
            raise InputError(f"{name}: is a folder, expected a log file")
        try:
            found = reader.read_file(path)
        except (ValueError, OSError, EOFError) as exc:
            line = getattr(exc, "line", None)  # InputLimitError knows where
            raise InputError(f"{name}{f':{line}' if line else ''}: {exc}") from None
        if found == 0:
            raise InputError(
                f"{name}: no REPORT lines found ({reader.lines:,} lines read so far)",
                "expected CloudWatch Logs of a Lambda function: lines like 'REPORT RequestId: ... "
                "Duration: 12.3 ms ...' or JSON platform.report records")
    reader.finish()
    if args.other_arch and args.arch is None:
        raise InputError("--other-arch: say which architecture the LOGFILEs come from with --arch",
                         "for example --arch x86_64 --other-arch arm64-export.log")
    try:
        # Durations as the run table writes them (thousands separators, s beyond 10 s).
        analysis = analyse(reader, args.logfiles, ms_text=hz.duration_ms)
    except ValueError as exc:
        raise InputError(f"{', '.join(args.logfiles)}: {exc}") from None
    if args.arch is not None and not args.other_arch:
        analysis.body["architecture"] = args.arch
        analysis.body["reference_architecture"] = args.arch
    if args.other_arch:
        other = LogReader()
        for name in args.other_arch:
            path = Path(name)
            if not path.is_file():
                raise InputError(f"--other-arch {name}: no such file")
            try:
                found = other.read_file(path)
            except (ValueError, OSError, EOFError) as exc:
                raise InputError(f"--other-arch {name}: {exc}") from None
            if found == 0:
                raise InputError(f"--other-arch {name}: no REPORT lines found")
        other.finish()
        try:
            architecture_factor(analysis, other, args.arch, args.other_arch)
        except ValueError as exc:
            raise InputError(f"--other-arch {', '.join(args.other_arch)}: {exc}") from None
    if trace is not None and not analysis.starts:
        raise InputError("--trace: the logs carry no timestamps (export them with their times, "
                         "e.g. aws logs filter-log-events or an S3 export)")
    text = fragment(analysis, args.function)
    if out is not None:
        write_text_atomic(out, text)
    if trace is not None:
        stamps = [s.isoformat(timespec="milliseconds").replace("+00:00", "Z") for s in analysis.starts]
        write_text_atomic(trace, f"# invocation start times from {len(args.logfiles)} log file(s), "
                                 "lambdasim fit\n" + "\n".join(stamps) + "\n")
    print(text, end="")
    if out is not None:
        print(f"# written: {out}")
    if trace is not None:
        print(f"# trace written: {trace} (use it as arrivals: {{process: trace, file: {trace.name}}})")
    return 0
