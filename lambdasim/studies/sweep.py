"""Many runs of one scenario: replications with confidence intervals, sweeps, comparisons.

One run is one sample. :func:`simulate_many` runs ``N`` independent replications of a
scenario and reports, for every numeric figure of the summary, the mean, the standard
deviation and a 95 % Student-t confidence interval. :func:`sweep` does that for every point
of a cartesian product of settings (``functions.api.memory_mb: [512, 1024, 2048]`` x
``functions.api.reserved_concurrency: [10, 20]``); :meth:`SweepResult.compare` gives the
paired difference of two points with its confidence interval.

Randomness. Replication ``i`` of every point uses the streams
``SeedSequence(seed, spawn_key=(i, crc32(stream name)))`` (:mod:`lambdasim.engine.rng`): replications
are independent, and the points of a sweep share their random numbers (common random
numbers), so replication ``i`` of 1024 MB and of 1536 MB see the same arrivals and the same
handler draws. Differences between points are then measured on paired runs, and the paired
confidence interval of a difference is much narrower than the unpaired (Welch) one.

Execution (:mod:`lambdasim.studies.executors`). Each replication is one task, ``(resolved config,
replication)``: plain data that any worker rebuilds the model from, returning the plain
summary dict. Tasks run in process (``workers=1``), on a local process pool (the default: one
worker per usable core), or on any ``concurrent.futures.Executor`` given, such as a Dask
cluster's (:func:`~lambdasim.studies.executors.dask_executor`). Results are put back in task order,
so the same sweep gives identical figures on one worker, a process pool and a Dask cluster.
"""
from __future__ import annotations

import itertools
import json
import os
import re
from concurrent.futures import Executor
from typing import Any, Iterable, Mapping, Sequence

from lambdasim.studies.executors import (ProgressBar, SchedulerUnreachable, dask_executor, execute,
                        run_replication, usable_cores)
from lambdasim.scenario import Scenario, ScenarioError, parse_set_option
from lambdasim.scenario.workload import check_scenario_workload

from lambdasim.studies.replications import (LEVEL, Comparison, Replications, _check_count,
                                            _default_metric, _scenario, _unknown_figure,
                                            figure_keys, figure_stats, flatten_figures,
                                            main_figures, simulate_many)

__all__ = [
    "simulate_many", "sweep", "Replications", "SweepPlan", "SweepPoint", "SweepResult",
    "Comparison",
    "run_replication", "figure_stats", "flatten_figures", "figure_keys", "parse_sweep_option",
    "dask_executor", "usable_cores", "ProgressBar", "SchedulerUnreachable", "LEVEL",
]


class SweepPoint:
    """One point of a sweep: its settings (dotted key -> value) and its replications."""

    __slots__ = ("settings", "replications")

    def __init__(self, settings: Mapping[str, Any], replications: Replications) -> None:
        self.settings = dict(settings)
        self.replications = replications

    @property
    def label(self) -> str:
        return ", ".join(f"{k.rsplit('.', 1)[-1]}={_label(v)}" for k, v in self.settings.items())

    def __repr__(self) -> str:
        return f"SweepPoint({self.settings!r}, n={self.replications.n})"


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class SweepResult:
    """Every point of a sweep; :attr:`table` has one row per point.

    Attributes
    ----------
    keys : list of str
        The swept dotted keys, in the order given (the first is the plot's x axis).
    points : list of SweepPoint
        The cartesian product of the settings, the last key varying fastest.
    metric : str
        The main figure (the plot's y axis).
    figures : list of str
        The figures in :attr:`table` (mean and interval bounds of each).
    """

    def __init__(self, keys: Sequence[str], points: Sequence[SweepPoint], metric: str | None = None
                 ) -> None:
        self.keys = list(keys)
        self.points = list(points)
        first = self.points[0].replications
        self.metric = metric or _default_metric(first.config)
        if self.metric not in first.figures:
            raise KeyError(_unknown_figure(self.metric, first.figures))
        self.figures = [self.metric] + [f for f in main_figures(first.config)
                                        if f != self.metric and f in first.figures]

    @property
    def replications(self) -> int:
        return self.points[0].replications.n

    @property
    def table(self) -> dict[str, list]:
        """Columns: the swept keys, ``replications``, then ``<figure>.mean``, ``.ci95_low``,
        ``.ci95_high`` for each of :attr:`figures` (the content of ``sweep.csv``)."""
        columns: dict[str, list] = {key: [p.settings[key] for p in self.points]
                                    for key in self.keys}
        columns["replications"] = [p.replications.n for p in self.points]
        for figure in self.figures:
            stats = [p.replications.figures.get(figure, {}) for p in self.points]
            columns[f"{figure}.mean"] = [s.get("mean") for s in stats]
            columns[f"{figure}.ci95_low"] = [(s.get("ci95") or (None, None))[0] for s in stats]
            columns[f"{figure}.ci95_high"] = [(s.get("ci95") or (None, None))[1] for s in stats]
        return columns

    def to_pandas(self):
        """:attr:`table` as a pandas DataFrame (requires pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame(self.table)

    def compare(self, a: int = 0, b: int = 1, figures: Sequence[str] | None = None
                ) -> list[Comparison]:
        """Paired differences ``point b - point a`` of ``figures`` (default :attr:`figures`)."""
        pa, pb = self.points[a], self.points[b]
        return [pa.replications.compare(pb.replications, f, (pa.label, pb.label))
                for f in (figures or self.figures)]

    def to_dict(self, comparisons: Sequence[Comparison] = ()) -> dict[str, Any]:
        """The content of ``sweep.json``."""
        first = self.points[0].replications
        out = {
            "lambdasim_version": first.summaries[0].get("lambdasim_version"),
            "scenario": first.config["name"],
            "seed": first.seed,
            "replications": self.replications,
            "level": LEVEL,
            "keys": self.keys,
            "metric": self.metric,
            "points": [{"settings": p.settings, "config_name": p.replications.config["name"],
                        "figures": p.replications.figures,
                        "values": {f: p.replications.values(f) for f in self.figures}}
                       for p in self.points],
        }
        if comparisons:
            out["comparison"] = [c.to_dict() for c in comparisons]
        return out

    def __repr__(self) -> str:
        return (f"SweepResult(keys={self.keys}, points={len(self.points)}, "
                f"replications={self.replications})")


def sweep(scenario: Scenario | str | os.PathLike | Mapping[str, Any],
          settings: Mapping[str, Sequence[Any]] | Iterable[str], replications: int = 10, *,
          seed: int | None = None, overrides: Any = None, metric: str | None = None,
          executor: Executor | None = None, workers: int | None = None,
          progress: bool | None = False, limits: Any = None) -> SweepResult:
    """Run every point of the cartesian product of ``settings``, each with ``replications``.

    ``limits`` (a :class:`lambdasim.scenario.workload.Limits`, default ``DEFAULT_LIMITS``)
    bounds the estimated work of one run of any point.

    Parameters
    ----------
    scenario : Scenario, path or dict
        The base scenario.
    settings : mapping, or iterable of str or of (key, values) pairs
        ``{"functions.api.memory_mb": [512, 1024, 2048], ...}``, or ``--set`` style strings
        ``"functions.api.memory_mb=512,1024,2048"`` (see :func:`parse_sweep_option`).
    replications : int
        Replications per point; every point uses the same seed root and replication indices
        (common random numbers).
    metric : str, optional
        The main figure (default ``functions.<first function>.latency_ms.p99``).
    seed, overrides, executor, workers, progress
        As in :func:`simulate_many`.

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        A setting names an unknown key, has a value of the wrong type, or has no values;
        every point is resolved (and its work estimated) before anything runs.
    """
    _check_count(replications)
    plan = SweepPlan.from_settings(_scenario(scenario, seed, overrides), settings)
    return plan.run(replications, metric=metric, executor=executor, workers=workers,
                    progress=progress, limits=limits)


class SweepPlan:
    """The resolved points of a sweep, checked before anything runs.

    Attributes
    ----------
    keys : list of str
        The swept keys.
    settings : list of dict
        Each point's settings, key -> value.
    scenarios : list of Scenario
        Each point's resolved scenario.
    """

    def __init__(self, keys: Sequence[str], settings: Sequence[Mapping[str, Any]],
                 scenarios: Sequence[Scenario]) -> None:
        self.keys, self.settings, self.scenarios = list(keys), list(settings), list(scenarios)

    @classmethod
    def from_settings(cls, base: Scenario, settings: Mapping[str, Sequence[Any]] | Iterable[str]
                      ) -> "SweepPlan":
        """The cartesian product of ``settings`` applied to ``base`` (last key fastest)."""
        keys, grid = _settings(settings)
        combos = list(itertools.product(*grid))
        return cls(keys, [dict(zip(keys, combo)) for combo in combos],
                   [base.with_overrides(list(zip(keys, combo))) for combo in combos])

    def run(self, replications: int, *, metric: str | None = None,
            executor: Executor | None = None, workers: int | None = None,
            progress: bool | None = False, limits: Any = None) -> SweepResult:
        """Run ``replications`` of every point (one task each) and collect the statistics.

        Every point's work is estimated before the first run and refused (ScenarioError) when
        beyond ``limits`` (a :class:`lambdasim.scenario.workload.Limits`; default
        ``DEFAULT_LIMITS``)."""
        _check_count(replications)
        for scenario in self.scenarios:
            check_scenario_workload(scenario, limits)
        summaries = execute([(s.config, i) for s in self.scenarios for i in range(replications)],
                             executor=executor, workers=workers, progress=progress)
        return SweepResult(self.keys, [
            SweepPoint(settings, Replications(
                scenario.config, summaries[k * replications:(k + 1) * replications]))
            for k, (settings, scenario) in enumerate(zip(self.settings, self.scenarios))], metric)

    def __len__(self) -> int:
        return len(self.scenarios)


def _settings(settings: Mapping[str, Sequence[Any]] | Iterable[str]
              ) -> tuple[list[str], list[list[Any]]]:
    if isinstance(settings, Mapping):
        items = [(k, list(v) if isinstance(v, (list, tuple)) else [v]) for k, v in settings.items()]
    else:
        items = [parse_sweep_option(s) if isinstance(s, str) else (s[0], list(s[1]))
                 for s in ([settings] if isinstance(settings, str) else settings)]
    keys: list[str] = []
    for key, values in items:
        if key in keys:
            raise ScenarioError("swept twice; give all its values in one setting",
                                key=key, override=key)
        if not values:
            raise ScenarioError("empty list of values to sweep", key=key, override=key)
        keys.append(key)
    if not keys:
        raise ScenarioError("nothing to sweep: give at least one KEY=V1,V2,... setting")
    return keys, [values for _, values in items]


_SPLIT = re.compile(r"""[\[\]{}(),"']""")


def parse_sweep_option(text: str) -> tuple[str, list[Any]]:
    """Parse ``KEY=V1,V2,...``: a dotted key and its values, each read as YAML.

    Commas inside brackets, braces or quotes do not split, so a value may itself be a list
    or a mapping: ``functions.api.duration={dist: constant, value: 50ms},100ms``.

    Raises
    ------
    ScenarioError
        Not ``KEY=...``, an empty list (``KEY=``) or an empty value (``KEY=1,,2``).
    """
    key, _ = parse_set_option(text.partition("=")[0] + "=0" if "=" in text else text)
    values_text = text.partition("=")[2]
    parts, depth, quote, start = [], 0, "", 0
    for match in _SPLIT.finditer(values_text):
        char = match.group()
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(values_text[start:match.start()])
            start = match.end()
    parts.append(values_text[start:])
    if len(parts) == 1 and not parts[0].strip():
        raise ScenarioError("empty list of values to sweep; expected KEY=V1,V2,...",
                            key=key, override=key)
    values = []
    for position, part in enumerate(parts, 1):
        if not part.strip():
            raise ScenarioError(f"value {position} of {len(parts)} is empty in {values_text!r}",
                                key=key, override=key)
        values.append(parse_set_option(f"{key}={part.strip()}")[1])
    return key, values

