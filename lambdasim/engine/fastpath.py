"""The common configuration, specialised at build time: synchronous calls to an on-demand
function.

Most functions of most scenarios are the plainest kind: one direct ``sync`` trigger without
client retries (no front door), no provisioned concurrency, no shared dependencies, the default
warm pool (most recently used first), the per-function scale-out token bucket, no asynchronous
queue waiting on the function's pool.
For such a function :func:`specialise` replaces the general path (``SyncTrigger.arrive`` ->
``LambdaFunction.invoke`` -> a ``Wakeup`` with a tuple -> ``_complete`` -> the trigger's
``done``) by two closures that do the same work with fewer calls:

* ``arrive(now)`` applies the limits in Lambda's order (request rate, concurrency, the
  request-rate dimension of the scale-out rate, a warm environment or a scale-out token;
  lambda-concurrency.html, scaling-behavior.html) with the request-rate token bucket, the
  scale-out request room and the warm-pool pop inlined (the request room's bookkeeping
  deferred while it cannot throttle, :meth:`RequestScaling.defer`); everything rarer than
  a warm start (cold start, retirement, suppressed init) goes through :func:`_admit_other`,
  written like ``LambdaFunction.invoke``;
* the execution environment is its own completion event (:class:`FastEnvironment`): the
  payload lives on the environment, no tuple and no event object per invocation;
* ``complete(env)`` releases the units and puts the environment back in the warm pool
  (keep-alive timer as in :meth:`EnvironmentPool.release`), and calls nothing else.

Nothing per request is recorded beyond the attempt (and the throttle row), and a warm attempt
that ended well -- nearly all of them -- only as its start and its Duration
(:meth:`FunctionRecorder.compact_attempts`, the columns statistics need): the request
row of a synchronous call without retries is its one attempt, so it is derived after the
run (:func:`derived_requests`), with the same values and in the same order as the general
path writes it. Every random draw, event id and event time is the general path's, so a run
is the same run either way -- ``tests/test_fastpath.py`` compares the two on every shipped
scenario. ``Model(..., general=True)`` builds the general path only.
"""
from __future__ import annotations

from heapq import heappush
from typing import Any

import numpy as np

from lambdasim.engine.account import RequestScaling, TokenBucket
from lambdasim.engine.environments import BUSY, IDLE, ExecutionEnvironment, MruPool
from lambdasim.engine.events import URGENT
from lambdasim.engine.function import (COLD, CRASH, ERROR, INIT_LIMIT_S, SUPPRESSED_INIT,
                                       THROTTLE_CONCURRENCY, THROTTLE_RATE,
                                       THROTTLE_REQUEST_SCALING, THROTTLE_SCALING, TIMEOUT,
                                       LambdaFunction)
from lambdasim.engine.invoke.sync import FAILED, SUCCEEDED, THROTTLED, SyncTrigger
from lambdasim.engine.metrics import pack_request

__all__ = ["specialise", "qualifies", "FastEnvironment", "FastSyncTrigger", "derived_requests"]


class FastEnvironment(ExecutionEnvironment):
    """An execution environment that is also the SimPy event of its invocation's end.

    The run loop needs of an event only ``callbacks`` (taken and set to None when it fires)
    and ``_ok``; an environment runs one invocation at a time, so one object serves as the
    end event of each of its invocations in turn.
    """

    __slots__ = ("callbacks",)
    _ok = True


def qualifies(function: Any, triggers: list) -> bool:
    """Whether ``function`` (with its ``triggers``) is of the common configuration."""
    if type(function) is not LambdaFunction or function.release_listener is not None:
        return False
    if function.gate is not None:  # its handler phase goes through shared dependencies
        return False
    if len(triggers) != 1 or type(triggers[0]) is not SyncTrigger:
        return False
    trigger = triggers[0]
    if trigger.arrive != trigger._arrive_once:  # client retries: requests of their own
        return False
    if type(function.environments.warm) is not MruPool:
        return False
    return type(getattr(function._scaling, "__self__", None)) is TokenBucket


class FastSyncTrigger:
    """Stands in for the :class:`SyncTrigger` of a specialised function in ``model.triggers``.

    Its counters are derived rather than kept per request: a request in flight is a busy
    environment (one trigger, one attempt per request), and the requests that arrived in the
    window are the attempts and throttles whose origin is in it.
    """

    __slots__ = ("trigger", "function", "recorder", "warmup_s", "name", "index")

    def __init__(self, trigger: SyncTrigger, recorder) -> None:
        self.trigger = trigger
        self.function = trigger.function
        self.recorder = recorder
        self.warmup_s = trigger.warmup_s
        self.name = trigger.name
        self.index = trigger.index

    @property
    def outstanding(self) -> int:
        return self.function.in_use

    @property
    def arrived_in_window(self) -> int:
        # Arrivals stop at the horizon: only the warm-up bound needs a check. Attempts and
        # throttles are recorded in time order, each at its request's arrival (its origin).
        recorder = self.recorder
        starts = recorder.table("attempts")["t"]
        count = len(starts) - int(starts.searchsorted(self.warmup_s, side="left"))
        if len(recorder.throttles):
            throttled_at = recorder.table("throttles")["t"]
            count += len(throttled_at) - int(throttled_at.searchsorted(self.warmup_s, side="left"))
        return count


def specialise(model) -> list[str]:
    """Install the fast path on every function of ``model`` that qualifies; return their names.

    Called once the model is built (after ``after_build`` hooks), before it runs.
    """
    done = []
    for name, function in model.functions.items():
        triggers = model.triggers[name]
        if not qualifies(function, triggers):
            continue
        trigger = triggers[0]
        recorder = model.recorders[name]
        # The function's own run loop: the model's, or one of its own when the functions
        # run one after another (Model: independent functions).
        arrive = _build(function.sim, function, recorder)
        for feed in model.arrival_feeds.get(id(trigger), ()):
            function.sim.redirect_arrivals(feed, arrive)
        recorder.derive_requests = _deriver(model, recorder, pack_request(0, 0, trigger.index, 1))
        model.triggers[name] = [FastSyncTrigger(trigger, recorder)]
        done.append(name)
    return done


def _deriver(model, recorder, packed_base: int):
    def derive(ordered: bool = True) -> dict:
        return derived_requests(recorder, packed_base, model.end_s, ordered)
    return derive


def _build(sim, function: LambdaFunction, recorder):
    """The ``arrive(now)`` closure of one function (and its ``complete``)."""
    queue = sim._queue
    eid = sim._eid
    account = function.account
    pool = function.pool
    environments = function.environments
    environments.factory = FastEnvironment
    warm = environments.warm
    items = warm._items  # compacted in place, so the binding stays valid
    take = items.pop
    put = items.append
    # Attempts recorded compactly: a warm one that ended well is two appends, not a row.
    starts, durations, others = recorder.compact_attempts()
    record_start = starts.append
    record_duration = durations.append
    record_other = others.extend
    record_throttle = recorder.throttles.extend
    duration = function._duration
    draw = duration.pop
    refill = duration.refill_pop
    timeout_s = function.timeout_s
    error_rate = function.error_rate
    uniform = function._uniform
    crash_below = function.crash_below
    request_scaling = function.request_scaling
    if type(request_scaling) is RequestScaling:
        # Every admission of this function is one attempt row, in order: the first
        # floor(burst) need no bookkeeping (RequestScaling.defer).
        request_scaling.defer(recorder.attempt_starts, recorder.attempt_count)
    arm = environments._arm
    end = environments._end
    rate_limiter = getattr(function._request_rate, "__self__", None)
    if type(rate_limiter) is TokenBucket:
        rate, rate_take = rate_limiter, None
        interval, tolerance = rate.interval, rate.tolerance
    else:  # the account's and the function's own, or none: not inlined
        rate, rate_take = None, function._request_rate
        interval = tolerance = 0.0

    # Everything the closures use is bound as a default argument: a call copies the
    # defaults tuple (one object, a few cache lines) into fast locals, where closure cells
    # would be one object each -- with a thousand functions their state is cold, and the
    # cache lines touched per request are what the run's time goes to.
    def complete(env, sim=sim, pool=pool, account=account, end=end, put=put, warm=warm,
                 arm=arm, IDLE=IDLE) -> None:
        now = sim._now
        pool.in_use -= 1
        account.in_use -= 1
        # EnvironmentPool.release, inlined.
        if now >= env.retire_at:
            end(env, now)
            return
        env.state = IDLE
        env.idle_since = now
        put(env)
        warm._idle += 1
        if not env.timer_armed:
            deadline = now + env.keep_alive_s
            if env.retire_at < deadline:
                deadline = env.retire_at
            arm(env, deadline - now)

    def arrive(now: float, rate=rate, interval=interval, tolerance=tolerance,
               rate_take=rate_take, record_throttle=record_throttle, pool=pool,
               account=account, items=items, take=take, warm=warm, draw=draw, refill=refill,
               timeout_s=timeout_s, error_rate=error_rate, uniform=uniform,
               crash_below=crash_below, scaling=request_scaling,
               record_start=record_start, record_duration=record_duration,
               record_other=record_other, starts=starts, len=len,
               callbacks=[complete], queue=queue, eid=eid,
               function=function, IDLE=IDLE, BUSY=BUSY, URGENT=URGENT, heappush=heappush,
               next=next) -> None:
        # 1. The request-rate limit (a GCRA token bucket, as TokenBucket.take).
        if rate is not None:
            tat = rate.tat
            if tat < now:
                tat = now
            elif tat - now > tolerance:
                record_throttle((now, now, THROTTLE_RATE))
                return
            rate.tat = tat + interval
        elif not rate_take(now):
            record_throttle((now, now, THROTTLE_RATE))
            return
        # 2. Concurrency.
        if pool.in_use >= pool.limit:
            record_throttle((now, now, THROTTLE_CONCURRENCY))
            return
        # 3. The request-rate dimension of the scale-out rate (RequestScaling: one decrement
        # while the granted rate has room in the current one-second bin).
        room = scaling.room
        if room > 0 and now < scaling.bin_end:
            scaling.room = room - 1
        elif not scaling.admit(now):
            record_throttle((now, now, THROTTLE_REQUEST_SCALING))
            return
        # 4. The most recently used idle environment (MruPool.pop, inlined).
        env = None
        while items:
            env = take()
            if env.state == IDLE:
                warm._idle -= 1
                break
            warm._stale -= 1
            env = None
        if env is not None and now < env.retire_at and not env.needs_init:
            env.state = BUSY
            init = 0.0
            code = 0
            try:
                run = draw()
            except IndexError:
                run = refill()
        else:
            admitted = _admit_other(function, env, now)
            if admitted is None:
                return
            env, init, run, code = admitted
        if run >= timeout_s:
            run = timeout_s
            code |= TIMEOUT
            env.needs_init = True
        elif error_rate:
            # One draw decides an error and whether it crashed the runtime (reset).
            draw = uniform()
            if draw < error_rate:
                code |= ERROR
                if draw < crash_below:
                    code |= CRASH
                    env.needs_init = True
        pool.in_use += 1
        account.in_use += 1
        if code:  # a cold start, an error or a timeout: a full row and its place
            record_other((now, init, run, code, len(starts)))
        else:
            record_start(now)
            record_duration(run)
        # URGENT: what ends at t is released before anything else happens at t.
        env.callbacks = callbacks
        heappush(queue, (now + (init + run), URGENT, next(eid), env))

    return arrive


def _admit_other(function: LambdaFunction, env, now: float):
    """Admission past a warm start, as ``LambdaFunction.invoke``: retire an environment past
    its lifetime, start a cold one (scale-out token, Init up to 10 s), or re-run Init after a
    reset. Returns ``(env, init, run, code)``, or None when throttled (recorded here)."""
    if env is not None and now >= env.retire_at:
        env = function.environments.acquire_past(env, now)
    if env is None:
        if not function._scaling(now):
            function.request_scaling.unadmit(now)
            function._record_throttle((now, now, THROTTLE_SCALING))
            return None
        env = function.environments.create(now)
        init = function._init()
        if init > INIT_LIMIT_S:
            # The Init phase times out at 10 s and runs again inside the first invoke.
            return env, INIT_LIMIT_S, init + function._duration(), COLD | SUPPRESSED_INIT
        return env, init, function._duration(), COLD
    env.state = BUSY
    if env.needs_init:
        env.needs_init = False
        return env, 0.0, function._init() + function._duration(), SUPPRESSED_INIT
    return env, 0.0, function._duration(), 0


def derived_requests(recorder, packed_base: int, end_s: float, ordered: bool = True):
    """The request rows of a specialised function, from its attempt and throttle rows.

    Each admitted attempt is a request that ended at ``t + (init + duration)`` (the time its
    end event had), failed when its code has ERROR or TIMEOUT, else succeeded; each throttle is
    a throttled request that ended when it arrived. Attempts not ended by ``end_s`` are still
    in flight and have no row. With ``ordered`` the rows are in the order the general path
    writes them (as requests end: by end time, ends at one time in admission order, an end
    before a throttle at the same instant); without, attempts first, then throttles.

    Returns
    -------
    dict
        Columns ``arrived``, ``ended``, ``packed`` as in ``FunctionRecorder.table``.
    """
    attempts = recorder.table("attempts")
    t = attempts["t"]
    ended = t + (attempts["init"] + attempts["duration"])
    codes = attempts["code"].astype(np.intp)
    if ended.size and ended.max() > end_s:
        done = ended <= end_s
        t, ended, codes = t[done], ended[done], codes[done]
    packed = (packed_base | _CODE_AND_OUTCOME[codes]).astype(np.float64)
    throttled_at = recorder.table("throttles")["t"]
    if throttled_at.size:
        arrived = np.concatenate([t, throttled_at])
        ended = np.concatenate([ended, throttled_at])
        packed = np.concatenate([packed, np.full(throttled_at.size,
                                                 float(packed_base | (THROTTLED << 8)))])
    else:
        arrived = t
    if ordered and arrived.size:
        kind = np.concatenate([np.zeros(t.size, np.int8), np.ones(throttled_at.size, np.int8)])
        order = np.lexsort((kind, ended), axis=0)
        arrived, ended, packed = arrived[order], ended[order], packed[order]
    return {"arrived": arrived, "ended": ended, "packed": packed}


#: By attempt code (flags, below 256): the code and the outcome bits of the request it
#: answered (:func:`pack_request`), FAILED on an error or a timeout, else SUCCEEDED.
_CODE_AND_OUTCOME = np.array([code | ((FAILED if code & (ERROR | TIMEOUT) else SUCCEEDED) << 8)
                              for code in range(256)], dtype=np.int64)
