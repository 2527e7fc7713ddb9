"""Errors shared by every layer that reads user input outside a scenario file.

:class:`InputError` is bad input found by a tool (a log file to fit, a template to import, a
command-line option): the command line prints it as one ``lambdasim: error:`` line, with an
optional hint line, and exits 2. Scenario files have their own
:class:`lambdasim.scenario.ScenarioError`, which names the file, the line and the dotted key.
This module imports nothing, so any layer may raise it.
"""
from __future__ import annotations

__all__ = ["InputError"]


class InputError(Exception):
    """Bad input found by a tool or the command line; ``hint`` is an optional second line."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
