"""Capacity expectations checked on a run: the checks that fail a CI build when capacity breaks.

The syntax of a check (``PATH OP NUMBER``) and its parser live with the scenario format
(:mod:`lambdasim.scenario.expectations`). Whether a path exists can only be known from a
summary: a path that is missing, or that names a block rather than a number, raises
:class:`ExpectationError` when checked (the command line exits 2, like any bad input).

With replications (a summary that holds ``replications: {n, figures: {dotted.key: {mean, sd,
ci95: [lo, hi]}}}``) a check is made against the 95 % confidence interval rather than the
mean: the upper bound for ``<`` and ``<=``, the lower bound for ``>`` and ``>=`` (the
expectation must hold for every value the interval allows), the mean for ``==`` and ``!=``.
A key with no value (``null``: a percentile of no requests) fails its check.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable, Mapping, Sequence

from lambdasim.scenario.expectations import (OPERATORS, Expectation, ExpectationError,
                                             check_targets, parse_expectation)

__all__ = ["Expectation", "CheckResult", "ExpectationError", "parse_expectation",
           "check_targets", "evaluate", "evaluate_result", "format_checks", "OPERATORS"]

class CheckResult:
    """The outcome of one check.

    Attributes
    ----------
    expectation : Expectation
    key : str
        The full dotted key checked (``functions.checkout.latency_ms.p99``).
    actual : float or None
        The value compared: the summary's value, or with replications the CI bound (or mean).
    mean : float or None
        With replications, the mean over replications; else equal to ``actual``.
    basis : str
        ``"value"``, ``"ci95 upper"``, ``"ci95 lower"`` or ``"mean"``.
    replications : int or None
    passed : bool
    """

    __slots__ = ("expectation", "key", "actual", "mean", "basis", "replications", "passed")

    def __init__(self, expectation, key, actual, mean, basis, replications, passed) -> None:
        self.expectation = expectation
        self.key = key
        self.actual = actual
        self.mean = mean
        self.basis = basis
        self.replications = replications
        self.passed = passed

    def describe_actual(self) -> str:
        """``actual 612.3`` or ``95 % CI upper bound 640.1 (mean 612.3, 10 replications)``."""
        if self.actual is None:
            return "no value (null in the summary)"
        if self.basis == "value":
            return f"actual {_number(self.actual)}"
        if self.basis == "mean":
            return f"mean {_number(self.actual)} over {self.replications} replications"
        bound = self.basis.split()[1]
        return (f"95 % CI {bound} bound {_number(self.actual)} (mean {_number(self.mean)}, "
                f"{self.replications} replications)")

    def line(self) -> str:
        """One line for a terminal or a log: ``PASS  check  (actual ...)``."""
        return (f"{'PASS' if self.passed else 'FAIL'}  {self.expectation.text}  "
                f"({self.describe_actual()})")

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.expectation.text, "key": self.key, "actual": self.actual,
                "mean": self.mean, "basis": self.basis, "replications": self.replications,
                "passed": self.passed}

    def __repr__(self) -> str:
        return f"CheckResult({self.line()!r})"


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value)}"
    return f"{value:.6g}"


def evaluate(checks: Iterable[str | Expectation], summary: Mapping[str, Any]) -> list[CheckResult]:
    """Check expectations against a summary dict.

    Parameters
    ----------
    checks : iterable of str or Expectation
    summary : mapping
        A summary (``result.summary`` or summary.json loaded), possibly with a
        ``replications`` block.

    Raises
    ------
    lambdasim.scenario.units.SpecError
        For a check that does not parse.
    ExpectationError
        For a check whose key the summary does not have, or that names a block.
    """
    functions = list((summary.get("functions") or {}))
    replications = summary.get("replications")
    figures = replications.get("figures") if isinstance(replications, Mapping) else None
    results = []
    for index, check in enumerate(checks):
        if not isinstance(check, Expectation):
            check = parse_expectation(check, f"expect.{index}")
        target = check.target(functions)
        key = ".".join(target)
        compare = OPERATORS[check.op]
        figure = None
        if isinstance(figures, Mapping):
            figure = figures.get(key, figures.get(".".join(check.path)))
        if figure is not None:
            mean = _as_number(figure.get("mean"), check, key)
            interval = figure.get("ci95")
            if not (isinstance(interval, (list, tuple)) and len(interval) == 2):
                raise ExpectationError(f"{check.text!r}: the replication figures of {key!r} "
                                       f"have no ci95 interval [low, high]")
            if check.op in ("<", "<="):
                actual, basis = _as_number(interval[1], check, key), "ci95 upper"
            elif check.op in (">", ">="):
                actual, basis = _as_number(interval[0], check, key), "ci95 lower"
            else:
                actual, basis = mean, "mean"
            count = replications.get("n")
        else:
            actual = _as_number(_lookup(summary, target, check), check, key)
            mean, basis, count = actual, "value", None
        passed = actual is not None and bool(compare(actual, check.threshold))
        results.append(CheckResult(check, key, actual, mean, basis, count, passed))
    return results


def evaluate_result(result: Any, checks: Iterable[str] | None = None) -> list[CheckResult]:
    """Check a run's expectations: ``checks``, or by default its scenario's ``expect:`` block."""
    summary = result if isinstance(result, Mapping) else result.summary
    if checks is None:
        checks = (summary.get("config") or {}).get("expect") or []
    return evaluate(checks, summary)


def _lookup(summary: Mapping[str, Any], target: tuple[str, ...], check: Expectation) -> Any:
    node: Any = summary
    for depth, part in enumerate(target):
        if not isinstance(node, Mapping):
            raise ExpectationError(f"{check.text!r}: {'.'.join(target[:depth])!r} is a "
                                   f"value, it has no key {part!r}")
        if part not in node:
            where = ".".join(target[:depth]) or "the summary"
            close = difflib.get_close_matches(part, list(node), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ExpectationError(
                f"{check.text!r}: the summary has no key {'.'.join(target[:depth + 1])!r}"
                f"{hint} ({where} has: {', '.join(node) or 'no keys'})")
        node = node[part]
    if isinstance(node, Mapping):
        raise ExpectationError(f"{check.text!r}: {'.'.join(target)!r} is a block, not a "
                               f"number; name one of its keys: {', '.join(node)}")
    return node


def _as_number(value: Any, check: Expectation, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpectationError(f"{check.text!r}: {key!r} is {value!r}, not a number")
    return float(value) if isinstance(value, float) else value


def format_checks(results: Sequence[CheckResult], failed_only: bool = False) -> str:
    """The checks, one line each (only the failed ones with ``failed_only``), and a count;
    ends in a newline."""
    failed = sum(not r.passed for r in results)
    lines = [f"expect: {r.line()}" for r in results if not (failed_only and r.passed)]
    lines.append(f"expect: {len(results) - failed} of {len(results)} checks passed"
                 + (f", {failed} failed" if failed else ""))
    return "\n".join(lines) + "\n"
