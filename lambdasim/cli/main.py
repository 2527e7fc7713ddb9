"""The ``lambdasim`` command line: the parser, the subcommands and the exit codes.

::

    python -m lambdasim SCENARIO [--seed N] [--out DIR] [--set KEY=VALUE]... [--period DURATION]
                                 [--records] [--json | --quiet]
    python -m lambdasim run SCENARIO ...        # the same, spelled out
    python -m lambdasim validate SCENARIO...    # check files only
    python -m lambdasim schema                  # JSON Schema of the scenario format
    python -m lambdasim --version

Exit codes: 0 success; 1 an ``expect:`` check failed; 2 bad input (scenario errors, a bad
``--set`` or ``--period``, a missing file, usage errors); 3 an internal error (a bug: the
traceback is printed); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM, handled like Ctrl-C:
a message, nothing half-written). Bad input gives one ``lambdasim: error: ...`` line on
stderr (at most one hint line more), no traceback, and writes nothing: the results folder is
written only after the run has finished, and atomically (see :mod:`lambdasim.results.folder`).

``--seed`` and ``--period`` are applied as overrides of the scenario's ``seed`` and
``period``, after any ``--set``, so the resolved config in ``summary.json`` always describes
the run that produced it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import traceback
from typing import Sequence

from lambdasim.cli.common import (EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, PROG, InputError,
                                  _fail, _Parser, _version)

__all__ = ["main", "build_parser", "COMMAND_MODULES"]


#: Subcommands, each in its own module: command -> (module, help line). Each module has
#: ``add_arguments(parser)`` and ``run(args) -> int``, raises :class:`InputError` for bad input
#: and imports anything heavy inside ``run``, so ``lambdasim --help`` stays fast.
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "init": ("lambdasim.cli.init", "write a commented, runnable scenario to start from"),
    "run": ("lambdasim.cli.run", "run a scenario and write its results folder"),
    "validate": ("lambdasim.cli.validate", "check scenario files without running them"),
    "schema": ("lambdasim.cli.schema", "print the JSON Schema of the scenario format"),
    "tune": ("lambdasim.cli.tune", "find the best memory size and architecture of a function"),
    "fit": ("lambdasim.cli.fit", "fit duration and init distributions to CloudWatch REPORT logs"),
    "import-sam": ("lambdasim.cli.import_sam", "write a scenario skeleton from a SAM or CloudFormation template"),
    "sweep": ("lambdasim.cli.sweep", "run a grid of settings with replications and CIs"),
    "plan": ("lambdasim.cli.plan", "find the cheapest settings of a function that keep its SLOs"),
}

#: Examples shown at the end of each subcommand's --help (a module may set its own epilog).
EXAMPLES: dict[str, str] = {
    "run": """\
  python -m lambdasim scenarios/peak.yaml                  # the table, findings, results/peak/
  python -m lambdasim run scenarios/peak.yaml --seed 7 --out results/peak-7
  python -m lambdasim scenarios/peak.yaml --set functions.checkout.memory_mb=2048
  python -m lambdasim scenarios/peak.yaml --set triggers.api.arrivals.rate=500/s
  python -m lambdasim scenarios/peak.yaml --replications 10   # mean [95 % CI] of every row
  python -m lambdasim scenarios/peak.yaml --json > summary.json   # checks go to stderr""",
    "validate": """\
  python -m lambdasim validate scenarios/*.yaml
  python -m lambdasim validate mine.yaml --set functions.api.memory_mb=4096""",
    "schema": """\
  python -m lambdasim schema > lambdasim-schema.json
  # then, first line of a scenario: # yaml-language-server: $schema=lambdasim-schema.json""",
    "tune": """\
  python -m lambdasim tune scenarios/power_tuning.yaml --function image-resize
  python -m lambdasim tune scenarios/power_tuning.yaml --function image-resize \\
      --strategy balanced --replications 5
  python -m lambdasim tune scenarios/power_tuning.yaml --function profile-api \\
      --arch x86_64,arm64 --max-p99 500ms""",
    "fit": """\
  python -m lambdasim fit scenarios/logs/checkout-report.log --function checkout
  python -m lambdasim fit export.log.gz --function api --out fitted.yaml --trace arrivals.txt""",
    "import-sam": """\
  python -m lambdasim import-sam scenarios/templates/orders-sam.yaml
  python -m lambdasim import-sam template.yaml --rate 10/s --out mine.yaml""",
    "plan": """\
  python -m lambdasim plan scenarios/peak.yaml --function checkout \\
      --vary functions.checkout.memory_mb=1024,1536,2048 \\
      --slo 'checkout.latency_ms.p99 < 1500' --slo 'checkout.request_throttle_rate <= 0.01'
  python -m lambdasim plan scenarios/peak.yaml --function checkout --objective p99 \\
      --vary functions.checkout.reserved_concurrency=300,400 --budget 12""",
    "sweep": """\
  python -m lambdasim sweep scenarios/peak.yaml --set functions.checkout.memory_mb=1024,2048
  python -m lambdasim sweep scenarios/peak.yaml --set functions.checkout.memory_mb=1024,1536 \\
      --compare --replications 20
  python -m lambdasim sweep --compare a.yaml b.yaml --dask local""",
}

#: Commands whose parser takes its description from the module docstring (the others only
#: have the help line, as before).
_DESCRIBED = ("tune", "fit", "import-sam", "sweep", "plan")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with its subcommands (see :data:`COMMAND_MODULES`).

    With ``only``, that subcommand gets its arguments and the others only their help line:
    a command imports its own module, not every command's.
    """
    parser = _Parser(
        prog=PROG,
        description="Simulate AWS Lambda scaling, cold starts, throttles and cost.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="A bare 'lambdasim SCENARIO ...' means 'lambdasim run SCENARIO ...'.\n\n"
               "examples:\n"
               "  python -m lambdasim init mine              # write mine.yaml to start from\n"
               "  python -m lambdasim mine.yaml              # run it\n"
               "  python -m lambdasim COMMAND --help         # each command's options and "
               "examples",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, (module_name, help_text) in COMMAND_MODULES.items():
        if only is not None and command != only:
            sub.add_parser(command, help=help_text)
            continue
        module = importlib.import_module(module_name)
        extra = ({"description": (module.__doc__ or "").split("\n\n")[0]}
                 if command in _DESCRIBED else {})
        command_parser = sub.add_parser(command, help=help_text, **extra)
        if command in EXAMPLES:
            command_parser.formatter_class = argparse.RawDescriptionHelpFormatter
            command_parser.epilog = "examples:\n" + EXAMPLES[command]
        module.add_arguments(command_parser)
        command_parser.set_defaults(handler=module.run)
    return parser


#: Exit code after SIGTERM (128 + 15, as a shell reports a process killed by it).
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds exactly like Ctrl-C: the
    atomic writers remove their temporary folders and an earlier result stays intact."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Handle SIGTERM like Ctrl-C while a command runs (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: BLAS thread-count variables set to 1 for a command-line run unless the user set them.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _single_threaded_blas() -> None:
    """Keep NumPy's BLAS to one thread, unless the user chose otherwise.

    lambdasim does no large linear algebra, and parallel runs (``--workers``) are one process
    per core. A multi-threaded OpenBLAS starts a thread per core when NumPy is imported, and
    those threads spin: about 0.1 s of CPU per process for nothing. The variables are read
    when NumPy loads its BLAS, so this only acts before NumPy is imported; worker processes
    inherit them.
    """
    if "numpy" in sys.modules:
        return
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments without the program name (default: ``sys.argv[1:]``).
    """
    _single_threaded_blas()
    args_list = list(sys.argv[1:] if argv is None else argv)
    # 'lambdasim SCENARIO ...' is 'lambdasim run SCENARIO ...'.
    if args_list and args_list[0] not in set(COMMAND_MODULES) | {"-h", "--help", "--version"}:
        args_list.insert(0, "run")
    parser = build_parser(args_list[0] if args_list and args_list[0] in COMMAND_MODULES
                          else None)
    try:
        with _sigterm_as_interrupt():
            args = parser.parse_args(args_list)  # usage errors exit 2 through SystemExit
            if args.command is None:
                return _fail("a scenario file or a command is required",
                             f"usage: {PROG} SCENARIO [options]; see '{PROG} --help'")
            return args.handler(args)
    except Terminated:
        print(f"{PROG}: terminated; nothing written", file=sys.stderr)
        return EXIT_TERMINATED
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
