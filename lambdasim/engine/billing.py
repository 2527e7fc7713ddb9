"""What Lambda charges for a run, from a dated price file.

Prices live in ``lambdasim/prices/<name>.json`` (us-east-1, effective 2025-08-01, from
https://aws.amazon.com/lambda/pricing/), chosen by ``billing.prices`` in the scenario; no
price is written in code.

* Requests: $0.20 per million invocations (handler runs, retries included; throttled
  attempts are not billed).
* Duration: GB-seconds at the configured memory, each invocation rounded up to the next
  1 ms (``BilledDuration``), priced by architecture with the monthly tiers applied to the
  account's total for that architecture as if the simulated usage were the month's first.
* Init: since 2025-08-01 the Init phase of on-demand cold starts is billed, Billed Duration =
  ceil_ms(Duration + Init Duration)
  (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/);
  before that date (``billing.date``) it was free for managed-runtime zip functions only:
  functions using custom runtimes (``provided.*``) or container images already had their Init
  billed (same source).
* Ephemeral storage above 512 MB: per GB-second of billed duration.
* Provisioned concurrency: configured GB-seconds (from enable to disable, rounded up to
  5 minutes) at the provisioned rate, plus GB-seconds of invocations served by provisioned
  environments at the provisioned execution rate, per architecture (:func:`provisioned_cost`);
  spillover to on-demand environments is billed at on-demand rates. The provisioned model
  fills these quantities in :class:`UsageBill` (``provisioned_gb_s`` and
  ``provisioned_execution_gb_s``, or the constructor's ``provisioned_configured_gb_s`` and
  ``provisioned_billed_ms``) and leaves its executions out of the on-demand billed time.
* Free tier (optional): 1 M requests and 400,000 GB-s a month, shared by the account and
  allocated to functions in proportion to their use; functions with provisioned concurrency
  get none of it (https://aws.amazon.com/lambda/pricing/).

* SnapStart (https://aws.amazon.com/lambda/pricing/): Python and .NET functions pay the
  snapshot cache per GB-second (``snap_start_cache``; at least 3 hours per snapshot) and a
  charge per GB restored (``snap_start_restore``); Java managed runtimes pay neither. Every
  SnapStart function's Billed Restore Duration is billed at the duration rate with its
  invocation: Billed Duration = ceil_ms(Duration + Billed Restore Duration) (in ``init``).
* Event poller units (provisioned mode of Kafka and SQS event source mappings): EPU-hours
  at the price file's rate per source, each poller billed per second with a 1-minute minimum
  (``event_poller_units``).

Every cost is itemised -- ``requests``, ``duration`` (handler Duration), ``init`` (what
billing the Init phase of on-demand cold starts adds: ``ceil_ms(Duration + Init) -
ceil_ms(Duration)`` per cold start, and SnapStart's Billed Restore Duration likewise),
``ephemeral_storage``, ``provisioned``, ``snap_start_cache``, ``snap_start_restore``,
``event_poller_units`` -- and ``total`` is their sum; items that do not apply are 0. The functions' items add up to the account's.

``per_30_days`` projects a run to a 30-day month as the scenario's ``recurs`` says how its
window ``[warmup, duration)`` recurs (:func:`projection`). Each quantity is projected on its
own basis (:meth:`UsageBill.projected`):

* traffic-driven usage measured in the window (the invocations of requests that arrive in
  it, as in the rest of the summary) is multiplied by ``30 days / (duration - warmup)`` for
  ``continuous`` (this traffic all month), by 30 for ``daily`` (the window happens once a
  day, nothing else), by 30/7 for ``weekly``;
* always-on usage, billed whether or not traffic comes, runs for 30 days of wall clock
  (``30 days / (duration - warmup)`` times the window's, :data:`ALWAYS_ON`): the SnapStart
  snapshot cache ("charged ... for as long as the published version is active", at least
  3 hours; https://aws.amazon.com/lambda/pricing/), the minimum pollers of a provisioned-mode
  event source mapping (held and billed per EPU-second whatever the traffic; same page and
  https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html), and the lowest
  provisioned concurrency configured in the window (billed "from the time you enable it ...
  until it is disabled", https://aws.amazon.com/lambda/pricing/) [assumption: outside the
  window the function keeps at least the window's lowest configured capacity; what a schedule
  or target tracking adds above it recurs with the window].

``once`` is not projected at all (the items are then ``None``). The projected month is
billed afresh, so the monthly tiers and the free tier apply to the projected month's usage,
not to the short simulated window.
"""
from __future__ import annotations

import json
import math
from datetime import date
from functools import lru_cache
from operator import itemgetter
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np

from lambdasim.engine.metrics import round_to

__all__ = ["load_prices", "available_price_files", "billed_ms", "tiered_cost",
           "init_is_billed", "request_units", "UsageBill", "bill_account", "cost_report", "provisioned_cost",
           "COST_ITEMS", "MONTH_S", "ALWAYS_ON", "projection"]

#: The items of every ``cost_usd`` block, in order; ``total`` is their sum.
COST_ITEMS = ("requests", "duration", "init", "ephemeral_storage", "provisioned",
              "snap_start_cache", "snap_start_restore", "event_poller_units")
#: The projected month of ``per_30_days``.
MONTH_S = 30 * 86400.0
#: The always-on parts of the cost items, projected over 30 days of wall clock whatever the
#: window's recurrence (:meth:`UsageBill.projected`): item -> what in it is always on.
ALWAYS_ON = {
    "snap_start_cache": "the snapshot cache, kept as long as the published version exists",
    "event_poller_units": "the minimum pollers of provisioned-mode Kafka and SQS mappings",
    "provisioned": "the lowest provisioned concurrency configured in the window",
}


def projection(recurs: str, window_s: float,
               usages: Sequence["UsageBill"] | None = None) -> dict[str, Any]:
    """How a run's window is projected to 30 days.

    Parameters
    ----------
    recurs : {"continuous", "daily", "weekly", "once"}
        How the window recurs (the scenario's ``recurs``).
    window_s : float
        Length of the measured window ``[warmup, duration)`` in seconds.
    usages : sequence of UsageBill, optional
        The run's usage: when given, the result also says how the always-on items were
        projected (``always_on``), and ``basis`` names them when their basis differs from the
        traffic's (``daily``, ``weekly``).

    Returns
    -------
    dict
        ``recurs``, ``factor`` (traffic usage multiplier; None for ``once``) and ``basis``,
        the words printed beside the projected figure (``window repeated daily``); with
        ``usages``, ``always_on``: ``factor`` (30 days over the window; None for ``once``),
        ``basis``, ``items`` (each item with what in it is always on, :data:`ALWAYS_ON`) and
        ``functions`` (the functions with always-on usage, each with the items concerned).
    """
    out = _projection(recurs, window_s)
    if usages is None:
        return out
    functions = {}
    for u in usages:
        items = [item for item, on in (
            ("snap_start_cache", u.snap_start_cache_gb_s),
            ("event_poller_units", u.always_on_kafka_epu_s + u.always_on_sqs_epu_s),
            ("provisioned", u.always_on_provisioned_gb_s)) if on > 0.0]
        if items:
            functions[u.name] = items
    once = out["factor"] is None
    out["always_on"] = {
        "factor": None if once else round(MONTH_S / window_s if window_s > 0 else 0.0, 9),
        "basis": ("not projected: the window happens once" if once
                  else "30 days of wall clock, whatever the traffic"),
        "items": dict(ALWAYS_ON),
        "functions": functions,
    }
    if functions and recurs in ("daily", "weekly"):
        out["basis"] += "; always-on items for 30 days"
    return out


def _projection(recurs: str, window_s: float) -> dict[str, Any]:
    if recurs == "once":
        return {"recurs": recurs, "factor": None,
                "basis": "not projected: the window happens once"}
    if recurs == "daily":
        factor, basis = 30.0, "window repeated daily"
    elif recurs == "weekly":
        factor, basis = 30.0 / 7.0, "window repeated weekly"
    elif recurs == "continuous":
        factor = MONTH_S / window_s if window_s > 0 else 0.0
        basis = "the window's traffic all month"
    else:
        raise ValueError(f"recurs: expected continuous, daily, weekly or once, got {recurs!r}")
    return {"recurs": recurs, "factor": round(factor, 9), "basis": basis}


def available_price_files() -> list[str]:
    """Names of the bundled price files."""
    return list(_price_files())


@lru_cache(maxsize=None)
def _price_files() -> tuple[str, ...]:
    # The bundled files do not change while a process runs; each function's cost shares
    # look them up (a thousand folder listings otherwise).
    folder = resources.files("lambdasim") / "prices"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json")))


@lru_cache(maxsize=None)
def _load(name: str) -> str:
    return (resources.files("lambdasim") / "prices" / f"{name}.json").read_text("utf-8")


def load_prices(name: str) -> dict[str, Any]:
    """The price table ``name`` (e.g. ``us-east-1-2025-08``)."""
    if name not in available_price_files():
        raise ValueError(f"no price file {name!r}; available: {', '.join(available_price_files())}")
    return json.loads(_load(name))


def billed_ms(seconds: np.ndarray) -> np.ndarray:
    """Billed milliseconds: each duration rounded up to the next whole millisecond.

    Durations are first rounded to the nanosecond so that 0.1 s (0.1000000000000000055...)
    bills 100 ms, not 101.
    """
    ms = np.round(np.asarray(seconds, dtype=np.float64) * 1000.0, 6)
    return np.ceil(ms)


def tiered_cost(gb_s: float, tiers: Sequence[Mapping[str, Any]]) -> float:
    """Cost of ``gb_s`` GB-seconds under monthly tiers (cumulative upper bounds)."""
    cost = 0.0
    lower = 0.0
    for tier in tiers:
        upper = tier["up_to_gb_s_per_month"]
        upper = float("inf") if upper is None else float(upper)
        if gb_s <= lower:
            break
        cost += (min(gb_s, upper) - lower) * float(tier["usd"])
        lower = upper
    return cost


def request_units(payload_kb: float, prices: Mapping[str, Any]) -> int:
    """Billed requests of one asynchronous invocation with a ``payload_kb`` payload.

    Async payloads above 256 KB count one extra request per further 64 KB chunk
    (https://aws.amazon.com/lambda/pricing/).
    """
    free_kb = float(prices["async_payload_free_kb"])
    unit_kb = float(prices["async_payload_request_unit_kb"])
    if payload_kb <= free_kb:
        return 1
    return 1 + math.ceil(round((payload_kb - free_kb) / unit_kb, 9))


def init_is_billed(prices: Mapping[str, Any], billing_date: str, package_type: str = "zip",
                   runtime: str = "python3.12") -> bool:
    """Whether on-demand Init is billed on ``billing_date`` (ISO date) for such a function.

    From 2025-08-01 (the price file's ``init_billing_from``) the Init phase is billed for every
    function; before that date only for container images (``package_type: image``) and custom
    runtimes (``provided.*``): "functions using custom runtimes or container images already
    had their INIT billed" (AWS Compute Blog, "AWS Lambda standardizes billing for INIT
    Phase", 2025-04-29,
    https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/).
    """
    if package_type == "image" or runtime.lower().startswith("provided"):
        return True
    return date.fromisoformat(billing_date) >= date.fromisoformat(prices["init_billing_from"])


class UsageBill:
    """Billable usage of one function in the measured window.

    Parameters
    ----------
    name, architecture, memory_mb, ephemeral_storage_mb
        The function's configuration.
    requests : int
        Billed requests (invocations, retries included; throttled attempts are free).
    billed_ms_total : float
        Billed milliseconds of on-demand invocations, each rounded up to 1 ms, Init included
        where it is billed.
    free_storage_mb : float
        Ephemeral storage included in the price (512 MB).
    init_billed_ms : float
        The part of ``billed_ms_total`` due to billing Init (reported as the ``init`` item).
    provisioned_configured_gb_s : float
        Configured provisioned-concurrency GB-seconds (enable to disable, rounded up to
        5 minutes), the ``provisioned_gb_s`` attribute.
    provisioned_billed_ms : float
        Billed milliseconds of invocations served by provisioned environments (not part of
        ``billed_ms_total``), priced at the provisioned execution rate.

    Reporters of a function's features add their own quantities after construction:
    ``snap_start_cache_gb_s`` (snapshot cache GB-seconds), ``snap_start_restored_gb`` (GB
    restored), ``kafka_epu_s`` and ``sqs_epu_s`` (event poller unit seconds, the 1-minute
    minimum ``epu_minimum_s`` applied), and billed Init-like time through
    :meth:`add_billed_init_ms`. The always-on parts of these quantities (:data:`ALWAYS_ON`)
    are also kept apart, as parts of the totals above: ``always_on_provisioned_gb_s`` (the
    window's lowest configured capacity over the window) with
    ``always_on_provisioned_billed_gb_s`` (its share of ``provisioned_gb_s``, the bill's
    5-minute rounding included), ``always_on_kafka_epu_s`` and ``always_on_sqs_epu_s``
    (minimum pollers over the window); the snapshot cache is always on as a whole.
    """

    __slots__ = ("name", "architecture", "memory_mb", "requests", "gb_s", "init_gb_s",
                 "storage_gb_s", "provisioned_gb_s", "provisioned_execution_gb_s",
                 "snap_start_cache_gb_s", "snap_start_restored_gb", "kafka_epu_s", "sqs_epu_s",
                 "epu_minimum_s", "always_on_provisioned_gb_s",
                 "always_on_provisioned_billed_gb_s", "always_on_kafka_epu_s",
                 "always_on_sqs_epu_s")
    #: Quantities that grow with the length of the period billed (see :meth:`scaled`).
    _EXTENSIVE = ("requests", "gb_s", "init_gb_s", "storage_gb_s", "provisioned_gb_s",
                  "provisioned_execution_gb_s", "snap_start_cache_gb_s",
                  "snap_start_restored_gb", "kafka_epu_s", "sqs_epu_s",
                  "always_on_provisioned_gb_s", "always_on_provisioned_billed_gb_s",
                  "always_on_kafka_epu_s", "always_on_sqs_epu_s")
    #: Total -> (its always-on share of the window's bill, the always-on usage over the
    #: window, which the projection scales by wall clock); None: the whole quantity.
    _ALWAYS_ON_PARTS = {
        "provisioned_gb_s": ("always_on_provisioned_billed_gb_s", "always_on_provisioned_gb_s"),
        "kafka_epu_s": ("always_on_kafka_epu_s", "always_on_kafka_epu_s"),
        "sqs_epu_s": ("always_on_sqs_epu_s", "always_on_sqs_epu_s"),
        "snap_start_cache_gb_s": None}

    def __init__(self, name: str, architecture: str, memory_mb: int, ephemeral_storage_mb: int,
                 requests: int, billed_ms_total: float, free_storage_mb: float, *,
                 init_billed_ms: float = 0.0, provisioned_configured_gb_s: float = 0.0,
                 provisioned_billed_ms: float = 0.0, epu_minimum_s: float = 60.0) -> None:
        self.name = name
        self.architecture = architecture
        self.memory_mb = memory_mb
        self.requests = requests
        gb = memory_mb / 1024.0
        billed_s = billed_ms_total / 1000.0
        self.gb_s = billed_s * gb
        self.init_gb_s = init_billed_ms / 1000.0 * gb
        self.provisioned_gb_s = float(provisioned_configured_gb_s)
        self.provisioned_execution_gb_s = provisioned_billed_ms / 1000.0 * gb
        extra_gb = max(0.0, ephemeral_storage_mb - free_storage_mb) / 1024.0
        self.storage_gb_s = (billed_s + provisioned_billed_ms / 1000.0) * extra_gb
        self.snap_start_cache_gb_s = 0.0
        self.snap_start_restored_gb = 0.0
        self.kafka_epu_s = 0.0
        self.sqs_epu_s = 0.0
        #: Billing minimum of one event poller's allocation (the price file's figure).
        self.epu_minimum_s = float(epu_minimum_s)
        self.always_on_provisioned_gb_s = 0.0
        self.always_on_provisioned_billed_gb_s = 0.0
        self.always_on_kafka_epu_s = 0.0
        self.always_on_sqs_epu_s = 0.0

    def add_billed_init_ms(self, ms: float) -> None:
        """Add billed milliseconds that belong to the ``init`` item (SnapStart's Billed Restore
        Duration), at the on-demand duration rate."""
        gb_s = ms / 1000.0 * self.memory_mb / 1024.0
        self.gb_s += gb_s
        self.init_gb_s += gb_s

    @property
    def has_provisioned(self) -> bool:
        """Whether the function used provisioned concurrency (then no free tier applies)."""
        return self.provisioned_gb_s > 0.0 or self.provisioned_execution_gb_s > 0.0

    def scaled(self, factor: float) -> "UsageBill":
        """The same usage multiplied by ``factor`` (a projection to a longer period)."""
        other = object.__new__(UsageBill)
        for slot in UsageBill.__slots__:
            setattr(other, slot, getattr(self, slot))
        for slot in UsageBill._EXTENSIVE:
            setattr(other, slot, getattr(self, slot) * factor)
        return other

    @property
    def has_always_on(self) -> bool:
        """Whether some of this usage is always on (:data:`ALWAYS_ON`)."""
        return any(getattr(self, parts[1] if parts else total) > 0.0
                   for total, parts in UsageBill._ALWAYS_ON_PARTS.items())

    def projected(self, factor: float, wall_factor: float) -> "UsageBill":
        """The usage of a longer period: traffic-driven quantities multiplied by ``factor``
        (the window's recurrence), always-on ones (:data:`ALWAYS_ON`) by ``wall_factor``
        (the period's wall clock over the window's)."""
        other = self.scaled(factor)
        if not (self.snap_start_cache_gb_s or self.always_on_provisioned_gb_s
                or self.always_on_provisioned_billed_gb_s or self.always_on_kafka_epu_s
                or self.always_on_sqs_epu_s):
            return other  # nothing always on (most functions): all of it as the traffic
        for total, parts in UsageBill._ALWAYS_ON_PARTS.items():
            billed, on = (getattr(self, p) for p in parts) if parts else (
                getattr(self, total), getattr(self, total))
            setattr(other, total, (getattr(self, total) - billed) * factor + on * wall_factor)
            if parts:
                for p in parts:
                    setattr(other, p, on * wall_factor)
        return other


def provisioned_cost(prices: Mapping[str, Any], architecture: str, configured_gb_s: float,
                     execution_gb_s: float) -> float:
    """Cost of provisioned concurrency: configured and execution GB-seconds at their rates."""
    return (configured_gb_s * float(prices["provisioned_usd_per_gb_s"][architecture])
            + execution_gb_s * float(prices["provisioned_duration_usd_per_gb_s"][architecture]))


def bill_account(usages: Sequence[UsageBill], prices: Mapping[str, Any],
                 free_tier: bool) -> dict[str, dict[str, float]]:
    """Itemised cost per function (:data:`COST_ITEMS` and ``total``).

    Tiers and the free tier are account-wide and monthly, applied to the usage given as if it
    were the month's; each function's share is proportional to its use, so the functions'
    costs add up to the account's. Free GB-seconds come off the on-demand duration of
    functions without provisioned concurrency, at the average tiered price of their
    architecture.
    """
    request_price = float(prices["request_usd_per_million"]) / 1e6
    eligible = [u for u in usages if not u.has_provisioned] if free_tier else []
    eligible_requests = sum(u.requests for u in eligible)
    eligible_gb_s = sum(u.gb_s for u in eligible)
    free_requests = float(prices["free_tier"]["requests_per_month"]) if free_tier else 0.0
    free_gb_s = float(prices["free_tier"]["gb_s_per_month"]) if free_tier else 0.0
    request_share = (max(0.0, 1.0 - free_requests / eligible_requests)
                     if eligible_requests else 1.0)
    duration_share = max(0.0, 1.0 - free_gb_s / eligible_gb_s) if eligible_gb_s else 1.0
    gb_s_by_arch: dict[str, float] = {}
    for u in usages:
        gb_s_by_arch[u.architecture] = gb_s_by_arch.get(u.architecture, 0.0) + u.gb_s
    # Average price per GB-s of each architecture's monthly usage under its tiers.
    arch_price = {arch: tiered_cost(gb_s, prices["duration_usd_per_gb_s"][arch]) / gb_s
                  if gb_s else 0.0 for arch, gb_s in gb_s_by_arch.items()}
    storage_price = float(prices["ephemeral_storage_usd_per_gb_s"])
    eligible_names = {u.name for u in eligible}
    out: dict[str, dict[str, float]] = {}
    for u in usages:
        is_free = u.name in eligible_names
        price = arch_price[u.architecture] * (duration_share if is_free else 1.0)
        init = u.init_gb_s * price
        duration = (u.gb_s - u.init_gb_s) * price
        requests = u.requests * request_price * (request_share if is_free else 1.0)
        storage = u.storage_gb_s * storage_price
        provisioned = provisioned_cost(prices, u.architecture, u.provisioned_gb_s,
                                       u.provisioned_execution_gb_s)
        epu = prices["event_poller_unit_usd_per_hour"]
        items = {"requests": requests, "duration": duration, "init": init,
                 "ephemeral_storage": storage, "provisioned": provisioned,
                 "snap_start_cache": u.snap_start_cache_gb_s
                 * float(prices["snap_start_cache_usd_per_gb_s"]),
                 "snap_start_restore": u.snap_start_restored_gb
                 * float(prices["snap_start_restore_usd_per_gb"]),
                 "event_poller_units": (u.kafka_epu_s * float(epu["kafka"])
                                        + u.sqs_epu_s * float(epu["sqs"])) / 3600.0}
        items["total"] = sum(items.values())
        out[u.name] = items
    return out


def cost_report(usages: Sequence[UsageBill], prices: Mapping[str, Any], free_tier: bool,
                window_s: float, digits: int = 9, recurs: str = "continuous"
                ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The ``cost_usd`` blocks of a run: per function, and for the account.

    Each block holds the items of the simulated window, their ``total`` and ``per_30_days``
    (the same items for a 30-day month projected as ``recurs`` says, :func:`projection`, from
    the usage over ``window_s``, the length of ``[warmup, duration)``; tiers and free tier
    applied to that month; every item ``None`` for ``once``). Values are rounded to ``digits``
    decimals; an account item is the rounded sum of the functions' unrounded ones.
    """
    now = bill_account(usages, prices, free_tier)
    factor = projection(recurs, window_s)["factor"]
    keys = COST_ITEMS + ("total",)
    if factor is None:
        month = {u.name: dict.fromkeys(keys) for u in usages}
    else:
        # Always-on usage runs for the month's wall clock, traffic as the window recurs.
        wall = factor if recurs == "continuous" else (MONTH_S / window_s if window_s > 0
                                                      else 0.0)
        month = bill_account([u.projected(factor, wall) for u in usages], prices, free_tier)

    def block(items: Mapping[str, float | None]) -> dict[str, float | None]:
        return {key: None if items[key] is None else round(items[key], digits) for key in keys}

    # Every function's items as rows (keys order), rounded at once (round_to is Python's
    # round, vectorised: thousands of functions).
    row = itemgetter(*keys)
    rows_now = [row(now[u.name]) for u in usages]
    rounded_now = round_to(np.array(rows_now, dtype=np.float64).reshape(-1, len(keys)), digits)
    if factor is None:
        rows_month = None
        rounded_month = [[None] * len(keys)] * len(usages)
    else:
        rows_month = [row(month[u.name]) for u in usages]
        rounded_month = round_to(np.array(rows_month, dtype=np.float64).reshape(-1, len(keys)),
                                 digits)
    functions: dict[str, dict[str, Any]] = {}
    for u, values_now, values_month in zip(usages, rounded_now, rounded_month):
        functions[u.name] = {**dict(zip(keys, values_now)),
                             "per_30_days": dict(zip(keys, values_month))}
    # Each account item: the functions' unrounded items summed in order (Python's sum).
    account_now = dict(zip(keys, (sum(column) for column in zip(*rows_now)))) if usages \
        else dict.fromkeys(keys, 0)
    account_month = (dict.fromkeys(keys) if factor is None
                     else dict(zip(keys, (sum(column) for column in zip(*rows_month))))
                     if usages else dict.fromkeys(keys, 0))
    account = {**block(account_now), "per_30_days": block(account_month)}
    return functions, account
