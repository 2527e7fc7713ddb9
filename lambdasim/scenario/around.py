"""The scenario fields of what stands around a function: front doors and shared dependencies.

* A synchronous trigger's ``source`` (``direct``, ``api_gateway``, ``http_api``, ``alb``,
  ``function_url``), its API Gateway ``integration_timeout`` and stage/method ``throttle``,
  and the account's API Gateway throttle ``account.api_gateway: {rate, burst}``
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html: 10,000
  requests/s with a bucket of 5,000 requests per account and Region).
* A function's ``uses:`` list and the top-level ``dependencies:`` block (pools and rate
  quotas; the figures are the user's own).

:func:`check_around` holds the cross-field rules: which source takes which option, the
integration timeout's range per API type, stage limits within the account's, and ``uses``
naming declared dependencies.
"""
from __future__ import annotations

from typing import Any

from lambdasim.scenario.fields import Computed, Context, Field
from lambdasim.scenario.units import SpecError

__all__ = ["SOURCES", "GATEWAY_SOURCES", "SYNC_FRONT_DOOR_FIELDS", "API_GATEWAY_FIELD",
           "USES_FIELD", "DEPENDENCIES_FIELD", "check_around", "INTEGRATION_TIMEOUT_S"]

SOURCES = ("direct", "api_gateway", "http_api", "alb", "function_url")
GATEWAY_SOURCES = ("api_gateway", "http_api")

#: (default, minimum, maximum) integration timeout in seconds per API type.
#: REST: ``timeoutInMillis`` "between 50 and 29,000 milliseconds. The default value is 29,000
#: ... You can increase the default value to longer than 29 seconds for Regional or private
#: APIs only" (https://docs.aws.amazon.com/apigateway/latest/api/API_Integration.html;
#: https://aws.amazon.com/about-aws/whats-new/2024/06/amazon-api-gateway-integration-timeout-limit-29-seconds/);
#: up to 300 s after a quota increase (AWS re:Post, "what the maximum default timeout for API
#: Gateway can be increased to"). HTTP APIs: "Maximum integration timeout 30 seconds", not
#: adjustable (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
INTEGRATION_TIMEOUT_S = {"api_gateway": (29.0, 0.05, 300.0), "http_api": (30.0, 0.05, 30.0)}


def _default_integration_timeout(siblings: dict, ctx: Context) -> float | None:
    limits = INTEGRATION_TIMEOUT_S.get(siblings["source"])
    return None if limits is None else limits[0]


#: Keys a synchronous trigger gains (inserted after its ``arrivals``).
SYNC_FRONT_DOOR_FIELDS = {
    "source": Field("enum", "direct", "what stands in front: direct (SDK Invoke), api_gateway "
                    "(REST API), http_api, alb or function_url", choices=SOURCES),
    "integration_timeout": Field(
        "time", Computed(_default_integration_timeout, "29s for api_gateway, 30s for http_api, "
                         "null otherwise"),
        "API Gateway gives up with 504 after this (the invocation runs on, billed)",
        nullable=True),
    "throttle": Field(
        "map", None, "stage, method or route throttle of API Gateway, checked before the "
        "account's", nullable=True,
        fields={
            "rate": Field("rate", doc="steady-state requests per second", minimum=0,
                          exclusive_minimum=True),
            "burst": Field("int", doc="bucket size (requests)", minimum=1),
        }),
}

#: ``account.api_gateway``: the account-level throttle per Region, across REST and HTTP APIs.
API_GATEWAY_FIELD = Field(
    "map", {}, "API Gateway's account-level throttle (token bucket per Region)",
    fields={
        "rate": Field("rate", 10000.0, "steady-state requests per second", 0,
                      exclusive_minimum=True),
        "burst": Field("int", 5000, "bucket size (requests)", 1),
    })

#: ``functions.<f>.uses``: the dependencies the handler takes, in order.
USES_FIELD = Field("list", [], "dependencies the handler uses (names under dependencies:), "
                   "taken in this order", item=Field("str"), unique=True)


def _default_burst(siblings: dict, ctx: Context) -> int:
    return max(1, int(round(siblings["rate"])))


DEPENDENCIES_FIELD = Field(
    "named", {}, "downstream capacity shared by functions: pools and rate quotas",
    pattern=r"^[A-Za-z0-9_-]{1,64}$",
    item=Field(
        "variant", doc="a dependency", discriminator="type", label="dependency",
        variants={
            "pool": {
                "capacity": Field("int", doc="units (connections)", minimum=1),
                "acquire_timeout": Field("time", 10.0, "longest wait for a unit before the "
                                         "invocation fails (the wait is billed)"),
            },
            "rate": {
                "rate": Field("rate", doc="calls per second", minimum=0, exclusive_minimum=True),
                "burst": Field("int", Computed(_default_burst, "one second of calls"),
                               "bucket size (calls)", 1),
                "on_limit": Field("enum", "fail", "a call over the quota fails or waits",
                                  choices=("fail", "wait")),
                "max_wait": Field("time", 10.0, "longest wait for a token (on_limit: wait)"),
            },
        }),
)


def check_around(config: dict) -> None:
    """Cross-field rules of front doors and dependencies (raises SpecError on the key)."""
    gateway = config["account"]["api_gateway"]
    dependencies = config.get("dependencies") or {}
    for fname, function in config["functions"].items():
        for index, trigger in enumerate(function["triggers"]):
            if trigger["type"] != "sync":
                continue
            key = f"functions.{fname}.triggers.{index}"
            source = trigger["source"]
            timeout = trigger["integration_timeout"]
            if source in GATEWAY_SOURCES:
                _, low, high = INTEGRATION_TIMEOUT_S[source]
                if timeout is None or not low <= timeout <= high:
                    shown = "null" if timeout is None else f"{timeout:g}s"
                    raise SpecError(f"must be between {low * 1000:g} ms and {high:g} s for "
                                    f"source {source}, got {shown}",
                                    f"{key}.integration_timeout")
                throttle = trigger["throttle"]
                if throttle is not None and throttle["rate"] > gateway["rate"]:
                    # Stage and method limits "can't be higher than the account-level rate
                    # limit" (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
                    raise SpecError(f"must not exceed account.api_gateway.rate "
                                    f"({gateway['rate']:g}/s), got {throttle['rate']:g}/s",
                                    f"{key}.throttle.rate")
            else:
                for option in ("integration_timeout", "throttle"):
                    if trigger[option] is not None:
                        raise SpecError(f"applies to source api_gateway or http_api only; "
                                        f"source {source} adds no {option.replace('_', ' ')} "
                                        f"of its own (the function's limits and timeout apply)",
                                        f"{key}.{option}")
        for index, name in enumerate(function["uses"]):
            if name not in dependencies:
                known = ", ".join(dependencies) or "none declared"
                raise SpecError(f"no dependency {name!r} under dependencies: ({known})",
                                f"functions.{fname}.uses.{index}")
