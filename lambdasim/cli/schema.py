"""Print the JSON Schema of the scenario format, for editors: ``lambdasim schema``."""
from __future__ import annotations

import argparse
import json

from lambdasim.cli.common import EXIT_OK

__all__ = ["add_arguments", "run"]


def add_arguments(schema: argparse.ArgumentParser) -> None:
    """The ``schema`` subcommand takes no options."""


def run(args: argparse.Namespace) -> int:
    """``lambdasim schema``: print the JSON Schema on stdout."""
    from lambdasim.scenario import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK
