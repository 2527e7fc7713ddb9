"""Check scenario files without running them: ``lambdasim validate SCENARIO...``."""
from __future__ import annotations

import argparse
import sys

from lambdasim.cli.common import (EXIT_BAD_INPUT, EXIT_OK, PROG, InputError, _add_set_option,
                                  _fail, _load, add_limit_arguments, check_work)
from lambdasim.results.humanize import plural

__all__ = ["add_arguments", "run"]


def add_arguments(validate: argparse.ArgumentParser) -> None:
    """The ``validate`` subcommand's options."""
    validate.add_argument("scenarios", metavar="SCENARIO", nargs="+", help="scenario YAML files")
    _add_set_option(validate)
    add_limit_arguments(validate)


def run(args: argparse.Namespace) -> int:
    """``lambdasim validate``: one ``ok:`` line or one error per file; exit 2 if any is bad.

    A valid file may get one-line warnings on stderr (:meth:`Scenario.warnings`, e.g. a
    ``reference_mb`` left implicit beside ``memory_scaling``); they do not change the exit code.
    """
    bad = 0
    for path_text in args.scenarios:
        try:
            scenario = _load(path_text, list(args.overrides))
            check_work(scenario, args)  # what validates also runs: absurd work is bad input
        except InputError as exc:
            _fail(str(exc), exc.hint)
            bad += 1
            continue
        functions = scenario.config.get("functions") or {}
        triggers = sum(len(f.get("triggers") or ()) for f in functions.values())
        print(f"ok: {path_text} ({plural(len(functions), 'function')}, "
              f"{plural(triggers, 'trigger')})")
        for warning in scenario.warnings():
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else EXIT_OK
