"""Front doors of synchronous traffic: API Gateway (REST and HTTP APIs), ALB, function URLs.

A synchronous trigger names its ``source``. ``direct`` (an SDK ``Invoke``) is
:class:`~lambdasim.engine.invoke.sync.SyncTrigger`; every other source is a
:class:`FrontDoorTrigger`, which puts the front door's own rules between the client and
Lambda:

* **API Gateway throttling** (``api_gateway``, ``http_api``). API Gateway throttles with a
  token bucket per account and Region, across REST and HTTP APIs: 10,000 requests/s steady,
  a bucket of 5,000 requests
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html;
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html;
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
  Stage, method or route limits (``throttle: {rate, burst}`` on the trigger) are checked
  first, then the account's bucket (``account.api_gateway``), shared by every API Gateway
  trigger of the scenario. A throttled request gets ``429 Too Many Requests`` and never
  reaches Lambda: no invocation, no Lambda throttle.
* **Integration timeout** (``api_gateway``: 29 s by default, 50 ms to 29 s, raisable for
  Regional and private REST APIs; ``http_api``: at most 30 s)
  (https://docs.aws.amazon.com/apigateway/latest/api/API_Integration.html ``timeoutInMillis``;
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html). When
  the invocation has not answered by then the client gets ``504`` at the timeout, while the
  invocation runs on to its own end and is billed for all of it (Lambda does not know the
  caller gave up).
* **Status codes** (what ``4XXError`` and ``5XXError`` count): behind API Gateway a Lambda
  throttle or other rejected invocation is a ``500`` and a function error a ``502``
  (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html, "API Gateway
  does not retry any Lambda invocations"); a function URL returns Lambda's own ``429`` when
  the function is throttled (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html,
  throttling by reserved concurrency). ALB and function URLs add no throttle and no timeout
  of their own: the function's limits and timeout apply
  (https://docs.aws.amazon.com/lambda/latest/dg/services-alb.html). That an ALB answers a
  Lambda throttle with ``503`` and a function error with ``502`` is our assumption.

Client retries (``client_retries``) see the front door's answers: ``retry_on: [throttle]``
retries a gateway 429 as it retries a Lambda throttle; ``error`` retries 5XX answers, the 504
of an integration timeout included. Each retry is a new API request (``Count``).

API Gateway's own processing time is taken as zero [assumption]: ``Latency`` equals
``IntegrationLatency`` for requests that reached Lambda and is zero for throttled ones.

Records (per function, in :class:`FrontDoorRecorder`): one row per API request (attempt at
the door) ``(origin, received, answered, status, integration_s, kind)``; the trigger counts
the requests whose final answer was the gateway's 429 or a 504.
"""
from __future__ import annotations

from array import array
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.account import TokenBucket
from lambdasim.engine.events import Wakeup
from lambdasim.engine.function import ERROR, INIT_LIMIT_S, TIMEOUT
from lambdasim.engine.invoke.sync import FAILED, SUCCEEDED, THROTTLED, Backoff, ClientRetries
from lambdasim.engine.metrics import period_mean_max_ms, time_stats_ms
from lambdasim.scenario.around import GATEWAY_SOURCES, SOURCES

__all__ = ["FrontDoorTrigger", "FrontDoorRecorder", "FrontDoorReporter", "SOURCES",
           "GATEWAY_SOURCES", "FRONT_DOOR_COLUMNS", "build_front_door_trigger"]

# What happened to one API request at the door (the ``kind`` column).
ANSWERED = 0          # the integration answered (any status)
GATEWAY_THROTTLED = 1  # 429 from API Gateway's own throttle: Lambda never saw it
TIMED_OUT = 2         # 504: the integration timeout passed first

#: (Lambda throttle status, function error status) by source.
_STATUS = {
    "api_gateway": (500, 502),
    "http_api": (500, 502),
    "function_url": (429, 502),
    "alb": (503, 502),
}

#: Columns of metrics.csv filled for a function with front-door triggers (API Gateway's
#: CloudWatch names: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
FRONT_DOOR_COLUMNS = ("Count", "4XXError", "5XXError", "Latency_avg_ms", "Latency_max_ms",
                      "IntegrationLatency_avg_ms", "IntegrationLatency_max_ms")


class FrontDoorRecorder:
    """One row per API request at a function's front doors (columns of doubles)."""

    __slots__ = ("calls",)
    FIELDS = ("origin", "received", "answered", "status", "integration", "kind")

    def __init__(self) -> None:
        self.calls = array("d")

    def table(self) -> dict[str, np.ndarray]:
        data = np.frombuffer(self.calls, dtype=np.float64)
        width = len(self.FIELDS)
        rows = data.reshape(-1, width) if data.size else np.empty((0, width))
        return {field: rows[:, i] for i, field in enumerate(self.FIELDS)}


class _Request:
    """One client request: its attempts, and which of them has been answered."""

    __slots__ = ("arrived_at", "attempts", "last_delay", "answered", "sent_at")

    def __init__(self, arrived_at: float) -> None:
        self.arrived_at = arrived_at
        self.attempts = 0
        self.last_delay = 0.0
        self.answered = 0   # number of the last attempt that got its answer
        self.sent_at = 0.0  # when the current attempt went to the integration


class FrontDoorTrigger(ClientRetries):
    """Synchronous traffic to one function through API Gateway, an ALB or a function URL.

    Parameters
    ----------
    sim, function, index, config, recorder, uniform, warmup_s
        As :class:`~lambdasim.engine.invoke.sync.SyncTrigger`.
    door : FrontDoorRecorder
        Where the function's API requests are recorded.
    account_bucket : TokenBucket or None
        API Gateway's account-level throttle (shared by all gateway triggers), None for
        ``alb`` and ``function_url``.
    """

    __slots__ = ("sim", "function", "index", "name", "source", "max_attempts",
                 "retry_throttles", "retry_errors", "backoff", "outstanding",
                 "arrived_in_window", "throttled_in_window", "timed_out_in_window", "warmup_s",
                 "timeout_s", "_limits", "_timer_needed", "_invoke", "_done_cb",
                 "_timeout_cb", "_retry_cb", "_record_request", "_record_call",
                 "_lambda_throttle_status", "_error_status")

    def __init__(self, sim, function, index: int, config: Mapping[str, Any], recorder,
                 uniform: Callable[[], float], door: FrontDoorRecorder,
                 account_bucket: TokenBucket | None, warmup_s: float = 0.0) -> None:
        self.sim = sim
        self.function = function
        self.index = index
        self.name = config["name"]
        self.source = config["source"]
        retries = config["client_retries"]
        self.max_attempts = int(retries["max_attempts"])
        self.retry_throttles = "throttle" in retries["retry_on"]
        self.retry_errors = "error" in retries["retry_on"]
        self.backoff = Backoff(retries["base_delay"], retries["max_delay"], retries["jitter"],
                               uniform)
        self.outstanding = 0
        self.arrived_in_window = 0
        self.throttled_in_window = 0
        self.timed_out_in_window = 0
        self.warmup_s = float(warmup_s)
        limits = []
        throttle = config.get("throttle")
        if throttle is not None:
            # Stage / method / route limits are applied before the account's
            # (api-gateway-request-throttling.html, "How throttling limit settings are applied").
            limits.append(TokenBucket(throttle["burst"], throttle["rate"]))
        if account_bucket is not None:
            limits.append(account_bucket)
        self._limits = tuple(bucket.take for bucket in limits)
        timeout = config.get("integration_timeout")
        self.timeout_s = None if timeout is None else float(timeout)
        # An invocation lasts at most Init (10 s) plus the function timeout; a timer per
        # request is needed only when the integration timeout can come first.
        self._timer_needed = (self.timeout_s is not None
                              and self.timeout_s < function.timeout_s + INIT_LIMIT_S)
        self._invoke = function.invoke
        self._done_cb = self._done
        self._timeout_cb = self._timed_out
        self._retry_cb = self._retry
        self._record_request = recorder.requests.extend
        self._record_call = door.calls.extend
        self._lambda_throttle_status, self._error_status = _STATUS[self.source]

    # -- arrivals and attempts -----------------------------------------------------------

    def arrive(self, now: float) -> None:
        self.outstanding += 1
        if now >= self.warmup_s:
            self.arrived_in_window += 1
        self._attempt(_Request(now), now)

    def _attempt(self, request: _Request, now: float) -> None:
        request.attempts += 1
        for take in self._limits:
            if not take(now):
                # 429 from API Gateway itself: the request never reaches Lambda.
                request.answered = request.attempts
                self._record_call((request.arrived_at, now, now, 429.0, 0.0,
                                   float(GATEWAY_THROTTLED)))
                self._throttled(request, now, gateway=True)
                return
        request.sent_at = now
        if not self._invoke(request.arrived_at, (request, request.attempts), self._done_cb):
            request.answered = request.attempts
            self._record_call((request.arrived_at, now, now,
                               float(self._lambda_throttle_status), 0.0, float(ANSWERED)))
            self._throttled(request, now, gateway=False)
            return
        if self._timer_needed:
            Wakeup(self.sim, self.timeout_s, (request, request.attempts), self._timeout_cb)

    def _throttled(self, request: _Request, now: float, gateway: bool) -> None:
        if self.retry_throttles and request.attempts < self.max_attempts:
            self._schedule_retry(request)
            return
        if gateway and request.arrived_at >= self.warmup_s:
            self.throttled_in_window += 1
        self._finish(request, now, THROTTLED, 0)

    def _done(self, payload, code: int, now: float) -> None:
        request, attempt = payload
        if request.answered >= attempt:
            return  # the client already got a 504 for this attempt; the invocation ran on
        request.answered = attempt
        failed = code & (ERROR | TIMEOUT)
        status = float(self._error_status) if failed else 200.0
        self._record_call((request.arrived_at, request.sent_at, now, status,
                           now - request.sent_at, float(ANSWERED)))
        if failed:
            if self.retry_errors and request.attempts < self.max_attempts:
                self._schedule_retry(request)
            else:
                self._finish(request, now, FAILED, code)
        else:
            self._finish(request, now, SUCCEEDED, code)

    def _timed_out(self, event) -> None:
        request, attempt = event._value
        if request.answered >= attempt:
            return  # answered in time
        request.answered = attempt
        now = self.sim._now
        self._record_call((request.arrived_at, request.sent_at, now, 504.0,
                           now - request.sent_at, float(TIMED_OUT)))
        if self.retry_errors and request.attempts < self.max_attempts:
            self._schedule_retry(request)
            return
        if request.arrived_at >= self.warmup_s:
            self.timed_out_in_window += 1
        self._finish(request, now, FAILED, 0)



class FrontDoorReporter:
    """The ``functions.<name>.front_door`` block and the API Gateway columns of metrics.csv."""

    summary_key = "front_door"

    def __init__(self, door: FrontDoorRecorder, triggers: list) -> None:
        self.door = door
        self.triggers = triggers

    def _calls(self, model) -> dict[str, np.ndarray]:
        calls = self.door.table()
        window = (calls["origin"] >= model.warmup_s) & (calls["origin"] < model.duration_s)
        return {key: values[window] for key, values in calls.items()}

    def summary(self, model) -> dict[str, Any]:
        calls = self._calls(model)
        status = calls["status"]
        integrated = calls["kind"] != GATEWAY_THROTTLED
        sources = sorted({t.source for t in self.triggers})
        return {
            "sources": sources,
            "requests": sum(t.arrived_in_window for t in self.triggers),
            "throttled": sum(t.throttled_in_window for t in self.triggers),
            "timed_out": sum(t.timed_out_in_window for t in self.triggers),
            "api_requests": int(status.size),
            "throttled_api_requests": int(np.count_nonzero(calls["kind"] == GATEWAY_THROTTLED)),
            "timed_out_api_requests": int(np.count_nonzero(calls["kind"] == TIMED_OUT)),
            "4XXError": int(np.count_nonzero((status >= 400) & (status < 500))),
            "5XXError": int(np.count_nonzero(status >= 500)),
            "latency_ms": time_stats_ms(calls["answered"] - calls["received"]),
            "integration_latency_ms": time_stats_ms(calls["integration"][integrated]),
        }

    def series(self, model, edges: np.ndarray) -> dict[str, list]:
        calls = self.door.table()
        order = np.argsort(calls["received"], kind="stable")
        received = calls["received"][order]
        status = calls["status"][order]
        latency = (calls["answered"] - calls["received"])[order]
        integration = calls["integration"][order]
        integrated = calls["kind"][order] != GATEWAY_THROTTLED
        count = len(edges) - 1
        index = np.clip(np.searchsorted(edges, received, side="right") - 1, 0, count - 1)
        lat_mean, lat_max = period_mean_max_ms(received, latency, edges)
        int_mean, int_max = period_mean_max_ms(received[integrated], integration[integrated],
                                               edges)
        return {
            "Count": np.bincount(index, minlength=count).tolist(),
            "4XXError": np.bincount(index[(status >= 400) & (status < 500)],
                                    minlength=count).tolist(),
            "5XXError": np.bincount(index[status >= 500], minlength=count).tolist(),
            "Latency_avg_ms": lat_mean, "Latency_max_ms": lat_max,
            "IntegrationLatency_avg_ms": int_mean, "IntegrationLatency_max_ms": int_max,
        }


def build_front_door_trigger(model, function, recorder, tindex: int,
                             tconfig: Mapping[str, Any]) -> None:
    """Build a front-door trigger and, once per function, its reporter (a model builder)."""
    name = function.name
    doors = model.front_doors  # function name -> (FrontDoorRecorder, [triggers])
    if name not in doors:
        door = FrontDoorRecorder()
        doors[name] = (door, [])
        model.reporters[name].append(FrontDoorReporter(door, doors[name][1]))
    door, triggers = doors[name]
    bucket = model.api_gateway_bucket() if tconfig["source"] in GATEWAY_SOURCES else None
    trigger = FrontDoorTrigger(model.sim, function, tindex, tconfig, recorder,
                               model._uniform(f"retry/{name}/{tindex}"), door, bucket,
                               model.warmup_s)
    triggers.append(trigger)
    model.triggers[name].append(trigger)
    model._start_arrivals(name, tindex, tconfig, trigger.arrive)
