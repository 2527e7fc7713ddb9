"""Per-period figures of a run that need more than counting: latency percentiles of the
requests that arrived in each period, and what each period cost.

``metrics.csv`` gains, per period and function, ``Latency_p50_ms`` and ``Latency_p99_ms``
(end-to-end latency of the requests that arrived in the period and were answered, retries
included) and ``Cost_usd`` (the share of the run's bill used in the period: every item of
``cost_usd``, placed where its usage happened, adding up to ``cost_usd.total``; the charts'
cost bins are the same shares, :func:`cost_shares`).
:func:`lambdasim.results.result.build_result` calls these once, after the run.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from lambdasim.engine.billing import COST_ITEMS, billed_ms, init_is_billed, load_prices
from lambdasim.engine.function import COLD, PROVISIONED, RESTORE
from lambdasim.engine.metrics import round_to, sorted_within

if TYPE_CHECKING:  # pragma: no cover
    from lambdasim.engine.model import Model

__all__ = ["period_percentiles_ms", "period_percentiles_ms_many", "cost_shares",
           "cost_shares_many", "period_costs",
           "rounded_periods", "SUMMED_COLUMNS", "merge_series"]

#: Series columns that several reporters of one function may write, summed where they meet:
#: ``ProvisionedPollers`` of provisioned-mode SQS and Kafka mappings (the event poller units
#: a planner pays for, https://aws.amazon.com/lambda/pricing/). Each source keeps its own
#: share in a column of its own (``SQSProvisionedPollers``, ``KafkaPollers``).
SUMMED_COLUMNS = frozenset({"ProvisionedPollers"})


def merge_series(into: dict, columns: Mapping[str, Any], function: str) -> None:
    """Add one reporter's per-period ``columns`` to ``into`` (column -> values), in place.

    A column already in ``into`` is summed element-wise when it is one of
    :data:`SUMMED_COLUMNS` (values of equal length; None counts as 0 unless both are None);
    any other duplicate raises ValueError naming ``function`` and the column, since silently
    keeping one reporter's values would show a plausible but wrong figure.
    """
    for column, values in columns.items():
        if column not in into:
            into[column] = values
        elif column in SUMMED_COLUMNS:
            given = into[column]
            if len(given) != len(values):
                raise ValueError(f"function {function}: column {column} has {len(given)} and "
                                 f"{len(values)} periods from two reporters")
            into[column] = [None if x is None and y is None else (x or 0) + (y or 0)
                            for x, y in zip(given, values)]
        else:
            raise ValueError(f"function {function}: two reporters write the column {column}")


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
    width = len(levels)
    if not samples:
        return []
    # Every sample's requests one after the other, each tagged with its sample's index.
    if len(samples) == 1:
        arrived_s, latency_s = samples[0]
        owner = None
    else:
        arrived_s = np.concatenate([arrived for arrived, _ in samples])
        latency_s = np.concatenate([latency for _, latency in samples])
        owner = np.repeat(np.arange(len(samples), dtype=np.int64),
                          [arrived.size for arrived, _ in samples])
    index = np.searchsorted(edges, arrived_s, side="right") - 1
    keep = (index >= 0) & (index < count)
    index, values = index[keep], latency_s[keep] * 1000.0
    group = index if owner is None else owner[keep] * count + index
    del keep, owner
    sizes = np.bincount(group, minlength=len(samples) * count).reshape(len(samples), count)
    kept = sizes.sum(axis=1)
    filled = np.count_nonzero(sizes, axis=1)
    stops = np.cumsum(kept)
    out: list[list[tuple] | None] = [None] * len(samples)
    # Few large periods (one busy function): group by period (a stable integer sort), then
    # only the order statistics each percentile needs (np.partition), which are those of
    # the full sort below -- the same figures, without sorting every request.
    large = (filled > 0) & (kept >= 256 * filled)
    for k in np.flatnonzero(large).tolist():
        lo, hi = int(stops[k] - kept[k]), int(stops[k])
        starts = np.concatenate([[0], np.cumsum(sizes[k])[:-1]]).astype(np.int64)
        out[k] = _large_periods(values[lo:hi][np.argsort(index[lo:hi], kind="stable")],
                                starts, sizes[k], np.flatnonzero(sizes[k]), levels)
    small = np.flatnonzero((filled > 0) & ~large)
    for k in np.flatnonzero(filled == 0).tolist():
        out[k] = [(None,) * width] * count
    if not small.size:
        return out
    if small.size < len(samples):
        chosen = np.zeros(len(samples), dtype=bool)
        chosen[small] = True
        rows = np.repeat(chosen, kept)
        group, values = group[rows], values[rows]
        del rows
    # One sort of every small sample's values by (sample, period, latency).
    every = sorted_within(values, group)
    del group, values
    sizes = sizes[small]
    # The arithmetic of each sample alone (positions within it), then shifted to where it
    # sits among them: its base.
    starts = np.cumsum(sizes, axis=1) - sizes
    base = np.repeat(np.cumsum(kept[small]) - kept[small], count).reshape(sizes.shape)
    places = sizes > 0
    starts, sizes, base = starts[places], sizes[places], base[places]
    columns = []
    for level in levels:
        position = starts + (sizes - 1) * (level / 100.0)
        floor = np.floor(position).astype(np.int64)
        low = floor + base
        high = np.minimum(floor + 1, starts + sizes - 1) + base
        columns.append(every[low] + (every[high] - every[low]) * (position - floor))
    table = list(zip(*round_to(np.array(columns), 6)))
    if table and len(table) == places.size:  # every period of every sample has requests
        flat = table
    else:
        flat = [(None,) * width] * places.size
        for at, row in zip(np.flatnonzero(places.ravel()).tolist(), table):
            flat[at] = row
    for i, k in enumerate(small.tolist()):
        out[k] = flat[i * count:(i + 1) * count]
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


def cost_shares(model: "Model", name: str, edges: np.ndarray,
                cost: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A function's ``cost_usd`` items spread over the bins of ``edges`` by where the usage
    each one bills happened.

    Only the usage the run's bill counts takes part: the attempts of requests arriving in
    ``[warmup, duration)`` (placed by the bin in which the attempt started, as CloudWatch
    counts invocations) and the always-on usage within that window. Requests by
    invocations; duration by billed Duration of on-demand invocations; init by what billing
    Init adds to on-demand cold starts (from ``billing.date`` on) and what SnapStart's Billed
    Restore Duration adds to restores; ephemeral storage by on-demand billed time, Init
    included; the rest by the reporters' ``cost_weights`` (provisioned capacity configured
    and executed, SnapStart cache seconds and restores, event poller unit seconds). The
    prices are proportional within an item (the tiers' average price, the free tier's share,
    the minimum charges), so each item's bins add up to the item.

    Parameters
    ----------
    model : Model
        The finished run.
    name : str
        The function.
    edges : ndarray
        Bin boundaries (seconds) covering the run.
    cost : mapping
        The function's ``cost_usd`` block (items in USD).

    Returns
    -------
    dict of str to ndarray
        One array (USD per bin) per item of :data:`~lambdasim.engine.billing.COST_ITEMS`.
    """
    config = model.scenario.config
    fconfig = config["functions"][name]
    prices = load_prices(config["billing"]["prices"])
    bill_init = init_is_billed(prices, config["billing"]["date"], fconfig["package_type"],
                               fconfig["runtime"])
    warmup, horizon = model.warmup_s, model.duration_s
    count = len(edges) - 1
    attempts = model.recorders[name].table("attempts")
    origin = attempts["origin"]
    counted = (origin >= warmup) & (origin < horizon)
    t = attempts["t"][counted]
    codes = attempts["code"][counted].astype(np.int64)
    duration = attempts["duration"][counted]
    index = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, count - 1)
    on_demand = (codes & PROVISIONED) == 0
    billed = billed_ms(duration)
    if not on_demand.all():
        billed = np.where(on_demand, billed, 0.0)
    init_extra = np.zeros_like(billed)
    if bill_init:
        # SnapStart restores are cold starts without an Init: their billed time comes from
        # the SnapStart reporter below.
        cold = np.flatnonzero(on_demand & ((codes & COLD) != 0) & ((codes & RESTORE) == 0))
        init_extra[cold] = (billed_ms(duration[cold] + attempts["init"][counted][cold])
                            - billed[cold])

    def per_bin(weights=None) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=count).astype(np.float64)

    weights = {"requests": per_bin(), "duration": per_bin(billed),
               "init": per_bin(init_extra), "ephemeral_storage": per_bin(billed + init_extra)}
    for reporter in model.reporters.get(name, ()):
        if hasattr(reporter, "cost_weights"):
            for item, w in reporter.cost_weights(model, edges, prices).items():
                weights[item] = weights.get(item, 0.0) + np.asarray(w, dtype=np.float64)
    out = {}
    for item in COST_ITEMS:
        total = float(cost.get(item) or 0.0)
        w = weights.get(item)
        if total == 0.0:
            out[item] = np.zeros(count)
            continue
        mass = 0.0 if w is None else float(w.sum())
        if mass <= 0.0:  # billed without usage on the grid: spread over the window
            w = np.diff(np.clip(edges, warmup, horizon))
            mass = float(w.sum()) or 1.0
        out[item] = total * (w / mass)
    return out


def cost_shares_many(model: "Model", costs: Mapping[str, Mapping[str, Any]],
                     edges: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """:func:`cost_shares` of every function of ``costs`` (name -> its ``cost_usd`` block),
    each exactly as alone.

    Functions without a reporter of their own cost weights (the common case: on-demand
    functions, thousands of them) are placed together: their attempts' columns one after
    the other, each row's bin offset by its function's, so one ``bincount`` per item
    accumulates every bin in the same order as the function's own would. The others go
    one at a time through :func:`cost_shares`.
    """
    return _share_dicts(list(costs), _cost_share_tables(model, costs, edges))


def _share_dicts(names: list[str], tables: dict[str, np.ndarray]
                 ) -> dict[str, dict[str, np.ndarray]]:
    """Per function (``names``, the tables' rows), its item -> USD per bin (rows' views)."""
    rows = [list(tables[item]) for item in COST_ITEMS]
    return {name: dict(zip(COST_ITEMS, items)) for name, items in zip(names, zip(*rows))}


def _cost_share_tables(model: "Model", costs: Mapping[str, Mapping[str, Any]],
                       edges: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`cost_shares_many` as one table per item of
    :data:`~lambdasim.engine.billing.COST_ITEMS`: USD per bin, one row per function of
    ``costs`` (in its order) by ``len(edges) - 1`` bins."""
    config = model.scenario.config
    prices = load_prices(config["billing"]["prices"])
    warmup, horizon = model.warmup_s, model.duration_s
    count = len(edges) - 1
    names = list(costs)
    tables = {item: np.zeros((len(names), count)) for item in COST_ITEMS}
    batch, places = [], []  # the functions placed together and their rows
    for k, name in enumerate(names):
        reporters = model.reporters.get(name)
        if reporters and any(hasattr(reporter, "cost_weights") for reporter in reporters):
            for item, values in cost_shares(model, name, edges, costs[name]).items():
                tables[item][k] = values
        else:
            batch.append(name)
            places.append(k)
    if not batch:
        return tables
    recorders = model.recorders
    tables_of = [recorders[name].table("attempts") for name in batch]
    sizes = [table["t"].size for table in tables_of]
    t = np.concatenate([table["t"] for table in tables_of])
    # Attempts of the fast path carry their start as their origin (one array): joined once.
    origin = (t if all(table["origin"] is table["t"] for table in tables_of)
              else np.concatenate([table["origin"] for table in tables_of]))
    counted = (origin >= warmup) & (origin < horizon)
    del origin

    def column(key: str) -> np.ndarray:
        joined = np.concatenate([table[key] for table in tables_of])
        return joined if every_counted else joined[counted]

    every_counted = bool(counted.all())  # no warm-up: no selection to make
    function = np.repeat(np.arange(len(batch), dtype=np.int64), sizes)
    if not every_counted:
        function, t = function[counted], t[counted]
    # Each row's bin, after the bins of the functions before its own (few temporaries of
    # the run's size: a million rows and more).
    place = np.searchsorted(edges, t, side="right")
    del t
    place -= 1
    np.clip(place, 0, count - 1, out=place)
    if len(batch) > 1:
        place += function * count
    codes = column("code").astype(np.int64)
    duration = column("duration")
    on_demand = (codes & PROVISIONED) == 0
    billed = billed_ms(duration)
    if not on_demand.all():
        billed = np.where(on_demand, billed, 0.0)
    init_extra = np.zeros_like(billed)
    cold = np.zeros(0, dtype=np.int64)  # the rows init_extra is not 0 in
    functions = config["functions"]
    billing_date = config["billing"]["date"]
    known: dict[tuple[str, str], bool] = {}  # init_is_billed by package type and runtime
    for name in batch:
        kind = (functions[name]["package_type"], functions[name]["runtime"])
        if kind not in known:
            known[kind] = init_is_billed(prices, billing_date, *kind)
    bill_init = np.array([known[functions[name]["package_type"], functions[name]["runtime"]]
                          for name in batch], dtype=bool)
    if bill_init.any():
        # As cost_shares: SnapStart restores are cold starts without an Init.
        cold = np.flatnonzero((codes & (COLD | RESTORE | PROVISIONED)) == COLD)
        if not bill_init.all():
            cold = cold[bill_init[function[cold]]]
        init = column("init")
        init_extra[cold] = billed_ms(duration[cold] + init[cold]) - billed[cold]
        del init
    del codes, duration, function

    def per_bin(weights=None, rows=place) -> np.ndarray:
        return np.bincount(rows, weights=weights, minlength=len(batch) * count).astype(
            np.float64).reshape(len(batch), count)

    # init over its cold rows alone: the zeros of the others add nothing to a bin's sum.
    weights = {"requests": per_bin(), "duration": per_bin(billed),
               "init": per_bin(init_extra[cold], place[cold]),
               "ephemeral_storage": per_bin(billed + init_extra)}
    del billed, init_extra
    # Without usage on the grid an item is spread over the window, as cost_shares does.
    window = np.diff(np.clip(edges, warmup, horizon))
    window_mass = float(window.sum()) or 1.0
    blocks = [costs[name] for name in batch]
    every = len(batch) == len(names)
    for item in COST_ITEMS:
        totals = np.array([float(block.get(item) or 0.0) for block in blocks])
        if not totals.any():  # an item none of them is billed (provisioned...): zeros
            continue
        w = weights.get(item)
        masses = np.zeros(len(batch)) if w is None else w.sum(axis=1)
        spread = masses <= 0.0
        if w is None:
            w = np.zeros((len(batch), count))
        values = totals[:, None] * (w / np.where(spread, 1.0, masses)[:, None])
        for k in np.flatnonzero(spread & (totals != 0.0)).tolist():
            values[k] = totals[k] * (window / window_mass)
        values[totals == 0.0] = 0.0  # an item not billed: zeros, as cost_shares gives
        if every:
            tables[item] = values
        else:
            tables[item][places] = values
    return tables


def period_costs(model: "Model", costs: Mapping[str, Mapping[str, Any]],
                 per_period: dict[str, dict[str, Any]],
                 edges: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """``Cost_usd`` per period and function: the share of the function's ``cost_usd.total``
    used in the period (:func:`cost_shares`), every item included, tiers and free tier as in
    the bill. The periods add up to ``cost_usd.total`` to 1e-9: they are rounded to 1e-9 USD
    cumulatively (each period is the difference of the rounded running totals). Periods that
    end before the warm-up does are ``None``: the bill, like the table, counts only the
    requests arriving in ``[warmup, duration)``.

    Fills ``per_period[name]["cost"]`` (rounded, with ``None``) and ``["cost_raw"]`` (floats,
    0 for warm-up periods). Returns each function's :func:`cost_shares` on ``edges`` (the
    chart timeline reuses them when its bins are the periods). Every function's periods are
    computed at once (:func:`cost_shares_many`), each exactly as alone.
    """
    warm = np.asarray(edges[1:]) <= model.warmup_s
    names = list(per_period)
    tables = _cost_share_tables(model, {name: costs[name] for name in names}, edges)
    every = _share_dicts(names, tables)
    if not names:
        return every
    # The items added in COST_ITEMS order, one after the other, as np.sum(..., axis=0) of
    # one function's items does.
    raw = tables[COST_ITEMS[0]].copy()
    for item in COST_ITEMS[1:]:
        raw += tables[item]
    masses = raw.sum(axis=1)
    billed = masses > 0.0  # the items' rounding: add up to total
    totals = np.array([float(costs[name]["total"]) for name in names])
    raw[billed] = raw[billed] * (totals[billed] / masses[billed])[:, None]
    rounded = rounded_periods(raw, warm)
    for name, row, values in zip(names, raw, rounded):
        periods = per_period[name]
        periods["cost_raw"] = row
        periods["cost"] = values
    return every


def rounded_periods(raw: np.ndarray, warm: np.ndarray) -> list:
    """Per-period USD rounded to 1e-9 so that they add up to the rounded total: each is the
    difference of consecutive rounded running totals. ``warm`` periods are ``None``.

    ``raw`` holds one function's periods, or one row per function (then one list per row,
    each exactly as alone: the running totals run along the rows).
    """
    raw = np.asarray(raw, dtype=np.float64)
    running = np.round(np.cumsum(raw, axis=-1) * 1e9)
    zero = np.zeros(raw.shape[:-1] + (1,))
    values = np.diff(np.concatenate([zero, running], axis=-1), axis=-1) / 1e9
    rounded = round_to(values, 9)
    warm = np.asarray(warm, dtype=bool)
    if not warm.any():
        return rounded
    places = np.flatnonzero(warm).tolist()
    rows = rounded if raw.ndim > 1 else [rounded]
    for row in rows:
        for k in places:
            row[k] = None
    return rounded
