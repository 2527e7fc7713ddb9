"""Per-period figures of a run that need more than counting: latency percentiles of the
requests that arrived in each period, and what each period cost.

``metrics.csv`` gains, per period and function, ``Latency_p50_ms`` and ``Latency_p99_ms``
(end-to-end latency of the requests that arrived in the period and were answered, retries
included) and ``Cost_usd`` (what the attempts that started in the period cost, plus the
provisioned concurrency configured in it). :func:`lambdasim.results.result.build_result`
calls these once, after the run.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lambdasim.engine.billing import billed_ms, tiered_cost
from lambdasim.engine.function import COLD, PROVISIONED
from lambdasim.engine.metrics import deal_rows, round6, sorted_within

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["period_percentiles_ms", "period_percentiles_ms_many", "period_billed_ms",
           "period_costs"]


def period_percentiles_ms(arrived_s: np.ndarray, latency_s: np.ndarray, edges: np.ndarray,
                          levels: tuple[float, ...]) -> list[tuple[float | None, ...]]:
    """Percentiles of latency per period of arrival, in milliseconds.

    Parameters
    ----------
    arrived_s, latency_s : ndarray
        Arrival time and latency (seconds) of each request, in any order.
    edges : ndarray
        Period boundaries (seconds), ``len(edges) - 1`` periods.
    levels : tuple of float
        Percentile levels (0-100), computed as ``numpy.percentile`` does (linear).

    Returns
    -------
    list of tuple
        One tuple per period, one value per level (rounded to 1 ns), None for a period in
        which no request arrived. O(n log n): one sort of all requests by (period, latency).
    """
    return period_percentiles_ms_many([(arrived_s, latency_s)], edges, levels)[0]


def period_percentiles_ms_many(samples: list[tuple[np.ndarray, np.ndarray]],
                               edges: np.ndarray, levels: tuple[float, ...]) -> list[list[tuple]]:
    """:func:`period_percentiles_ms` of several ``(arrived_s, latency_s)`` (one per function).

    Each gets exactly the figures it would get alone; the small periods of all of them are
    sorted and reduced together (thousands of functions cost a few NumPy calls).
    """
    count = len(edges) - 1
    out: list[list[tuple] | None] = []
    small = []  # (its place in out, group index, values ms, sizes, starts)
    for arrived_s, latency_s in samples:
        index = np.searchsorted(edges, arrived_s, side="right") - 1
        keep = (index >= 0) & (index < count)
        index, values = index[keep], latency_s[keep] * 1000.0
        sizes = np.bincount(index, minlength=count)[:count]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        filled = np.flatnonzero(sizes)
        if filled.size and values.size >= 256 * filled.size:
            # Few large periods (one busy function): group by period (a stable integer
            # sort), then only the order statistics each percentile needs (np.partition),
            # which are those of the full sort below -- the same figures, without sorting
            # every request.
            out.append(_large_periods(values[np.argsort(index, kind="stable")], starts,
                                      sizes, filled, levels))
            continue
        out.append([(None,) * len(levels)] * count)
        if filled.size:
            small.append((len(out) - 1, index, values, sizes, starts, filled))
    if not small:
        return out
    # One sort of every small sample's values by (sample, period, latency).
    base = 0
    groups, values, lows, highs, fractions = [], [], [], [], []
    for k, (_, index, sample, sizes, starts, filled) in enumerate(small):
        groups.append(index + k * count)
        values.append(sample)
        low, high, fraction = [], [], []
        for level in levels:
            # The arithmetic of one sample alone (positions within it), then shifted.
            position = starts[filled] + (sizes[filled] - 1) * (level / 100.0)
            floor = np.floor(position).astype(np.int64)
            low.append(floor + base)
            high.append(np.minimum(floor + 1, starts[filled] + sizes[filled] - 1) + base)
            fraction.append(position - floor)
        lows.append(np.stack(low, axis=1))
        highs.append(np.stack(high, axis=1))
        fractions.append(np.stack(fraction, axis=1))
        base += sample.size
    group = np.concatenate(groups)
    every = sorted_within(np.concatenate(values), group)
    low, high = np.concatenate(lows), np.concatenate(highs)
    value = every[low] + (every[high] - every[low]) * np.concatenate(fractions)
    owners = []
    for place, _, _, _, _, filled in small:
        out[place] = list(out[place])
        owners.append((out[place], filled.tolist()))
    deal_rows(list(zip(*round6(value.T))), owners)
    return out


def _large_periods(grouped: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                   filled: np.ndarray, levels: tuple[float, ...]) -> list[tuple]:
    """:func:`period_percentiles_ms` for values grouped by period but not sorted within."""
    rows: list[list[float | None]] = [[None] * len(levels) for _ in range(len(sizes))]
    for k in filled.tolist():
        start, size = int(starts[k]), int(sizes[k])
        picks = []
        for level in levels:
            # The same arithmetic as on the fully sorted values (absolute positions).
            position = start + (size - 1) * (level / 100.0)
            low = int(np.floor(position))
            high = min(low + 1, start + size - 1)
            picks.append((position, low, high))
        needed = sorted({low - start for _, low, _ in picks} | {high - start for *_, high in picks})
        part = np.partition(grouped[start:start + size], needed)
        for i, (position, low, high) in enumerate(picks):
            a, b = part[low - start], part[high - start]
            rows[k][i] = round(float(a + (b - a) * (position - low)), 6)
    return [tuple(row) for row in rows]


def period_billed_ms(edges, t, codes, init_s, duration_s, bill_init: bool) -> dict[str, Any]:
    """Billable usage per period of the attempts that started in it: invocations and the
    on-demand billed milliseconds (Init included where it is billed)."""
    count = len(edges) - 1
    index = np.searchsorted(edges, t, side="right") - 1
    index = np.clip(index, 0, count - 1)
    on_demand = (codes & PROVISIONED) == 0
    billed = billed_ms(duration_s)
    if bill_init:
        cold = on_demand & ((codes & COLD) != 0)
        billed = np.where(cold, billed_ms(duration_s + init_s), billed)
    return {"invocations": np.bincount(index, minlength=count).astype(np.float64),
            "on_demand_ms": np.bincount(index[on_demand], weights=billed[on_demand],
                                        minlength=count)}


def period_costs(model: "Model", usages, per_period: dict[str, dict[str, Any]], prices,
                  edges: np.ndarray) -> None:
    """``Cost_usd`` per period and function: what the attempts that started in the period
    cost at the run's prices (requests, duration and Init, storage above 512 MB), plus
    provisioned concurrency configured and executed in it. The free tier is not taken off
    (it is monthly, not per period). With no warm-up and no free tier the periods add up to
    the run's ``cost_usd.total`` (provisioned capacity apart: the run's bill rounds it up to
    5 minutes per unit, the periods do not)."""
    request_price = float(prices["request_usd_per_million"]) / 1e6
    storage_price = float(prices["ephemeral_storage_usd_per_gb_s"])
    free_mb = float(prices["ephemeral_storage_free_mb"])
    gb_s_by_arch: dict[str, float] = {}
    for u in usages:
        gb_s_by_arch[u.architecture] = gb_s_by_arch.get(u.architecture, 0.0) + u.gb_s
    # The average tiered price per GB-s of each architecture, as the run's bill applies it.
    arch_price = {arch: tiered_cost(gb_s, prices["duration_usd_per_gb_s"][arch]) / gb_s
                  if gb_s else float(prices["duration_usd_per_gb_s"][arch][0]["usd"])
                  for arch, gb_s in gb_s_by_arch.items()}
    for name, data in per_period.items():
        fconfig = model.scenario.config["functions"][name]
        usage = data.pop("billed")
        gb = fconfig["memory_mb"] / 1024.0
        extra_gb = max(0.0, fconfig["ephemeral_storage_mb"] - free_mb) / 1024.0
        on_demand_s = usage["on_demand_ms"] / 1000.0
        cost = (usage["invocations"] * request_price
                + on_demand_s * gb * arch_price[fconfig["architecture"]]
                + on_demand_s * extra_gb * storage_price)
        for reporter in model.reporters.get(name, ()):
            if hasattr(reporter, "period_cost_usd"):
                cost = cost + np.asarray(reporter.period_cost_usd(model, edges))
        data["cost_raw"] = cost.tolist()
        data["cost"] = [round(v, 9) for v in data["cost_raw"]]
