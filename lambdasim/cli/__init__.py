"""The command-line layer: one module per command, the only place that knows argv, stdout and exit codes.

``python -m lambdasim`` and the ``lambdasim`` script call :func:`main`. Commands:
:mod:`~lambdasim.cli.run`, :mod:`~lambdasim.cli.validate`, :mod:`~lambdasim.cli.schema`,
:mod:`~lambdasim.cli.tune`, :mod:`~lambdasim.cli.fit`, :mod:`~lambdasim.cli.import_sam`,
:mod:`~lambdasim.cli.sweep`; their shared helpers are in :mod:`~lambdasim.cli.common` and the
parser in :mod:`~lambdasim.cli.main`.

Import rule: the command line may import every other layer; nothing imports it except
``lambdasim.__main__`` (and the ``lambdasim`` script).
"""
from lambdasim.cli.common import (EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INTERNAL,
                                  EXIT_INTERRUPTED, EXIT_OK, PROG, InputError)
from lambdasim.cli.main import COMMAND_MODULES, build_parser, main

__all__ = ["main", "build_parser", "COMMAND_MODULES", "InputError", "PROG", "EXIT_OK",
           "EXIT_EXPECT_FAILED", "EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPTED"]
