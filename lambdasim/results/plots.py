"""Charts of a run: what a capacity planner looks at before reading any number.

Per function:

* ``concurrency-NAME.png`` -- execution environments over time stacked by state (invoking,
  initializing, idle; idle provisioned environments apart when the function has provisioned
  concurrency), the peak of invoking + initializing in each bin (what Lambda's concurrency
  limits count) and the reserved and account limits;
* ``requests-NAME.png`` -- requests arriving and invocations per second, and below
  them throttled attempts, requests that finally failed with a throttle, and cold starts;
* ``latency-NAME.png`` -- the end-to-end latency distribution (CDF on a log-scaled axis) of
  requests served warm against those whose final attempt was a cold start, p50 and p99 marked;
* ``latency_time-NAME.png`` -- end-to-end latency p50 and p99 of the requests arriving in
  each bin, against the table's p50 and p99;
* ``cost-NAME.png`` -- the cost of each bin by item, and the running total that ends at the
  table's cost;
* where those triggers exist: ``async-NAME.png`` (event age, queue depth, events received and
  dropped), ``sqs-NAME.png`` (backlog, age of the oldest message, pollers),
  ``stream-NAME.png`` (iterator age, pollers), ``kafka-NAME.png`` (offset lag, event pollers
  with their minimum and maximum, concurrency against the partition count),
  ``front-door-NAME.png`` (API Gateway's Count, 4XX/5XX errors and latencies).

And for the whole run (:data:`RUN_CHARTS`): ``concurrency.png`` for the account when there
are several functions: each function's busy environments stacked, the account's peak
concurrency and its limit; with more than
:data:`~lambdasim.results.source_charts.ACCOUNT_BANDS` functions, the busiest (by peak
concurrency) apart and the others as one band, "other functions (k)"; ``dependencies.png``
when the scenario has shared dependencies. ``results/README.md`` lists every file of a
results folder (tests/test_results_readme.py holds it to :func:`chart_names`).

Charts agree with the summary table: counts in legends are the table's (requests arriving
after the warm-up and the attempts made for them); what the warm-up adds is drawn apart in
grey; every chart shades the warm-up and uses the same bins
(:attr:`lambdasim.results.timeline.Timeline.width_s`); each label says whether it counts
requests or invocation attempts. The data comes from :attr:`Result.timeline
<lambdasim.results.result.Result.timeline>` (:mod:`lambdasim.results.timeline`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from lambdasim.results.chart_kit import Chart
from lambdasim.results.function_charts import (COST_LABELS, concurrency_chart, cost_chart,
                                               latency_chart, latency_time_chart,
                                               requests_chart)
from lambdasim.results.source_charts import (account_chart, async_chart, dependency_chart,
                                             front_door_chart, kafka_chart, sqs_chart,
                                             stream_chart)

__all__ = ["Chart", "concurrency_chart", "requests_chart", "latency_chart",
           "latency_time_chart", "cost_chart", "async_chart", "sqs_chart", "stream_chart",
           "front_door_chart", "kafka_chart", "dependency_chart", "account_chart", "charts",
           "chart_names", "write_plots", "FUNCTION_CHARTS", "RUN_CHARTS", "COST_LABELS"]


#: Chart kinds drawn for every function: file prefix -> function. Trigger charts return None
#: when the function has no such trigger.
FUNCTION_CHARTS: dict[str, Callable[[Any, str], Chart | None]] = {
    "concurrency": concurrency_chart,
    "requests": requests_chart,
    "latency": latency_chart,
    "latency_time": latency_time_chart,
    "cost": cost_chart,
    "async": async_chart,
    "sqs": sqs_chart,
    "stream": stream_chart,
    "kafka": kafka_chart,
    "front-door": front_door_chart,
}


def _several_functions(result: Any) -> Chart | None:
    """The account chart, drawn when the run has several functions."""
    return account_chart(result) if len(result.summary["functions"]) > 1 else None


#: Charts of the whole run: file name -> function of the result (None when it does not
#: apply).
RUN_CHARTS: dict[str, Callable[[Any], Chart | None]] = {
    "concurrency.png": _several_functions,
    "dependencies.png": dependency_chart,
}


def chart_names() -> list[str]:
    """Every chart file name a results folder can hold, ``F`` for a function's name."""
    return [f"{kind}-F.png" for kind in FUNCTION_CHARTS] + list(RUN_CHARTS)


def charts(result: Any):
    """Yield ``(file name, chart)`` for every chart of a run, one at a time."""
    for name in result.summary["functions"]:
        for kind, make in FUNCTION_CHARTS.items():
            chart = make(result, name)
            if chart is not None:
                yield f"{kind}-{name}.png", chart
    for file_name, make in RUN_CHARTS.items():
        chart = make(result)
        if chart is not None:
            yield file_name, chart


def write_plots(result: Any, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every chart of a run as PNG files into ``out_dir`` (created when missing).

    Returns
    -------
    list of pathlib.Path
        The files written, in drawing order.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, chart in charts(result):
        path = folder / file_name
        data = chart.png()  # the chart is dropped, not cleared (clearing rebuilds its axes)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        written.append(path)
    return written
