"""The per-period series of a run (``Result.series``, metrics.csv): CloudWatch-style metrics
per period, one row per function then an ``(account)`` row, as equal-length columns named in
:data:`SERIES_COLUMNS`.

:func:`lambdasim.results.result.build_result` reduces each function's records to its
periods' figures; :func:`build_series` lays them out. The columns are built a column at a
time, each function's values dealt into every ``F + 1``-th row, so that thousands of
functions cost no Python work per row.
"""
from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from lambdasim.results.periods import rounded_periods

__all__ = ["ACCOUNT_ROW", "SERIES_COLUMNS", "EXTRA_COLUMNS", "build_series"]

ACCOUNT_ROW = "(account)"
SERIES_COLUMNS = (
    "period_start_s", "function", "Invocations", "Errors", "Throttles", "ColdStarts",
    "Duration_avg_ms", "Duration_p50_ms", "Duration_p90_ms", "Duration_p99_ms",
    "Duration_max_ms", "Latency_p50_ms", "Latency_p99_ms", "ConcurrentExecutions",
    "Environments", "UnreservedConcurrentExecutions", "ClaimedAccountConcurrency", "Cost_usd",
)
#: Columns that trigger-specific reporters fill for their function's rows (None elsewhere).
EXTRA_COLUMNS: tuple[str, ...] = (
    "IteratorAge_avg_ms", "IteratorAge_max_ms", "StreamPollers",
    "ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage_s", "SQSPollers",
    "ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization",
    "ProvisionedConcurrencyInvocations", "ProvisionedConcurrencySpilloverInvocations",
    "ProvisionedConcurrencyAllocated",
    "AsyncEventsReceived", "AsyncEventAge_avg_ms", "AsyncEventAge_max_ms",
    "AsyncEventsDropped", "AsyncQueueDepth",
    "ProvisionedPollers", "SQSProvisionedPollers", "SumOffsetLag", "MaxOffsetLag",
    "KafkaPollers",
    # API Gateway's names for its front door (lambdasim.engine.invoke.front_door).
    "Count", "4XXError", "5XXError", "Latency_avg_ms", "Latency_max_ms",
    "IntegrationLatency_avg_ms", "IntegrationLatency_max_ms",
)
SERIES_COLUMNS = SERIES_COLUMNS + EXTRA_COLUMNS


def build_series(edges: np.ndarray, per_period: dict[str, dict[str, Any]], account_max,
                 unreserved_max, reserved_total: int) -> dict[str, list]:
    """The series columns: per period, one row per function then the ``(account)`` row.

    Parameters
    ----------
    edges : ndarray
        Period boundaries (seconds), ``P = len(edges) - 1`` periods.
    per_period : dict
        Per function (row order), its periods' figures: ``Invocations``, ``Errors``,
        ``Throttles``, ``ColdStarts``, ``ConcurrentExecutions``, ``Environments`` (P
        integers each); ``durations`` (P tuples: Duration avg, p50, p90, p99, max in ms, or
        five None), ``latency`` (P tuples: p50, p99 in ms, or two None); ``cost`` (P USD or
        None in the warm-up) and ``cost_raw`` (P unrounded USD); ``extra`` (column -> P
        values, the trigger-specific columns of :data:`EXTRA_COLUMNS` it has).
    account_max, unreserved_max : sequence of int
        Per period, the account's and the unreserved pool's peak concurrency.
    reserved_total : int
        Concurrency reserved by functions (``ClaimedAccountConcurrency`` adds it).

    Returns
    -------
    dict of str to list
        Every column of :data:`SERIES_COLUMNS`, ``P x (F + 1)`` rows (period-major), None
        where a column has no value for the row.
    """
    periods = len(edges) - 1
    names = list(per_period)
    width = len(names) + 1  # rows per period
    data = list(per_period.values())
    nothing = [None] * periods

    def column(values_by_function, account_values) -> list:
        out: list = [None] * (periods * width)
        for f, values in enumerate(values_by_function):
            if values is not nothing:  # most columns are a few trigger types' only
                out[f::width] = values
        if account_values is not nothing:
            out[width - 1::width] = account_values
        return out

    rows: dict[str, list] = {  # each period's start one float, in each of its rows
        "period_start_s": np.repeat(np.array(edges[:-1].tolist(), dtype=object), width).tolist(),
        "function": (names + [ACCOUNT_ROW]) * periods,
    }
    def counts(table: np.ndarray, account_values: np.ndarray) -> list:  # as column(), at once
        return np.vstack([table, account_values]).T.ravel().tolist()

    for key in ("Invocations", "Errors", "Throttles", "ColdStarts", "Environments"):
        table = np.array([np.asarray(d[key], dtype=np.int64) for d in data]).reshape(
            len(data), periods)
        rows[key] = counts(table, table.sum(axis=0))
    for key, columns in (("durations", ("Duration_avg_ms", "Duration_p50_ms", "Duration_p90_ms",
                                         "Duration_p99_ms", "Duration_max_ms")),
                         ("latency", ("Latency_p50_ms", "Latency_p99_ms"))):
        # Each function's rows of figures (a tuple per period) flattened once, every
        # len(columns)-th of them dealt into its column's rows.
        outs = [[None] * (periods * width) for _ in columns]
        for f, d in enumerate(data):
            flat = list(chain.from_iterable(d[key]))
            for i, out in enumerate(outs):
                out[f::width] = flat[i::len(columns)]
        rows.update(zip(columns, outs))
    rows["ConcurrentExecutions"] = counts(
        np.array([np.asarray(d["ConcurrentExecutions"], dtype=np.int64) for d in data]).reshape(
            len(data), periods), np.asarray(account_max, dtype=np.int64))
    unreserved = np.asarray(unreserved_max, dtype=np.int64)
    rows["UnreservedConcurrentExecutions"] = column([nothing] * len(data), unreserved.tolist())
    rows["ClaimedAccountConcurrency"] = column([nothing] * len(data),
                                               (reserved_total + unreserved).tolist())
    # The account row: the functions' shares summed, rounded as theirs (warm-up: None).
    rows["Cost_usd"] = column([d["cost"] for d in data],
                              rounded_periods(np.sum([d["cost_raw"] for d in data], axis=0),
                                              np.array([v is None for v in data[0]["cost"]]))
                              if data else nothing)
    filled = set().union(*(d["extra"] for d in data))  # the few columns some function has
    for key in EXTRA_COLUMNS:
        given = [d["extra"].get(key) for d in data] if key in filled else []
        rows[key] = column([nothing if values is None
                            else [values[k] for k in range(periods)] for values in given],
                           nothing)
    return {key: rows[key] for key in SERIES_COLUMNS}
