"""Kinesis and DynamoDB Streams triggers (lambdasim.invoke.streams).

Each documented rule cites its AWS page:
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html and
https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html.

Tests attach the trigger's ``observer`` hook, which reports every batch delivered, every
invocation that ended and every record that left the stream, and check the invariants on that
log: per-partition-key order, one batch in flight per lane, conservation.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lambdasim
from lambdasim.invoke.streams import route_keys
from lambdasim.model import Model
from lambdasim.result import SERIES_COLUMNS, build_result
from lambdasim.scenario import ScenarioError, json_schema

KINESIS = "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"
DDB = "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html"
ON_FAILURE = "https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def stream_scenario(trigger: dict, horizon="60s", seed=7, **function):
    config = {
        "memory_mb": 1024,
        "duration": "100ms",
        "init": "100ms",
        "timeout": "900s",
        "keep_alive": "600s",
        "max_lifetime": "24h",
        "triggers": [{"type": "kinesis", **trigger}],
    }
    config.update(function)
    return lambdasim.load_scenario({"duration": horizon, "seed": seed,
                                    "functions": {"f": config}})


class Log:
    """Observer that keeps every event and checks the invariants as they happen."""

    def __init__(self, trigger):
        self.trigger = trigger
        self.events = []
        self.in_flight: dict[int, int] = defaultdict(int)
        self.peak = 0
        self.lanes_of_batches: list[int] = []

    def __call__(self, event, lane, records, now):
        self.events.append((event, lane, [(r[1], r[2], r[3], r[0]) for r in records], now))
        if event == "deliver":
            self.in_flight[lane] += 1
            # One batch in flight per shard (or per share of a shard) [with-kinesis.html].
            assert self.in_flight[lane] == 1
            route = self.trigger.route
            assert all(route[r[2]] == lane for r in records)
            self.peak = max(self.peak, sum(self.in_flight.values()))
        elif event == "done":
            self.in_flight[lane] -= 1
            assert self.in_flight[lane] == 0

    def remaining(self):
        out = []
        for lane in self.trigger.lanes:
            out.extend((r[1], r[2], r[3], r[0]) for r in lane.records)
            for batch in lane.pending:
                out.extend((r[1], r[2], r[3], r[0]) for r in batch.records)
        return out

    def check_order(self):
        """Records of a key are delivered and leave the stream in the order they were put."""
        seqs: dict[int, set] = defaultdict(set)
        for _, _, records, _ in self.events:
            for seq, key, _, _ in records:
                seqs[key].add(seq)
        for seq, key, _, _ in self.remaining():
            seqs[key].add(seq)
        ordered = {key: sorted(s) for key, s in seqs.items()}
        pointer = defaultdict(int)
        ended: set[int] = set()

        def first_open(key, skip):
            items, i = ordered[key], pointer[key]
            while i < len(items) and items[i] in ended:
                i += 1
            pointer[key] = i
            while i < len(items) and items[i] in skip:
                i += 1
            return items[i] if i < len(items) else None

        for event, _, records, _ in self.events:
            if event == "deliver":
                seen = set()
                for seq, key, _, _ in records:
                    assert first_open(key, seen) == seq, f"key {key}: record {seq} out of order"
                    seen.add(seq)
            elif event == "end":
                seen = set()
                for seq, key, _, _ in records:
                    assert seq not in ended, f"record {seq} ended twice"
                    assert first_open(key, seen) == seq, f"key {key}: record {seq} ended early"
                    seen.add(seq)
                ended.update(seq for seq, _, _, _ in records)
        return ended

    def deliveries_of(self, seq):
        return [now for event, _, records, now in self.events
                if event == "deliver" and any(r[0] == seq for r in records)]


def run(scenario):
    model = Model(scenario)
    trigger = model.triggers["f"][0]
    log = Log(trigger)
    trigger.observer = log
    model.run()
    return model, trigger, log, build_result(model)


def conservation(result, trigger_log=None):
    block = result.summary["functions"]["f"]
    req, stream = block["requests"], block["stream"]
    assert req["arrived"] == (req["succeeded"] + req["failed"] + req["throttled"]
                              + req["dropped"] + req["in_flight"])
    assert req["throttled"] == 0  # a record is never throttled: its poller backs off
    assert stream["records"] == req["arrived"]
    assert stream["records_processed"] == req["succeeded"]
    assert stream["records_discarded"] == req["failed"]
    assert stream["records_expired"] == req["dropped"]
    assert stream["records_waiting"] == req["in_flight"]
    return block


# --------------------------------------------------------------------------------------
# Must show: per-partition-key order, concurrency bound, conservation (property)
# --------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shards=st.integers(1, 4),
    factor=st.integers(1, 4),
    batch_size=st.integers(1, 12),
    window=st.sampled_from([0, 0.5, 2]),
    bisect=st.booleans(),
    retries=st.integers(-1, 3),
    keys=st.integers(1, 25),
    poison=st.sampled_from([0.0, 0.02, 0.2]),
    error_rate=st.sampled_from([0.0, 0.1, 0.4]),
    reserved=st.sampled_from([None, 1, 3]),
    rate=st.sampled_from([5, 20, 60]),
    kind=st.sampled_from(["kinesis", "dynamodb"]),
    seed=st.integers(0, 10_000),
)
def test_order_per_partition_key_and_concurrency_bound(shards, factor, batch_size, window,
                                                       bisect, retries, keys, poison,
                                                       error_rate, reserved, rate, kind, seed):
    """Records of one partition key are processed in order; at most shards x
    parallelization_factor batches run at once; every record ends in exactly one outcome
    (with-kinesis.html: "Lambda processes ... while still guaranteeing order of processing at
    the partition-key level"; concurrency = shards x parallelization factor)."""
    trigger = {
        "type": kind,
        "arrivals": {"process": "poisson", "rate": rate},
        "shards": shards, "parallelization_factor": factor, "batch_size": batch_size,
        "batching_window": window, "bisect_batch_on_error": bisect,
        "maximum_retry_attempts": retries, "partition_keys": keys, "poison_rate": poison,
        "per_record": "20ms",
        # Unlimited retries of a poison record would block for the 24 h retention.
        "maximum_record_age": "60s" if retries == -1 else None,
    }
    scenario = stream_scenario(trigger, horizon="40s", seed=seed, error_rate=error_rate,
                               reserved_concurrency=reserved,
                               duration={"dist": "exponential", "mean": "300ms"})
    model, trig, log, result = run(scenario)
    ended = log.check_order()
    assert log.peak <= shards * factor
    block = conservation(result)
    assert block["concurrency"]["max"] <= shards * factor
    assert block["stream"]["pollers"]["max"] <= shards * factor
    # Everything ends: nothing waits at the end, and the log agrees with the summary.
    assert block["requests"]["in_flight"] == 0 and trig.outstanding == 0
    assert len(ended) == block["stream"]["records"]
    assert not log.remaining()


def test_concurrency_reaches_but_never_exceeds_shards_times_factor():
    """A backlog on every shard runs exactly shards x parallelization_factor batches at once
    (with-kinesis.html, "Concurrent batches per shard")."""
    for shards, factor in ((3, 1), (3, 4)):
        scenario = stream_scenario({
            "arrivals": {"process": "poisson", "rate": 400}, "shards": shards,
            "parallelization_factor": factor, "batch_size": 10, "partition_keys": 5000,
        }, horizon="60s", duration="2s")
        model, trig, log, result = run(scenario)
        block = result.summary["functions"]["f"]
        assert log.peak == shards * factor
        assert block["concurrency"]["max"] == shards * factor
        assert block["stream"]["pollers"]["max"] == shards * factor
        assert max(v for v in result.series["StreamPollers"] if v is not None) == shards * factor


# --------------------------------------------------------------------------------------
# Must show: retries, on-failure, bisection
# --------------------------------------------------------------------------------------
def poison_at(second: float) -> list[dict]:
    """A window that makes exactly the record put at ``second`` (constant 10/s) poison."""
    return [{"start": second - 0.01, "end": second + 0.01}]


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_failing_batch_tried_n_plus_one_times_then_sent_to_on_failure(retries):
    """With maximum_retry_attempts N, a failing batch is invoked N + 1 times, then its records
    are discarded to the on-failure destination and the shard moves on
    (kinesis-on-failure-destination.html; with-kinesis.html, error handling)."""
    scenario = stream_scenario({
        "arrivals": {"process": "constant", "rate": 10, "end": "20s"},
        "batch_size": 8, "batching_window": "5s", "maximum_retry_attempts": retries,
        "partition_keys": 1, "poison_windows": poison_at(10.0),
        "on_failure": {"type": "sqs", "name": "dlq"},
    }, horizon="30s")
    model, trig, log, result = run(scenario)
    log.check_order()
    poison_seq = 100  # the 101st record, put at t = 10 s
    tries = log.deliveries_of(poison_seq)
    assert len(tries) == retries + 1
    # Every try carried the same batch; it was the one that failed.
    batches = [records for event, _, records, _ in log.events
               if event == "deliver" and any(r[0] == poison_seq for r in records)]
    assert all(b == batches[0] for b in batches)
    failed = {r[0] for b in batches for r in b}
    block = conservation(result)
    stream = block["stream"]
    assert stream["records_discarded"] == len(failed) == 8
    assert stream["on_failure_batches"] == 1 and stream["on_failure_records"] == len(failed)
    assert stream["batches_retried"] == retries
    assert stream["records_processed"] == 200 - len(failed)
    assert stream["triggers"]["kinesis-0"]["on_failure"] == {"type": "sqs", "name": "dlq"}
    # The shard waited: no later record was delivered before the last try ended.
    last_try = tries[-1]
    later = [now for event, _, records, now in log.events
             if event == "deliver" and min(r[0] for r in records) > max(failed)]
    assert later and min(later) > last_try


def test_bisect_isolates_the_poison_record():
    """bisect_batch_on_error splits a failing batch in two and retries the halves; splitting
    does not consume retries, so the poison record alone is tried N + 1 times and discarded,
    and every other record of its batch is processed (kinesis-on-failure-destination.html)."""
    retries = 2
    # 64 records, one batch (the window gathers them all), the 32nd one poison.
    scenario = stream_scenario({
        "arrivals": [{"process": "burst", "count": 31, "at": "5s"},
                     {"process": "burst", "count": 1, "at": "5.5s"},
                     {"process": "burst", "count": 32, "at": "6s"}],
        "batch_size": 64, "batching_window": "5s", "maximum_retry_attempts": retries,
        "partition_keys": 7, "bisect_batch_on_error": True,
        "poison_windows": [{"start": "5.4s", "end": "5.6s"}],
        "on_failure": {"type": "sns", "name": "alerts"},
    }, horizon="10s")
    model, trig, log, result = run(scenario)
    log.check_order()
    delivered = [records for event, _, records, _ in log.events if event == "deliver"]
    assert len(delivered[0]) == 64  # one batch of everything
    poison = [r[0] for r in delivered[0] if r[2]]
    assert len(poison) == 1
    singles = [b for b in delivered if len(b) == 1 and b[0][0] == poison[0]]
    assert len(singles) == retries + 1
    stream = conservation(result)["stream"]
    assert stream["records_discarded"] == 1 and stream["on_failure_records"] == 1
    assert stream["records_processed"] == 63
    assert stream["batches_bisected"] == 6  # 64 -> 32 -> 16 -> 8 -> 4 -> 2 -> 1
    assert stream["batches_retried"] == retries


def test_bisect_with_poison_rate_discards_only_poison_records():
    """Over many batches with random poison records, bisection discards exactly the poison
    records and processes the rest (kinesis-on-failure-destination.html)."""
    scenario = stream_scenario({
        "arrivals": {"process": "poisson", "rate": 100}, "shards": 2, "batch_size": 50,
        "maximum_retry_attempts": 1, "bisect_batch_on_error": True, "poison_rate": 0.01,
    }, horizon="60s")
    model, trig, log, result = run(scenario)
    log.check_order()
    poison = {r[0] for event, _, records, _ in log.events if event == "end"
              for r in records if r[2]}
    stream = conservation(result)["stream"]
    assert len(poison) > 20
    assert stream["records_discarded"] == len(poison)
    assert stream["records_processed"] == stream["records"] - len(poison)


def test_without_bisect_a_poison_record_takes_its_batch_down():
    """Without bisection the whole failing batch is discarded (with-kinesis.html)."""
    scenario = stream_scenario({
        "arrivals": {"process": "poisson", "rate": 100}, "shards": 2, "batch_size": 50,
        "maximum_retry_attempts": 1, "poison_rate": 0.01,
    }, horizon="60s")
    model, trig, log, result = run(scenario)
    stream = conservation(result)["stream"]
    poison = sum(1 for event, _, records, _ in log.events if event == "end"
                 for r in records if r[2])
    assert stream["records_discarded"] > 3 * poison


def test_throttles_are_not_retries():
    """A throttled batch is retried without using the retry quota: with
    maximum_retry_attempts 0 and heavy throttling, nothing is discarded
    (kinesis-on-failure-destination.html: before invocation, Lambda retries until the records
    expire)."""
    scenario = stream_scenario({
        "arrivals": {"process": "poisson", "rate": 50}, "shards": 6, "batch_size": 20,
        "maximum_retry_attempts": 0,
    }, horizon="60s", reserved_concurrency=2, duration="1s")
    model, trig, log, result = run(scenario)
    log.check_order()
    block = conservation(result)
    stream = block["stream"]
    assert stream["poller_throttles"] > 10
    assert block["throttles"] == stream["poller_throttles"]
    assert stream["records_discarded"] == 0
    assert stream["records_processed"] == stream["records"]
    assert block["concurrency"]["max"] == 2


def test_maximum_record_age_discards_old_records():
    """A batch retried forever is discarded once its records are older than
    maximum_record_age (with-kinesis.html; kinesis-on-failure-destination.html)."""
    scenario = stream_scenario({
        "arrivals": {"process": "constant", "rate": 10, "end": "20s"},
        "batch_size": 5, "partition_keys": 1, "maximum_record_age": "60s",
        "poison_windows": poison_at(10.0), "on_failure": {"type": "sqs", "name": "dlq"},
    }, horizon="30s")
    model, trig, log, result = run(scenario)
    log.check_order()
    ends = {r[0]: now for event, _, records, now in log.events if event == "end"
            for r in records}
    arrived = {r[0]: r[3] for event, _, records, _ in log.events if event == "end"
               for r in records}
    stream = conservation(result)["stream"]
    assert stream["records_expired"] == 0
    assert stream["records_discarded"] >= 1
    # The poison record left 60 s after it was put (checked on the next poll).
    assert 60.0 <= ends[100] - arrived[100] <= 61.0
    assert stream["iterator_age_ms"]["max"] >= 60_000.0 - 1000.0


def test_retention_expires_records_blocked_behind_a_poison_batch():
    """With the defaults (retry until expiry, no age limit) a poison record blocks its shard
    until the stream's 24 h retention removes it; records that expire are lost
    (with-kinesis.html; kinesis-on-failure-destination.html)."""
    scenario = stream_scenario({
        "arrivals": {"process": "constant", "rate": 1, "end": "20s"},
        "batch_size": 100, "partition_keys": 1, "poison_windows": poison_at(10.0),
    }, horizon="30s", duration="10ms")
    model, trig, log, result = run(scenario)
    stream = conservation(result)["stream"]
    assert stream["records_expired"] >= 1
    assert stream["records_expired"] + stream["records_processed"] == 20
    assert model.end_s == pytest.approx(10.0 + 86400.0, abs=1.5)


def test_records_still_blocked_at_the_end_are_in_flight():
    """With a 48 h retention the shard is still blocked when the drain ends: its records are
    reported in flight (conservation includes what waits)."""
    scenario = stream_scenario({
        "arrivals": {"process": "constant", "rate": 1, "end": "20s"},
        "batch_size": 100, "partition_keys": 1, "poison_windows": poison_at(10.0),
        "retention": "48h",
    }, horizon="30s", duration="10ms")
    model, trig, log, result = run(scenario)
    block = conservation(result)
    assert block["requests"]["in_flight"] >= 1
    assert trig.outstanding == block["requests"]["in_flight"]
    assert block["stream"]["records_waiting"] == block["requests"]["in_flight"]
