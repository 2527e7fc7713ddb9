"""Replications of one scenario: every figure's mean, deviation and confidence interval.

One run is one sample. :func:`simulate_many` runs ``N`` independent replications of a
scenario and reports, for every numeric figure of the summary, the mean, the standard
deviation and a 95 % Student-t confidence interval; :class:`Comparison` is the paired
difference of two settings run on common random numbers. Sweeps over a grid of settings are
built on this (:mod:`lambdasim.studies.sweep`).

Randomness. Replication ``i`` uses the streams ``SeedSequence(seed, spawn_key=(i, crc32(stream
name)))`` (:mod:`lambdasim.engine.rng`): replications are independent, and two settings of one
scenario share their random numbers (common random numbers), so replication ``i`` of 1024 MB
and of 1536 MB see the same arrivals and the same handler draws. Differences are then
measured on paired runs, and the paired confidence interval of a difference is much narrower
than the unpaired (Welch) one.

Execution (:mod:`lambdasim.studies.executors`). Each replication is one task, ``(resolved
config, replication)``: plain data that any worker rebuilds the model from, returning the plain
summary dict. Results are put back in task order, so the figures are identical on one worker,
a process pool and a Dask cluster.
"""
from __future__ import annotations

import copy
import math
import os
from concurrent.futures import Executor
from typing import Any, Iterable, Mapping, Sequence

from lambdasim.studies.executors import (execute, run_replication,
                                         run_replication_charted)
from lambdasim.scenario import Scenario, load_scenario, parse_set_option
from lambdasim.scenario.workload import check_scenario_workload

__all__ = [
    "simulate_many", "Replications", "Comparison", "run_replication", "figure_stats",
    "figure_range", "clip_interval", "replication_assumptions", "flatten_figures", "figure_keys", "main_figures", "LEVEL",
]

#: Confidence level of every interval reported here (two-sided, Student t).
LEVEL = 0.95
#: Summary keys that describe the run rather than measure it: never averaged.
RUN_KEYS = ("lambdasim_version", "scenario", "seed", "duration_s", "warmup_s", "config",
            "cost_projection")
#: Figures of each function (and of the account) shown in sweep.csv and comparisons.
FUNCTION_FIGURES = ("latency_ms.mean", "latency_ms.p99", "cold_start_rate", "throttle_rate",
                    "concurrency.max", "cost_usd.total")
ACCOUNT_FIGURES = ("account.throttles", "account.cost_usd.total")


# --------------------------------------------------------------------------- statistics

def _t_quantile(dof: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + LEVEL / 2.0, dof))


def figure_stats(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean, standard deviation and 95 % Student-t interval of replication values.

    ``None`` values (a percentile of no requests) are left out; ``n`` is then reported. With
    fewer than two values the standard deviation and the interval are ``None``.
    """
    present = [float(v) for v in values if v is not None]
    n = len(present)
    out: dict[str, Any] = {"mean": None, "sd": None, "ci95": None}
    if n:
        mean = math.fsum(present) / n
        out["mean"] = mean
        if n >= 2:
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in present) / (n - 1))
            half = _t_quantile(n - 1) * sd / math.sqrt(n)
            out["sd"] = sd
            out["ci95"] = [mean - half, mean + half]
    if n != len(values):
        out["n"] = n
    return out


def figure_range(key: str, values: Sequence[float | None],
                 config: Mapping[str, Any] | None = None) -> tuple[float | None, float | None]:
    """The values a summary figure can take: ``[0, 1]`` for rates and utilizations (fractions),
    ``[0, inf)`` for the other figures (counts, times, levels, money), unbounded for a
    figure that some replication reports below zero. With the resolved ``config``, levels
    that a limit caps stay under it: concurrency under the reserved concurrency or the
    account limit, a Kafka mapping's concurrency under its partitions (one batch in flight
    per partition) and its pollers under their maximum (kafka-scaling-modes.html), the units
    in use of a shared pool under its capacity."""
    last = key.rsplit(".", 1)[-1]
    parent = key.rsplit(".", 2)[-2] if key.count(".") >= 1 else ""
    if any(v is not None and v < 0 for v in values):
        return None, None
    if last.endswith("_rate") or parent == "utilization" or last == "utilization":
        return 0.0, 1.0
    return 0.0, _level_cap(key, config) if config else None


def _level_cap(key: str, config: Mapping[str, Any]) -> float | None:
    """The limit over a concurrency or poller level of the summary (see figure_range)."""
    parts = key.split(".")
    if parts[-1] not in ("max", "mean"):
        return None
    account = config.get("account") or {}
    if parts[0] == "dependencies" and parts[2:-1] == ["in_use"]:
        # A pool never lends more units than its capacity (LAMBDA_MODEL.md section 10).
        dependency = (config.get("dependencies") or {}).get(parts[1]) or {}
        return _number(dependency.get("capacity")) if dependency.get("type") == "pool" else None
    if parts[:-1] == ["account", "concurrency"]:
        return _number(account.get("concurrency_limit"))
    if parts[0] != "functions" or len(parts) < 4:
        return None
    fconfig = (config.get("functions") or {}).get(parts[1]) or {}
    triggers = fconfig.get("triggers") or []
    kafka = [t for t in triggers if t.get("type") == "kafka"]
    partitions = sum(int(t.get("partitions") or 0) for t in kafka)
    what = parts[2:-1]
    if what == ["concurrency"]:
        caps = [_number(fconfig.get("reserved_concurrency")),
                _number(account.get("concurrency_limit"))]
        if kafka and len(kafka) == len(triggers):
            caps.append(float(partitions))
        caps = [c for c in caps if c is not None]
        return min(caps) if caps else None
    if what == ["kafka", "concurrency"] and kafka:
        return float(partitions)
    if what == ["kafka", "pollers"] and kafka:
        # MaximumPollers at most the partitions; on demand, no more than would be busy.
        return float(sum(min(int(t["provisioned_pollers"]["maximum"]), int(t["partitions"]))
                         if t.get("provisioned_pollers") else
                         -(-int(t["partitions"]) // int(t.get("invocations_per_poller") or 5))
                         for t in kafka))
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def clip_interval(stats: dict[str, Any], bounds: tuple[float | None, float | None]
                  ) -> dict[str, Any]:
    """``stats`` with its ``ci95`` clipped to ``bounds``: a confidence interval never reaches
    outside what the figure can be (no negative count, no rate above 1)."""
    ci = stats.get("ci95")
    if ci is None:
        return stats
    low, high = bounds
    a, b = ci
    if low is not None:
        a, b = max(a, low), max(b, low)
    if high is not None:
        a, b = min(a, high), min(b, high)
    return {**stats, "ci95": [a, b]}


def flatten_figures(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """The numeric figures of a summary by dotted key (``functions.api.latency_ms.p99``).

    Run descriptors (:data:`RUN_KEYS`), booleans, strings and lists are not figures; ``None``
    values are kept (the key exists, its value is undefined in that run).
    """
    out: dict[str, float | None] = {}

    def walk(block: Mapping[str, Any], prefix: str) -> None:
        for key, value in block.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(value, dotted + ".")
            elif value is None or (isinstance(value, (int, float))
                                   and not isinstance(value, bool)):
                out[dotted] = value

    walk({k: v for k, v in summary.items() if k not in RUN_KEYS}, "")
    return out


def _mean_summary(summaries: Sequence[Mapping[str, Any]],
                  figures: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The first summary's shape with every figure replaced by its mean over replications."""

    def walk(block: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        out = {}
        for key, value in block.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping):
                out[key] = walk(value, dotted + ".")
            elif dotted in figures:
                out[key] = figures[dotted]["mean"]
            else:  # a non-numeric value: kept when every replication agrees
                same = all(_get(s, dotted) == value for s in summaries)
                out[key] = copy.deepcopy(value) if same else None
        return out

    return walk({k: v for k, v in summaries[0].items() if k not in RUN_KEYS}, "")


def replication_assumptions(summaries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every assumption any replication relied on, once, in the order first met; the
    functions of one assumption are the union over replications."""
    merged: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for item in summary.get("assumptions") or ():
            key = item.get("topic") or item.get("assumption")
            if key not in merged:
                merged[key] = {**item, "functions": list(item.get("functions") or ())}
            else:
                known = merged[key]["functions"]
                known += [f for f in item.get("functions") or () if f not in known]
    return list(merged.values())


def _get(block: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(block, Mapping) or part not in block:
            return None
        block = block[part]
    return block


class Comparison:
    """The difference ``b - a`` of one figure between two sets of paired replications.

    Attributes
    ----------
    figure : str
        Dotted key of the figure.
    n : int
        Replication pairs used (those where both values are defined).
    a_mean, b_mean, difference : float
        Means and the mean difference ``b - a``.
    paired_ci : list of float or None
        95 % t-interval of the mean of the per-replication differences (n - 1 degrees of
        freedom): valid because replication ``i`` of both sides shares its random numbers.
    unpaired_ci : list of float or None
        95 % Welch interval that ignores the pairing, as if the runs were independent.
    """

    __slots__ = ("figure", "a_label", "b_label", "n", "a_mean", "b_mean", "difference",
                 "paired_sd", "paired_ci", "unpaired_ci")

    def __init__(self, figure: str, a: Sequence[float | None], b: Sequence[float | None],
                 a_label: str = "A", b_label: str = "B") -> None:
        if len(a) != len(b):
            raise ValueError(f"paired comparison needs as many replications on both sides, "
                             f"got {len(a)} and {len(b)}")
        pairs = [(float(x), float(y)) for x, y in zip(a, b) if x is not None and y is not None]
        self.figure, self.a_label, self.b_label, self.n = figure, a_label, b_label, len(pairs)
        self.a_mean = self.b_mean = self.difference = self.paired_sd = None
        self.paired_ci = self.unpaired_ci = None
        n = len(pairs)
        if not n:
            return
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        self.a_mean, self.b_mean = math.fsum(xs) / n, math.fsum(ys) / n
        diffs = figure_stats([y - x for x, y in pairs])
        self.difference = diffs["mean"]
        if n < 2:
            return
        self.paired_sd, self.paired_ci = diffs["sd"], diffs["ci95"]
        var_a = math.fsum((x - self.a_mean) ** 2 for x in xs) / (n - 1)
        var_b = math.fsum((y - self.b_mean) ** 2 for y in ys) / (n - 1)
        se2 = (var_a + var_b) / n
        if se2 == 0.0:
            self.unpaired_ci = [self.difference, self.difference]
            return
        # Welch-Satterthwaite degrees of freedom for two samples of n.
        dof = se2 ** 2 / ((var_a / n) ** 2 / (n - 1) + (var_b / n) ** 2 / (n - 1))
        half = _t_quantile(dof) * math.sqrt(se2)
        self.unpaired_ci = [self.difference - half, self.difference + half]

    @property
    def paired_half_width(self) -> float | None:
        return None if self.paired_ci is None else (self.paired_ci[1] - self.paired_ci[0]) / 2

    @property
    def unpaired_half_width(self) -> float | None:
        return None if self.unpaired_ci is None else (self.unpaired_ci[1] - self.unpaired_ci[0]) / 2

    def to_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "a": self.a_label, "b": self.b_label, "n": self.n,
                "a_mean": self.a_mean, "b_mean": self.b_mean, "difference": self.difference,
                "paired": {"sd": self.paired_sd, "ci95": self.paired_ci},
                "unpaired": {"ci95": self.unpaired_ci}}

    def __repr__(self) -> str:
        return (f"Comparison({self.figure!r}, difference={self.difference}, "
                f"paired_ci={self.paired_ci}, unpaired_ci={self.unpaired_ci})")


# --------------------------------------------------------------------------- results

class Replications:
    """Independent replications of one scenario and their statistics.

    Attributes
    ----------
    config : dict
        The resolved config that every replication ran.
    summaries : list of dict
        Each replication's own summary (``summary.json`` without ``config``), in order.
    figures : dict
        Dotted key -> ``{mean, sd, ci95: [low, high]}`` (and ``n`` when some replications
        have no value).
    charts : list of dict or None
        Each replication's chart data (:func:`lambdasim.results.timeline.digest`) when
        :func:`simulate_many` was asked for charts; :meth:`charts_png` draws them.
    """

    def __init__(self, config: Mapping[str, Any], summaries: Sequence[Mapping[str, Any]],
                 charts: Sequence[Mapping[str, Any]] | None = None) -> None:
        if not summaries:
            raise ValueError("no replications")
        self.charts = list(charts) if charts is not None else None
        self.config = config
        self.summaries = list(summaries)
        flat = [flatten_figures(s) for s in self.summaries]
        keys = list(flat[0])
        self._values = {key: [f.get(key) for f in flat] for key in keys}
        # Intervals are clipped to each figure's range (a count's never goes below 0).
        self.figures = {key: clip_interval(figure_stats(values),
                                           figure_range(key, values, config))
                        for key, values in self._values.items()}

    @property
    def n(self) -> int:
        return len(self.summaries)

    def plots(self):
        """Yield ``(file name, chart)``: each figure over time, the mean of the replications
        with its 95 % band (:mod:`lambdasim.results.replication_charts`)."""
        from lambdasim.results.replication_charts import replication_charts

        if self.charts is None:
            raise ValueError("these replications kept no chart data; "
                             "simulate_many(..., charts=True)")
        return replication_charts(self.summary, self.charts)

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    def values(self, figure: str) -> list[float | None]:
        """The value of ``figure`` (a dotted key) in each replication."""
        try:
            return list(self._values[figure])
        except KeyError:
            raise KeyError(_unknown_figure(figure, self._values)) from None

    @property
    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` of the replications.

        The usual keys, each figure holding its mean over replications (so
        ``functions.api.latency_ms.p99`` stays a number), the resolved ``config``, and a
        ``replications`` block: ``{n, level, figures: {dotted key: {mean, sd, ci95}}}``.
        """
        first = self.summaries[0]
        out = {key: first[key] for key in RUN_KEYS if key in first and key != "config"}
        out["seed"] = self.seed
        out["config"] = copy.deepcopy(dict(self.config))
        out.update(_mean_summary(self.summaries, self.figures))
        if any("assumptions" in s for s in self.summaries):
            out["assumptions"] = replication_assumptions(self.summaries)
        out["replications"] = {"n": self.n, "level": LEVEL, "figures": self.figures}
        return out

    def replications_json(self) -> dict[str, Any]:
        """``replications.json``: every replication's own summary, with its index."""
        return {"lambdasim_version": self.summaries[0].get("lambdasim_version"),
                "scenario": self.config["name"], "seed": self.seed,
                "replications": [{"replication": i, **s} for i, s in enumerate(self.summaries)]}

    @property
    def table(self) -> dict[str, list]:
        """One row per replication: ``replication`` and every figure (columns of lists)."""
        return {"replication": list(range(self.n)), **{k: list(v) for k, v in self._values.items()}}

    def to_pandas(self):
        """:attr:`table` as a pandas DataFrame (requires pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame(self.table)

    def compare(self, other: "Replications", figure: str, labels: tuple[str, str] = ("A", "B")
                ) -> Comparison:
        """Paired difference ``other - self`` of ``figure`` (replications share random numbers)."""
        return Comparison(figure, self.values(figure), other.values(figure), *labels)

    def __repr__(self) -> str:
        return f"Replications(scenario={self.config['name']!r}, seed={self.seed}, n={self.n})"


def _unknown_figure(figure: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(figure, list(known), n=1)
    return f"no figure {figure!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def main_figures(config: Mapping[str, Any]) -> list[str]:
    """The figures a sweep tabulates: a few per function, then the account's."""
    return [f"functions.{name}.{figure}" for name in config["functions"]
            for figure in FUNCTION_FIGURES] + list(ACCOUNT_FIGURES)


def figure_keys(config: Mapping[str, Any]) -> list[str]:
    """The dotted figure keys a run of ``config`` reports, found by a run of one millisecond.

    Lets a caller check a figure name (``--metric``) before hundreds of runs start.
    """
    probe = copy.deepcopy(dict(config))
    probe.update(duration=1e-3, warmup=0.0)
    return list(flatten_figures(run_replication((probe, 0))))


def _default_metric(config: Mapping[str, Any]) -> str:
    return f"functions.{next(iter(config['functions']))}.latency_ms.p99"


# --------------------------------------------------------------------------- the API

def _scenario(scenario: Scenario | str | os.PathLike | Mapping[str, Any], seed: int | None,
              overrides: Any) -> Scenario:
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    items = list(_override_items(overrides))
    if seed is not None:
        items.append(("seed", int(seed)))
    return scenario.with_overrides(items) if items else scenario


def _override_items(overrides: Any) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    if isinstance(overrides, str):
        overrides = [overrides]
    return [parse_set_option(o) if isinstance(o, str) else tuple(o) for o in overrides]


def simulate_many(scenario: Scenario | str | os.PathLike | Mapping[str, Any],
                  replications: int = 10, *, seed: int | None = None, overrides: Any = None,
                  executor: Executor | None = None, workers: int | None = None,
                  progress: bool | None = False, limits: Any = None,
                  charts: bool = False) -> Replications:
    """Run independent replications of a scenario.

    Parameters
    ----------
    scenario : Scenario, path or dict
        What to run.
    replications : int
        How many replications (``replication=0..N-1`` of one seed root; replication 0 is the
        run :func:`lambdasim.simulate` gives).
    seed : int, optional
        Overrides the scenario's seed root.
    overrides : mapping or iterable of str, optional
        Dotted-key overrides, as :func:`lambdasim.load_scenario` takes them.
    executor : concurrent.futures.Executor, optional
        Where to run the replications (not shut down here); e.g. from :func:`dask_executor`.
    workers : int, optional
        Without ``executor``: ``1`` runs in this process, more a local process pool of that
        size (default: one worker per usable core).
    progress : bool or None
        Draw a progress bar on stderr (``None``: when stderr is a terminal).
    limits : lambdasim.scenario.workload.Limits, optional
        The largest work one replication may ask for (default: ``DEFAULT_LIMITS``), checked
        before the first run.
    charts : bool
        Also keep each replication's chart data (a few hundred numbers per figure), for
        :meth:`Replications.plots` and report.html.

    Returns
    -------
    Replications
        ``.summary`` (means plus a ``replications`` block of statistics), ``.figures``,
        ``.summaries``, ``.to_pandas()``.
    """
    _check_count(replications)
    resolved = _scenario(scenario, seed, overrides)
    check_scenario_workload(resolved, limits)
    tasks = [(resolved.config, i) for i in range(replications)]
    if charts:
        runs = execute(tasks, executor=executor, workers=workers, progress=progress,
                       runner=run_replication_charted)
        return Replications(resolved.config, [r["summary"] for r in runs],
                            [r["chart"] for r in runs])
    summaries = execute(tasks, executor=executor, workers=workers, progress=progress)
    return Replications(resolved.config, summaries)


def _check_count(replications: int) -> None:
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be a whole number >= 1, got {replications!r}")


