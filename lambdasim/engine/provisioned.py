"""Provisioned concurrency: pre-initialized environments, their allocation, scaling and cost.

Provisioned environments answer without Init on the request path
(https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html). The rules
modelled here (LAMBDA_MODEL.md section 5):

* **Claim.** Provisioned environments count against the function's reservation, or against
  the account's unreserved pool when it has none
  (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html): each allocated
  environment holds one unit of its pool, busy or idle. On-demand requests are therefore
  admitted within ``limit - allocated``. [assumption] Environments that become ready while
  their pool has no free unit (on-demand invocations in flight fill it) wait: each takes a
  unit as soon as one is free (checked at the function's next request), ahead of on-demand
  requests, so the reservation is never exceeded.
* **Routing.** A request takes a free provisioned environment first; when all are busy it
  spills over to on-demand environments (cold starts possible), within the reservation if
  there is one (``ProvisionedConcurrencySpilloverInvocations``). Spillover counts on-demand
  invocations made while at least one provisioned environment was allocated.
* **Request rate.** Provisioned concurrency serves at most 10 x its allocation in requests per
  second per version or alias: "a function that has a provisioned concurrency allocation of 10
  ... spills over into on-demand concurrency after 10 concurrency or 100 requests per second,
  whichever happens first" (lambda-concurrency.html, "Understanding concurrency and requests
  per second"; gettingstarted-limits.html). A token bucket holding one second of that rate
  (like the account's request-rate limit, and switched with it:
  ``account.request_rate_limit``); a request that finds a free provisioned environment but no
  token spills over to on-demand, counted in ``spillover_by_reason.request_rate`` and billed
  at on-demand rates.
* **Allocation.** After a preparation time (1-2 minutes per AWS; default 90 s
  [assumption within that range]) Lambda allocates up to 6,000 environments per minute and
  none of a request is usable until all of it is ready: capacity requested at ``t`` becomes
  usable at ``t + preparation + N / 6000 min``, ``N`` the environments to add. A newer request
  supersedes one still preparing; a decrease takes effect at once (busy environments above the
  new capacity leave when their invocation ends).
* **Init off the request path.** Each allocated environment runs Init when it is prepared;
  that Init is billed [doc: pricing] and nobody waits for it. Provisioned environments are never
  reclaimed for idleness; they are recycled every few hours (the function's ``max_lifetime``,
  on a stream of its own) with a background Init, billed, that does not reduce the capacity
  [assumption: the replacement is ready before the old one leaves]. Background Init is billed
  at the provisioned execution rate [assumption].
* **Application Auto Scaling.** Scheduled actions set the capacity at a time. Target tracking
  on ``ProvisionedConcurrencyUtilization`` (busy provisioned / allocated, 1-minute Average):
  scale out when the metric exceeds the target for 3 consecutive minutes, scale in when it
  stays below 90 % of the target for 15 consecutive minutes, between ``min`` and ``max``
  (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html,
  https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html).
  A scale-out sets ``ceil(allocated x U / target)`` (large steps); a scale-in moves half-way
  towards that value (smaller steps) [assumption: AWS scales in "gradually"]. After an action
  the alarm needs fresh consecutive points; no scale-out while an allocation is preparing.
  A minute without allocated capacity has no data point and breaks a run of points.
* **Cost.** Configured GB-seconds at the provisioned rate, each unit of capacity billed from
  its enabling to its disabling rounded up to 5 minutes; execution GB-seconds on provisioned
  environments at the provisioned execution rate; spillover at on-demand rates
  (https://aws.amazon.com/lambda/pricing/).

Hot path. Only functions with provisioned concurrency configured are built as
:class:`ProvisionedFunction`; every other function keeps :class:`LambdaFunction.invoke`
untouched. A provisioned invocation is one ``Wakeup``; the idle provisioned environments are a
list used as a stack; the utilization integral is updated in O(1) per start and end.
"""
from __future__ import annotations

import math
from array import array
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.billing import billed_ms, provisioned_cost
from lambdasim.engine.environments import BUSY, DEAD, IDLE, ExecutionEnvironment
from lambdasim.engine.events import URGENT, Wakeup
from lambdasim.engine.account import TokenBucket
from lambdasim.engine.function import (CRASH, ERROR, PROVISIONED, SUPPRESSED_INIT, THROTTLE_RATE, TIMEOUT,
                       LambdaFunction)
from lambdasim.engine.metrics import StepLevel
from lambdasim.engine.pollers import step_min, window_unit_seconds

__all__ = ["ProvisionedFunction", "ProvisionedConcurrency", "ProvisionedReporter",
           "ALLOCATION_PER_S", "is_configured", "configured_gb_s"]

#: Lambda allocates up to 6,000 provisioned environments per minute (provisioned-concurrency.html).
ALLOCATION_PER_S = 6000.0 / 60.0
#: Target tracking evaluates 1-minute data points.
MINUTE_S = 60.0


def is_configured(config: Mapping[str, Any]) -> bool:
    """Whether a resolved ``provisioned_concurrency`` ever asks for any capacity."""
    return bool(config["capacity"] or config["target_tracking"] is not None
                or any(a["capacity"] for a in config["schedule"]))


class ProvisionedConcurrency:
    """The provisioned environments of one function and the controller that sizes them."""

    __slots__ = ("sim", "config", "pool", "environments", "idle", "live", "waiting", "allocated",
                 "configured", "busy", "_area", "_alloc_area", "_last_t", "_generation",
                 "_pending", "_init", "_lifetime", "_recycle_cb", "_ready_cb", "_tick_cb",
                 "_tick_area", "_tick_alloc_area", "_above", "_below", "allocated_changes",
                 "configured_changes", "inits", "rate", "requests_per_unit")

    def __init__(self, sim, config: Mapping[str, Any], pool, environments,
                 init: Callable[[], float], lifetime: Callable[[], float],
                 requests_per_unit: float | None = 10.0) -> None:
        self.sim = sim
        self.config = config
        self.pool = pool
        self.environments = environments
        self.idle: list[ExecutionEnvironment] = []
        self.live = 0          # provisioned environments in existence (each holds a pool unit)
        self.waiting = 0       # ready environments waiting for a free unit of the pool
        self.allocated = 0     # usable capacity (ProvisionedConcurrencyAllocated)
        self.configured = 0    # last requested capacity (what is billed)
        self.busy = 0
        self._area = 0.0       # integral of busy over time
        self._alloc_area = 0.0  # integral of allocated over time
        self._last_t = 0.0
        self._generation = 0
        self._pending = False
        self._init = init
        self._lifetime = lifetime
        self._recycle_cb = self._on_recycle
        self._ready_cb = self._on_ready
        self._tick_cb = self._on_tick
        self._tick_area = 0.0
        self._tick_alloc_area = 0.0
        self._above = 0
        self._below = 0
        #: (t, allocated) after every change; (t, configured) after every request.
        self.allocated_changes: list[tuple[float, int]] = []
        self.configured_changes: list[tuple[float, int]] = []
        #: (t, Init Duration) of every Init of a provisioned environment (allocation, recycle).
        self.inits = array("d")
        #: Requests/s per allocated unit (10, gettingstarted-limits.html), None when the
        #: request-rate limits are off; ``rate`` is the bucket of the current allocation.
        self.requests_per_unit = requests_per_unit
        self.rate: TokenBucket | None = None

    # ----------------------------------------------------------------- set-up and control
    def start(self) -> None:
        """Capacity configured before the run (ready at 0), scheduled actions, the alarm."""
        capacity = self.config["capacity"]
        self.configured_changes.append((0.0, capacity))
        if capacity:
            self._allocate(0.0, capacity)
        for action in sorted(self.config["schedule"], key=lambda a: a["at"]):
            Wakeup(self.sim, action["at"], action["capacity"], self._on_scheduled)
        if self.config["target_tracking"] is not None:
            Wakeup(self.sim, MINUTE_S, None, self._tick_cb)

    def _on_scheduled(self, event) -> None:
        self.request(self.sim._now, event._value)

    def request(self, now: float, capacity: int) -> None:
        """Set the provisioned capacity (PutProvisionedConcurrencyConfig) at ``now``."""
        self.configured = capacity
        self.configured_changes.append((now, capacity))
        self._generation += 1
        self._pending = False
        if capacity <= self.allocated:
            self._set_allocated(now, capacity)
            self.waiting = max(0, min(self.waiting, capacity - self.live))
            while self.live > capacity and self.idle:
                self._end(self.idle.pop(), now)
            return
        # Usable only when all of it is ready: preparation, then 6,000 per minute.
        delay = self.config["preparation"] + (capacity - self.allocated) / ALLOCATION_PER_S
        self._pending = True
        Wakeup(self.sim, delay, (self._generation, capacity), self._ready_cb)

    def _on_ready(self, event) -> None:
        generation, capacity = event._value
        if generation != self._generation:
            return  # superseded by a later request
        self._pending = False
        self._allocate(self.sim._now, capacity)

    def _allocate(self, now: float, capacity: int) -> None:
        self.configured = capacity
        self.waiting = max(0, capacity - self.live)
        self._set_allocated(now, capacity)
        self.claim(now)

    def claim(self, now: float) -> None:
        """Give waiting environments the free units of the pool; they become usable."""
        pool = self.pool
        add = min(self.waiting, pool.limit - pool.in_use)
        if add <= 0:
            return
        environments = self.environments
        lifetime = self._lifetime
        init = self._init
        inits = self.inits
        for _ in range(add):
            env = ExecutionEnvironment(environments.register(now), now, 0.0, math.inf)
            env.retire_at = now + lifetime()
            env.state = IDLE
            inits.extend((now, init()))
            self.idle.append(env)
            Wakeup(self.sim, env.retire_at - now, env, self._recycle_cb)
        self.live += add
        self.waiting -= add
        pool.in_use += add

    def _set_allocated(self, now: float, capacity: int) -> None:
        self._advance(now)
        self.allocated = capacity
        per_unit = self.requests_per_unit
        if per_unit is not None and capacity > 0:
            # One second of 10 x allocation requests; a new allocation starts with it full.
            self.rate = TokenBucket(per_unit * capacity, per_unit * capacity)
        self.allocated_changes.append((now, capacity))

    def _end(self, env: ExecutionEnvironment, now: float) -> None:
        env.state = DEAD
        self.live -= 1
        self.pool.in_use -= 1
        self.environments.ended(env.id, now)

    def _on_recycle(self, event) -> None:
        env = event._value
        if env.state == DEAD:
            return
        now = self.sim._now
        # A replacement runs a background Init (billed); the capacity does not drop.
        self.inits.extend((now, self._init()))
        env.needs_init = False
        env.retire_at = now + self._lifetime()
        Wakeup(self.sim, env.retire_at - now, env, self._recycle_cb)

    # ----------------------------------------------------------------- busy accounting
    def _advance(self, now: float) -> None:
        elapsed = now - self._last_t
        if elapsed > 0.0:
            self._area += self.busy * elapsed
            self._alloc_area += self.allocated * elapsed
            self._last_t = now

    def release(self, env: ExecutionEnvironment, now: float) -> None:
        """A provisioned invocation on ``env`` ended at ``now``."""
        self._advance(now)
        self.busy -= 1
        if self.live > self.allocated:
            self._end(env, now)  # capacity was decreased while it was busy
        else:
            env.state = IDLE
            self.idle.append(env)

    # ----------------------------------------------------------------- target tracking
    def _on_tick(self, event) -> None:
        """One 1-minute data point of ProvisionedConcurrencyUtilization (Average)."""
        now = self.sim._now
        Wakeup(self.sim, MINUTE_S, None, self._tick_cb)
        if self.waiting:
            self.claim(now)
        self._advance(now)
        busy_area = self._area - self._tick_area
        alloc_area = self._alloc_area - self._tick_alloc_area
        self._tick_area, self._tick_alloc_area = self._area, self._alloc_area
        tracking = self.config["target_tracking"]
        target = tracking["target"]
        if alloc_area <= 0.0:
            self._above = self._below = 0  # no data point
            return
        utilization = busy_area / alloc_area
        self._above = self._above + 1 if utilization > target else 0
        self._below = (self._below + 1
                       if utilization < target * tracking["scale_in_threshold"] else 0)
        wanted = math.ceil(self.allocated * utilization / target - 1e-9)
        low, high = tracking["min"], tracking["max"]
        if self._above * MINUTE_S >= tracking["scale_out_after"] and not self._pending:
            self._above = self._below = 0
            capacity = min(high, max(low, wanted, self.configured + 1))
            if capacity != self.configured:
                self.request(now, capacity)
        elif self._below * MINUTE_S >= tracking["scale_in_after"]:
            self._above = self._below = 0
            capacity = min(high, max(low, math.ceil((self.configured + wanted) / 2)))
            if capacity < self.configured:
                self.request(now, capacity)


class ProvisionedFunction(LambdaFunction):
    """A function with provisioned concurrency: a free provisioned environment first.

    When none is free, :meth:`LambdaFunction.invoke` runs unchanged (on-demand, cold starts
    possible, within the pool left after the provisioned claim), and an admitted attempt while
    provisioned capacity is allocated is recorded as spillover.
    """

    __slots__ = ("provisioned", "spillover", "rate_spillover", "_prov_complete_cb",
                 "_record_spill", "_record_rate_spill")

    def __init__(self, *args, provisioned_config: Mapping[str, Any],
                 provisioned_init: Callable[[], float],
                 provisioned_lifetime: Callable[[], float], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rate = self.account.rate_per_concurrency if self.account.rate_limit_enabled else None
        self.provisioned = ProvisionedConcurrency(
            self.sim, provisioned_config, self.pool, self.environments,
            provisioned_init, provisioned_lifetime, rate)
        #: (t, origin) of every spillover invocation.
        self.spillover = array("d")
        #: origin of every spillover invocation due to the provisioned request rate.
        self.rate_spillover = array("d")
        self._record_spill = self.spillover.extend
        self._record_rate_spill = self.rate_spillover.append
        self._prov_complete_cb = self._complete_provisioned

    def invoke(self, origin: float, payload: Any, done: Callable[[Any, int, float], None],
               extra_s: float = 0.0, fails: bool = False) -> bool:  # LambdaFunction.invoke's
        prov = self.provisioned
        if prov.waiting:
            prov.claim(self.sim._now)
        idle = prov.idle
        now = self.sim._now
        if idle:
            # 10 x allocation requests per second (lambda-concurrency.html): GCRA inlined.
            bucket = prov.rate
            if bucket is not None:
                tat = bucket.tat
                if tat < now:
                    tat = now
                elif tat - now > bucket.tolerance:
                    return self._spill(origin, payload, done, extra_s, fails, True)
                bucket.tat = tat + bucket.interval
        else:
            return self._spill(origin, payload, done, extra_s, fails, False)
        if not self._request_rate(now):
            if prov.rate is not None:
                prov.rate.tat -= prov.rate.interval  # the request never reached it
            self._record_throttle((now, origin, THROTTLE_RATE))
            return False
        env = idle.pop()
        env.state = BUSY
        if env.needs_init:
            env.needs_init = False
            run = self._init() + self._duration()
            code = PROVISIONED | SUPPRESSED_INIT
        else:
            run = self._duration()
            code = PROVISIONED
        run += extra_s
        if run >= self.timeout_s:
            run = self.timeout_s
            code |= TIMEOUT
            env.needs_init = True
        elif fails or self.error_rate:  # fails: a record the handler cannot process; no draw
            draw = -1.0 if fails else self._uniform()
            if draw < self.error_rate:
                code |= ERROR
                if draw < self.crash_below and not fails:
                    code |= CRASH
                    env.needs_init = True  # a crash resets it (lambda-runtime-environment.html)
        prov._advance(now)
        prov.busy += 1
        self.account.in_use += 1
        if self.gate is not None:
            self.gate.start(now, origin, 0.0, run, code, env, payload, done,
                            self._prov_complete_cb)
            return True
        self._record_attempt((now, origin, 0.0, run, code))
        Wakeup(self.sim, run, (env, payload, done, code), self._prov_complete_cb, URGENT)
        return True

    def _spill(self, origin: float, payload: Any, done, extra_s: float, fails: bool, by_rate: bool) -> bool:
        """Spill over to on-demand: every provisioned environment busy, or its rate spent."""
        if LambdaFunction.invoke(self, origin, payload, done, extra_s, fails):
            if self.provisioned.allocated:
                self._record_spill((self.sim._now, origin))
                if by_rate:
                    self._record_rate_spill(origin)
            return True
        return False

    def _complete_provisioned(self, event) -> None:
        env, payload, done, code = event._value
        now = self.sim._now
        self.account.in_use -= 1
        self.provisioned.release(env, now)
        done(payload, code, now)


# ===================================================================== after the run
def _steps(changes: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Change times and values of a step function that is 0 before its first change."""
    times = np.array([0.0] + [t for t, _ in changes], dtype=np.float64)
    values = np.array([0.0] + [v for _, v in changes], dtype=np.float64)
    return times, values


def _step_integral(times: np.ndarray, values: np.ndarray, a: float, b: float) -> float:
    ends = np.append(times[1:], np.inf)
    overlap = np.clip(ends, a, b) - np.clip(times, a, b)
    return float(np.dot(values, overlap))


def _step_max(times: np.ndarray, values: np.ndarray, a: float, b: float) -> float:
    ends = np.append(times[1:], np.inf)
    # Segments that overlap [a, b), plus the value in force at a.
    mask = (ends > a) & (times < b) & (ends > times)
    return float(values[mask].max()) if mask.any() else 0.0


def _level_integral(starts: np.ndarray, ends_sorted: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Integral from -inf to each x of the number of intervals [start, end) open."""
    starts = np.sort(starts)
    cs = np.concatenate([[0.0], np.cumsum(starts)])
    ce = np.concatenate([[0.0], np.cumsum(ends_sorted)])
    ks = np.searchsorted(starts, xs, side="right")
    ke = np.searchsorted(ends_sorted, xs, side="right")
    # sum over started intervals of (min(end, x) - start)
    return (xs * ks - cs[ks]) - (xs * ke - ce[ke])


def configured_gb_s(changes: list[tuple[float, int]], memory_mb: float, a: float, b: float,
                    increment_s: float) -> float:
    """GB-seconds of configured capacity billed within ``[a, b]``.

    The capacity is cut into units: each unit is billed from the moment it is enabled to the
    moment it is disabled (or ``b``), clipped to ``[a, b]`` and rounded up to
    ``increment_s`` (5 minutes) (https://aws.amazon.com/lambda/pricing/).
    """
    blocks: list[list[float]] = []  # [low, high, since] layers of enabled units
    level = 0
    seconds = 0.0  # unit-seconds

    def close(low: float, high: float, since: float, until: float) -> float:
        length = min(until, b) - max(since, a)
        if length <= 0.0 or high <= low:
            return 0.0
        billed = math.ceil(round(length / increment_s, 9)) * increment_s
        return (high - low) * billed

    for t, capacity in changes:
        if capacity > level:
            blocks.append([level, capacity, t])
        while capacity < level:
            low, high, since = blocks[-1]
            if low >= capacity:
                blocks.pop()
                seconds += close(low, high, since, t)
                level = low
            else:
                seconds += close(capacity, high, since, t)
                blocks[-1][1] = capacity
                level = capacity
        level = capacity
    for low, high, since in blocks:
        seconds += close(low, high, since, b)
    return seconds * memory_mb / 1024.0


class ProvisionedReporter:
    """The ``provisioned`` summary block and the Provisioned* series of one function."""

    summary_key = "provisioned"

    def __init__(self, function: ProvisionedFunction, recorder, fconfig: Mapping[str, Any],
                 prices: Callable[[], Mapping[str, Any]]) -> None:
        self.function = function
        self.recorder = recorder
        self.fconfig = fconfig
        self._prices = prices
        self._cache: dict[str, Any] | None = None
        self._usage = None  # the function's UsageBill, once usage() has filled it

    def _data(self, model) -> dict[str, Any]:
        if self._cache is not None:
            return self._cache
        attempts = self.recorder.table("attempts")
        prov = (attempts["code"].astype(np.int64) & PROVISIONED) != 0
        t = attempts["t"][prov]
        duration = attempts["duration"][prov]
        origin = attempts["origin"][prov]
        spill = np.frombuffer(self.function.spillover, dtype=np.float64).reshape(-1, 2)
        rate_spill = np.frombuffer(self.function.rate_spillover, dtype=np.float64)
        inits = np.frombuffer(self.function.provisioned.inits, dtype=np.float64).reshape(-1, 2)
        self._cache = {"t": t.copy(), "end": t + duration, "duration": duration.copy(),
                       "origin": origin.copy(), "spill": spill.copy(), "inits": inits.copy(),
                       "rate_spill": rate_spill.copy()}
        return self._cache

    def usage(self, model, usage) -> None:
        """Add the provisioned GB-seconds of the measured window to the function's bill."""
        data = self._data(model)
        warmup, horizon = model.warmup_s, model.duration_s
        prices = self._prices()
        memory_gb = self.fconfig["memory_mb"] / 1024.0
        in_window = (data["origin"] >= warmup) & (data["origin"] < horizon)
        inits = data["inits"]
        init_window = (inits[:, 0] >= warmup) & (inits[:, 0] < horizon)
        billed = (float(billed_ms(data["duration"][in_window]).sum())
                  + float(billed_ms(inits[init_window, 1]).sum()))
        usage.provisioned_execution_gb_s = billed / 1000.0 * memory_gb
        usage.provisioned_gb_s = configured_gb_s(
            self.function.provisioned.configured_changes, self.fconfig["memory_mb"], warmup,
            horizon, float(prices["provisioned_billing_increment_s"]))
        # Capacity configured all through the window is always on (billed "from the time you
        # enable it ... until it is disabled", pricing page; billing.ALWAYS_ON).
        floor = step_min(self.function.provisioned.configured_changes, warmup, horizon)
        window, step = max(0.0, horizon - warmup), float(prices["provisioned_billing_increment_s"])
        usage.always_on_provisioned_gb_s = floor * memory_gb * window
        usage.always_on_provisioned_billed_gb_s = floor * memory_gb * math.ceil(
            round(window / step, 9)) * step
        self._usage = usage

    def summary(self, model) -> dict[str, Any]:
        data = self._data(model)
        prov = self.function.provisioned
        warmup, horizon = model.warmup_s, model.duration_s
        a_times, a_values = _steps(prov.allocated_changes)
        length = horizon - warmup
        alloc_mean = _step_integral(a_times, a_values, warmup, horizon) / length
        ends = np.sort(data["end"])
        busy = _level_integral(data["t"], ends, np.array([warmup, horizon]))
        busy_mean = float(busy[1] - busy[0]) / length
        minutes = np.arange(warmup, horizon + 1e-9, MINUTE_S)
        if minutes[-1] < horizon:
            minutes = np.append(minutes, horizon)
        utilization = self._utilization(data, a_times, a_values, minutes)
        defined = [u for u in utilization if u is not None]
        spill = data["spill"]
        origin = data["origin"]
        usage = self._usage
        prices = self._prices()
        cost = (provisioned_cost(prices, self.fconfig["architecture"], usage.provisioned_gb_s,
                                 usage.provisioned_execution_gb_s) if usage is not None else None)
        return {
            "allocated": {"max": int(_step_max(a_times, a_values, warmup, horizon)),
                          "mean": round(alloc_mean, 6)},
            "utilization": {
                "mean": round(min(1.0, busy_mean / alloc_mean), 6) if alloc_mean > 0 else None,
                "max": round(max(defined), 6) if defined else None,
            },
            "invocations": int(np.count_nonzero((origin >= warmup) & (origin < horizon))),
            "spillover_invocations": int(np.count_nonzero(
                (spill[:, 1] >= warmup) & (spill[:, 1] < horizon))),
            # Why requests spilled over: every provisioned environment busy, or the
            # provisioned request rate (10 x allocation per second) spent.
            "spillover_by_reason": {
                "busy": int(np.count_nonzero((spill[:, 1] >= warmup) & (spill[:, 1] < horizon)))
                - int(np.count_nonzero((data["rate_spill"] >= warmup)
                                       & (data["rate_spill"] < horizon))),
                "request_rate": int(np.count_nonzero((data["rate_spill"] >= warmup)
                                                     & (data["rate_spill"] < horizon))),
            },
            "request_rate_limit": (None if prov.requests_per_unit is None
                                   else {"requests_per_s_per_unit": prov.requests_per_unit}),
            "scaling_actions": [{"t_s": round(t, 6), "capacity": int(c)}
                                for t, c in prov.configured_changes if t < horizon],
            "cost_usd": None if cost is None else round(cost, 9),
        }

    @staticmethod
    def _utilization(data, a_times, a_values, edges: np.ndarray) -> list[float | None]:
        """Average utilization per period: busy provisioned over allocated, capped at 1."""
        ends = np.sort(data["end"])
        busy = np.diff(_level_integral(data["t"], ends, edges))
        out: list[float | None] = []
        for k in range(len(edges) - 1):
            alloc = _step_integral(a_times, a_values, edges[k], edges[k + 1])
            out.append(None if alloc <= 0 else round(min(1.0, float(busy[k]) / alloc), 6))
        return out

    def cost_weights(self, model, edges: np.ndarray, prices) -> dict[str, np.ndarray]:
        """The ``provisioned`` item's usage per bin (USD): configured GB-s in ``[warmup,
        duration)``, and execution GB-s of counted invocations and background Inits by start."""
        data, warmup, horizon = self._data(model), model.warmup_s, model.duration_s
        memory_gb, count = self.fconfig["memory_mb"] / 1024.0, len(edges) - 1
        configured = window_unit_seconds(self.function.provisioned.configured_changes, edges,
                                         warmup, horizon) * memory_gb
        inits, counted = data["inits"], (data["origin"] >= warmup) & (data["origin"] < horizon)
        init_counted = (inits[:, 0] >= warmup) & (inits[:, 0] < horizon)
        starts = np.concatenate([data["t"][counted], inits[init_counted, 0]])
        billed = np.concatenate([billed_ms(data["duration"][counted]),
                                 billed_ms(inits[init_counted, 1])])
        index = np.clip(np.searchsorted(edges, starts, side="right") - 1, 0, count - 1)
        executed = np.bincount(index, weights=billed, minlength=count) / 1000.0 * memory_gb
        arch = self.fconfig["architecture"]
        return {"provisioned": configured * float(prices["provisioned_usd_per_gb_s"][arch])
                + executed * float(prices["provisioned_duration_usd_per_gb_s"][arch])}

    def series(self, model, edges: np.ndarray) -> dict[str, list]:
        data = self._data(model)
        prov = self.function.provisioned
        a_times, a_values = _steps(prov.allocated_changes)
        count = len(edges) - 1
        level = StepLevel(data["t"], data["end"])
        bounds = np.searchsorted(data["t"], edges, side="left")
        spill_t = data["spill"][:, 0]
        spill_bounds = np.searchsorted(spill_t, edges, side="left")
        return {
            "ProvisionedConcurrentExecutions": [int(v) for v in level.period_maxima(edges)],
            "ProvisionedConcurrencyUtilization": self._utilization(data, a_times, a_values, edges),
            "ProvisionedConcurrencyInvocations": [int(v) for v in np.diff(bounds)],
            "ProvisionedConcurrencySpilloverInvocations": [int(v) for v in np.diff(spill_bounds)],
            "ProvisionedConcurrencyAllocated": [
                int(_step_max(a_times, a_values, edges[k], edges[k + 1])) for k in range(count)],
        }
