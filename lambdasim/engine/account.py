"""The account: concurrency pools, the scale-out rate and the request-rate limit.

Lambda admits an invocation only when every limit on its path has room; otherwise the
invocation is throttled (HTTP 429, ``TooManyRequestsException``):
https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html

* **Concurrency pools.** The account has ``concurrency_limit`` units (1,000 by default). A
  function with reserved concurrency owns a pool of exactly that size; the reservation is
  taken from the account even while unused, and reserved 0 throttles everything. All other
  functions share the unreserved pool, ``limit - sum(reserved)``, which must keep at least
  ``unreserved_minimum`` (100) units. A pool is an integer counter: admission is one compare,
  no ``simpy.Resource`` (a throttled synchronous request does not wait).
* **Scale-out rate.** Since 2023-11 each function may add at most 1,000 execution
  environments per 10 seconds, refilled continuously, unused capacity not accrued
  (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html): a token bucket per
  function, capacity 1,000, refill 100/s, one token per new environment; warm reuse is free.
  The same rule has a request-rate dimension: "1,000 execution environment instances every 10
  seconds (or 10,000 requests per second every 10 seconds)" per function (same page), which
  throttles a very short function that jumps to tens of thousands of requests per second
  although it needs few environments: :class:`RequestScaling`.
  The older rule (an account-wide burst of 500-3,000 by Region, then +500 per minute) is the
  ``regional-burst`` option.
* **Request rate.** Invocation requests per second are limited to 10 x the concurrency limit,
  for the account and for a function with reserved concurrency (lambda-concurrency.html,
  "requests per second"). A token bucket holding one second of requests.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

__all__ = [
    "ConcurrencyPool",
    "TokenBucket",
    "DualTokenBucket",
    "RegionalBurstScaling",
    "RequestScaling",
    "RATE_WINDOW_BINS",
    "Account",
    "make_scaling",
]


class ConcurrencyPool:
    """Concurrency units shared by one or more functions: ``in_use`` of at most ``limit``."""

    __slots__ = ("name", "limit", "in_use")

    def __init__(self, name: str, limit: float) -> None:
        self.name = name
        self.limit = limit
        self.in_use = 0


class TokenBucket:
    """Continuously refilled token bucket; ``take(now)`` spends one token if there is one.

    Used for the per-function scale-out rate (capacity 1,000, refill 100/s) and for the
    request-rate limit (capacity and refill both 10 x the concurrency limit).

    Implemented as the generic cell rate algorithm (GCRA), the exact equivalent of a bucket
    of ``capacity`` tokens refilled at ``rate`` per second that starts full: it keeps one
    number, the time ``tat`` at which the bucket would be full again, and a take succeeds
    when ``tat - now`` leaves room for one more token. Fewer operations than refilling a
    token count on every call, which matters on the per-request path.
    """

    __slots__ = ("capacity", "rate", "interval", "tolerance", "tat")

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.interval = 1.0 / self.rate
        # A take succeeds while tat - now <= tolerance, i.e. while one token is left.
        # The nanosecond of slack absorbs rounding in tat's running sum of intervals.
        self.tolerance = (self.capacity - 1.0) * self.interval + 1e-9
        self.tat = float("-inf")

    def take(self, now: float) -> bool:
        tat = self.tat
        if tat < now:
            tat = now
        elif tat - now > self.tolerance:
            return False
        self.tat = tat + self.interval
        return True

    def available(self, now: float) -> float:
        """Tokens available at ``now`` (without spending any)."""
        if self.tat <= now:
            return self.capacity
        return max(0.0, self.capacity - (self.tat - now) * self.rate)


class DualTokenBucket:
    """Two request-rate buckets passed in one call: the account's, then the function's.

    A function with reserved concurrency is limited by both; checking both inside one method
    keeps the per-request path to one call. The account's token is spent even when the
    function's own limit then throttles: the request reached Lambda.
    """

    __slots__ = ("first", "second")

    def __init__(self, first: TokenBucket, second: TokenBucket) -> None:
        self.first = first
        self.second = second

    def take(self, now: float) -> bool:
        bucket = self.first
        tat = bucket.tat
        if tat < now:
            tat = now
        elif tat - now > bucket.tolerance:
            return False
        bucket.tat = tat + bucket.interval
        bucket = self.second
        tat = bucket.tat
        if tat < now:
            tat = now
        elif tat - now > bucket.tolerance:
            return False
        bucket.tat = tat + bucket.interval
        return True


#: How many one-second bins the request-rate dimension of the scale-out rate remembers: a
#: request rate the function reached within the last 10 s stays granted [assumption].
RATE_WINDOW_BINS = 10


class RequestScaling:
    """The request-rate dimension of the per-function scale-out rate.

    "Your concurrency scaling rate is 1,000 execution environment instances every 10 seconds
    (or 10,000 requests per second every 10 seconds). In other words, every 10 seconds, Lambda
    can allocate at most 1,000 additional execution environment instances, or accommodate
    10,000 additional requests per second, to each of your functions"
    (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html).

    Model, with the same token-bucket care as the environment dimension: the function is
    granted a request rate ``level`` (requests per one-second bin). Raising it by one request
    per second takes one token from a bucket of capacity ``burst`` (10,000) refilled
    continuously at ``burst / per`` (1,000 per second), full at the start, unused capacity not
    accrued. A request beyond the granted rate with no token left is throttled. The granted
    rate is the largest number of requests admitted in one of the last
    :data:`RATE_WINDOW_BINS` one-second bins [assumption: AWS does not say how fast a granted
    rate lapses; 10 s mirrors the rule's own period], so a function that stays busy keeps its
    rate and one that falls quiet has to scale again, as its environments do after keep-alive.
    A jump from 0 to 30,000 requests/s is admitted at 10,000/s, then 1,000/s more every
    second, and runs unthrottled from 20 s on.

    Hot path. The caller keeps ``room`` (requests still admitted in the current bin without a
    token) and ``bin_end``; while ``now < bin_end`` and ``room > 0`` an admission is one
    decrement. :meth:`admit` handles the rest: a new bin, or a raise paid with a token.

    Deferred bookkeeping (:meth:`defer`). Each admission spends at most one token and the
    bucket starts full, so the first ``floor(burst)`` admissions of a function can never be
    throttled by this rule, whatever their times. A function whose every admission is
    recorded in order (the fast path, :mod:`lambdasim.engine.fastpath`) runs those with no
    bookkeeping at all: ``room`` counts them down and ``bin_end`` is infinite. Should a
    function reach the count, :meth:`admit` replays the recorded admissions through the
    exact rule (the state it would have had) and carries on exactly. A thousand quiet
    functions, each with a new one-second bin at nearly every request, thus pay nothing;
    ``tests/test_hot_path.py`` checks the runs equal the general path's.
    """

    __slots__ = ("capacity", "rate", "tokens", "refilled_at", "bin_start", "bin_end", "room",
                 "level", "ring", "_zeros", "_deferred")

    def __init__(self, burst: float, per_s: float) -> None:
        self.capacity = float(burst)
        self.rate = self.capacity / float(per_s)
        self.tokens = self.capacity
        self.refilled_at = 0.0
        self.bin_start = 0
        self.bin_end = 1.0
        self.level = 0            # granted requests per second
        self.room = 0             # level minus requests admitted in the current bin
        # Requests admitted per bin: the last RATE_WINDOW_BINS bins and the current one.
        self.ring = [0] * (RATE_WINDOW_BINS + 1)
        self._zeros = (0,) * (RATE_WINDOW_BINS + 1)
        #: While deferred: (the attempt rows, [(rows before it, time)] of unadmitted ones).
        self._deferred: tuple | None = None

    def defer(self, starts: Callable[[], Any], count: Callable[[], int]) -> None:
        """Skip the bookkeeping of the first ``floor(burst)`` admissions (class docstring).

        ``starts()`` gives the times of the function's attempts so far, in order (an
        array), and ``count()`` their number: every admission that is not undone is exactly
        one attempt; admissions undone by :meth:`unadmit` are logged here with their place.
        Call before the first admission.
        """
        self._deferred = (starts, count, [])
        self.room = int(self.capacity)
        self.bin_end = float("inf")

    def _catch_up(self) -> None:
        """Replay the deferred admissions through the exact rule; none can be throttled."""
        starts, _, undone = self._deferred
        self._deferred = None
        self.room = 0
        self.bin_end = 1.0
        times = starts().tolist()
        passes: list[tuple[float, bool]] = []
        done = 0
        for position, t in undone:  # in order: the undone one came after `position` rows
            passes.extend((s, False) for s in times[done:position])
            passes.append((t, True))
            done = position
        passes.extend((s, False) for s in times[done:])
        for t, unadmitted in passes:
            room = self.room
            if room > 0 and t < self.bin_end:
                self.room = room - 1
            elif not self.admit(t):
                raise AssertionError("a deferred admission was throttled")  # pragma: no cover
            if unadmitted:
                self.room += 1

    def admit(self, now: float) -> bool:
        """Admit one request at ``now`` past the fast path (new bin or no room left)."""
        if self._deferred is not None:
            self._catch_up()
            room = self.room
            if room > 0 and now < self.bin_end:
                self.room = room - 1
                return True
        if now >= self.bin_end:
            self._roll(now)
            if self.room > 0:
                self.room -= 1
                return True
        tokens = self.tokens + (now - self.refilled_at) * self.rate
        if tokens > self.capacity:
            tokens = self.capacity
        self.refilled_at = now
        if tokens < 1.0:
            self.tokens = tokens
            return False
        self.tokens = tokens - 1.0
        self.level += 1
        return True

    def unadmit(self, now: float = 0.0) -> None:
        """An admitted request (at ``now``) was throttled by a later limit: it used no rate."""
        if self._deferred is not None:
            _, count, undone = self._deferred
            undone.append((count(), now))
            return
        self.room += 1

    def _roll(self, now: float) -> None:
        ring = self.ring
        size = len(ring)
        start = int(now)
        if start >= self.bin_start + size:
            # Quiet for the whole window (a function with a request now and then): every bin,
            # the one that ends included, is forgotten -- what the loop below would give.
            ring[:] = self._zeros
            self.bin_start = start
            self.bin_end = start + 1.0
            self.level = self.room = 0
            return
        # The bin that ends: requests admitted in it.
        ring[self.bin_start % size] = self.level - self.room
        for missed in range(self.bin_start + 1, min(start, self.bin_start + size + 1)):
            ring[missed % size] = 0
        self.bin_start = start
        self.bin_end = start + 1.0
        ring[start % size] = 0
        self.level = max(ring)
        self.room = self.level

    def granted(self) -> int:
        """The request rate granted now (requests per second)."""
        return self.level


class _Unscaled:
    """The request-rate dimension switched off: every admission takes the fast path."""

    __slots__ = ("room", "bin_end")

    def __init__(self) -> None:
        self.room = float("inf")
        self.bin_end = float("inf")

    def admit(self, now: float) -> bool:
        return True

    def unadmit(self, now: float = 0.0) -> None:
        pass


class _PerFunctionBucket:
    """Scale-out rule that gives every function its own :class:`TokenBucket`."""

    __slots__ = ("burst", "rate", "per_s", "request_burst")

    def __init__(self, burst: float, per_s: float, request_burst: float | None = None) -> None:
        self.burst = burst
        self.per_s = per_s
        self.rate = burst / per_s
        self.request_burst = request_burst

    def for_function(self, account: "Account") -> TokenBucket:
        return TokenBucket(self.burst, self.rate)

    def requests_for_function(self):
        """The request-rate dimension of the rule for one function (scaling-behavior.html)."""
        if not self.request_burst:
            return _Unscaled()
        return RequestScaling(self.request_burst, self.per_s)


class RegionalBurstScaling:
    """The scale-out rule before 2023-11: an account-wide burst, then +N per minute.

    "An initial burst of 500-3,000 concurrent executions depending on the Region; after it,
    concurrency can scale by an additional 500 instances each minute" (Lambda developer guide,
    2022 edition of scaling-behavior.html). AWS's worked example: 10,000 simultaneous
    requests with a burst of 3,000 give 3,000 served and 7,000 throttled.

    Model [assumption where AWS is not specific]: a new environment may start while the
    account's concurrency is below the burst. Once concurrency reaches the burst, a scaling
    episode begins and the ceiling grows linearly by ``per_minute`` per minute from the burst;
    the episode ends when concurrency falls back below the burst. Warm reuse is never limited.
    """

    __slots__ = ("burst", "per_minute", "account", "episode_start")

    def __init__(self, burst: float, per_minute: float) -> None:
        self.burst = float(burst)
        self.per_minute = float(per_minute)
        self.account: Account | None = None
        self.episode_start: float | None = None

    def for_function(self, account: "Account") -> "RegionalBurstScaling":
        # One ceiling for the whole account: every function gets the same object.
        self.account = account
        return self

    def requests_for_function(self):
        """The legacy rule documents no request-rate dimension."""
        return _Unscaled()

    def take(self, now: float) -> bool:
        in_use = self.account.in_use
        if in_use < self.burst:
            self.episode_start = None
            return True
        if self.episode_start is None:
            self.episode_start = now
        ceiling = self.burst + self.per_minute * (now - self.episode_start) / 60.0
        return in_use < ceiling


def make_scaling(config: Mapping[str, Any]):
    """Build the scale-out rule from ``account.scaling`` of a resolved scenario."""
    model = config["model"]
    if model == "token-bucket":
        requests = config.get("request_burst")
        return _PerFunctionBucket(float(config["burst"]), float(config["per"]),
                                  None if requests is None else float(requests))
    if model == "regional-burst":
        return RegionalBurstScaling(float(config["burst"]), float(config["per_minute"]))
    raise ValueError(f"unknown scaling model {model!r}")


class _Unlimited:
    """A limiter that always admits (request-rate limit switched off)."""

    __slots__ = ()

    def take(self, now: float) -> bool:
        return True


class Account:
    """Account-level limits shared by all functions of a scenario.

    ``in_use`` counts busy and initializing environments of every function (the account's
    ConcurrentExecutions); the model keeps it exact on every admission and release.
    """

    __slots__ = ("concurrency_limit", "unreserved_minimum", "reserved_total", "unreserved",
                 "in_use", "scaling", "rate_limit_enabled", "rate_per_concurrency",
                 "request_rate")

    def __init__(self, config: Mapping[str, Any], reserved_total: int) -> None:
        self.concurrency_limit = int(config["concurrency_limit"])
        # A small account (limit <= 100) keeps its whole limit unreserved
        # (configuration-concurrency.html; lambdasim.scenario.checks.effective_unreserved_minimum).
        self.unreserved_minimum = min(int(config["unreserved_minimum"]), self.concurrency_limit)
        self.reserved_total = int(reserved_total)
        if self.concurrency_limit - self.reserved_total < self.unreserved_minimum:
            raise ValueError(
                f"reserved concurrency {self.reserved_total} leaves less than the unreserved "
                f"minimum {self.unreserved_minimum} of the account limit {self.concurrency_limit}"
            )
        self.unreserved = ConcurrencyPool(
            "unreserved", self.concurrency_limit - self.reserved_total)
        self.in_use = 0
        self.scaling = make_scaling(config["scaling"])
        rate = config["request_rate_limit"]
        self.rate_limit_enabled = bool(rate["enabled"])
        self.rate_per_concurrency = float(rate["per_concurrency"])
        self.request_rate = self.rate_limiter(self.concurrency_limit)

    def rate_limiter(self, concurrency: int):
        """Request-rate limiter for ``concurrency`` units: 10 x concurrency requests/s."""
        if not self.rate_limit_enabled or concurrency <= 0:
            # Reserved 0 throttles on concurrency already; say so rather than "rate".
            return _Unlimited()
        rate = self.rate_per_concurrency * concurrency
        return TokenBucket(max(rate, 1.0), rate)

    def request_rate_for(self, reserved: int | None):
        """The request-rate check of a function: the account's, and its own when reserved."""
        if reserved is None or not self.rate_limit_enabled or reserved <= 0:
            return self.request_rate
        return DualTokenBucket(self.request_rate, self.rate_limiter(reserved))

    def pool_for(self, name: str, reserved: int | None) -> ConcurrencyPool:
        """The pool a function draws from: its own reservation, or the unreserved pool."""
        if reserved is None:
            return self.unreserved
        return ConcurrencyPool(name, reserved)

    @property
    def unreserved_limit(self) -> int:
        return self.concurrency_limit - self.reserved_total
