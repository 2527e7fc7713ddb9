"""The outcome of a run: the summary, the per-period series and the request records.

:func:`build_result` turns a finished :class:`~lambdasim.engine.model.Model`'s columnar records into

* ``summary`` -- the summary.json dict (DESIGN.md, "summary.json (v1)"), with the fully
  resolved scenario under ``config``. Request statistics cover requests that arrive in
  ``[warmup, duration)``; invocations, errors, throttles and cold starts are the attempts
  made for those requests, retries included; time-weighted levels cover the same window.
  Latency is end to end (arrival to final response, retries and backoff included) over the
  requests the function answered (succeeded or failed); throttled requests have no latency.
* ``series`` -- CloudWatch-style metrics per period and function, plus an ``(account)`` row;
* ``records`` -- one row per request, when asked for.

Every request ends in exactly one outcome:
``arrived = succeeded + failed + throttled + dropped + in_flight``.
"""
from __future__ import annotations

import copy
import gc
from functools import partial
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from lambdasim._version import __version__
from lambdasim.engine.billing import cost_report, init_is_billed, load_prices, projection
from lambdasim.engine.dependencies import dependency_series, dependency_summary
from lambdasim.engine.metrics import StepLevel, period_time_stats_ms_many, time_stats_ms_many
from lambdasim.results.assumptions import used_assumptions
from lambdasim.results.function_block import function_block
from lambdasim.results.periods import merge_series, period_costs, period_percentiles_ms_many
from lambdasim.results.records import RECORD_COLUMNS, RequestRecords  # noqa: F401 (public)
from lambdasim.results.series import (ACCOUNT_ROW, EXTRA_COLUMNS,  # noqa: F401 (public)
                                      SERIES_COLUMNS, build_series)
from lambdasim.scenario.loader import plain_copy

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["Result", "FunctionResult", "build_result", "ACCOUNT_ROW", "SERIES_COLUMNS",
           "RECORD_COLUMNS", "RequestRecords"]



class FunctionResult:
    """One function's block of the summary, with attribute access.

    ``result.function("checkout").latency_ms["p99"]`` is
    ``result.summary["functions"]["checkout"]["latency_ms"]["p99"]``.
    """

    __slots__ = ("name", "_data")

    def __init__(self, name: str, data: Mapping[str, Any]) -> None:
        self.name = name
        self._data = data

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(f"function summary has no {key!r}; "
                                 f"keys: {', '.join(self._data)}") from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self._data))

    def __repr__(self) -> str:
        return f"FunctionResult({self.name!r})"


class Result:
    """What a run produced.

    Attributes
    ----------
    scenario : Scenario
        The scenario that ran (resolved).
    summary : dict
        The summary.json content.
    series : dict of str to list
        Per-period metrics, equal-length columns named as in :data:`SERIES_COLUMNS`.
    run_info : dict
        How the run went (run.json).
    records : RequestRecords or None
        Per-request records when the run was asked for them (``records.chunks()``,
        ``records.columns()``).
    timeline : lambdasim.results.timeline.Timeline or None
        Chart data: environment states, rates and latency curves on a fine time grid. Built
        on first use (only runs whose charts are drawn pay for it); until then the result
        keeps the run's recorded columns.
    findings : list of str
        A few sentences that say what happened and when (:mod:`lambdasim.results.findings`),
        computed from the summary and the series on first use.
    """

    def __init__(self, scenario, summary: dict[str, Any], series: dict[str, list],
                 run_info: dict[str, Any], records: "RequestRecords | None" = None,
                 timeline: Any = None, dependency_series: dict[str, list] | None = None,
                 timeline_source: Any = None) -> None:
        self.scenario = scenario
        self.summary = summary
        self.series = series
        self.run_info = run_info
        self.records = records
        self._timeline = timeline
        #: ``timeline_source()`` builds the timeline when it is first asked for.
        self._timeline_source = timeline_source
        #: Per period and dependency (``dependencies.csv``), None without dependencies.
        self.dependency_series = dependency_series

    @property
    def timeline(self) -> Any:
        if self._timeline is None and self._timeline_source is not None:
            source, self._timeline_source = self._timeline_source, None
            self._timeline = source()
        return self._timeline

    @timeline.setter
    def timeline(self, value: Any) -> None:
        self._timeline, self._timeline_source = value, None

    def function(self, name: str) -> FunctionResult:
        """The summary block of function ``name``."""
        functions = self.summary["functions"]
        if name not in functions:
            raise KeyError(f"no function {name!r}; functions: {', '.join(functions)}")
        return FunctionResult(name, functions[name])

    @property
    def functions(self) -> list[str]:
        return list(self.summary["functions"])

    @property
    def findings(self) -> list[str]:
        """What happened in the run, in a few computed sentences (limits reached and when,
        throttled requests against attempts, bursts of cold starts, latency over time,
        failures, backlogs, cost with its projection's basis)."""
        from lambdasim.results.findings import findings

        return findings(self.summary, self.series)

    def plot_concurrency(self, function: str | None = None):
        """Execution environments by state against the limits (:mod:`lambdasim.results.plots`)."""
        from lambdasim.results.plots import concurrency_chart

        return concurrency_chart(self, function)

    def plot_requests(self, function: str | None = None):
        """Requests, throttles and cold starts per second (:mod:`lambdasim.results.plots`)."""
        from lambdasim.results.plots import requests_chart

        return requests_chart(self, function)

    def plot_latency(self, function: str | None = None):
        """Latency CDF, warm vs cold start (:mod:`lambdasim.results.plots`)."""
        from lambdasim.results.plots import latency_chart

        return latency_chart(self, function)

    def plots(self, out_dir) -> list:
        """Write every chart of the run as PNG files into ``out_dir``; return their paths."""
        from lambdasim.results.plots import write_plots

        return write_plots(self, out_dir)

    def check(self, checks=None) -> list:
        """Evaluate ``expect:`` checks (default: the scenario's) without asserting."""
        from lambdasim.results.expect import evaluate_result

        return evaluate_result(self, checks)

    def to_pandas(self):
        """The per-period series as a pandas DataFrame (requires pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame(self.series)

    def records_to_pandas(self):
        """The per-request records as a pandas DataFrame (requires pandas and records)."""
        if self.records is None:
            raise ValueError("this run kept no records; simulate(..., records=True)")
        return self.records.to_pandas()

    def __repr__(self) -> str:
        return (f"Result(scenario={self.summary['scenario']!r}, seed={self.summary['seed']}, "
                f"functions={self.functions})")


def build_result(model: "Model", *, records: bool = False, timeline: bool = True,
                 timeline_width_s: float | None = None) -> Result:
    """Compute the summary, series and (optionally) records of a finished model.

    Works one function at a time on views of the recorded buffers, so the extra memory is a
    few arrays of one function's size. ``timeline``: also reduce the records to chart data
    (:mod:`lambdasim.results.timeline`; runs whose summary alone is kept skip it), in bins of
    ``timeline_width_s`` when given.
    """
    # Everything built here stays alive until the Result is returned (hundreds of thousands
    # of small lists and tuples with thousands of functions) and holds no reference cycle:
    # the cyclic collector's passes over them would find nothing and cost about as much as
    # the statistics themselves. It is paused meanwhile and left as it was.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_result(model, records, timeline, timeline_width_s)
    finally:
        if enabled:
            gc.enable()


def _build_result(model: "Model", records: bool, timeline: bool,
                  timeline_width_s: float | None) -> Result:
    config = plain_copy(model.scenario.config)
    config["seed"] = model.seed
    config["period"] = model.period_s
    warmup, horizon = model.warmup_s, model.duration_s
    prices = load_prices(config["billing"]["prices"])
    period = model.period_s
    count = max(1, int(np.ceil(model.end_s / period)))
    edges = np.arange(count + 1, dtype=np.float64) * period

    usages = []
    pending: list[dict[str, Any]] = []  # functions whose period percentiles are not reduced
    held = 0  # requests they hold
    functions: dict[str, Any] = {}
    per_period: dict[str, dict[str, Any]] = {}
    busy_levels: dict[str, StepLevel] = {}
    for name, recorder in model.recorders.items():
        fconfig = config["functions"][name]
        bill_init = init_is_billed(prices, config["billing"]["date"], fconfig["package_type"],
                                   fconfig["runtime"])
        block, usage, busy, periods = function_block(
            model, name, recorder, fconfig, prices, bill_init, edges)
        functions[name] = block
        usages.append(usage)
        busy_levels[name] = busy
        per_period[name] = periods
        pending.append(periods)
        held += periods["latency"][0].size
        if held >= _PERIOD_BATCH:
            _period_statistics(pending, edges)
            held = 0
    _period_statistics(pending, edges)
    _level_statistics(functions, per_period, busy_levels, warmup, horizon, edges)

    # Trigger-specific blocks (async, sqs, stream, provisioned) and their series columns.
    for name, reporters in model.reporters.items():
        for reporter in reporters:
            if hasattr(reporter, "usage"):  # billable usage of its own (provisioned)
                reporter.usage(model, usages[list(model.recorders).index(name)])
            functions[name][reporter.summary_key] = reporter.summary(model)
            # ProvisionedPollers of SQS and Kafka mappings add up; other duplicates raise.
            merge_series(per_period[name]["extra"], reporter.series(model, edges), name)

    # Itemised, with a 30-day projection of [warmup, duration) as the scenario's recurs says.
    costs, account_cost = cost_report(usages, prices, bool(config["billing"]["free_tier"]),
                                      horizon - warmup, recurs=config["recurs"])
    for name, block in functions.items():
        block["cost_usd"] = costs[name]
    shares = period_costs(model, costs, per_period, edges)

    account_busy = model.busy_level(busy_levels, list(busy_levels))
    shared = [name for name in busy_levels
              if config["functions"][name]["reserved_concurrency"] is None]
    # Without reservations the unreserved pool's level is the account's (one merge, not two).
    unreserved = (account_busy if len(shared) == len(busy_levels)
                  else model.busy_level(busy_levels, shared))
    del shared
    summary = {
        "lambdasim_version": __version__,
        "scenario": config["name"],
        "seed": model.seed,
        "duration_s": horizon,
        "warmup_s": warmup,
        "config": config,
        "functions": functions,
        "account": {
            "concurrency": {"max": int(account_busy.max(warmup, horizon)),
                            "mean": round(account_busy.mean(warmup, horizon), 6)},
            "throttles": sum(block["throttles"] for block in functions.values()),
            "cost_usd": account_cost,
        },
        # Figures AWS does not publish that this run relied on, each once.
        "assumptions": used_assumptions(model),
        # How cost_usd.per_30_days was projected (the scenario's recurs), printed beside it.
        # Always-on items (snapshot cache, minimum pollers, lowest provisioned capacity) are
        # projected over 30 days of wall clock (lambdasim.engine.billing.ALWAYS_ON).
        "cost_projection": projection(config["recurs"], horizon - warmup, usages),
    }
    dependency_rows = None
    if model.dependencies:
        # Shared downstream capacity (lambdasim.engine.dependencies): one block per dependency.
        summary["dependencies"] = {
            name: dependency_summary(dependency, config["dependencies"][name], warmup, horizon,
                                     model.end_s)
            for name, dependency in model.dependencies.items()}
        dependency_rows = dependency_series(model.dependencies, edges, model.end_s)
    series = build_series(edges, per_period, account_busy.period_maxima(edges),
                          unreserved.period_maxima(edges), model.account.reserved_total)
    del busy_levels, account_busy, unreserved
    request_records = RequestRecords(model, bill_init) if records else None
    # The chart timeline is built when charts are drawn, not for every run.
    source = partial(_build_timeline, model, costs={name: block["cost_usd"]
                                                   for name, block in functions.items()},
                     width_s=timeline_width_s, period_shares=(edges, shares)) \
        if timeline else None
    return Result(model.scenario, summary, series, model.run_info(), request_records,
                  dependency_series=dependency_rows, timeline_source=source)


def _build_timeline(model: "Model", **options: Any) -> Any:
    # Imported when charts are drawn: a run without charts does not load the chart data
    # module (nor NumPy's masked arrays, which it pulls in).
    from lambdasim.results.timeline import build_timeline

    return build_timeline(model, **options)


#: Period percentiles are reduced for several functions at once, about this many requests
#: at a time (few NumPy calls for thousands of functions, a bounded amount held).
_PERIOD_BATCH = 1 << 18


def _level_statistics(functions: dict[str, Any], per_period: dict[str, dict[str, Any]],
                      busy_levels: dict[str, StepLevel], warmup: float, horizon: float,
                      edges: np.ndarray) -> None:
    """Every function's concurrency and live environments: maximum and mean over
    ``[warmup, duration)`` into its block, maximum per period into its periods; reduced for
    all functions at once (StepLevel.max_mean_many, period_maxima_many), each as alone."""
    names = list(per_period)
    busy, live = [busy_levels[n] for n in names], [per_period[n].pop("live") for n in names]
    for levels, key, column in ((busy, "concurrency", "ConcurrentExecutions"),
                                (live, "environments", "Environments")):
        maxima, means = StepLevel.max_mean_many(levels, warmup, horizon)
        for name, peak, mean, periods in zip(names, maxima, means,
                                             StepLevel.period_maxima_many(levels, edges)):
            functions[name][key]["max"] = peak
            functions[name][key]["mean"] = round(mean, 6)
            per_period[name][column] = periods


def _period_statistics(pending: list[dict[str, Any]], edges: np.ndarray) -> None:
    """Replace the held samples of ``pending`` functions by their per-period statistics and
    their summary blocks' time statistics (latency, Duration, Init Duration)."""
    if not pending:
        return
    for periods, durations, latency in zip(
            pending, period_time_stats_ms_many([p["durations"] for p in pending]),
            period_percentiles_ms_many([p["latency"] for p in pending], edges, (50.0, 99.0))):
        periods["durations"], periods["latency"] = durations, latency
    blocks = [periods.pop("summary") for periods in pending]
    stats = iter(time_stats_ms_many([sample for _, samples in blocks
                                     for sample in samples.values()]))
    for block, samples in blocks:
        for key in samples:
            block[key] = next(stats)
    pending.clear()
