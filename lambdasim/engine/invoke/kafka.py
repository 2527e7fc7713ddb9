"""Kafka event source mappings (Amazon MSK and self-managed Apache Kafka): partitions, pollers.

Records produced to a Kafka topic are the arrivals of a ``kafka`` trigger; each record is one
request of its trigger. A record carries one of ``partition_keys`` keys, drawn uniformly, and
the key's partition is fixed (SplitMix64 of the key, as in :mod:`lambdasim.engine.invoke.streams`),
so records of one key stay in one partition, in order.

Partitions (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-process.html,
https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html). Lambda keeps the
records of a partition in order and runs at most one invocation per partition at a time, so a
mapping never runs more than ``partitions`` batches at once. A batch is invoked when it holds
``batch_size`` records, when its payload would pass 6 MB (``record_size_kb``), or when its
oldest record has waited ``batching_window`` (500 ms by default for Kafka,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching).

Pollers. Every invocation goes through an event poller; a poller handles "up to 5 MB/sec of
throughput or up to 5 concurrent invocations" (kafka-scaling-modes.html), so the batches in
flight are at most ``min(partitions, pollers x invocations_per_poller)``; partitions ready to
invoke beyond that wait in FIFO order for a free slot. Throughput per poller (5 MB/s) is not a
separate limit here [assumption: with ``record_size_kb`` records, 5 concurrent invocations
bind first unless batches are huge and handlers very short].

* **On-demand mode** (default): the mapping starts with one poller; "in one-minute intervals,
  Lambda evaluates the offset lag of all the partitions in the topic ... adds or removes event
  pollers ... within three minutes of evaluation", and "if your target Lambda function is
  throttled, Lambda reduces the number of event pollers". Model [assumption: AWS publishes no
  formula]: every ``scaling_interval`` (1 min) the mapping counts the partitions with offset
  lag (records produced and not yet committed) and wants ``ceil(lagging / 5)`` pollers, at
  least 1 and at most ``ceil(partitions / 5)``; when the function throttled the mapping since
  the last evaluation it wants one poller fewer instead. The change takes effect
  ``scaling_delay`` (3 min, the documented upper bound) after the evaluation.
* **Provisioned mode** (``provisioned_pollers: {minimum, maximum}``; MinimumPollers 1-200,
  MaximumPollers 1-2,000, the maximum capped at the partition count, kafka-scaling-modes.html):
  the mapping holds ``minimum`` pollers from the start and scales between the two with the
  same lag rule, acting at the evaluation itself [assumption: "responsive autoscaling",
  ``provisioned_scaling_delay`` 0 s]. Provisioned pollers are billed as event poller units
  (EPU), per second with a 1-minute minimum (https://aws.amazon.com/lambda/pricing/).

Errors. A throttled invocation is not a retry: the partition backs off (1 s doubling to 30 s
[assumption], as the stream pollers do) and offers the same batch again. A batch that returns
an error (or times out) blocks its partition and is retried after ``retry_delay``
[assumption: 1 s] until it succeeds or has been retried ``maximum_retry_attempts`` times
(-1: until it succeeds); then its records are discarded to the ``on_failure`` destination
(counted) and the partition moves on (kafka-on-failure.html).

Outcomes of records (requests): committed after a successful batch -> ``succeeded``;
discarded after retries -> ``failed``; still in the topic or in a batch at the end ->
``in_flight``. Latency is production to the end of the invocation that processed the record.

Observability (monitoring-metrics-types.html, event source mapping metrics): ``OffsetLag`` --
records produced and not yet committed -- as its sum over partitions (``SumOffsetLag``) and
its largest partition value (``MaxOffsetLag``), maxima per period; the poller count
(``KafkaPollers``; ``ProvisionedPollers`` in provisioned mode). All are tracked online with
O(1) work per record (the largest partition lag through a histogram of lags).
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any, Callable, Mapping

import numpy as np

from lambdasim.engine.events import Wakeup
from lambdasim.engine.function import ERROR, TIMEOUT
from lambdasim.engine.metrics import pack_request
from lambdasim.engine.online_levels import LevelTrack, regroup_max, track_period
from lambdasim.engine.pollers import (step_max, step_min, step_period_maxima, unit_seconds,
                                      window_unit_seconds)
from lambdasim.engine.invoke.streams import route_keys
from lambdasim.engine.invoke.sync import FAILED, SUCCEEDED

__all__ = ["KafkaTrigger", "KafkaReport", "Partition", "build_kafka_trigger",
           "INVOCATIONS_PER_POLLER", "PAYLOAD_LIMIT_KB", "THROTTLE_BACKOFF_BASE_S",
           "THROTTLE_BACKOFF_MAX_S"]

#: "each event poller can handle up to 5 MB/sec of throughput or up to 5 concurrent
#: invocations" (kafka-scaling-modes.html).
INVOCATIONS_PER_POLLER = 5
#: A batch's payload is at most 6 MB (invocation-eventsourcemapping.html, batching).
PAYLOAD_LIMIT_KB = 6 * 1024.0
#: Back-off of a partition after a throttle [assumption, as the stream pollers].
THROTTLE_BACKOFF_BASE_S = 1.0
THROTTLE_BACKOFF_MAX_S = 30.0
_KEY_BLOCK = 4096
_MAX_ATTEMPTS = 0xFFFF


class Partition:
    """One partition: records in order, at most one batch in flight."""

    __slots__ = ("index", "records", "lag", "busy", "queued", "waiting", "gen", "pending",
                 "throttle_streak")

    def __init__(self, index: int) -> None:
        self.index = index
        #: Records not yet read: (produced_at, seq, poison) in production order.
        self.records: deque = deque()
        #: Records produced and not yet committed or discarded (OffsetLag).
        self.lag = 0
        self.busy = False
        #: In the mapping's FIFO of partitions waiting for a free invocation slot.
        self.queued = False
        #: A timer (batching window, retry, throttle back-off) is pending.
        self.waiting = False
        #: Timers carry the generation they were set in; a newer one makes them stale.
        self.gen = 0
        #: A batch read but not done (a retry or a throttled batch): offered again first.
        self.pending: "KafkaBatch | None" = None
        self.throttle_streak = 0


class KafkaBatch:
    """Records read together from one partition."""

    __slots__ = ("partition", "records", "poison", "attempts", "retries")

    def __init__(self, partition: Partition, records: list) -> None:
        self.partition = partition
        self.records = records
        self.poison = any(r[2] for r in records)
        self.attempts = 0
        self.retries = 0


class KafkaTrigger:
    """A Kafka topic and the event source mapping that reads it for one function."""

    __slots__ = (
        "sim", "function", "index", "name", "warmup_s", "horizon_s", "partitions",
        "batch_size", "window_s", "max_retries", "retry_delay_s", "on_failure", "per_record_s",
        "poison_rate", "provisioned", "min_pollers", "max_pollers", "per_poller", "pollers",
        "allowed", "in_flight", "ready", "interval_s", "delay_s", "throttled_since_eval",
        "outstanding", "arrived_in_window", "seq", "lagging", "sum_lag", "max_lag",
        "_lag_hist", "sum_track", "max_track", "poller_changes", "batches", "batch_records",
        "batches_failed", "batches_retried", "poller_throttles", "on_failure_batches",
        "on_failure_records", "observer", "_route", "_keys", "_key_draw", "_uniform",
        "_invoke", "_record", "_done_cb", "_wake_cb", "_eval_cb", "_apply_cb", "counts",
        "in_flight_track",
    )

    def __init__(self, sim, function, index: int, config: Mapping[str, Any], recorder, *,
                 keys: np.random.Generator, uniform: Callable[[], float], warmup_s: float,
                 horizon_s: float, period_s: float) -> None:
        self.sim = sim
        self.function = function
        self.index = index
        self.name = config["name"]
        self.warmup_s = float(warmup_s)
        self.horizon_s = float(horizon_s)
        n = int(config["partitions"])
        self.partitions = [Partition(i) for i in range(n)]
        by_payload = max(1, int(PAYLOAD_LIMIT_KB // float(config["record_size_kb"])))
        self.batch_size = min(int(config["batch_size"]), by_payload)
        self.window_s = float(config["batching_window"])
        retries = int(config["maximum_retry_attempts"])
        self.max_retries = retries if retries >= 0 else math.inf
        self.retry_delay_s = float(config["retry_delay"])
        self.on_failure = config["on_failure"]
        self.per_record_s = float(config["per_record"])
        self.poison_rate = float(config["poison_rate"])
        self.per_poller = int(config["invocations_per_poller"])
        # At most one invocation per partition: more pollers than that would idle.
        useful = max(1, math.ceil(n / self.per_poller))
        provisioned = config["provisioned_pollers"]
        self.provisioned = provisioned is not None
        if self.provisioned:
            # "Lambda limits MaximumPollers to the number of partitions in the topic".
            self.max_pollers = min(int(provisioned["maximum"]), n)
            self.min_pollers = min(int(provisioned["minimum"]), self.max_pollers)
            self.delay_s = float(config["provisioned_scaling_delay"])
        else:
            self.min_pollers = 1
            self.max_pollers = useful
            self.delay_s = float(config["scaling_delay"])
        self.pollers = self.min_pollers
        self.allowed = min(n, self.pollers * self.per_poller)
        self.in_flight = 0
        self.ready: deque[Partition] = deque()
        self.interval_s = float(config["scaling_interval"])
        self.throttled_since_eval = False
        self.outstanding = 0
        self.arrived_in_window = 0
        self.seq = 0
        self.lagging = 0
        self.sum_lag = 0
        self.max_lag = 0
        self._lag_hist = {0: n}
        # Offset lag is tracked at a period that both the metrics period and the chart bins
        # are whole groups of (as the SQS levels), so metrics.csv and the charts both read it.
        track_s = track_period(period_s, horizon_s)
        self.sum_track = LevelTrack(track_s, warmup_s, horizon_s)
        self.max_track = LevelTrack(track_s, warmup_s, horizon_s)
        self.in_flight_track = LevelTrack(period_s, warmup_s, horizon_s)
        #: (t, pollers) after every change, starting at time 0.
        self.poller_changes: list[tuple[float, int]] = [(0.0, self.pollers)]
        self.batches = 0
        self.batch_records = 0
        self.batches_failed = 0
        self.batches_retried = 0
        self.poller_throttles = 0
        self.on_failure_batches = 0
        self.on_failure_records = 0
        # Outcomes of records produced in [warmup, duration): succeeded, failed.
        self.counts = [0, 0]
        #: Test hook: ``observer(event, partition_index, records, now)`` with event "deliver"
        #: (a batch is invoked), "done" (its invocation ended) or "commit" (records processed
        #: or discarded).
        self.observer: Callable | None = None
        self._route = route_keys(int(config["partition_keys"]), n, 1).tolist()
        n_keys = int(config["partition_keys"])
        self._keys: list[int] = []
        self._key_draw = lambda: keys.integers(0, n_keys, size=_KEY_BLOCK)
        self._uniform = uniform
        self._invoke = function.invoke
        self._record = recorder.requests.extend
        self._done_cb = self._done
        self._wake_cb = self._wake
        self._eval_cb = self._evaluate
        self._apply_cb = self._apply
        Wakeup(sim, self.interval_s, None, self._eval_cb)

    # -- offset lag ---------------------------------------------------------------------------

    def _lag_add(self, p: Partition, now: float) -> None:
        old = p.lag
        p.lag = old + 1
        hist = self._lag_hist
        hist[old] -= 1
        hist[old + 1] = hist.get(old + 1, 0) + 1
        if old == 0:
            self.lagging += 1
        self.sum_lag += 1
        self.sum_track.set(now, self.sum_lag)
        if old + 1 > self.max_lag:
            self.max_lag = old + 1
            self.max_track.set(now, self.max_lag)

    def _lag_remove(self, p: Partition, count: int, now: float) -> None:
        old = p.lag
        new = old - count
        p.lag = new
        hist = self._lag_hist
        hist[old] -= 1
        hist[new] = hist.get(new, 0) + 1
        if new == 0:
            self.lagging -= 1
        self.sum_lag -= count
        self.sum_track.set(now, self.sum_lag)
        if old == self.max_lag and not hist[old]:
            top = old
            while top > 0 and not hist.get(top, 0):
                top -= 1
            self.max_lag = top
            self.max_track.set(now, top)

    # -- records produced to the topic ----------------------------------------------------

    def arrive(self, now: float) -> None:
        self.outstanding += 1
        if now >= self.warmup_s:
            self.arrived_in_window += 1
        keys = self._keys
        if not keys:
            keys.extend(self._key_draw()[::-1].tolist())
        p = self.partitions[self._route[keys.pop()]]
        poison = 1 if self.poison_rate and self._uniform() < self.poison_rate else 0
        seq = self.seq
        self.seq = seq + 1
        p.records.append((now, seq, poison))
        self._lag_add(p, now)
        if p.busy or p.queued:
            return
        if p.waiting:
            if p.pending is None and len(p.records) >= self.batch_size:
                p.gen += 1  # the window's timer is stale: the batch is full
                p.waiting = False
                self._offer(p, now)
            return
        self._consider(p, now)

    def _consider(self, p: Partition, now: float) -> None:
        """An idle partition with records: invoke now, or when its oldest record is due."""
        records = p.records
        if not records:
            return
        due = records[0][0] + self.window_s
        if len(records) >= self.batch_size or now >= due:
            self._offer(p, now)
        else:
            p.waiting = True
            p.gen += 1
            Wakeup(self.sim, due - now, (p, p.gen), self._wake_cb)

    def _wake(self, event) -> None:
        p, gen = event._value
        if gen != p.gen or not p.waiting:
            return
        p.waiting = False
        now = self.sim._now
        if p.pending is not None:
            self._offer(p, now)
        else:
            self._consider(p, now)

    def _offer(self, p: Partition, now: float) -> None:
        """The partition has a batch to invoke: start it if a slot is free, else queue it."""
        if self.in_flight < self.allowed and not self.ready:
            self._start(p, now)
        else:
            p.queued = True
            self.ready.append(p)

    def _fill(self, now: float) -> None:
        ready = self.ready
        while ready and self.in_flight < self.allowed:
            p = ready.popleft()
            p.queued = False
            self._start(p, now)

    # -- batches ----------------------------------------------------------------------------

    def _start(self, p: Partition, now: float) -> None:
        batch = p.pending
        if batch is None:
            records = p.records
            size = self.batch_size
            if len(records) <= size:
                taken = list(records)
                records.clear()
            else:
                popleft = records.popleft
                taken = [popleft() for _ in range(size)]
            if not taken:
                return
            batch = KafkaBatch(p, taken)
        else:
            p.pending = None
        records = batch.records
        if self._invoke(records[0][0], batch, self._done_cb, self.per_record_s * len(records),
                        batch.poison):
            p.busy = True
            p.throttle_streak = 0
            batch.attempts += 1
            self.in_flight += 1
            self.in_flight_track.set(now, self.in_flight)
            if batch.attempts == 1 and records[0][0] >= self.warmup_s:
                self.batches += 1
                self.batch_records += len(records)
            if self.observer is not None:
                self.observer("deliver", p.index, records, now)
            return
        # Throttled: not a retry; the partition backs off and offers the same batch again.
        self.poller_throttles += 1
        self.throttled_since_eval = True
        p.pending = batch
        streak = p.throttle_streak = p.throttle_streak + 1
        delay = THROTTLE_BACKOFF_BASE_S * 2.0 ** (streak - 1)
        p.waiting = True
        p.gen += 1
        Wakeup(self.sim, delay if delay < THROTTLE_BACKOFF_MAX_S else THROTTLE_BACKOFF_MAX_S,
               (p, p.gen), self._wake_cb)

    def _done(self, batch: KafkaBatch, code: int, now: float) -> None:
        p = batch.partition
        p.busy = False
        self.in_flight -= 1
        self.in_flight_track.set(now, self.in_flight)
        if self.observer is not None:
            self.observer("done", p.index, batch.records, now)
        if not code & (ERROR | TIMEOUT):
            self._end(batch.records, now, SUCCEEDED, code, batch.attempts, p.index)
            self._lag_remove(p, len(batch.records), now)
            self._consider(p, now)
        else:
            self.batches_failed += 1
            if batch.retries >= self.max_retries:
                if self.on_failure is not None:
                    self.on_failure_batches += 1
                    self.on_failure_records += len(batch.records)
                self._end(batch.records, now, FAILED, code, batch.attempts, p.index)
                self._lag_remove(p, len(batch.records), now)
                self._consider(p, now)
            else:
                # The partition waits: the same batch goes again after retry_delay.
                batch.retries += 1
                self.batches_retried += 1
                p.pending = batch
                p.waiting = True
                p.gen += 1
                Wakeup(self.sim, self.retry_delay_s, (p, p.gen), self._wake_cb)
        self._fill(now)

    def _end(self, records: list, now: float, outcome: int, code: int, attempts: int,
             partition: int) -> None:
        self.outstanding -= len(records)
        packed = pack_request(code, outcome, self.index,
                              attempts if attempts < _MAX_ATTEMPTS else _MAX_ATTEMPTS)
        record = self._record
        warmup = self.warmup_s
        counted = 0
        for r in records:
            record((r[0], now, packed))
            if r[0] >= warmup:
                counted += 1
        self.counts[outcome] += counted
        if self.observer is not None:
            self.observer("commit", partition, records, now)

    # -- pollers ----------------------------------------------------------------------------

    def _evaluate(self, event) -> None:
        """One evaluation of the offset lag (every scaling_interval)."""
        now = self.sim._now
        Wakeup(self.sim, self.interval_s, None, self._eval_cb)
        if self.throttled_since_eval and not self.provisioned:
            # "If your target Lambda function is throttled, Lambda reduces the number of
            # event pollers" (kafka-scaling-modes.html); by one [assumption].
            target = self.pollers - 1
        else:
            target = math.ceil(self.lagging / self.per_poller)
        self.throttled_since_eval = False
        target = min(self.max_pollers, max(self.min_pollers, target))
        if self.delay_s > 0.0:
            Wakeup(self.sim, self.delay_s, target, self._apply_cb)
        else:
            self._set_pollers(target, now)

    def _apply(self, event) -> None:
        self._set_pollers(event._value, self.sim._now)

    def _set_pollers(self, pollers: int, now: float) -> None:
        if pollers == self.pollers:
            return
        self.pollers = pollers
        self.poller_changes.append((now, pollers))
        self.allowed = min(len(self.partitions), pollers * self.per_poller)
        self._fill(now)

    # -- results ----------------------------------------------------------------------------

    def poller_seconds(self, a: float, b: float, minimum_s: float = 0.0) -> float:
        """Poller-seconds within ``[a, b]``, each poller's allocation billed at least
        ``minimum_s`` when it starts and ends inside the window."""
        return unit_seconds(self.poller_changes, a, b, minimum_s)

    def summary(self, end_s: float) -> dict[str, Any]:
        for track in (self.sum_track, self.max_track, self.in_flight_track):
            track.finish(end_s)
        warmup, horizon = self.warmup_s, self.horizon_s
        processed, discarded = self.counts
        records = self.arrived_in_window
        length = horizon - warmup
        poller_s = self.poller_seconds(warmup, horizon)
        return {
            "mode": "provisioned" if self.provisioned else "on-demand",
            "partitions": len(self.partitions),
            "records": records,
            "records_processed": processed,
            "records_discarded": discarded,
            "records_waiting": records - processed - discarded,
            "batches": self.batches,
            "batch_size": {"mean": round(self.batch_records / self.batches, 6)
                           if self.batches else None},
            "batches_failed": self.batches_failed,
            "batches_retried": self.batches_retried,
            "poller_throttles": self.poller_throttles,
            "on_failure_batches": self.on_failure_batches,
            "on_failure_records": self.on_failure_records,
            "sum_offset_lag": {"max": self.sum_track.w_max,
                               "mean": round(self.sum_track.mean(), 6)},
            "max_offset_lag": {"max": self.max_track.w_max},
            "concurrency": {"max": self.in_flight_track.w_max,
                            "mean": round(self.in_flight_track.mean(), 6)},
            "pollers": {"max": int(step_max(self.poller_changes, warmup, horizon)),
                        "mean": round(poller_s / length, 6) if length > 0 else 0.0},
        }


class KafkaReport:
    """The ``kafka`` summary block and series of one function's Kafka triggers.

    One trigger: its block. Several: ``by_trigger`` holds each trigger's block and the top
    level sums the counts. Series: ``SumOffsetLag`` (sum over triggers of per-period maxima),
    ``MaxOffsetLag`` (largest), ``KafkaPollers`` (sum), ``ProvisionedPollers`` (sum over the
    provisioned-mode triggers; None when there is none).
    """

    summary_key = "kafka"

    def __init__(self) -> None:
        self.triggers: list[KafkaTrigger] = []

    def usage(self, model, usage) -> None:
        """EPU-seconds of the provisioned-mode triggers in the measured window."""
        for t in self.triggers:
            if t.provisioned:
                usage.kafka_epu_s += t.poller_seconds(model.warmup_s, model.duration_s,
                                                      usage.epu_minimum_s)
                # The pollers held throughout the window (the minimum) are billed whatever
                # the traffic: always on (lambdasim.engine.billing.ALWAYS_ON).
                usage.always_on_kafka_epu_s += step_min(
                    t.poller_changes, model.warmup_s, model.duration_s) * max(
                    0.0, model.duration_s - model.warmup_s)

    def cost_weights(self, model, edges: np.ndarray, prices) -> dict[str, np.ndarray]:
        """Where the ``event_poller_units`` item was used: EPU-hours of the provisioned-mode
        triggers in each bin of ``edges`` within ``[warmup, duration)``, in USD at the price
        file's rate (https://aws.amazon.com/lambda/pricing/)."""
        rate = float(prices["event_poller_unit_usd_per_hour"]["kafka"]) / 3600.0
        out = np.zeros(len(edges) - 1)
        for t in self.triggers:
            if t.provisioned:
                out += window_unit_seconds(t.poller_changes, edges, model.warmup_s,
                                           model.duration_s) * rate
        return {"event_poller_units": out}

    def summary(self, model) -> dict[str, Any]:
        blocks = [t.summary(model.end_s) for t in self.triggers]
        if len(blocks) == 1:
            return blocks[0]
        keys = ("records", "records_processed", "records_discarded", "records_waiting",
                "batches", "batches_failed", "batches_retried", "poller_throttles",
                "on_failure_batches", "on_failure_records")
        out: dict[str, Any] = {key: sum(b[key] for b in blocks) for key in keys}
        out["by_trigger"] = {t.name: b for t, b in zip(self.triggers, blocks)}
        return out

    def series(self, model, edges: np.ndarray) -> dict[str, list]:
        """Per bin of ``edges`` (the metrics periods, or chart bins that are whole groups of
        the tracked period). Raises ValueError when the bins are not such groups."""
        count = len(edges) - 1
        total = [0] * count
        largest = [0] * count
        pollers = [0] * count
        provisioned = [0] * count if any(t.provisioned for t in self.triggers) else None
        for t in self.triggers:
            t.sum_track.finish(model.end_s)
            t.max_track.finish(model.end_s)
            per = step_period_maxima(t.poller_changes, edges)
            track = t.sum_track.period_s
            fine = max(count, int(math.ceil(float(edges[-1]) / track - 1e-9)))
            sums = regroup_max(t.sum_track.per_period(fine), track, edges)
            maxima = regroup_max(t.max_track.per_period(fine), track, edges)
            if sums is None or maxima is None:
                raise ValueError(f"bins of {edges[1] - edges[0]:g} s are not whole groups of "
                                 f"the offset lag's {track:g} s")
            for k, (s, m) in enumerate(zip(sums, maxima)):
                total[k] += s
                if m > largest[k]:
                    largest[k] = m
                pollers[k] += per[k]
                if t.provisioned:
                    provisioned[k] += per[k]
        out = {"SumOffsetLag": total, "MaxOffsetLag": largest, "KafkaPollers": pollers}
        if provisioned is not None:
            out["ProvisionedPollers"] = provisioned
        return out


def build_kafka_trigger(model, function, recorder, tindex: int,
                        tconfig: Mapping[str, Any]) -> None:
    """``Model._TRIGGER_BUILDERS["kafka"]``: the topic, its mapping, its reporter, arrivals."""
    name = function.name
    prefix = f"kafka/{name}/{tindex}"
    trigger = KafkaTrigger(
        model.sim, function, tindex, tconfig, recorder,
        keys=model.streams.generator(f"{prefix}/keys"),
        uniform=model._uniform(f"{prefix}/poison"),
        warmup_s=model.warmup_s, horizon_s=model.duration_s, period_s=model.period_s)
    model.triggers[name].append(trigger)
    model.shared_reporter(name, KafkaReport).triggers.append(trigger)
    model._start_arrivals(name, tindex, tconfig, trigger.arrive)
