"""Asynchronous invocations: the internal event queue, its pollers, retries and destinations.

S3, SNS, EventBridge and ``InvocationType=Event`` callers never see a throttle: the call
succeeds at once and the event joins the function's internal queue
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html). Lambda's pollers then
invoke the function synchronously, through the same limits as every other invocation
(:meth:`lambdasim.engine.function.LambdaFunction.invoke`). What happens next follows
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html:

* a **throttled** attempt (concurrency, scale-out rate, request rate) sends the event back to
  the queue with a backoff that starts at 1 s, doubles and is capped at 5 min, with jitter
  (*assumption*: "equal" jitter, uniform in ``[cap/2, cap)``), for as long as the event is
  younger than ``max_event_age`` (60 s to 6 h, default 6 h);
* a **function error** or timeout is retried ``max_retry_attempts`` times (0 to 2, default
  2), one minute after the first failed attempt and two minutes after the second;
* an event that exhausts its retries or outlives ``max_event_age`` is **dropped** to the
  on-failure destination and the dead-letter target (both, when both are configured); a
  success goes to the on-success destination
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
* with **reserved concurrency 0** every event goes to the failure targets at once, without
  any attempt (Lambda's behaviour since 2021-08-16, announced by AWS on 2021-07-30).

A destination ``{type: function, name: B}`` invokes function B asynchronously: the record
joins B's own queue and obeys B's asynchronous settings, so event-driven pipelines can be
modelled end to end. Other destinations (SQS, SNS, EventBridge) are counted.

One queue per function
----------------------
Lambda keeps one asynchronous configuration per function
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html), so every
``async`` trigger of a function, and every destination delivery from another function, feeds
one :class:`AsyncQueue` with one set of options (the scenario checks that the function's async
triggers agree; a function that only receives destination deliveries uses Lambda's defaults,
2 retries and 6 h). Each trigger or delivery path is an :class:`AsyncInlet` -- a trigger of the
function in the model's sense: every event is a request of its inlet with ``outstanding`` and
``arrived_in_window`` kept, so ``arrived = succeeded + failed + throttled + dropped +
in_flight`` holds per trigger and per function. Outcomes: a success is ``succeeded``; an event
out of retries is ``failed`` (the function answered, with an error); an event dropped for its
age or for zero concurrency is ``dropped``. No asynchronous event is ever ``throttled``: the
caller never sees the throttle. ``outstanding`` covers events waiting in the queue as well as
invocations in flight, so the model drains the backlog after the horizon.

Two poller disciplines (``throttle_backoff``)
---------------------------------------------
``exponential`` (default): what AWS describes. Each event is attempted when it arrives and
again when its backoff ends; nothing else wakes it. A unit of concurrency that frees while
every waiting event is sleeping stays idle until the next backoff ends, which is why an
asynchronous backlog drains more slowly than the function's capacity, and more so as backoffs
grow. Each waiting event has exactly one pending timer, at ``min(next attempt, expiry)``.

``none``: a work-conserving FIFO line, for comparison with queueing theory (M/M/c). Events
wait in arrival order; the pollers take the next event as soon as a unit of concurrency frees
and never attempt an invocation while the function's concurrency pool is full. A throttle from
the scale-out or request-rate limit leaves the event at the head and the pollers look again
after :data:`POLL_RETRY_S`. Retries after function errors rejoin at the head (they have waited
their minute already). Expiry: one timer for the whole line, at the head's expiry; events are
received in order and share one ``max_event_age``, so the head expires first (a retried event
re-entering the head is older still). The one inexactness: when two retried events re-enter
one after the other, the older can sit behind the younger and is then dropped when it reaches
the head or when the head's timer fires -- a little late, but never invoked past its age.

Knowing when concurrency frees: :class:`PoolWaiters`, one per concurrency pool that a
``none`` queue draws on. A stalled queue registers once; ``LambdaFunction._complete`` calls
``release_listener`` -- set at build time only on functions that draw on such a pool, None
elsewhere, so the synchronous hot path pays one attribute test -- and the waiters hand the
freed unit to the longest-registered queue (round robin between functions that share the
unreserved pool; units freed by any function of the pool, synchronous ones included, admit
waiting events). No operation scans queues or events: arrivals append, admissions pop the
head, expiry looks at the head, so every per-event cost is O(1) plus the O(log n) heap push
of a timer.

What is recorded (flat ``array('d')`` columns, reduced by :class:`AsyncReporter`): receive
times, (received, age) per invocation (``AsyncEventAge``: enqueue to invocation), (received,
time, reason) per drop, the starts and ends of waiting spells (queue depth as a
:class:`~lambdasim.engine.metrics.StepLevel`), and the receive times of retried events.
"""
from __future__ import annotations

from array import array
from collections import deque
from typing import Any, Mapping


from lambdasim.engine.events import Wakeup
from lambdasim.engine.function import ERROR, TIMEOUT
from lambdasim.engine.metrics import pack_request
from lambdasim.engine.invoke.async_report import (DESTINATION_KINDS, DROP_REASONS, EVENT_AGE,
                                                  RETRIES_EXHAUSTED, ZERO_CONCURRENCY,
                                                  AsyncReporter)
from lambdasim.engine.invoke.sync import DROPPED, FAILED, SUCCEEDED

__all__ = ["AsyncQueue", "AsyncInlet", "AsyncEvent", "AsyncReporter", "PoolWaiters",
           "build_async_trigger", "finish_async", "DEFAULT_OPTIONS", "DROP_REASONS",
           "RETRIES_EXHAUSTED", "EVENT_AGE", "ZERO_CONCURRENCY", "THROTTLE_BACKOFF_BASE_S",
           "THROTTLE_BACKOFF_CAP_S", "ERROR_RETRY_DELAYS_S", "POLL_RETRY_S"]

#: invocation-async-error-handling.html: throttles are retried "from 1 second after the first
#: attempt to a maximum of 5 minutes", doubling.
THROTTLE_BACKOFF_BASE_S = 1.0
THROTTLE_BACKOFF_CAP_S = 300.0
#: "a one-minute wait between the first two attempts, and two minutes between the second and
#: third attempts" (invocation-async-error-handling.html).
ERROR_RETRY_DELAYS_S = (60.0, 120.0)
#: ``throttle_backoff: none``: how soon the pollers look again after a scale-out or
#: request-rate throttle (*assumption*; concurrency throttles wait for a freed unit instead).
POLL_RETRY_S = 0.01


#: The asynchronous settings of a function that has no ``async`` trigger of its own but
#: receives destination deliveries: Lambda's defaults (invocation-async-configuring.html).
DEFAULT_OPTIONS: Mapping[str, Any] = {
    "max_retry_attempts": 2,
    "max_event_age": 21600.0,
    "throttle_backoff": "exponential",
    "on_success": None,
    "on_failure": None,
    "dead_letter": None,
    "backlog_slowdown": None,
}
_INF = float("inf")


class AsyncEvent:
    """One event in a function's asynchronous queue."""

    __slots__ = ("received_at", "expires_at", "inlet", "attempts", "errors", "throttles",
                 "counted", "waiting")

    def __init__(self, received_at: float, expires_at: float, inlet: "AsyncInlet",
                 counted: bool) -> None:
        self.received_at = received_at
        self.expires_at = expires_at
        self.inlet = inlet
        self.attempts = 0      # invocations (handler runs)
        self.errors = 0        # failed invocations so far
        self.throttles = 0     # throttled attempts since the last invocation
        self.counted = counted  # received in the measured window
        self.waiting = False   # in a waiting spell (queue depth)


class AsyncInlet:
    """A path into a function's queue: one ``async`` trigger, or deliveries from a destination.

    It is a trigger of the function for the model: events are its requests.
    """

    __slots__ = ("name", "index", "queue", "outstanding", "arrived_in_window", "arrive")

    def __init__(self, name: str, index: int, queue: "AsyncQueue") -> None:
        self.name = name
        self.index = index
        self.queue = queue
        self.outstanding = 0
        self.arrived_in_window = 0
        self.arrive = self._arrive

    def _arrive(self, now: float) -> None:
        self.queue.receive(self, now)


class PoolWaiters:
    """Queues waiting for a unit of one concurrency pool; woken by ``LambdaFunction._complete``."""

    __slots__ = ("pool", "queues")

    def __init__(self, pool) -> None:
        self.pool = pool
        self.queues: deque[AsyncQueue] = deque()

    def unit_freed(self) -> None:
        queues = self.queues
        if queues:
            pool = self.pool
            # A pumped queue that stalls on the pool again re-registers at the tail, and the
            # loop ends because the pool is full; one that empties simply drops out.
            while queues and pool.in_use < pool.limit:
                queue = queues.popleft()
                queue.registered = False
                queue.pump()


class Destination:
    """Where a record goes: another function's queue, or a counted SQS/SNS/EventBridge target."""

    __slots__ = ("kind", "type", "name", "inlet", "count")

    def __init__(self, kind: str, spec: Mapping[str, str]) -> None:
        self.kind = kind
        self.type = spec["type"]
        self.name = spec["name"]
        self.inlet: AsyncInlet | None = None  # set for type function at finish_async
        self.count = 0                        # deliveries of events received in the window

    @property
    def label(self) -> str:
        return f"{self.type}:{self.name}"


class AsyncQueue:
    """The internal asynchronous event queue of one function, with its pollers.

    Parameters
    ----------
    model : Model
        The model (simulation, window, random streams).
    function : LambdaFunction
        The function the pollers invoke.
    recorder : FunctionRecorder
        Where requests are recorded.
    options : mapping
        ``max_retry_attempts``, ``max_event_age``, ``throttle_backoff`` and the three
        destinations (``None`` or ``{type, name}``).
    """

    __slots__ = ("sim", "function", "name", "max_retries", "max_age", "fifo", "zero",
                 "warmup_s", "horizon_s", "inlets", "destinations", "on_success", "on_failure",
                 "ready", "registered", "waiters", "running_counted", "_invoke", "_uniform",
                 "_record_request", "_done_cb", "_retry_cb", "_expire_cb", "_rejoin_cb",
                 "_poll_cb", "_sweep_cb", "_poll_armed", "_sweep_gen", "_sweep_at",
                 "received_log", "age_log", "drop_log", "wait_starts", "wait_ends",
                 "retry_log", "throttle_log", "_log_received", "_log_age", "_wait_start",
                 "_wait_end", "slow_entries", "slow_factor")

    def __init__(self, model, function, recorder, options: Mapping[str, Any]) -> None:
        self.sim = model.sim
        self.function = function
        self.name = function.name
        self.max_retries = int(options["max_retry_attempts"])
        self.max_age = float(options["max_event_age"])
        self.fifo = options["throttle_backoff"] == "none"
        # "If the queue contains many entries, Lambda increases the retry interval and reduces
        # the rate at which it reads events from the queue" (invocation-async-error-handling
        # .html) -- no figure given: off unless backlog_slowdown says from how many waiting
        # events and by what factor [assumption].
        slowdown = options.get("backlog_slowdown")
        self.slow_entries = _INF if not slowdown else float(slowdown["entries"])
        self.slow_factor = 1.0 if not slowdown else float(slowdown["factor"])
        # Reserved concurrency 0: events go to the failure targets without an attempt.
        self.zero = function.reserved == 0
        self.warmup_s = model.warmup_s
        self.horizon_s = model.duration_s
        self.inlets: list[AsyncInlet] = []
        self.destinations: dict[str, Destination | None] = {
            kind: (Destination(kind, options[kind]) if options[kind] else None)
            for kind in DESTINATION_KINDS}
        self.on_success = self.destinations["on_success"]
        self.on_failure = tuple(d for d in (self.destinations["on_failure"],
                                            self.destinations["dead_letter"]) if d)
        self.ready: deque[AsyncEvent] = deque()   # the FIFO line (throttle_backoff: none)
        self.registered = False                    # in its pool's waiters
        self.waiters: PoolWaiters | None = None
        self.running_counted = 0                   # in-window events being invoked
        self._invoke = function.invoke
        self._uniform = model._uniform(f"async/{function.name}/backoff")
        self._record_request = recorder.requests.extend
        self._done_cb = self._done
        self._retry_cb = self._retry
        self._expire_cb = self._expire
        self._rejoin_cb = self._rejoin
        self._poll_cb = self._poll
        self._sweep_cb = self._sweep
        self._poll_armed = False
        self._sweep_gen = 0
        self._sweep_at = _INF
        self.received_log = array("d")   # receive time of every event
        self.age_log = array("d")        # (received, age) per invocation
        self.drop_log = array("d")       # (received, time, reason) per drop
        self.wait_starts = array("d")    # waiting spells, for the queue depth
        self.wait_ends = array("d")
        self.retry_log = array("d")      # received time per retry after a function error
        self.throttle_log = array("d")   # received time per throttled attempt (backoff)
        self._log_received = self.received_log.append
        self._log_age = self.age_log.extend
        self._wait_start = self.wait_starts.append
        self._wait_end = self.wait_ends.append

    def add_inlet(self, name: str, index: int) -> AsyncInlet:
        inlet = AsyncInlet(name, index, self)
        self.inlets.append(inlet)
        return inlet

    # -- arrival ------------------------------------------------------------------------

    def receive(self, inlet: AsyncInlet, now: float) -> None:
        """An event joins the queue (``AsyncEventsReceived``); the caller's call succeeded."""
        inlet.outstanding += 1
        counted = self.warmup_s <= now < self.horizon_s
        if counted:
            inlet.arrived_in_window += 1
        self._log_received(now)
        event = AsyncEvent(now, now + self.max_age, inlet, counted)
        if self.zero:
            self._drop(event, now, ZERO_CONCURRENCY)
        elif self.fifo:
            ready = self.ready
            if ready:
                # The line is stalled (a wake-up is pending): join the tail.
                event.waiting = True
                self._wait_start(now)
                ready.append(event)
            else:
                ready.append(event)
                self.pump()
        elif len(self.wait_starts) - len(self.wait_ends) >= self.slow_entries:
            # Many entries: the event is read later, after a first backoff stretched by the
            # slowdown factor, instead of at once.
            event.waiting = True
            self._wait_start(now)
            self._later(event, now, THROTTLE_BACKOFF_BASE_S * self.slow_factor
                        * (0.5 + 0.5 * self._uniform()), self._retry_cb)
        else:
            self._attempt(event, now)

    # -- throttle_backoff: exponential (per-event backoff) ---------------------------------

    def _attempt(self, event: AsyncEvent, now: float) -> None:
        if self._invoke(event.received_at, event, self._done_cb):
            self._admitted(event, now)
            return
        # Throttled: back to the queue with a backoff of 1 s doubling to 5 min, jittered.
        if not event.waiting:
            event.waiting = True
            self._wait_start(now)
        throttles = event.throttles
        event.throttles = throttles + 1
        if event.counted:
            self.throttle_log.append(event.received_at)
        cap = THROTTLE_BACKOFF_BASE_S * 2.0 ** throttles if throttles < 9 else THROTTLE_BACKOFF_CAP_S
        if cap > THROTTLE_BACKOFF_CAP_S:
            cap = THROTTLE_BACKOFF_CAP_S
        if len(self.wait_starts) - len(self.wait_ends) >= self.slow_entries:
            cap *= self.slow_factor  # many entries: a longer retry interval
        self._later(event, now, cap * (0.5 + 0.5 * self._uniform()), self._retry_cb)

    def _later(self, event: AsyncEvent, now: float, delay: float, callback) -> None:
        """Wake ``event`` after ``delay``, or at its expiry if that comes first."""
        if now + delay >= event.expires_at:
            Wakeup(self.sim, max(0.0, event.expires_at - now), event, self._expire_cb)
        else:
            Wakeup(self.sim, delay, event, callback)

    def _retry(self, wakeup) -> None:
        self._attempt(wakeup._value, self.sim._now)

    def _expire(self, wakeup) -> None:
        event = wakeup._value
        now = self.sim._now
        event.waiting = False
        self._wait_end(now)
        self._drop(event, now, EVENT_AGE)

    # -- throttle_backoff: none (work-conserving FIFO) -----------------------------------

    def pump(self) -> None:
        """Dispatch from the head of the line while concurrency allows."""
        ready = self.ready
        now = self.sim._now
        pool = self.function.pool
        invoke = self._invoke
        done = self._done_cb
        while ready:
            event = ready[0]
            if event.expires_at <= now:
                ready.popleft()
                self._stop_waiting(event, now)
                self._drop(event, now, EVENT_AGE)
                continue
            if pool.in_use >= pool.limit:
                # No unit free: wait for one (never attempt, so no throttle is recorded).
                self._stall(event, now)
                if not self.registered:
                    self.registered = True
                    self.waiters.queues.append(self)
                return
            if invoke(event.received_at, event, done):
                ready.popleft()
                self._stop_waiting(event, now)
                self._admitted(event, now)
                continue
            # Scale-out or request-rate throttle: the event keeps its place; look again soon.
            self._stall(event, now)
            if not self._poll_armed:
                self._poll_armed = True
                Wakeup(self.sim, POLL_RETRY_S, None, self._poll_cb)
            return

    def _stall(self, head: AsyncEvent, now: float) -> None:
        if not head.waiting:
            head.waiting = True
            self._wait_start(now)
        if head.expires_at < self._sweep_at:
            self._arm_sweep(head.expires_at, now)

    def _stop_waiting(self, event: AsyncEvent, now: float) -> None:
        if event.waiting:
            event.waiting = False
            self._wait_end(now)

    def _poll(self, wakeup) -> None:
        self._poll_armed = False
        self.pump()

    def _arm_sweep(self, at: float, now: float) -> None:
        self._sweep_gen += 1
        self._sweep_at = at
        Wakeup(self.sim, max(0.0, at - now), (self._sweep_gen, at), self._sweep_cb)

    def _sweep(self, wakeup) -> None:
        generation, at = wakeup._value
        if generation != self._sweep_gen:
            return  # superseded by an earlier expiry
        self._sweep_at = _INF
        ready = self.ready
        now = self.sim._now
        # Compared with the armed time, not with now (now may round a hair below it).
        while ready and ready[0].expires_at <= at:
            event = ready.popleft()
            self._stop_waiting(event, now)
            self._drop(event, now, EVENT_AGE)
        if ready:
            head = ready[0]
            if head.waiting:
                self._arm_sweep(head.expires_at, now)
            else:
                self.pump()

    def _rejoin(self, wakeup) -> None:
        # After its one- or two-minute wait, a retried event goes to the head of the line.
        event = wakeup._value
        ready = self.ready
        ready.appendleft(event)
        if len(ready) == 1:
            self.pump()
        elif event.expires_at < self._sweep_at:
            self._arm_sweep(event.expires_at, self.sim._now)

    # -- both disciplines ---------------------------------------------------------------

    def _admitted(self, event: AsyncEvent, now: float) -> None:
        if event.waiting:
            event.waiting = False
            self._wait_end(now)
        event.attempts += 1
        event.throttles = 0
        if event.counted:
            self.running_counted += 1
        self._log_age((event.received_at, now - event.received_at))

    def _done(self, event: AsyncEvent, code: int, now: float) -> None:
        if event.counted:
            self.running_counted -= 1
        if code & (ERROR | TIMEOUT):
            errors = event.errors
            if errors < self.max_retries:
                event.errors = errors + 1
                if event.counted:
                    self.retry_log.append(event.received_at)
                event.waiting = True
                self._wait_start(now)
                delay = ERROR_RETRY_DELAYS_S[errors] if errors < 2 else ERROR_RETRY_DELAYS_S[-1]
                self._later(event, now, delay, self._rejoin_cb if self.fifo else self._retry_cb)
                return
            self._finish(event, now, FAILED, code)
            self._drop_log(event, now, RETRIES_EXHAUSTED)
            self._deliver_failure(event, now)
            return
        self._finish(event, now, SUCCEEDED, code)
        destination = self.on_success
        if destination is not None:
            self._deliver(destination, event, now)

    def _finish(self, event: AsyncEvent, now: float, outcome: int, code: int) -> None:
        inlet = event.inlet
        inlet.outstanding -= 1
        self._record_request((event.received_at, now,
                              pack_request(code, outcome, inlet.index, event.attempts)))

    def _drop(self, event: AsyncEvent, now: float, reason: int) -> None:
        """Event age or zero concurrency: the event leaves without a successful invocation."""
        self._finish(event, now, DROPPED, 0)
        self._drop_log(event, now, reason)
        self._deliver_failure(event, now)

    def _drop_log(self, event: AsyncEvent, now: float, reason: int) -> None:
        self.drop_log.extend((event.received_at, now, float(reason)))

    def _deliver_failure(self, event: AsyncEvent, now: float) -> None:
        for destination in self.on_failure:
            self._deliver(destination, event, now)

    def _deliver(self, destination: Destination, event: AsyncEvent, now: float) -> None:
        if event.counted:
            destination.count += 1
        inlet = destination.inlet
        if inlet is not None:
            inlet.queue.receive(inlet, now)

    # -- state --------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Events waiting now (in the line, in a backoff or before a retry)."""
        return len(self.wait_starts) - len(self.wait_ends)

    @property
    def outstanding(self) -> int:
        """Events received and not yet ended (waiting or being invoked)."""
        return sum(inlet.outstanding for inlet in self.inlets)


# ======================================================================================
# Building
# ======================================================================================
def _options(tconfig: Mapping[str, Any]) -> dict[str, Any]:
    return {key: tconfig[key] for key in DEFAULT_OPTIONS}


def _queue_for(model, function, recorder, options: Mapping[str, Any]) -> AsyncQueue:
    queue = model.async_queues.get(function.name)
    if queue is None:
        queue = AsyncQueue(model, function, recorder, options)
        model.async_queues[function.name] = queue
        model.reporters[function.name].append(AsyncReporter(queue))
        if len(model.async_queues) == 1:
            model.after_build.append(lambda: finish_async(model))
    return queue


def build_async_trigger(model, function, recorder, tindex: int,
                        tconfig: Mapping[str, Any]) -> None:
    """Builder of ``type: async`` triggers (``Model._TRIGGER_BUILDERS["async"]``)."""
    queue = _queue_for(model, function, recorder, _options(tconfig))
    inlet = queue.add_inlet(tconfig["name"], tindex)
    model.triggers[function.name].append(inlet)
    model._start_arrivals(function.name, tindex, tconfig, inlet.arrive)


def finish_async(model) -> None:
    """Once every function is built: wire function destinations and the pool listeners."""
    for name in list(model.async_queues):
        queue = model.async_queues[name]
        for kind in DESTINATION_KINDS:
            destination = queue.destinations[kind]
            if destination is None or destination.type != "function":
                continue
            target = destination.name
            target_queue = _queue_for(model, model.functions[target], model.recorders[target],
                                      DEFAULT_OPTIONS)
            index = len(model.triggers[target])
            inlet = target_queue.add_inlet(f"{name}:{kind}", index)
            model.triggers[target].append(inlet)
            destination.inlet = inlet
    # Listeners: a work-conserving queue must hear of every unit freed in its pool.
    waiters: dict[int, PoolWaiters] = {}
    for queue in model.async_queues.values():
        if queue.fifo and not queue.zero:
            pool = queue.function.pool
            key = id(pool)  # identity lookup only; never iterated for order
            if key not in waiters:
                waiters[key] = PoolWaiters(pool)
            queue.waiters = waiters[key]
    for function in model.functions.values():
        entry = waiters.get(id(function.pool))
        if entry is not None:
            function.release_listener = entry.unit_freed
