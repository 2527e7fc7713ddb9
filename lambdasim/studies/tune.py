"""Traffic-aware power tuning: which memory size (and architecture) should a function get?

``python -m lambdasim tune SCENARIO --function NAME`` runs the scenario once per memory size
and architecture (and per replication), and reports for each configuration the function's
end-to-end latency (mean and percentiles, cold starts and retries included), mean handler
duration, cold-start rate, throttles and cost (per million requests answered, in total, and
projected to 30 days). It then picks the best configuration by a strategy, as the Lambda
Power Tuning tool does, but offline, for a real traffic pattern:

* ``cost``: the cheapest per million requests (exact ties go to the faster);
* ``speed``: the fastest by the objective (``mean``, ``p50``, ``p90`` or ``p99`` latency);
  configurations whose time is equal -- within ``tolerance`` (relative, default 1 %) of the
  fastest or, with replications, not distinguishable from it by a paired 95 % interval --
  count as equally fast and the cheapest of them wins, so a single-threaded function is
  tuned to about 1,769 MB (one vCPU), not to 10,240 MB;
* ``balanced``: the smallest ``w * cost/max_cost + (1 - w) * time/max_time`` (maxima over all
  configurations, as Power Tuning normalises), exact ties to the cheaper.

``--max-p99`` excludes configurations whose p99 latency exceeds it. The Pareto front (cost
per million requests against the objective time, no configuration both cheaper and faster)
is reported as well.

Common random numbers: every configuration runs with the same seed and the same replication
indices, and random streams are named by purpose and function, never by memory size, so all
configurations see the same arrivals and the same handler draws (scaled by memory). With
``--replications N`` (N >= 2) every figure carries a 95 % Student-t interval over the
replications, and the choice is compared with the runner-up by a paired interval of their
difference on the strategy's criterion; ``best.top_two.distinguishable`` is false (and the
table says so) when that interval contains zero.

Outputs (:mod:`lambdasim.studies.tune_report`): a table on the terminal, and ``tune.json`` and
``tune.png`` in the results folder (``results/<scenario name>/`` or ``--out``), written
atomically.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

__all__ = ["add_arguments", "run", "tune", "DEFAULT_MEMORY_MB", "STRATEGIES", "OBJECTIVES"]

DEFAULT_MEMORY_MB = (128, 256, 512, 1024, 1536, 2048, 3008)
STRATEGIES = ("cost", "speed", "balanced")
OBJECTIVES = ("mean", "p50", "p90", "p99")
ARCHITECTURES = ("x86_64", "arm64")
#: arm64 handler time / x86_64 handler time at which ``tune --arch x86_64,arm64`` re-runs the
#: choice. AWS states "up to 19 % better performance" on arm64, workload-dependent (AWS News
#: Blog, 2021-09-29); at equal speed arm64 is 20 % cheaper per GB-s, so the cost choice flips
#: near 1.25 and the speed choice near 1.0.
DEFAULT_ARM64_FACTORS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
#: Lambda memory sizes, 1 MB steps (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
CONFIDENCE = 0.95

# The figures reported per configuration: key -> how it is read from a function's summary
# block and its cost (None where a run has no value, e.g. a percentile of no requests).
_LATENCY_KEYS = ("mean", "p50", "p90", "p99")


# ----------------------------------------------------------------------------- the tuning

def _figure(values: Sequence[float | None]) -> dict[str, Any]:
    """``{"value": mean, "ci95": [low, high] or None}`` over replications."""
    from lambdasim.theory import mean_ci

    if any(v is None or not math.isfinite(v) for v in values):
        return {"value": None, "ci95": None}
    if len(values) == 1:
        return {"value": _round(values[0]), "ci95": None}
    mean, low, high = mean_ci(values, CONFIDENCE)
    return {"value": _round(mean), "ci95": [_round(low), _round(high)]}


def _round(value: float) -> float:
    return float(f"{value:.9g}")


def _mean(values: Sequence[float | None]) -> float:
    if any(v is None for v in values):
        return math.nan
    return sum(values) / len(values)  # type: ignore[arg-type]


def _paired(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Paired difference ``b - a`` over replications and whether it is distinguishable from 0."""
    diffs = [y - x for x, y in zip(a, b)]
    figure = _figure(diffs)
    if figure["ci95"] is None:
        return {**figure, "distinguishable": None}
    low, high = figure["ci95"]
    return {**figure, "distinguishable": not low <= 0.0 <= high}


def _measure(block: Mapping[str, Any]) -> dict[str, float | None]:
    """The figures of one run of one configuration, from the function's summary block."""
    cost = block["cost_usd"]
    answered = block["requests"]["succeeded"] + block["requests"]["failed"]
    out: dict[str, float | None] = {f"latency_{k}": block["latency_ms"][k] for k in _LATENCY_KEYS}
    out["duration_mean"] = block["duration_ms"]["mean"]
    out["cold_start_rate"] = float(block["cold_start_rate"])
    out["throttles"] = float(block["throttles"])
    out["invocations"] = float(block["invocations"])
    out["cost_usd"] = float(cost["total"])
    out["cost_per_million"] = cost["total"] / answered * 1e6 if answered else None
    out["cost_per_30_days"] = float(cost["per_30_days"]["total"])
    return out


def _run_one(task) -> dict[str, float | None]:
    """One run of one configuration (a top-level function, so a process pool can call it)."""
    from lambdasim.scenario.workload import NO_LIMITS
    from lambdasim.simulation import simulate

    variant, function, seed, replication = task
    # tune() checked every configuration's work before the first run.
    return _measure(simulate(variant, seed=seed, replication=replication, limits=NO_LIMITS)
                    .function(function)
                    .as_dict())


def tune(scenario, function: str, memories: Sequence[int], architectures: Sequence[str], *,
         strategy: str = "cost", weight: float = 0.5, objective: str = "mean",
         max_p99_ms: float | None = None, replications: int = 1,
         tolerance: float = 0.01, jobs: int = 1,
         arm64_factors: Sequence[float] | None = None, limits: Any = None) -> dict[str, Any]:
    """Run ``scenario`` at every memory size and architecture of ``function``; pick the best.

    With both architectures and ``arm64_factors``, the choice is made again with the
    function's ``arm64_duration_factor`` (arm64 handler time / x86_64 handler time) set to each
    factor, and ``architecture_flip`` says which configuration wins at each one and between
    which factors the architecture changes. Runs that a factor does not affect (the reference
    architecture's) are made once.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (its seed is used for every configuration).
    function : str
        The function to tune.
    memories, architectures : sequences
        The configurations are their product, in that order (memory first).
    strategy, weight, objective, max_p99_ms, replications, tolerance
        As the command-line options (see the module docstring).
    jobs : int
        Runs in parallel in a pool of processes (the result does not depend on it).
    limits : lambdasim.scenario.workload.Limits, optional
        The largest work one run may ask for (default: ``DEFAULT_LIMITS``); every
        configuration is estimated before the first run.

    Returns
    -------
    dict
        The content of ``tune.json``.

    Raises
    ------
    ScenarioError
        When a configuration's estimated work is beyond ``limits``.
    """
    cache: dict = {}
    report = _tune_once(scenario, function, memories, architectures, strategy, weight,
                        objective, max_p99_ms, replications, tolerance, jobs, cache, limits)
    fconfig = scenario.config["functions"][function]
    report["arm64_duration_factor"] = fconfig["arm64_duration_factor"]
    report["reference_architecture"] = fconfig["reference_architecture"]
    if arm64_factors and set(architectures) == set(ARCHITECTURES):
        rows = []
        for factor in arm64_factors:
            variant = scenario.with_overrides(
                {f"functions.{function}.arm64_duration_factor": float(factor)})
            other = _tune_once(variant, function, memories, architectures, strategy, weight,
                               objective, max_p99_ms, replications, tolerance, jobs, cache, limits)
            best = other["best"]
            rows.append({"arm64_duration_factor": float(factor),
                         "best": None if best is None else {
                             "memory_mb": best["memory_mb"],
                             "architecture": best["architecture"]}})
        report["architecture_flip"] = {"factors": rows, "summary": _flip_summary(rows)}
    return report


def _flip_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """Where the chosen architecture changes as the arm64/x86_64 duration factor grows."""
    runs: list[list] = []  # [architecture, first factor, last factor]
    for row in rows:
        arch = row["best"]["architecture"] if row["best"] else "none"
        factor = row["arm64_duration_factor"]
        if runs and runs[-1][0] == arch:
            runs[-1][2] = factor
        else:
            runs.append([arch, factor, factor])
    if len(runs) == 1:
        tried = ", ".join(f"{row['arm64_duration_factor']:g}" for row in rows)
        return f"{runs[0][0]} at every factor tried ({tried})"
    return "; ".join(f"{arch} at factor {lo:g}" if lo == hi else f"{arch} at factors {lo:g}-{hi:g}"
                     for arch, lo, hi in runs)


def _tune_once(scenario, function, memories, architectures, strategy, weight, objective,
               max_p99_ms, replications, tolerance, jobs, cache, limits=None) -> dict[str, Any]:
    """One tuning pass (the body of :func:`tune`); ``cache`` keeps runs between passes."""
    from lambdasim._version import __version__
    from lambdasim.engine.function import architecture_factor

    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    if function not in scenario.config["functions"]:
        raise ValueError(f"no function {function!r}")
    seed = int(scenario.config["seed"])
    configs = [(int(m), a) for m in memories for a in architectures]
    variants = [scenario.with_overrides({f"functions.{function}.memory_mb": memory_mb,
                                         f"functions.{function}.architecture": arch})
                for memory_mb, arch in configs]
    from lambdasim.scenario.workload import check_scenario_workload

    for variant in variants:  # every configuration checked before the first run
        check_scenario_workload(variant, limits)
    # A configuration's runs depend on its memory and the factor its architecture applies.
    keys = []
    for (memory_mb, arch), variant in zip(configs, variants):
        fconfig = variant.config["functions"][function]
        keys.append((memory_mb, arch, architecture_factor(
            arch, fconfig["reference_architecture"], fconfig["arm64_duration_factor"])))
    # Common random numbers: the same seed and replication indices for every configuration.
    todo = [k for k in range(len(configs)) if keys[k] not in cache]
    tasks = [(variants[k], function, seed, r) for k in todo for r in range(replications)]
    if jobs > 1 and len(tasks) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            measured = list(pool.map(_run_one, tasks))
    else:
        measured = [_run_one(task) for task in tasks]
    for n, k in enumerate(todo):
        cache[keys[k]] = measured[n * replications:(n + 1) * replications]
    runs = [cache[key] for key in keys]

    time_key = f"latency_{objective}"
    times = [[run[time_key] for run in reps] for reps in runs]
    costs = [[run["cost_per_million"] for run in reps] for reps in runs]
    mean_time = [_mean(t) for t in times]
    mean_cost = [_mean(c) for c in costs]
    valid = [math.isfinite(t) and math.isfinite(c) for t, c in zip(mean_time, mean_cost)]
    max_time = max((t for t, ok in zip(mean_time, valid) if ok), default=1.0) or 1.0
    max_cost = max((c for c, ok in zip(mean_cost, valid) if ok), default=1.0) or 1.0
    scores = [[weight * c / max_cost + (1.0 - weight) * t / max_time
               if c is not None and t is not None else None for c, t in zip(cs, ts)]
              for cs, ts in zip(costs, times)]
    feasible = []
    for k, reps in enumerate(runs):
        p99 = _mean([run["latency_p99"] for run in reps])
        feasible.append(valid[k] and (max_p99_ms is None or p99 <= max_p99_ms))

    criterion = {"cost": costs, "speed": times, "balanced": scores}[strategy]
    candidates = [k for k in range(len(configs)) if feasible[k]]
    best = _select(strategy, candidates, criterion, costs, times, tolerance, replications)
    runner_up = (_select(strategy, [k for k in candidates if k != best], criterion, costs,
                         times, tolerance, replications) if best is not None else None)
    front = _pareto([k for k in range(len(configs)) if valid[k]], mean_cost, mean_time)

    configurations = []
    for k, (memory_mb, arch) in enumerate(configs):
        reps = runs[k]
        entry: dict[str, Any] = {
            "memory_mb": memory_mb,
            "architecture": arch,
            "latency_ms": {key: _figure([run[f"latency_{key}"] for run in reps])
                           for key in _LATENCY_KEYS},
            "duration_ms_mean": _figure([run["duration_mean"] for run in reps]),
            "cold_start_rate": _figure([run["cold_start_rate"] for run in reps]),
            "throttles": _figure([run["throttles"] for run in reps]),
            "invocations": _figure([run["invocations"] for run in reps]),
            "cost_per_million_requests_usd": _figure(costs[k]),
            "cost_usd": _figure([run["cost_usd"] for run in reps]),
            "cost_per_30_days_usd": _figure([run["cost_per_30_days"] for run in reps]),
            "feasible": feasible[k],
            "pareto": k in front,
        }
        if strategy == "balanced":
            entry["score"] = _figure(scores[k])
        configurations.append(entry)

    best_block = None
    if best is not None:
        top_two = None
        if runner_up is not None:
            # The runner-up is compared on what decided between them: for speed, cost when
            # the two are equally fast.
            decider, decider_name = criterion, _CRITERION_NAME[strategy]
            if strategy == "speed" and (
                    _equal_time(times[best], times[runner_up], tolerance, replications)
                    or _equal_time(times[runner_up], times[best], tolerance, replications)):
                decider, decider_name = costs, "cost_per_million_requests_usd (equally fast)"
            top_two = {"memory_mb": configs[runner_up][0],
                       "architecture": configs[runner_up][1],
                       "criterion": decider_name,
                       "difference": _paired(decider[best], decider[runner_up])}
        best_block = {
            "memory_mb": configs[best][0],
            "architecture": configs[best][1],
            "reason": _reason(strategy, objective, weight, best, candidates, configs,
                              mean_cost, mean_time, times, tolerance, replications, max_p99_ms,
                              top_two),
            "top_two": top_two,
        }
    return {
        "lambdasim_version": __version__,
        "scenario": scenario.name,
        "function": function,
        "seed": seed,
        "replications": replications,
        "confidence_level": CONFIDENCE if replications > 1 else None,
        "strategy": strategy,
        "objective": objective,
        "weight": weight if strategy == "balanced" else None,
        "max_p99_ms": max_p99_ms,
        "tolerance": tolerance if strategy == "speed" else None,
        "best": best_block,
        "configurations": configurations,
        "pareto_front": [{"memory_mb": configs[k][0], "architecture": configs[k][1]}
                         for k in sorted(front, key=lambda k: (mean_cost[k], mean_time[k]))],
    }


_CRITERION_NAME = {"cost": "cost_per_million_requests_usd", "speed": "time_ms",
                   "balanced": "score"}


def _equal_time(a: Sequence[float], b: Sequence[float], tolerance: float,
                replications: int) -> bool:
    """Whether configuration ``b`` is as fast as ``a`` (the fastest): within ``tolerance``
    relative, or with replications not distinguishable by a paired 95 % interval."""
    ma, mb = _mean(a), _mean(b)
    if mb <= ma * (1.0 + tolerance):
        return True
    return replications > 1 and _paired(a, b)["distinguishable"] is False


def _select(strategy, candidates, criterion, costs, times, tolerance, replications):
    """Index of the best candidate, or None."""
    if not candidates:
        return None
    mean_cost = {k: _mean(costs[k]) for k in candidates}
    mean_time = {k: _mean(times[k]) for k in candidates}
    if strategy == "speed":
        fastest = min(candidates, key=lambda k: (mean_time[k], mean_cost[k], k))
        equal = [k for k in candidates
                 if _equal_time(times[fastest], times[k], tolerance, replications)]
        return min(equal, key=lambda k: (mean_cost[k], mean_time[k], k))
    if strategy == "cost":
        return min(candidates, key=lambda k: (mean_cost[k], mean_time[k], k))
    return min(candidates, key=lambda k: (_mean(criterion[k]), mean_cost[k], k))


def _pareto(indices: Sequence[int], cost: Sequence[float], time: Sequence[float]) -> set[int]:
    """Configurations that no other is both at least as cheap and as fast as (and better in one)."""
    front = set()
    for k in indices:
        dominated = any(cost[j] <= cost[k] and time[j] <= time[k]
                        and (cost[j] < cost[k] or time[j] < time[k]) for j in indices if j != k)
        if not dominated:
            front.add(k)
    return front


def _reason(strategy, objective, weight, best, candidates, configs, mean_cost, mean_time,
            times, tolerance, replications, max_p99_ms, top_two) -> str:
    name = f"{configs[best][0]} MB {configs[best][1]}"
    time_text = f"{objective} latency {mean_time[best]:,.1f} ms"
    cost_text = f"${mean_cost[best]:,.4f} per million requests"
    if strategy == "cost":
        text = f"{name} is the cheapest: {cost_text} ({time_text})"
    elif strategy == "speed":
        fastest = min(candidates, key=lambda k: mean_time[k])
        equal = [k for k in candidates
                 if _equal_time(times[fastest], times[k], tolerance, replications)]
        text = f"{name} is the fastest: {time_text}, {cost_text}"
        if len(equal) > 1:
            rule = f"within {tolerance * 100:g} %" + (" or not distinguishable at 95 %"
                                                      if replications > 1 else "")
            text = (f"{name} is the cheapest of the {len(equal)} configurations as fast as "
                    f"the fastest ({mean_time[fastest]:,.1f} ms; equal means {rule}): "
                    f"{time_text}, {cost_text}")
    else:
        text = (f"{name} has the lowest balanced score (w = {weight:g} on cost, "
                f"{1 - weight:g} on {objective} time): {time_text}, {cost_text}")
    if max_p99_ms is not None:
        text += f"; only configurations with p99 latency <= {max_p99_ms:,.0f} ms considered"
    if top_two is not None and top_two["difference"]["distinguishable"] is False:
        text += (f"; NOT distinguishable at 95 % from {top_two['memory_mb']} MB "
                 f"{top_two['architecture']} by {top_two['criterion']}")
    return text
