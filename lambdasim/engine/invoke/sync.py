"""Synchronous invocations: API Gateway, ALB, direct ``Invoke``.

The caller waits for the response. A throttled request fails at once with HTTP 429 and
Lambda itself does not retry (https://docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html). Clients may: AWS SDKs
retry throttles with capped exponential backoff and jitter
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). A function
error comes back as a 200 with ``X-Amz-Function-Error``, which SDKs do not retry, so
``client_retries.retry_on`` defaults to ``[throttle]``; add ``error`` to model a client that
retries failures too.

Each request is one small object; each attempt is one call of ``LambdaFunction.invoke``;
backoff waits are ``Wakeup`` callbacks. The request ends in exactly one outcome: succeeded,
failed (function error or timeout on its last attempt), throttled (its last attempt was
throttled), or still in flight when the run ends. Latency is measured from arrival to the
final response, retries and backoff included.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from lambdasim.engine.events import Wakeup
from lambdasim.engine.function import ERROR, TIMEOUT
from lambdasim.engine.metrics import pack_request

__all__ = ["SyncTrigger", "SyncRequest", "ClientRetries", "Backoff", "SUCCEEDED", "FAILED", "THROTTLED",
           "DROPPED"]

# Request outcomes written to the request records.
SUCCEEDED = 0
FAILED = 1
THROTTLED = 2
DROPPED = 3


class SyncRequest:
    """One client request and its attempts."""

    __slots__ = ("arrived_at", "attempts", "last_delay")

    def __init__(self, arrived_at: float) -> None:
        self.arrived_at = arrived_at
        self.attempts = 0
        self.last_delay = 0.0


class Backoff:
    """Capped exponential backoff with jitter, as the AWS SDKs implement it.

    The n-th retry waits ``min(max_delay, base_delay * 2**(n-1))`` scaled by the jitter:
    ``full`` draws uniformly from [0, cap), ``equal`` from [cap/2, cap), ``none`` waits the
    cap, ``decorrelated`` draws from [base, 3 x previous) capped at max_delay.
    """

    __slots__ = ("base", "cap", "jitter", "_uniform")

    def __init__(self, base_delay: float, max_delay: float, jitter: str,
                 uniform: Callable[[], float]) -> None:
        if jitter not in ("full", "equal", "none", "decorrelated"):
            raise ValueError(f"unknown jitter {jitter!r}")
        self.base = float(base_delay)
        self.cap = float(max_delay)
        self.jitter = jitter
        self._uniform = uniform

    def delay(self, retry: int, previous: float) -> float:
        """Wait before retry number ``retry`` (1 for the first retry)."""
        jitter = self.jitter
        if jitter == "decorrelated":
            low = self.base
            high = max(low, 3.0 * (previous or low))
            return min(self.cap, low + self._uniform() * (high - low))
        ceiling = min(self.cap, self.base * 2.0 ** (retry - 1))
        if jitter == "full":
            return self._uniform() * ceiling
        if jitter == "equal":
            return ceiling / 2.0 + self._uniform() * ceiling / 2.0
        return ceiling


class ClientRetries:
    """What every synchronous caller does between its attempts: wait out the backoff, try
    again, and record the request once it ends. Mixed into :class:`SyncTrigger` and
    :class:`~lambdasim.engine.invoke.front_door.FrontDoorTrigger`, which provide ``sim``,
    ``backoff``, ``index``, ``outstanding``, ``_retry_cb``, ``_attempt`` and
    ``_record_request``."""

    __slots__ = ()

    def _schedule_retry(self, request: Any) -> None:
        delay = self.backoff.delay(request.attempts, request.last_delay)
        request.last_delay = delay
        Wakeup(self.sim, delay, request, self._retry_cb)

    def _retry(self, event) -> None:
        self._attempt(event._value, self.sim._now)

    def _finish(self, request: Any, now: float, outcome: int, code: int) -> None:
        self.outstanding -= 1
        self._record_request((request.arrived_at, now,
                              pack_request(code, outcome, self.index, request.attempts)))


class SyncTrigger(ClientRetries):
    """Synchronous traffic to one function, with optional client retries.

    ``arrive(now)`` is bound at build time: without client retries a request needs no object
    of its own (its arrival time is the payload), which keeps the common case lean.
    """

    __slots__ = ("sim", "function", "index", "name", "max_attempts", "retry_throttles",
                 "retry_errors", "backoff", "outstanding", "arrived_in_window", "warmup_s",
                 "arrive", "_invoke", "_done_cb", "_done_once_cb", "_retry_cb",
                 "_record_request", "_packed_once")

    def __init__(self, sim, function, index: int, config: Mapping[str, Any], recorder,
                 uniform: Callable[[], float], warmup_s: float = 0.0) -> None:
        self.sim = sim
        self.function = function
        self.index = index
        self.name = config["name"]
        retries = config["client_retries"]
        self.max_attempts = int(retries["max_attempts"])
        self.retry_throttles = "throttle" in retries["retry_on"]
        self.retry_errors = "error" in retries["retry_on"]
        self.backoff = Backoff(retries["base_delay"], retries["max_delay"], retries["jitter"],
                               uniform)
        self.outstanding = 0
        # Arrivals stop at the horizon, so the measured window [warmup, duration) only needs
        # its lower bound checked here; in-flight requests are arrivals not yet recorded.
        self.arrived_in_window = 0
        self.warmup_s = float(warmup_s)
        self._invoke = function.invoke
        self._done_cb = self._done
        self._done_once_cb = self._done_once
        self._retry_cb = self._retry
        # One record per request: (arrived, ended, packed code/outcome/trigger/attempts).
        self._record_request = recorder.requests.extend
        self._packed_once = pack_request(0, 0, index, 1)
        retries_possible = self.max_attempts > 1 and (self.retry_throttles or self.retry_errors)
        self.arrive = self._arrive_with_retries if retries_possible else self._arrive_once

    # -- requests without client retries: one attempt, the arrival time as payload --------

    def _arrive_once(self, now: float) -> None:
        self.outstanding += 1
        if now >= self.warmup_s:
            self.arrived_in_window += 1
        if not self._invoke(now, now, self._done_once_cb):
            self.outstanding -= 1
            self._record_request((now, now, self._packed_once | (THROTTLED << 8)))

    def _done_once(self, arrived_at: float, code: int, now: float) -> None:
        self.outstanding -= 1
        outcome = FAILED if code & (ERROR | TIMEOUT) else SUCCEEDED
        self._record_request((arrived_at, now, self._packed_once | code | (outcome << 8)))

    # -- requests with client retries --------------------------------------------------

    def _arrive_with_retries(self, now: float) -> None:
        self.outstanding += 1
        if now >= self.warmup_s:
            self.arrived_in_window += 1
        self._attempt(SyncRequest(now), now)

    def _attempt(self, request: SyncRequest, now: float) -> None:
        request.attempts += 1
        if self._invoke(request.arrived_at, request, self._done_cb):
            return
        if self.retry_throttles and request.attempts < self.max_attempts:
            self._schedule_retry(request)
        else:
            self._finish(request, now, THROTTLED, 0)

    def _done(self, request: SyncRequest, code: int, now: float) -> None:
        if code & (ERROR | TIMEOUT):
            if self.retry_errors and request.attempts < self.max_attempts:
                self._schedule_retry(request)
            else:
                self._finish(request, now, FAILED, code)
        else:
            self._finish(request, now, SUCCEEDED, code)

