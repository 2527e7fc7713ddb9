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
  before that date (``billing.date``) it was free for managed-runtime zip functions.
* Ephemeral storage above 512 MB: per GB-second of billed duration.
* Provisioned concurrency: configured GB-seconds at the provisioned rate plus execution
  GB-seconds on provisioned environments at the provisioned execution rate
  (:func:`provisioned_cost`; what is configured and executed comes from
  :mod:`lambdasim.provisioned`); spillover is billed as on-demand duration.
* Free tier (optional): 1 M requests and 400,000 GB-s a month, shared by the account and
  allocated to functions in proportion to their use.
"""
from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["load_prices", "available_price_files", "billed_ms", "tiered_cost",
           "init_is_billed", "UsageBill", "bill_account", "provisioned_cost"]


def available_price_files() -> list[str]:
    """Names of the bundled price files."""
    folder = resources.files("lambdasim") / "prices"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


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


def init_is_billed(prices: Mapping[str, Any], billing_date: str) -> bool:
    """Whether on-demand Init is billed on ``billing_date`` (ISO date)."""
    return date.fromisoformat(billing_date) >= date.fromisoformat(prices["init_billing_from"])


class UsageBill:
    """Billable usage of one function in the measured window."""

    __slots__ = ("name", "architecture", "memory_mb", "requests", "gb_s", "storage_gb_s",
                 "provisioned_gb_s", "provisioned_execution_gb_s")

    def __init__(self, name: str, architecture: str, memory_mb: int, ephemeral_storage_mb: int,
                 requests: int, billed_ms_total: float, free_storage_mb: float) -> None:
        self.name = name
        self.architecture = architecture
        self.memory_mb = memory_mb
        self.requests = int(requests)
        billed_s = billed_ms_total / 1000.0
        self.gb_s = billed_s * memory_mb / 1024.0
        extra_gb = max(0.0, ephemeral_storage_mb - free_storage_mb) / 1024.0
        self.storage_gb_s = billed_s * extra_gb
        # Provisioned concurrency: configured, and executed on provisioned environments.
        self.provisioned_gb_s = 0.0
        self.provisioned_execution_gb_s = 0.0


def provisioned_cost(prices: Mapping[str, Any], architecture: str, configured_gb_s: float,
                     execution_gb_s: float) -> float:
    """Cost of provisioned concurrency: configured and execution GB-seconds at their rates."""
    return (configured_gb_s * float(prices["provisioned_usd_per_gb_s"][architecture])
            + execution_gb_s * float(prices["provisioned_duration_usd_per_gb_s"][architecture]))


def bill_account(usages: Sequence[UsageBill], prices: Mapping[str, Any],
                 free_tier: bool) -> dict[str, dict[str, float]]:
    """Itemised cost per function: ``requests``, ``duration``, ``provisioned``, ``total``.

    Tiers and the free tier are account-wide; each function's share is proportional to its
    use, so the functions' costs add up to the account's.
    """
    request_price = float(prices["request_usd_per_million"]) / 1e6
    total_requests = sum(u.requests for u in usages)
    gb_s_by_arch: dict[str, float] = {}
    for u in usages:
        gb_s_by_arch[u.architecture] = gb_s_by_arch.get(u.architecture, 0.0) + u.gb_s
    free_requests = float(prices["free_tier"]["requests_per_month"]) if free_tier else 0.0
    free_gb_s = float(prices["free_tier"]["gb_s_per_month"]) if free_tier else 0.0
    total_gb_s = sum(gb_s_by_arch.values())
    request_share = max(0.0, 1.0 - free_requests / total_requests) if total_requests else 0.0
    duration_share = max(0.0, 1.0 - free_gb_s / total_gb_s) if total_gb_s else 0.0
    arch_cost = {arch: tiered_cost(gb_s, prices["duration_usd_per_gb_s"][arch])
                 for arch, gb_s in gb_s_by_arch.items()}
    storage_price = float(prices["ephemeral_storage_usd_per_gb_s"])
    out: dict[str, dict[str, float]] = {}
    for u in usages:
        arch_total = gb_s_by_arch[u.architecture]
        duration = arch_cost[u.architecture] * (u.gb_s / arch_total) if arch_total else 0.0
        duration = duration * duration_share + u.storage_gb_s * storage_price
        requests = u.requests * request_price * request_share
        provisioned = provisioned_cost(prices, u.architecture, u.provisioned_gb_s,
                                       u.provisioned_execution_gb_s)
        out[u.name] = {
            "requests": requests,
            "duration": duration,
            "provisioned": provisioned,
            "total": requests + duration + provisioned,
        }
    return out
