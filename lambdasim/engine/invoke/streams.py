"""Kinesis and DynamoDB Streams event source mappings: shards, batches, retries, bisection.

A stream trigger models the records put to a stream and the event source mapping that reads
them (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html). Each record is one request of
its trigger.

Partition keys and lanes. A record carries one of ``partition_keys`` keys, drawn uniformly.
Keys are hashed (SplitMix64, a fixed function: no randomness, the same in every run) to a
point of the hash space, which the ``shards`` split evenly, as Kinesis splits the MD5 space
of partition keys. With ``parallelization_factor`` F above 1, each shard's share of the space
is split again into F sub-ranges [assumption: AWS only states that order is kept per
partition key]. Each (sub-)range is a *lane*: a FIFO deque of records with at most one batch
in flight, so records of one key are delivered in order and the mapping never runs more than
shards x F batches at once.

Reading. A lane with nothing to do polls on its shard's clock: once per second for Kinesis,
4 times per second for DynamoDB Streams (with-kinesis.html, with-ddb.html), each shard at its
own phase. A record put to an idle lane is read at the lane's next poll; after a batch
succeeds, the lane reads on at once while records wait ("Lambda keeps processing batches until
the function catches up"). With a ``batching_window`` W > 0, a lane that has fewer than
``batch_size`` records gathers for W (from the poll that found records, or from the end of the
previous invocation) and invokes when the batch is full or W ends. Polls and timers are events
only when a lane needs one: nothing runs per shard per second while the stream is idle.

Invoking. A batch is one synchronous ``LambdaFunction.invoke`` (it shares the function's and
the account's limits) whose handler time is the function's ``duration`` plus ``per_record``
per record. A batch that holds a *poison* record (``poison_rate``: each record independently;
``poison_windows``: records put in ``[start, end)``) always returns a function error; other
batches fail with the function's ``error_rate`` or by timeout.

Errors (kinesis-on-failure-destination.html). A throttled invocation is not a retry: the
poller backs off (1 s doubling to 30 s [assumption]) and tries the same batch again. A batch
that returns an error blocks its lane and is retried (on the lane's next poll
[assumption]) until it succeeds, its records are older than ``maximum_record_age`` or gone
from the stream (``retention``: 24 h by default for Kinesis, fixed at 24 h for DynamoDB
Streams), or it has been retried ``maximum_retry_attempts`` times (-1: until expiry).
``bisect_batch_on_error`` splits a failed batch of two or more records into halves, retried
first half first; "splitting a batch doesn't consume the retry quota", so only a failed
single-record batch (or a failed batch without bisection) uses retries, and each half keeps
the retry count of its parent. Discarded records go to the ``on_failure`` destination (an
SQS queue or SNS topic, counted) when there is one.

Outcomes of records (requests): processed -> ``succeeded``; discarded after retries or for
their age -> ``failed`` (the function failed on them, or could not reach them in time; they
go to ``on_failure``); expired from the stream before being processed -> ``dropped`` (lost,
noticed when the lane next reads them); still waiting or in a batch when the run ends ->
``in_flight``. Latency is arrival to the end of the invocation that processed (or the
moment that discarded) the record; ``attempts`` is the number of invocations that carried it.

Observability. ``IteratorAge`` is, per delivered batch, the time from the arrival of its last
record to the invocation (monitoring-metrics-types.html); the summary block ``stream`` and
the series columns ``IteratorAge_avg_ms``, ``IteratorAge_max_ms`` and ``StreamPollers``
(concurrent batches in flight, max per period) come from :class:`StreamReport`.
"""
from __future__ import annotations

import math
from array import array
from collections import deque
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.events import Wakeup
from lambdasim.engine.function import ERROR, TIMEOUT
from lambdasim.engine.metrics import StepLevel, period_mean_max_ms, time_stats_ms, unpack_requests
from lambdasim.engine.metrics import pack_request
from lambdasim.engine.invoke.sync import DROPPED, FAILED, SUCCEEDED

__all__ = ["StreamTrigger", "StreamReport", "Lane", "Batch", "build_stream_trigger",
           "route_keys", "POLL_INTERVAL_S", "DYNAMODB_RETENTION_S"]

#: Base polling rate per shard: Kinesis once per second (with-kinesis.html), DynamoDB Streams
#: four times per second (with-ddb.html).
POLL_INTERVAL_S = {"kinesis": 1.0, "dynamodb": 0.25}
#: DynamoDB Streams keep records for 24 hours (a fixed retention).
DYNAMODB_RETENTION_S = 86400.0
#: Poller backoff after a throttle [assumption: AWS says pollers back off, not how].
THROTTLE_BACKOFF_BASE_S = 1.0
THROTTLE_BACKOFF_MAX_S = 30.0
#: Attempt counts are packed in 16 bits of a request record.
_MAX_ATTEMPTS = 0xFFFF
_KEY_BLOCK = 4096

# Lane states.
IDLE = 0        # no records, nothing scheduled; polls on the shard's clock
WAITING = 1     # a poll, a retry or a throttle backoff is scheduled
GATHERING = 2   # a batching window is open
BUSY = 3        # a batch is in flight


def route_keys(n_keys: int, shards: int, factor: int) -> np.ndarray:
    """Lane (``shard * factor + sub-range``) of each partition key ``0 .. n_keys - 1``.

    SplitMix64 of the key gives a uniform point of the hash space; shards split it evenly and
    each shard's range is split into ``factor`` sub-ranges.
    """
    lanes = shards * factor
    with np.errstate(over="ignore"):
        z = np.arange(n_keys, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    point = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.minimum((point * lanes).astype(np.int64), lanes - 1)


class Lane:
    """One shard (or one sub-range of a shard): records in order, one batch in flight."""

    __slots__ = ("index", "records", "pending", "state", "gen", "idle_since",
                 "throttle_streak")

    def __init__(self, index: int, idle_since: float) -> None:
        self.index = index
        #: Records not yet read: (arrived, seq, key, poison) in arrival order.
        self.records: deque = deque()
        #: Batches read but not done (a retry, bisected halves), the next one last.
        self.pending: list[Batch] = []
        self.state = IDLE
        #: Timers carry the generation they were set in; a newer one makes them stale.
        self.gen = 0
        #: Last poll that found nothing; the next polls are idle_since + k * interval.
        self.idle_since = idle_since
        self.throttle_streak = 0


class Batch:
    """Records read together; bisected halves inherit attempts and retries."""

    __slots__ = ("lane", "records", "poison", "attempts", "retries")

    def __init__(self, lane: Lane, records: list, attempts: int = 0, retries: int = 0) -> None:
        self.lane = lane
        self.records = records
        self.poison = sum([r[3] for r in records])
        self.attempts = attempts
        self.retries = retries


class StreamTrigger:
    """A Kinesis or DynamoDB Streams trigger of one function (see the module docstring)."""

    __slots__ = ("sim", "function", "index", "name", "kind", "lanes", "route", "poll_s",
                 "batch_size", "window_s", "max_retries", "max_age_s", "retention_s",
                 "horizon_age_s", "bisect", "on_failure", "per_record_s", "poison_rate",
                 "poison_windows", "poisoned", "_lane_of_key", "warmup_s", "outstanding",
                 "arrived_in_window", "seq",
                 "observer", "deliveries", "batch_ends", "batches_failed", "batches_retried",
                 "batches_bisected", "poller_throttles", "on_failure_batches",
                 "on_failure_records", "_keys", "_key_pop", "_key_draw", "_uniform",
                 "_invoke", "_done_cb", "_wake_cb", "_record_request")

    def __init__(self, sim, function, index: int, config: Mapping[str, Any], recorder, *,
                 keys: np.random.Generator, uniform: Callable[[], float],
                 phases: np.random.Generator, warmup_s: float = 0.0) -> None:
        self.sim = sim
        self.function = function
        self.index = index
        self.name = config["name"]
        self.kind = config["type"]
        shards = int(config["shards"])
        factor = int(config["parallelization_factor"])
        self.poll_s = POLL_INTERVAL_S[self.kind]
        # Each shard polls at its own phase of the interval.
        shard_phase = (phases.random(shards) * self.poll_s).tolist()
        self.lanes = [Lane(i, shard_phase[i // factor] - self.poll_s)
                      for i in range(shards * factor)]
        self.route = route_keys(int(config["partition_keys"]), shards, factor).tolist()
        self._lane_of_key = [self.lanes[i] for i in self.route]
        self.batch_size = int(config["batch_size"])
        self.window_s = float(config["batching_window"])
        retries = int(config["maximum_retry_attempts"])
        self.max_retries = retries if retries >= 0 else math.inf
        age = config["maximum_record_age"]
        self.max_age_s = math.inf if age is None else float(age)
        self.retention_s = float(config.get("retention", DYNAMODB_RETENTION_S))
        self.horizon_age_s = min(self.max_age_s, self.retention_s)
        self.bisect = bool(config["bisect_batch_on_error"])
        self.on_failure = config["on_failure"]
        self.per_record_s = float(config["per_record"])
        self.poison_rate = float(config["poison_rate"])
        self.poison_windows = [(w["start"], w["end"]) for w in config["poison_windows"]]
        self.poisoned = bool(self.poison_rate or self.poison_windows)
        self.warmup_s = float(warmup_s)
        self.outstanding = 0
        self.arrived_in_window = 0
        self.seq = 0
        #: Test hook: ``observer(event, lane_index, records, now)`` with event "deliver" (a
        #: batch is invoked), "done" (its invocation ended) or "end" (records processed,
        #: discarded or expired; lane_index -1).
        self.observer: Callable | None = None
        #: (start, iterator age) per delivered batch; end time per finished batch.
        self.deliveries = array("d")
        self.batch_ends = array("d")
        self.batches_failed = 0
        self.batches_retried = 0
        self.batches_bisected = 0
        self.poller_throttles = 0
        self.on_failure_batches = 0
        self.on_failure_records = 0
        n_keys = int(config["partition_keys"])
        self._keys: list[int] = []
        self._key_pop = self._keys.pop
        self._key_draw = lambda: keys.integers(0, n_keys, size=_KEY_BLOCK)
        self._uniform = uniform
        self._invoke = function.invoke
        self._done_cb = self._done
        self._wake_cb = self._wake
        self._record_request = recorder.requests.extend

    # -- records put to the stream --------------------------------------------------------

    def arrive(self, now: float) -> None:
        self.outstanding += 1
        if now >= self.warmup_s:
            self.arrived_in_window += 1
        try:
            key = self._key_pop()
        except IndexError:
            self._keys.extend(self._key_draw()[::-1].tolist())
            key = self._key_pop()
        poison = self._is_poison(now) if self.poisoned else 0
        seq = self.seq
        self.seq = seq + 1
        lane = self._lane_of_key[key]
        records = lane.records
        records.append((now, seq, key, poison))
        state = lane.state
        if state == IDLE:
            lane.state = WAITING
            poll = self.poll_s
            ticks = math.ceil((now - lane.idle_since) / poll)
            delay = lane.idle_since + (ticks if ticks > 1 else 1) * poll - now
            # Rounding may put the tick a hair before now; time must not run backwards.
            Wakeup(self.sim, delay if delay > 0.0 else 0.0, (lane, lane.gen, False),
                   self._wake_cb)
        elif state == GATHERING and len(records) >= self.batch_size:
            lane.gen += 1  # the window's timer is stale: the batch is full
            self._read(lane, now)

    def _is_poison(self, now: float) -> int:
        if self.poison_rate and self._uniform() < self.poison_rate:
            return 1
        for start, end in self.poison_windows:
            if start <= now < end:
                return 1
        return 0

    # -- the lane's poller ----------------------------------------------------------------

    def _wake(self, event) -> None:
        lane, gen, read = event._value
        if gen != lane.gen:
            return
        if read:
            self._read(lane, self.sim._now)
        else:
            self._ready(lane, self.sim._now)

    def _ready(self, lane: Lane, now: float) -> None:
        """The lane may invoke: a pending batch first, else read new records."""
        pending = lane.pending
        while pending:
            batch = pending.pop()
            if self._age_out(batch.records, now):
                if not batch.records:
                    continue
                batch.poison = sum([r[3] for r in batch.records])
            self._attempt(lane, batch, now)
            return
        self._purge(lane, now)
        records = lane.records
        if self.window_s and len(records) < self.batch_size:
            # "the next window begins as soon as the previous function invocation completes"
            # (with-kinesis.html), records or not; after an idle spell, at the poll that
            # finds records.
            lane.state = GATHERING
            Wakeup(self.sim, self.window_s, (lane, lane.gen, True), self._wake_cb)
        elif not records:
            lane.state = IDLE
            lane.idle_since = now
        else:
            self._read(lane, now)

    def _read(self, lane: Lane, now: float) -> None:
        """Read up to ``batch_size`` records into a batch and invoke it."""
        self._purge(lane, now)
        records = lane.records
        if not records:
            lane.state = IDLE
            lane.idle_since = now
            return
        size = self.batch_size
        if len(records) <= size:
            taken = list(records)
            records.clear()
        else:
            popleft = records.popleft
            taken = [popleft() for _ in range(size)]
        self._attempt(lane, Batch(lane, taken), now)

    def _attempt(self, lane: Lane, batch: Batch, now: float) -> None:
        records = batch.records
        if self._invoke(records[0][0], batch, self._done_cb, self.per_record_s * len(records),
                        batch.poison > 0):
            lane.state = BUSY
            lane.throttle_streak = 0
            batch.attempts += 1
            self.deliveries.extend((now, now - records[-1][0]))
            if self.observer is not None:
                self.observer("deliver", lane.index, records, now)
            return
        # Throttled: not a retry; back off and try the same batch again.
        self.poller_throttles += 1
        lane.pending.append(batch)
        streak = lane.throttle_streak = lane.throttle_streak + 1
        # The exponent is capped: a mapping throttled for a day must not overflow the float.
        delay = THROTTLE_BACKOFF_BASE_S * 2.0 ** min(streak - 1, 30)
        lane.state = WAITING
        Wakeup(self.sim, delay if delay < THROTTLE_BACKOFF_MAX_S else THROTTLE_BACKOFF_MAX_S,
               (lane, lane.gen, False), self._wake_cb)

    def _done(self, batch: Batch, code: int, now: float) -> None:
        self.batch_ends.append(now)
        lane = batch.lane
        if self.observer is not None:
            self.observer("done", lane.index, batch.records, now)
        if not code & (ERROR | TIMEOUT):
            self._end(batch.records, now, SUCCEEDED, code, batch.attempts)
            self._ready(lane, now)
            return
        self.batches_failed += 1
        records = batch.records
        if self.bisect and len(records) > 1:
            # Splitting a batch does not consume the retry quota
            # (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
            half = len(records) // 2
            lane.pending.append(Batch(lane, records[half:], batch.attempts, batch.retries))
            lane.pending.append(Batch(lane, records[:half], batch.attempts, batch.retries))
            self.batches_bisected += 1
        elif batch.retries >= self.max_retries:
            self._discard(records, now, code, batch.attempts)
            self._ready(lane, now)
            return
        else:
            batch.retries += 1
            self.batches_retried += 1
            lane.pending.append(batch)
        # The shard (or its share) waits; the retry goes out at the next poll [assumption].
        lane.state = WAITING
        Wakeup(self.sim, self.poll_s, (lane, lane.gen, False), self._wake_cb)

    # -- records leaving the stream -------------------------------------------------------

    def _purge(self, lane: Lane, now: float) -> None:
        """Drop unread records gone from the stream or older than ``maximum_record_age``."""
        records = lane.records
        limit = now - self.horizon_age_s
        if not records or records[0][0] > limit:
            return
        old = []
        popleft = records.popleft
        while records and records[0][0] <= limit:
            old.append(popleft())
        self._age_out(old, now)

    def _age_out(self, records: list, now: float) -> bool:
        """End the leading records of ``records`` that are too old (in place); True if any."""
        limit = now - self.horizon_age_s
        if not records or records[0][0] > limit:
            return False
        gone = now - self.retention_s
        count = 0
        expired = 0
        for record in records:
            if record[0] > limit:
                break
            count += 1
            if record[0] <= gone:
                expired += 1
        # Records are in arrival order: the expired ones lead.
        if expired:
            self._end(records[:expired], now, DROPPED, 0, 0)
        if count > expired:
            self._discard(records[expired:count], now, 0, 0)
        del records[:count]
        return True

    def _discard(self, records: list, now: float, code: int, attempts: int) -> None:
        if self.on_failure is not None:
            self.on_failure_batches += 1
            self.on_failure_records += len(records)
        self._end(records, now, FAILED, code, attempts)

    def _end(self, records, now: float, outcome: int, code: int, attempts: int) -> None:
        self.outstanding -= len(records)
        packed = pack_request(code, outcome, self.index,
                              attempts if attempts < _MAX_ATTEMPTS else _MAX_ATTEMPTS)
        record = self._record_request
        for r in records:
            record((r[0], now, packed))
        if self.observer is not None:
            self.observer("end", -1, records, now)


# ======================================================================================
# Reporting: the summary block ``stream`` and the series columns
# ======================================================================================
class StreamReport:
    """The ``stream`` summary block and series of one function's stream triggers.

    The block's top level aggregates every stream trigger of the function; ``triggers``
    holds the same keys per trigger name (with its ``type`` and ``on_failure`` target).
    """

    summary_key = "stream"

    def __init__(self) -> None:
        self.triggers: list[StreamTrigger] = []

    @staticmethod
    def _deliveries(trigger: StreamTrigger) -> tuple[np.ndarray, np.ndarray]:
        data = np.frombuffer(trigger.deliveries, dtype=np.float64).reshape(-1, 2)
        return data[:, 0], data[:, 1]

    def _level(self, model, triggers) -> StepLevel:
        starts, ends = [], []
        for t in triggers:
            start, _ = self._deliveries(t)
            end = np.frombuffer(t.batch_ends, dtype=np.float64)
            # Batches still in flight count until the end of the run.
            end = np.concatenate([end, np.full(len(start) - len(end), model.end_s)])
            starts.append(start)
            ends.append(end)
        return StepLevel(np.concatenate(starts), np.concatenate(ends))

    def _block(self, model, triggers, outcome, trig, in_window) -> dict:
        warmup, horizon = model.warmup_s, model.duration_s
        mask = in_window & np.isin(trig, [t.index for t in triggers])
        counts = np.bincount(outcome[mask], minlength=4)
        records = sum(t.arrived_in_window for t in triggers)
        ages, batches = [], 0
        for t in triggers:
            start, age = self._deliveries(t)
            keep = ((start - age) >= warmup) & ((start - age) < horizon)
            ages.append(age[keep])
            batches += int(np.count_nonzero(keep))
        age_ms = time_stats_ms(np.concatenate(ages))
        level = self._level(model, triggers)
        processed, discarded, expired = (int(counts[SUCCEEDED]), int(counts[FAILED]),
                                         int(counts[DROPPED]))
        return {
            "records": records,
            "records_processed": processed,
            "records_discarded": discarded,
            "records_expired": expired,
            "records_waiting": records - processed - discarded - expired,
            "iterator_age_ms": {"mean": age_ms["mean"], "p99": age_ms["p99"],
                                "max": age_ms["max"]},
            "batches": batches,
            "batches_failed": sum(t.batches_failed for t in triggers),
            "batches_retried": sum(t.batches_retried for t in triggers),
            "batches_bisected": sum(t.batches_bisected for t in triggers),
            "poller_throttles": sum(t.poller_throttles for t in triggers),
            "pollers": {"max": int(level.max(warmup, horizon)),
                        "mean": round(level.mean(warmup, horizon), 6)},
            "on_failure_batches": sum(t.on_failure_batches for t in triggers),
            "on_failure_records": sum(t.on_failure_records for t in triggers),
        }

    def summary(self, model) -> dict:
        recorder = model.recorders[self.triggers[0].function.name]
        requests = recorder.table("requests")
        packed = unpack_requests(requests["packed"])
        arrived = requests["arrived"]
        in_window = (arrived >= model.warmup_s) & (arrived < model.duration_s)
        outcome, trig = packed["outcome"], packed["trigger"]
        block = self._block(model, self.triggers, outcome, trig, in_window)
        block["triggers"] = {}
        for t in self.triggers:
            sub = {"type": t.kind, "on_failure": t.on_failure}
            sub.update(self._block(model, [t], outcome, trig, in_window))
            block["triggers"][t.name] = sub
        return block

    def series(self, model, edges: np.ndarray) -> dict[str, list]:
        starts, ages = [], []
        for t in self.triggers:
            start, age = self._deliveries(t)
            starts.append(start)
            ages.append(age)
        start = np.concatenate(starts)
        age = np.concatenate(ages)
        order = np.argsort(start, kind="stable")
        start, age = start[order], age[order]
        avg, peak = period_mean_max_ms(start, age, edges)
        pollers = self._level(model, self.triggers).period_maxima(edges)
        return {"IteratorAge_avg_ms": avg, "IteratorAge_max_ms": peak,
                "StreamPollers": [int(v) for v in pollers]}


def build_stream_trigger(model, function, recorder, tindex: int,
                         tconfig: Mapping[str, Any]) -> None:
    """``Model._TRIGGER_BUILDERS`` entry for ``kinesis`` and ``dynamodb`` triggers."""
    name = function.name
    prefix = f"stream/{name}/{tindex}"
    trigger = StreamTrigger(
        model.sim, function, tindex, tconfig, recorder,
        keys=model.streams.generator(f"{prefix}/keys"),
        uniform=model._uniform(f"{prefix}/poison"),
        phases=model.streams.generator(f"{prefix}/phase"),
        warmup_s=model.warmup_s)
    model.triggers[name].append(trigger)
    model.shared_reporter(name, StreamReport).triggers.append(trigger)
    model._start_arrivals(name, tindex, tconfig, trigger.arrive)
