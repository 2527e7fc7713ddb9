"""Import an AWS SAM or CloudFormation template: ``lambdasim import-sam TEMPLATE [--out FILE]``.

The command line of :mod:`lambdasim.aws.sam`: it checks the paths, imports the template, and
prints the scenario or writes it atomically with a short account of what was mapped.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lambdasim.aws.cfn import TemplateError
from lambdasim.aws.sam import TODO, import_template
from lambdasim.cli.common import InputError, write_text_atomic
from lambdasim.scenario.units import SpecError, parse_rate

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``lambdasim import-sam``."""
    parser.add_argument("template", metavar="TEMPLATE", help="AWS SAM or CloudFormation template (YAML or JSON)")
    parser.add_argument("--out", metavar="SCENARIO", help="write the scenario to this file (default: print it)")
    parser.add_argument("--rate", metavar="RATE",
                        help="fill every unknown arrival rate with RATE (e.g. 1/s), still marked TODO")


def run(args: argparse.Namespace) -> int:
    """``lambdasim import-sam``: read the template, write or print the scenario skeleton."""
    path = Path(args.template)
    if not path.exists():
        raise InputError(f"{args.template}: no such file")
    if path.is_dir():
        raise InputError(f"{args.template}: is a folder, expected a template file")
    if args.rate is not None:
        try:
            parse_rate(args.rate, "--rate")
        except SpecError as exc:
            raise InputError(str(exc)) from None
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.exists() and out.resolve() == path.resolve():
        raise InputError(f"--out {args.out}: is the template itself; choose another file")
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        raise InputError(f"--out {args.out}: " + ("is a folder" if out.is_dir() else f"folder {out.parent} does not exist"))
    try:
        text, report = import_template(path, args.rate)
    except TemplateError as exc:
        raise InputError(str(exc), "expected an AWS SAM or CloudFormation template with Resources") from None
    except OSError as exc:
        raise InputError(f"{args.template}: cannot read: {exc.strerror or exc}") from None
    if out is None:
        print(text, end="")
        return 0
    write_text_atomic(out, text)
    print(f"wrote {out}: {len(report['functions'])} functions, {report['triggers']} triggers")
    if report["todo"]:
        print(f"  {report['todo']} arrival rates are marked {TODO}; set them before running")
    for item in report["not_modelled"]:
        print(f"  not modelled: {item}")
    for item in report["unsupported_events"]:
        print(f"  event source not modelled: {item}")
    for note in report["notes"]:
        print(f"  note: {note}", file=sys.stderr)
    return 0
