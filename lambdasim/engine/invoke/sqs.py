"""SQS event source mappings: a queue, its pollers, batches and the dead-letter queue.

Messages sent to the queue are the arrivals of an ``sqs`` trigger. Lambda's pollers receive
them in batches and invoke the function synchronously, through the same
:meth:`~lambdasim.engine.function.LambdaFunction.invoke` as everything else, so the mapping shares the
function's and the account's concurrency and scale-out limits.

Poller scaling (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html): the
mapping starts with 5 concurrent batches; while messages wait it adds up to 300 concurrent
batches per minute (``poller_scaling: current``, at most 1,250) or 60 per minute
(``legacy``, the rule before November 2023, at most 1,000). ``maximum_concurrency`` (2-1,000)
caps the mapping. The ramp is one more allowed batch every ``60 / per_minute`` seconds while
every allowed batch is in flight and messages wait. When the queue is empty, idle pollers
retire at the same pace [assumption: AWS says Lambda "scales back"] down to 2 ("can optimize
to as few as 2 concurrent invokes"; 5 with ``maximum_concurrency`` or ``legacy``), and the
next message brings back 5 at once. Provisioned mode (``provisioned_pollers``, exclusive of
``maximum_concurrency``): ``minimum`` pollers of 10 concurrent invokes each from the start,
up to ``maximum``, adding up to 1,000 concurrent invokes per minute (one every 0.06 s) and
retiring at that pace down to the minimum; pollers are billed (lambdasim.engine.pollers).

Batching (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html): a batch
is invoked when it holds ``batch_size`` messages, when ``batching_window`` ends (counted from
the moment a free poller finds the queue not empty) or when its payload would pass 6 MB
(``message_size_kb``). Without a window a free poller takes what is visible at once.

Failures (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html): every receive
counts. A batch whose invocation errors, times out or is throttled stays invisible until
``visibility_timeout`` after it was received, then becomes visible again -- or, when a message
has been received ``max_receive_count`` times, moves to the dead-letter queue. Message-level
failures (``poison_rate``: messages that fail every time; ``message_error_rate``: a failure on
each receive) fail the whole batch (the handler raises), unless ``report_batch_item_failures``
is on: then only the failed messages return (for FIFO queues, the first failed message and
every message after it in the batch, as AWS advises). Messages older than ``retention`` are
removed when a poller reaches them (SQS deletes messages older than the retention period,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html).
A throttle also makes the pollers back off: the allowed batches drop to those in flight (at
least 1) and no new batch starts for 1 s, doubling on
each consecutive throttle up to 60 s [assumption].

FIFO queues: messages carry one of ``message_groups`` group IDs (uniformly drawn
[assumption]). A batch takes messages group by group in order, and a group with messages in
flight -- or waiting out a visibility timeout after a failure -- gives no more messages
until they are deleted or back (services-sqs-scaling.html: "the function attempts all retries
on the affected messages before Lambda receives additional messages from the same group").

The scenario enforces ``visibility_timeout`` >= the function timeout (Lambda refuses a mapping
otherwise), so a batch is normally done before its messages could be received again; the
duplicates SQS delivers when a visibility timeout expires during processing (possible here
only through a long Init) are not modelled.

Data structures. The standard queue is a deque of visible messages; returned messages go to
its front [assumption]. A FIFO queue is a deque per group plus a deque of receivable groups.
Messages in their visibility timeout are held by one ``Wakeup`` per failed batch, never
scanned. The age of the oldest message comes from a deque of all undeleted messages in arrival
order, trimmed lazily at its front. Every operation is O(1) per message.

Requests. Each message is one request of its trigger: deleted -> succeeded, moved to the
dead-letter queue -> failed, expired (retention) -> dropped, still queued or in flight at the
end -> in flight. ``attempts`` is the message's receive count; latency runs from the send to
the deletion.

Monitors. Queue depth (ApproximateNumberOfMessagesVisible: queued, not in flight), concurrent
batches and the age of the oldest undeleted message (ApproximateAgeOfOldestMessage) are
tracked online, per period (maximum) and over ``[warmup, duration)`` (time-weighted mean and
maximum), with O(1) work per change.
"""
from __future__ import annotations

from collections import deque
from functools import partial
from typing import Any, Callable, Mapping

from lambdasim.engine.events import Wakeup
from lambdasim.engine.function import ERROR, TIMEOUT, handler_factor
from lambdasim.engine.metrics import pack_request
from lambdasim.engine.online_levels import AgeTrack, LevelTrack, track_period
from lambdasim.engine.pollers import ProvisionedPollers
from lambdasim.engine.rng import BlockSampler
from lambdasim.engine.invoke.sqs_report import SqsReporter
from lambdasim.engine.invoke.sync import DROPPED, FAILED, SUCCEEDED

__all__ = ["SqsTrigger", "SqsReporter", "Message", "build_sqs_trigger", "POLLER_SCALING",
           "PAYLOAD_LIMIT_KB", "THROTTLE_BACKOFF_S", "THROTTLE_BACKOFF_MAX_S"]

#: Poller scaling rules (services-sqs-scaling.html): initial concurrent batches, batches added
#: per minute while messages wait, maximum concurrent batches of one mapping.
POLLER_SCALING = {
    "current": {"initial": 5, "per_minute": 300, "maximum": 1250},
    "legacy": {"initial": 5, "per_minute": 60, "maximum": 1000},
}
#: services-sqs-scaling.html: standard mode's low-traffic floor; in provisioned mode 10
#: concurrent invokes per event poller, up to 1,000 more concurrent invokes per minute.
LOW_TRAFFIC_FLOOR, PROVISIONED_INVOKES_PER_POLLER, PROVISIONED_PER_MINUTE = 2, 10, 1000
#: A batch's payload is at most 6 MB (services-sqs-parameters.html: invoke "when the payload
#: reaches 6 MB").
PAYLOAD_LIMIT_KB = 6 * 1024.0
#: Pollers' back-off after a throttle [assumption]: first wait, then doubling up to the cap.
THROTTLE_BACKOFF_S = 1.0
THROTTLE_BACKOFF_MAX_S = 60.0

_FAILED_CODES = ERROR | TIMEOUT


class Message:
    """One message: when it was sent, how often it was received, its group."""

    __slots__ = ("sent_at", "receives", "group", "poison", "done")

    def __init__(self, sent_at: float, group: int = 0, poison: bool = False) -> None:
        self.sent_at = sent_at
        self.receives = 0
        self.group = group
        self.poison = poison
        self.done = False


class SqsTrigger:
    """One SQS queue and the event source mapping that polls it for one function."""

    __slots__ = (
        "sim", "function", "index", "name", "warmup_s", "batch_size", "window_s",
        "visibility_s", "max_receive_count", "retention_s", "report_items", "fifo",
        "message_error_rate", "poison_rate", "cap", "floor", "allowed", "step_s",
        "idle_floor", "provisioned",
        "in_flight", "queued", "outstanding", "arrived_in_window", "_visible", "_groups",
        "_ready", "_locked", "_receivable_fifo", "_order", "_window_end", "_window_gen",
        "_tick_pending", "_backoff_until", "_backoff_s", "_invoke", "_record",
        "_packed_base", "_per_record_const", "_per_record", "_uniform", "_poison", "_group",
        "depth", "pollers", "age", "counts", "receives", "batches", "batch_messages",
        "batches_failed", "batches_throttled", "_done_cb", "_reappear_cb", "_window_cb",
        "_tick_cb", "_resume_cb",
    )

    def __init__(self, sim, function, index: int, config: Mapping[str, Any], recorder, *,
                 warmup_s: float, horizon_s: float, period_s: float,
                 uniform: Callable[[], float], poison: Callable[[], float],
                 group: Callable[[], float] | None, per_record: Callable[[], float] | None,
                 per_record_const: float) -> None:
        self.sim = sim
        self.function = function
        self.index = index
        self.name = config["name"]
        self.warmup_s = float(warmup_s)
        self.window_s = float(config["batching_window"])
        # A batch's payload is at most 6 MB whatever batch_size says.
        by_payload = max(1, int(PAYLOAD_LIMIT_KB // float(config["message_size_kb"])))
        self.batch_size = min(int(config["batch_size"]), by_payload)
        self.visibility_s = float(config["visibility_timeout"])
        self.max_receive_count = config["max_receive_count"]
        self.retention_s = float(config["retention"])
        self.report_items = bool(config["report_batch_item_failures"])
        self.fifo = bool(config["fifo"])
        self.message_error_rate = float(config["message_error_rate"])
        self.poison_rate = float(config["poison_rate"])
        provisioned = config["provisioned_pollers"]
        if provisioned is None:
            rule = POLLER_SCALING[config["poller_scaling"]]
            cap = rule["maximum"]
            if config["maximum_concurrency"] is not None:
                cap = min(cap, int(config["maximum_concurrency"]))
            self.cap = cap
            self.floor = min(rule["initial"], cap)
            # Lambda "can optimize to as few as 2 concurrent invokes" when traffic is low, not
            # with maximum concurrency set (services-sqs-scaling.html).
            low = config["poller_scaling"] == "current" and config["maximum_concurrency"] is None
            self.idle_floor = LOW_TRAFFIC_FLOOR if low else self.floor
            self.step_s = 60.0 / rule["per_minute"]
            self.provisioned = None
        else:
            # Provisioned mode: minimum pollers from the start, 10 concurrent invokes each,
            # "up to 1,000 concurrency per minute" (services-sqs-scaling.html).
            self.provisioned = ProvisionedPollers(provisioned["minimum"], provisioned["maximum"],
                                                  PROVISIONED_INVOKES_PER_POLLER)
            self.cap = PROVISIONED_INVOKES_PER_POLLER * self.provisioned.maximum
            self.floor = self.idle_floor = PROVISIONED_INVOKES_PER_POLLER * self.provisioned.minimum
            self.step_s = 60.0 / PROVISIONED_PER_MINUTE
        self.allowed = self.floor
        self.in_flight = 0
        self.queued = 0
        self.outstanding = 0
        self.arrived_in_window = 0
        self._visible: deque[Message] = deque()
        groups = int(config["message_groups"]) if self.fifo else 0
        self._groups = [deque() for _ in range(groups)]
        self._ready: deque[int] = deque()
        self._locked = [False] * groups
        self._receivable_fifo = 0
        self._order: deque[Message] = deque()
        self._window_end: float | None = None
        self._window_gen = 0
        self._tick_pending = False
        self._backoff_until = 0.0
        self._backoff_s = THROTTLE_BACKOFF_S
        self._invoke = function.invoke
        self._record = recorder.requests.extend
        self._packed_base = pack_request(0, 0, index, 0)
        self._per_record_const = float(per_record_const)
        self._per_record = per_record
        self._uniform = uniform
        self._poison = poison
        self._group = group
        self.depth = LevelTrack(period_s, warmup_s, horizon_s)
        self.pollers = LevelTrack(period_s, warmup_s, horizon_s)
        self.age = AgeTrack(period_s, warmup_s, horizon_s)
        # Outcomes of messages sent in [warmup, duration): succeeded, failed, -, dropped.
        self.counts = [0, 0, 0, 0]
        self.receives = 0
        self.batches = 0
        self.batch_messages = 0
        self.batches_failed = 0
        self.batches_throttled = 0
        self._done_cb = self._done
        self._reappear_cb = self._reappear
        self._window_cb = self._window_over
        self._tick_cb = self._tick
        self._resume_cb = self._resume

    # -- the queue ----------------------------------------------------------------------

    @property
    def receivable(self) -> int:
        """Messages a poller could take now (FIFO: those of groups with nothing in flight)."""
        return self._receivable_fifo if self.fifo else len(self._visible)

    def arrive(self, now: float) -> None:
        """A producer sends one message to the queue."""
        poison = self.poison_rate > 0.0 and self._poison() < self.poison_rate
        msg = Message(now, int(self._group()) if self.fifo else 0, poison)
        self.outstanding += 1
        if now >= self.warmup_s:
            self.arrived_in_window += 1
        order = self._order
        order.append(msg)
        if len(order) == 1:
            self.age.change(now, now)
        self.queued += 1
        depth = self.depth  # LevelTrack.set, inlined on the hottest path
        if now > depth.last_t:
            depth._close(now)
        depth.level = self.queued
        if self.fifo:
            g = msg.group
            queue = self._groups[g]
            queue.append(msg)
            if not self._locked[g]:
                self._receivable_fifo += 1
                if len(queue) == 1:
                    self._ready.append(g)
            available = self._receivable_fifo
        else:
            self._visible.append(msg)
            available = len(self._visible)
        if self.allowed < self.floor and now >= self._backoff_until:
            # "When messages are available, Lambda starts processing five batches at a time".
            self._resize(now, self.floor)
        if self.in_flight < self.allowed:
            window_end = self._window_end
            if window_end is not None and now < window_end and available < self.batch_size:
                return  # the open batching window collects it
            self._dispatch(now)
        elif not self._tick_pending:
            self._schedule_tick(now)

    def _dispatch(self, now: float) -> None:
        """Start batches while pollers are free and messages are receivable."""
        if now < self._backoff_until:
            return  # a throttle back-off is running; _resume calls again
        size = self.batch_size
        while self.in_flight < self.allowed:
            available = self._receivable_fifo if self.fifo else len(self._visible)
            if available == 0:
                break
            if available < size and self.window_s > 0.0:
                if self._window_end is None:
                    self._window_end = now + self.window_s
                    self._window_gen += 1
                    Wakeup(self.sim, self.window_s, self._window_gen, self._window_cb)
                if now < self._window_end:
                    break
            self._window_end = None
            batch = self._take_fifo(now, size) if self.fifo else self._take(now, size)
            if batch and not self._start(now, batch):
                return  # throttled: backing off
        if not self._tick_pending:
            self._schedule_tick(now)

    def _take(self, now: float, size: int) -> list[Message]:
        visible = self._visible
        retention = self.retention_s
        warmup = self.warmup_s
        batch: list[Message] = []
        taken = 0
        while visible and taken < size:
            msg = visible.popleft()
            self.queued -= 1
            if now - msg.sent_at >= retention:
                self._finish(msg, now, DROPPED, 0)
                continue
            msg.receives += 1
            if msg.sent_at >= warmup:
                self.receives += 1
            batch.append(msg)
            taken += 1
        self.depth.set(now, self.queued)
        return batch

    def _take_fifo(self, now: float, size: int) -> list[Message]:
        ready = self._ready
        groups = self._groups
        locked = self._locked
        retention = self.retention_s
        warmup = self.warmup_s
        batch: list[Message] = []
        taken = 0
        while ready and taken < size:
            g = ready.popleft()
            queue = groups[g]
            self._receivable_fifo -= len(queue)
            locked[g] = True
            from_group = 0
            while queue and taken < size:
                msg = queue.popleft()
                self.queued -= 1
                if now - msg.sent_at >= retention:
                    self._finish(msg, now, DROPPED, 0)
                    continue
                msg.receives += 1
                if msg.sent_at >= warmup:
                    self.receives += 1
                batch.append(msg)
                taken += 1
                from_group += 1
            if not from_group:
                self._unlock(g)
        self.depth.set(now, self.queued)
        return batch

    def _unlock(self, g: int) -> None:
        self._locked[g] = False
        queue = self._groups[g]
        if queue:
            self._receivable_fifo += len(queue)
            self._ready.append(g)

    # -- batches --------------------------------------------------------------------------

    def _start(self, now: float, batch: list[Message]) -> bool:
        n = len(batch)
        if now >= self.warmup_s:
            self.batches += 1
            self.batch_messages += n
        if self._per_record is None:
            extra = self._per_record_const * n
        else:
            draw = self._per_record
            extra = 0.0
            for _ in range(n):
                extra += draw()
        if self._invoke(batch[0].sent_at, (batch, now), self._done_cb, extra):
            self.in_flight += 1
            self.pollers.set(now, self.in_flight)
            self._backoff_s = THROTTLE_BACKOFF_S
            return True
        # Throttled: the received batch returns after the visibility timeout, and the pollers
        # back off (services-sqs-errorhandling.html; back-off pace [assumption]).
        if now >= self.warmup_s:
            self.batches_throttled += 1
        self._hide(batch, now, now)
        self._resize(now, self.in_flight if self.in_flight > 1 else 1)
        self._backoff_until = now + self._backoff_s
        Wakeup(self.sim, self._backoff_s, None, self._resume_cb)
        self._backoff_s = min(2.0 * self._backoff_s, THROTTLE_BACKOFF_MAX_S)
        return False

    def _done(self, payload, code: int, now: float) -> None:
        batch, received_at = payload
        self.in_flight -= 1
        self.pollers.set(now, self.in_flight)
        if code & _FAILED_CODES:
            failed = batch
        elif self.poison_rate > 0.0 or self.message_error_rate > 0.0:
            failed = self._failed_items(batch)
            if failed and not self.report_items:
                failed = batch  # the handler raised: the whole batch returns
        else:
            failed = None
        if failed is batch:
            if received_at >= self.warmup_s:
                self.batches_failed += 1
            self._hide(batch, received_at, now)
        else:
            if failed:
                if received_at >= self.warmup_s:
                    self.batches_failed += 1
                skip = set(map(id, failed))
                for msg in batch:
                    if id(msg) not in skip:
                        self._finish(msg, now, SUCCEEDED, code)
                self._hide(failed, received_at, now)
            else:
                self._delete_all(batch, now, code)
            if self.fifo:
                self._unlock_succeeded(batch, failed)
        self._dispatch(now)

    def _failed_items(self, batch: list[Message]) -> list[Message]:
        rate = self.message_error_rate
        uniform = self._uniform
        failed = []
        for position, msg in enumerate(batch):
            if msg.poison or (rate > 0.0 and uniform() < rate):
                if self.fifo:
                    # FIFO partial batch responses report the first failure and everything
                    # after it, so that order within each group holds.
                    return batch[position:]
                failed.append(msg)
        return failed

    def _unlock_succeeded(self, batch: list[Message], failed) -> None:
        """Unlock the groups of a FIFO batch that have no message waiting to return."""
        held = {msg.group for msg in failed} if failed else ()
        last = -1
        for msg in batch:
            g = msg.group
            if g != last and g not in held:
                self._unlock(g)
            last = g

    def _hide(self, messages: list[Message], received_at: float, now: float) -> None:
        """Messages stay invisible until the visibility timeout after their receive."""
        delay = received_at + self.visibility_s - now
        Wakeup(self.sim, delay if delay > 0.0 else 0.0, messages, self._reappear_cb)

    def _reappear(self, event) -> None:
        now = self.sim._now
        limit = self.max_receive_count
        back = []
        for msg in event._value:
            if limit is not None and msg.receives >= limit:
                # Redrive policy: received max_receive_count times -> dead-letter queue.
                self._finish(msg, now, FAILED, ERROR)
            else:
                back.append(msg)
        if back:
            self.queued += len(back)
            self.depth.set(now, self.queued)
            if self.fifo:
                groups = self._groups
                for msg in reversed(back):
                    groups[msg.group].appendleft(msg)
            else:
                self._visible.extendleft(reversed(back))
        if self.fifo:
            last = -1
            for msg in event._value:
                if msg.group != last and self._locked[msg.group]:
                    self._unlock(msg.group)
                last = msg.group
        self._dispatch(now)

    def _finish(self, msg: Message, now: float, outcome: int, code: int) -> None:
        self.outstanding -= 1
        self._record((msg.sent_at, now,
                      self._packed_base | code | (outcome << 8) | (msg.receives << 18)))
        if msg.sent_at >= self.warmup_s:
            self.counts[outcome] += 1
        msg.done = True
        order = self._order
        if order[0] is msg:
            order.popleft()
            while order and order[0].done:
                order.popleft()
            self.age.change(now, order[0].sent_at if order else None)

    def _delete_all(self, batch: list[Message], now: float, code: int) -> None:
        """``_finish(msg, now, SUCCEEDED, code)`` for a whole batch, in one loop."""
        record = self._record
        packed = self._packed_base | code | (SUCCEEDED << 8)
        warmup = self.warmup_s
        counted = 0
        for msg in batch:
            record((msg.sent_at, now, packed | (msg.receives << 18)))
            msg.done = True
            if msg.sent_at >= warmup:
                counted += 1
        self.counts[SUCCEEDED] += counted
        self.outstanding -= len(batch)
        order = self._order
        if order and order[0].done:
            order.popleft()
            while order and order[0].done:
                order.popleft()
            self.age.change(now, order[0].sent_at if order else None)

    # -- poller scaling -------------------------------------------------------------------

    def _schedule_tick(self, now: float) -> None:
        if now < self._backoff_until:
            return
        busy = self.in_flight >= self.allowed
        waiting = self._receivable_fifo if self.fifo else len(self._visible)
        grow = busy and waiting > 0 and self.allowed < self.cap
        floor = self.idle_floor if self.idle_floor > self.in_flight else self.in_flight
        shrink = self.queued == 0 and self.allowed > floor
        if grow or shrink:
            self._tick_pending = True
            Wakeup(self.sim, self.step_s, None, self._tick_cb)

    def _tick(self, event) -> None:
        """One scaling step: a poller more while messages wait, one fewer when drained."""
        self._tick_pending = False
        now = self.sim._now
        if now < self._backoff_until:
            return
        waiting = self._receivable_fifo if self.fifo else len(self._visible)
        if self.in_flight >= self.allowed and waiting > 0 and self.allowed < self.cap:
            # services-sqs-scaling.html: up to 300 (legacy 60) more batches per minute.
            self._resize(now, self.allowed + 1)
            self._dispatch(now)
            return
        floor = self.idle_floor if self.idle_floor > self.in_flight else self.in_flight
        if self.queued == 0 and self.allowed > floor:
            self._resize(now, self.allowed - 1)
        self._schedule_tick(now)

    def _resize(self, now: float, allowed: int) -> None:
        """Set the concurrent batches allowed; provisioned mode records its poller count."""
        self.allowed = allowed
        if self.provisioned is not None:
            self.provisioned.track(now, allowed)

    def _window_over(self, event) -> None:
        if event._value == self._window_gen and self._window_end is not None:
            self._dispatch(self.sim._now)

    def _resume(self, event) -> None:
        self._dispatch(self.sim._now)

    # -- results --------------------------------------------------------------------------

    def summary(self, end_s: float) -> dict[str, Any]:
        self.depth.finish(end_s)
        self.pollers.finish(end_s)
        self.age.finish(end_s)
        received = self.arrived_in_window
        deleted, dlq, _, expired = self.counts
        return {
            "messages_received": received,
            "messages_deleted": deleted,
            "messages_to_dlq": dlq,
            "messages_expired": expired,
            "messages_remaining": received - deleted - dlq - expired,
            "receives": self.receives,
            "batches": self.batches,
            "batches_failed": self.batches_failed,
            "batches_throttled": self.batches_throttled,
            "queue_depth": {"max": self.depth.w_max, "mean": round(self.depth.mean(), 6)},
            "oldest_message_age_s": {"max": round(self.age.w_max, 6)},
            "pollers": {"max": self.pollers.w_max, "mean": round(self.pollers.mean(), 6)},
            "batch_size": {"mean": round(self.batch_messages / self.batches, 6)
                           if self.batches else None},
            **({} if self.provisioned is None else
               {"provisioned_pollers": self.provisioned.block(self.depth.lo, self.depth.hi)}),
        }

def build_sqs_trigger(model, function, recorder, tindex: int, tconfig: Mapping[str, Any]) -> None:
    """``Model._TRIGGER_BUILDERS["sqs"]``: the queue, its mapping, its reporter, its arrivals."""
    name = function.name
    prefix = f"sqs/{name}/{tindex}"
    spec = tconfig["per_record"]
    per_record = None
    per_record_const = 0.0
    fconfig = function.config
    # Per-message work is handler time: it stretches with memory (and architecture) like the
    # duration does.
    factor = handler_factor(fconfig)
    if spec["dist"] == "constant":
        per_record_const = float(spec["value"]) * factor
    else:
        per_record = model._sampler(f"{prefix}/per_record", spec, factor)
    group = None
    if tconfig["fifo"]:
        rng = model.streams.generator(f"{prefix}/groups")
        group = BlockSampler(partial(rng.integers, 0, int(tconfig["message_groups"])))
    trigger = SqsTrigger(
        model.sim, function, tindex, tconfig, recorder,
        warmup_s=model.warmup_s, horizon_s=model.duration_s,
        # Tracked finer than the metrics period when the charts use finer bins.
        period_s=track_period(model.period_s, model.duration_s),
        uniform=model._uniform(f"{prefix}/errors"), poison=model._uniform(f"{prefix}/poison"),
        group=group, per_record=per_record, per_record_const=per_record_const)
    model.triggers[name].append(trigger)
    model.shared_reporter(name, SqsReporter).triggers.append(trigger)
    model._start_arrivals(name, tindex, tconfig, trigger.arrive)
