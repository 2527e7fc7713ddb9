"""The syntax of capacity expectations: the ``expect:`` block of a scenario.

A scenario's ``expect:`` block is a list of checks, each ``PATH OP NUMBER``::

    expect:
      - checkout.latency_ms.p99 < 800
      - checkout.throttle_rate <= 0.001
      - account.concurrency.max < 900

``PATH`` is a dotted path into the summary (summary.json). It starts with a function's name
(``checkout.latency_ms.p99`` is ``functions.checkout.latency_ms.p99``; a function's name comes
first, so a function named ``account`` is meant by ``account.``), with ``account.`` for the
account block, or with ``functions.NAME.``. ``OP`` is one of ``<``, ``<=``, ``>``, ``>=``,
``==``, ``!=``; ``NUMBER`` a plain decimal number (``800``, ``0.001``, ``1e-3``) in the key's own
unit (``latency_ms`` in milliseconds, rates as fractions).

The parser is a regular expression and a float conversion: nothing from the file is evaluated.
Syntax and the leading function name are checked when the scenario loads (a
:class:`~lambdasim.scenario.units.SpecError` on ``expect.N``, which the loader turns into
``file:line: expect.N: message``). Checking a parsed expectation against a run's summary is
:mod:`lambdasim.results.expect`.
"""
from __future__ import annotations

import difflib
import math
import operator
import re
from typing import Any, Callable, Iterable, Sequence

from lambdasim.scenario.units import SpecError

__all__ = ["Expectation", "ExpectationError", "parse_expectation", "check_targets", "OPERATORS"]

#: Comparison operators: symbol -> function.
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
_OPERATOR = re.compile(r"<=|>=|==|!=|<|>|=")
_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EXAMPLE = "for example 'checkout.latency_ms.p99 < 800'"


class ExpectationError(Exception):
    """A check names a key that the summary does not have (or that is not a number)."""


class Expectation:
    """One parsed check: ``path`` (as written, split at dots), ``op`` and ``threshold``."""

    __slots__ = ("text", "path", "op", "threshold")

    def __init__(self, text: str, path: tuple[str, ...], op: str, threshold: float) -> None:
        self.text = text
        self.path = path
        self.op = op
        self.threshold = threshold

    def target(self, functions: Iterable[str]) -> tuple[str, ...]:
        """The full path into the summary, given the functions' names."""
        names = set(functions)
        head = self.path[0]
        if head in names:
            return ("functions",) + self.path
        # dependencies.NAME... checks a shared dependency (lambdasim.engine.dependencies).
        if head == "account" or (head in ("functions", "dependencies") and len(self.path) > 1
                                 and (head == "dependencies" or self.path[1] in names)):
            return self.path
        raise ExpectationError(_unknown_head(self, names))

    def __repr__(self) -> str:
        return f"Expectation({self.text!r})"


def parse_expectation(text: Any, key: str = "expect") -> Expectation:
    """Parse ``PATH OP NUMBER``.

    Raises
    ------
    lambdasim.scenario.units.SpecError
        Naming ``key`` and what is wrong.
    """
    if not isinstance(text, str):
        raise SpecError(f"expected a check 'PATH OP NUMBER' ({_EXAMPLE}), got {text!r}", key)
    operators = list(_OPERATOR.finditer(text))
    if not operators:
        raise SpecError(f"no comparison in {text!r}: expected 'PATH OP NUMBER' with OP one of "
                        f"{', '.join(OPERATORS)} ({_EXAMPLE})", key)
    if len(operators) > 1:
        raise SpecError(f"one comparison per check, got {text!r} ({_EXAMPLE})", key)
    found = operators[0]
    op = found.group()
    if op == "=":
        raise SpecError(f"'=' in {text!r}: use '==' to compare equal", key)
    left, right = text[:found.start()].strip(), text[found.end():].strip()
    if not _PATH.fullmatch(left):
        shown = repr(left) if left else "nothing"
        raise SpecError(f"expected a dotted summary key before {op!r} (such as "
                        f"checkout.latency_ms.p99), got {shown} in {text!r}", key)
    if not _NUMBER.fullmatch(right):
        shown = repr(right) if right else "nothing"
        raise SpecError(f"expected a number after {op!r}, got {shown} in {text!r} (numbers "
                        f"are in the key's unit: latency_ms in milliseconds, rates as "
                        f"fractions)", key)
    threshold = float(right)
    if not math.isfinite(threshold):  # pragma: no cover - the pattern admits finite numbers
        raise SpecError(f"expected a finite number, got {right!r}", key)
    return Expectation(text.strip(), tuple(left.split(".")), op, threshold)


def check_targets(checks: Sequence[str], functions: Iterable[str], key: str = "expect") -> None:
    """Check that every check starts with a function's name, ``account`` or ``functions.NAME``.

    Raises
    ------
    lambdasim.scenario.units.SpecError
        On ``expect.N`` for the first check that names no function.
    """
    names = list(functions)
    for index, text in enumerate(checks):
        try:
            parse_expectation(text, f"{key}.{index}").target(names)
        except ExpectationError as exc:
            raise SpecError(str(exc), f"{key}.{index}") from None


def _unknown_head(check: Expectation, names: set[str]) -> str:
    head = check.path[0]
    if head == "functions":
        wanted = check.path[1] if len(check.path) > 1 else ""
        head = wanted
    close = difflib.get_close_matches(head, sorted(names) + ["account"], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(sorted(names)) or "none"
    return (f"{check.text!r} names no function {head!r} (functions: {listed}; or account., "
            f"dependencies.)"
            f"{hint}")
