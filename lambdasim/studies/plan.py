"""Capacity planning: the cheapest settings of a function that keep its SLOs.

``python -m lambdasim plan SCENARIO --function F --vary KEY=V1,V2 [--vary ...] --slo EXPR
[--slo ...] [--objective cost|p99] [--budget USD] [--replications N]`` asks the question a
capacity planner brings: *which memory / architecture / reserved / provisioned setting is the
cheapest one that keeps p99 under 500 ms and throttles under 0.1 %?*

How it answers:

1. The grid is the cartesian product of the ``--vary`` settings (any dotted keys), run as a
   sweep (:class:`lambdasim.studies.sweep.SweepPlan`): every point runs replications
   ``0..N-1`` of one seed root, so all points see the same arrivals and the same handler
   draws (common random numbers), on the same executors as ``sweep`` (in process, a local
   process pool or Dask).
2. Each SLO is an ``expect:`` check (:mod:`lambdasim.results.expect`), evaluated on the
   point's replication statistics: a ``<`` or ``<=`` SLO must hold at the upper bound of the
   95 % confidence interval, a ``>`` or ``>=`` one at the lower bound, so a setting passes
   only when the SLO holds for every value the interval allows. With one replication the
   value itself is compared (and the table says so).
3. Among the settings that pass every SLO, ``--objective cost`` picks the lowest mean cost of
   the function (``functions.F.cost_usd.total``, over the simulated window; exact ties go to
   the lower p99), ``--objective p99`` the lowest mean p99 latency among those whose mean cost
   is within ``--budget`` (ties to the cheaper).

The answer is a ranked table (passing settings first, in objective order, then the others,
each with the SLOs it broke and by how much), ``plan.json`` (every point's settings, cost,
p99 and check results) and ``plan.png`` (cost against the first SLO's figure, passing and
failing points, the SLO threshold and the choice).
"""
from __future__ import annotations

import math
from concurrent.futures import Executor
from typing import Any, Iterable, Mapping, Sequence

from lambdasim.results import humanize as hz
from lambdasim.results.expect import CheckResult, evaluate, parse_expectation
from lambdasim.results.table import figure_row
from lambdasim.studies.sweep import LEVEL, SweepPlan, SweepResult

__all__ = ["plan", "evaluate_grid", "PlanResult", "PlanPoint", "OBJECTIVES", "figure_text",
           "figure_kind"]

OBJECTIVES = ("cost", "p99")


class PlanPoint:
    """One setting of the grid and its verdict.

    Attributes
    ----------
    settings : dict
        Dotted key -> value.
    cost_usd, p99_ms : dict
        ``{mean, ci95}`` of the function's total cost (USD over the simulated window) and of
        its p99 latency (ms, end to end per request).
    checks : list of CheckResult
        One per SLO, on the confidence bound (or the value with one replication).
    passed : bool
        Every SLO holds.
    within_budget : bool
        Mean cost within the budget (always true without one).
    rank : int
        1 for the best; passing settings rank before failing ones.
    """

    __slots__ = ("settings", "cost_usd", "p99_ms", "checks", "passed", "within_budget",
                 "rank")

    def __init__(self, settings, cost_usd, p99_ms, checks, budget_usd) -> None:
        self.settings = dict(settings)
        self.cost_usd = cost_usd
        self.p99_ms = p99_ms
        self.checks = list(checks)
        self.passed = all(c.passed for c in self.checks)
        cost = cost_usd.get("mean")
        self.within_budget = budget_usd is None or (cost is not None and cost <= budget_usd)
        self.rank = 0

    @property
    def broken(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def label(self) -> str:
        return ", ".join(f"{k.rsplit('.', 1)[-1]}={_label(v)}" for k, v in self.settings.items())

    def verdict(self, money_digits: int | None = None) -> str:
        """``meets every SLO``, or which SLO it broke and the figure compared, in the figure's
        unit (``95 % CI upper 2,062.9 ms``); ``money_digits``: the decimals of a USD figure
        (the table's precision; default: enough for it)."""
        if self.passed and not self.within_budget:
            return "meets every SLO but is over the budget"
        if self.passed:
            return "meets every SLO"
        return "; ".join(f"breaks {c.expectation.text} ({_compared(c, money_digits)})"
                         for c in self.broken)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "rank": self.rank, "passed": self.passed,
                "within_budget": self.within_budget, "cost_usd": self.cost_usd,
                "p99_ms": self.p99_ms, "checks": [c.as_dict() for c in self.checks],
                "broken": [c.expectation.text for c in self.broken],
                "verdict": self.verdict()}

    def __repr__(self) -> str:
        return f"PlanPoint({self.settings!r}, passed={self.passed}, rank={self.rank})"


def figure_kind(key: str) -> str:
    """How a summary figure is written (:class:`lambdasim.results.table.Row` kinds): the
    table's row for it, else by its key (``*_ms`` durations, ``*rate``/``*share``/
    ``utilization`` fractions, ``cost_usd`` money, ``*_s`` seconds)."""
    found = figure_row(key)
    if found is not None:
        return found[1].kind
    parts = key.split(".")
    if "cost_usd" in parts:
        return "usd"
    if any(part.endswith("_ms") for part in parts):
        return "ms"
    if any(part.endswith("_s") for part in parts):
        return "s"
    if parts[-1].endswith(("rate", "share")) or "utilization" in parts:
        return "percent"
    return "number"


def figure_text(key: str, value: float | None, money_digits: int | None = None) -> str:
    """A figure of dotted summary key ``key`` as the tables write it: a duration in the unit
    that fits (``2,062.9 ms``, ``12.5 s``), money in USD, a rate in %, a count with
    separators; ``-`` when missing."""
    kind = figure_kind(key)
    if hz.is_missing(value):
        return hz.NOT_APPLICABLE
    if kind == "ms":
        return hz.duration_ms(value)
    if kind == "s":
        return hz.duration_s(value)
    if kind == "percent":
        return hz.percent(value)
    if kind == "usd":
        digits = money_digits if money_digits is not None else 2 + hz.money_decimals([value])
        return hz.usd(value, digits)
    if kind == "count" and float(value).is_integer():
        return hz.count(value)
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _compared(check: CheckResult, money_digits: int | None = None) -> str:
    """The figure a check compared, in its unit: ``95 % CI upper 1,798.6 ms`` or ``value
    0.12 %``."""
    if check.actual is None:
        return "no value"
    shown = figure_text(check.key, check.actual, money_digits)
    if check.basis.startswith("ci95"):
        return f"95 % CI {check.basis.split()[1]} {shown}"
    return f"{check.basis} {shown}"


def _label(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class PlanResult:
    """The ranked grid and the choice (``chosen`` is None when no setting passes)."""

    def __init__(self, function: str, objective: str, budget_usd: float | None,
                 slos: Sequence[str], sweep: SweepResult, points: Sequence[PlanPoint]) -> None:
        self.function = function
        self.objective = objective
        self.budget_usd = budget_usd
        self.slos = list(slos)
        self.sweep = sweep
        self.points = list(points)
        ranked = sorted(range(len(self.points)), key=self._key)
        for rank, index in enumerate(ranked, 1):
            self.points[index].rank = rank
        self.ranked = [self.points[i] for i in ranked]
        best = self.ranked[0] if self.ranked else None
        self.chosen = best if best is not None and best.passed and best.within_budget else None

    def _key(self, index: int):
        point = self.points[index]
        cost = _or_inf(point.cost_usd.get("mean"))
        p99 = _or_inf(point.p99_ms.get("mean"))
        eligible = point.passed and point.within_budget
        primary = (cost, p99) if self.objective == "cost" else (p99, cost)
        # Passing settings first; failing ones by how many SLOs they broke, then objective.
        return (not eligible, len(point.broken), not point.within_budget, primary, index)

    @property
    def replications(self) -> int:
        return self.sweep.replications

    def to_dict(self) -> dict[str, Any]:
        """The content of ``plan.json``."""
        first = self.sweep.points[0].replications
        return {
            "lambdasim_version": first.summaries[0].get("lambdasim_version"),
            "scenario": first.config["name"],
            "seed": first.seed,
            "function": self.function,
            "objective": self.objective,
            "budget_usd": self.budget_usd,
            "replications": self.replications,
            "level": LEVEL,
            "basis": ("95 % confidence bound over replications" if self.replications > 1
                      else "single run (no confidence interval)"),
            "cost_basis": f"functions.{self.function}.cost_usd.total over the simulated window",
            "keys": self.sweep.keys,
            "slos": self.slos,
            "chosen": None if self.chosen is None else self.chosen.settings,
            "points": [p.to_dict() for p in self.ranked],
        }

    def __repr__(self) -> str:
        return (f"PlanResult(function={self.function!r}, points={len(self.points)}, "
                f"chosen={None if self.chosen is None else self.chosen.settings!r})")


def _or_inf(value: float | None) -> float:
    return math.inf if value is None or not math.isfinite(value) else float(value)


def _stats(figures: Mapping[str, Any], key: str) -> dict[str, Any]:
    figure = figures.get(key) or {}
    return {"mean": figure.get("mean"), "ci95": figure.get("ci95")}


def plan(base, function: str, settings: Mapping[str, Sequence[Any]] | Iterable[str],
         slos: Sequence[str], *, objective: str = "cost", budget_usd: float | None = None,
         replications: int = 5, executor: Executor | None = None, workers: int | None = None,
         progress: bool | None = False) -> PlanResult:
    """Run the grid of ``settings`` and pick the best setting of ``function`` that keeps ``slos``.

    Parameters
    ----------
    base : Scenario
        The loaded scenario (its seed is the seed root of every point).
    function : str
        The function being planned: its cost and p99 rank the settings.
    settings : mapping or iterable of str
        As :func:`lambdasim.studies.sweep.sweep` takes them (``"functions.api.memory_mb=512,1024"``).
    slos : sequence of str
        ``expect:`` checks (``"api.latency_ms.p99 < 500"``), each in the key's own unit.
    objective : {"cost", "p99"}
        Cheapest passing setting, or fastest passing setting within ``budget_usd``.
    budget_usd : float, optional
        Upper bound on the function's mean cost over the simulated window.
    replications : int
        Runs per setting (N >= 2 gives the confidence bounds the SLOs are judged on).
    executor, workers, progress
        As :func:`lambdasim.studies.sweep.sweep`.

    Returns
    -------
    PlanResult

    Raises
    ------
    ValueError
        An unknown objective or function, or no SLO.
    lambdasim.scenario.units.SpecError
        An SLO that does not parse.
    ScenarioError
        A setting names an unknown key or has a bad value (every point is resolved first).
    lambdasim.results.expect.ExpectationError
        An SLO names a figure the summary does not have.
    """
    return evaluate_grid(SweepPlan.from_settings(base, settings), function, slos,
                         objective=objective, budget_usd=budget_usd, replications=replications,
                         executor=executor, workers=workers, progress=progress)


def evaluate_grid(grid: SweepPlan, function: str, slos: Sequence[str], *,
                  objective: str = "cost", budget_usd: float | None = None,
                  replications: int = 5, executor: Executor | None = None,
                  workers: int | None = None, progress: bool | None = False) -> PlanResult:
    """:func:`plan` on an already resolved grid (the command line checks it before running)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    config = grid.scenarios[0].config
    if function not in config["functions"]:
        raise ValueError(f"no function {function!r}; functions: "
                         f"{', '.join(config['functions'])}")
    if not slos:
        raise ValueError("give at least one SLO, e.g. 'api.latency_ms.p99 < 500'")
    checks = [parse_expectation(text, f"--slo {index + 1}") for index, text in enumerate(slos)]
    sweep = grid.run(replications, metric=f"functions.{function}.cost_usd.total",
                     executor=executor, workers=workers, progress=progress)
    points = []
    for point in sweep.points:
        reps = point.replications
        summary = reps.summary if reps.n > 1 else reps.summaries[0]
        results = evaluate(checks, summary)
        points.append(PlanPoint(
            point.settings,
            _stats(reps.figures, f"functions.{function}.cost_usd.total"),
            _stats(reps.figures, f"functions.{function}.latency_ms.p99"),
            results, budget_usd))
    return PlanResult(function, objective, budget_usd, [c.text for c in checks], sweep, points)
