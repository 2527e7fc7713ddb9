"""Kinesis and DynamoDB Streams triggers (lambdasim.engine.invoke.streams).

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
from lambdasim.engine.invoke.streams import route_keys
from lambdasim.engine.model import Model
from lambdasim.results.result import SERIES_COLUMNS, build_result
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
        self.last_now = 0.0

    def __call__(self, event, lane, records, now):
        assert now >= self.last_now  # time never runs backwards
        self.last_now = now
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


def run(scenario, observe=True):
    model = Model(scenario)
    trigger = model.triggers["f"][0]
    log = Log(trigger)
    if observe:
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
    model, trig, log, result = run(scenario, observe=False)
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
    model, trig, log, result = run(scenario, observe=False)
    block = conservation(result)
    assert block["requests"]["in_flight"] >= 1
    assert trig.outstanding == block["requests"]["in_flight"]
    assert block["stream"]["records_waiting"] == block["requests"]["in_flight"]


# --------------------------------------------------------------------------------------
# Polling, batching, routing
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, interval, url", [("kinesis", 1.0, KINESIS),
                                                 ("dynamodb", 0.25, DDB)])
def test_idle_shard_is_polled_at_the_base_rate(kind, interval, url):
    """Lambda polls each Kinesis shard once per second and each DynamoDB Streams shard four
    times per second; a record put to an idle shard waits for the next poll (url)."""
    scenario = stream_scenario({
        "type": kind, "arrivals": {"process": "constant", "rate": 0.3}, "shards": 2,
    }, horizon="300s", duration="10ms")
    model, trig, log, result = run(scenario)
    waits = [now - records[0][3] for event, _, records, now in log.events if event == "deliver"]
    assert len(waits) == 90
    assert 0.0 < min(waits) and max(waits) <= interval + 1e-9
    # The polls of a shard are on a fixed clock: waits spread over the whole interval.
    assert max(waits) > 0.8 * interval and min(waits) < 0.2 * interval


def test_batching_window_gathers_until_full_or_window_ends():
    """With a batching window, Lambda gathers records until the batch is full or the window
    ends (with-kinesis.html, "Polling and batching streams")."""
    full = stream_scenario({
        "arrivals": {"process": "constant", "rate": 100}, "batch_size": 50,
        "batching_window": "10s",
    }, horizon="60s", duration="10ms")
    _, _, log, _ = run(full)
    sizes = [len(records) for event, _, records, _ in log.events if event == "deliver"]
    assert sizes[1:-1] and all(size == 50 for size in sizes[1:-1])
    timed = stream_scenario({
        "arrivals": {"process": "constant", "rate": 10}, "batch_size": 1000,
        "batching_window": "2s",
    }, horizon="60s", duration="10ms")
    _, _, log, result = run(timed)
    sizes = [len(records) for event, _, records, _ in log.events if event == "deliver"]
    # Each window runs from the end of the previous invocation: 2 s + 10 ms of records.
    assert all(19 <= size <= 21 for size in sizes[1:-1])
    assert result.summary["functions"]["f"]["stream"]["iterator_age_ms"]["mean"] < 200.0


def test_per_record_time_adds_to_the_batch_duration():
    """A batch's handler time is the function's duration plus per_record per record."""
    scenario = stream_scenario({
        "arrivals": {"process": "constant", "rate": 100}, "batch_size": 50,
        "batching_window": "10s", "per_record": "4ms",
    }, horizon="30s", duration="100ms")
    _, _, _, result = run(scenario)
    assert result.summary["functions"]["f"]["duration_ms"]["p50"] == pytest.approx(300.0)


def test_partition_keys_spread_evenly_and_keep_their_shard():
    """Keys hash uniformly over shards and over each shard's sub-ranges, always the same way."""
    lanes = route_keys(200_000, 4, 3)
    counts = np.bincount(lanes, minlength=12)
    assert counts.min() > 0.95 * 200_000 / 12 and counts.max() < 1.05 * 200_000 / 12
    assert np.array_equal(route_keys(1000, 4, 3), lanes[:1000])
    # A shard's sub-ranges split the shard's own keys: factor 1 gives the same shard.
    assert np.array_equal(route_keys(1000, 4, 1), lanes[:1000] // 3)


def test_failing_shard_blocks_only_its_own_share():
    """A failing batch blocks its shard's share only: other shares keep a low iterator age
    (with-kinesis.html: parallelization factor; order per partition key)."""
    scenario = stream_scenario({
        "arrivals": {"process": "poisson", "rate": 50}, "shards": 1,
        "parallelization_factor": 4, "partition_keys": 400, "maximum_record_age": "60s",
        "poison_windows": [{"start": "10s", "end": "10.05s"}],
    }, horizon="120s", duration="50ms")
    model, trig, log, result = run(scenario)
    log.check_order()
    ages = defaultdict(list)
    for event, lane, records, now in log.events:
        if event == "deliver" and 20.0 < now < 60.0:
            ages[lane].append(now - records[-1][3])
    blocked = [lane for lane, a in ages.items() if max(a) > 10.0]
    free = [lane for lane, a in ages.items() if max(a) < 2.0]
    assert blocked and free and len(blocked) + len(free) == len(ages)
    conservation(result)


# --------------------------------------------------------------------------------------
# Outputs, determinism, validation
# --------------------------------------------------------------------------------------
def test_series_columns_and_summary_block():
    scenario = stream_scenario({
        "arrivals": {"process": "poisson", "rate": 50}, "shards": 2, "batch_size": 10,
    }, horizon="180s")
    result = lambdasim.simulate(scenario)
    for column in ("IteratorAge_avg_ms", "IteratorAge_max_ms", "StreamPollers"):
        assert column in SERIES_COLUMNS
        values = [v for v, fn in zip(result.series[column], result.series["function"])
                  if fn == "f"]
        assert len(values) >= 3 and all(v is not None for v in values)
    stream = result.function("f").stream
    assert set(stream["iterator_age_ms"]) == {"mean", "p99", "max"}
    assert stream["iterator_age_ms"]["max"] <= 1100.0
    assert stream["batches"] == result.function("f").invocations
    assert list(stream["triggers"]) == ["kinesis-0"]


def test_two_stream_triggers_aggregate_and_nest():
    data = {"duration": "60s", "seed": 3, "functions": {"f": {
        "duration": "50ms", "timeout": "30s",
        "triggers": [
            {"type": "kinesis", "name": "clicks", "arrivals": {"process": "poisson", "rate": 20}},
            {"type": "dynamodb", "name": "orders", "arrivals": {"process": "poisson", "rate": 5},
             "shards": 2},
            {"type": "sync", "arrivals": {"process": "poisson", "rate": 5}},
        ]}}}
    result = lambdasim.simulate(data)
    block = result.function("f")
    stream = block["stream"]
    by = stream["triggers"]
    assert set(by) == {"clicks", "orders"} and by["orders"]["type"] == "dynamodb"
    assert stream["records"] == by["clicks"]["records"] + by["orders"]["records"]
    assert block["requests"]["arrived"] == stream["records"] + (
        block["requests"]["succeeded"] + block["requests"]["throttled"]
        + block["requests"]["failed"] - stream["records_processed"]
        - stream["records_discarded"])
    assert stream["pollers"]["max"] <= 3


def test_same_seed_same_summary():
    scenario = stream_scenario({
        "arrivals": {"process": "poisson", "rate": 80}, "shards": 3,
        "parallelization_factor": 2, "poison_rate": 0.005, "bisect_batch_on_error": True,
        "maximum_retry_attempts": 2,
    }, horizon="60s", error_rate=0.05)
    a = lambdasim.simulate(scenario).summary
    b = lambdasim.simulate(scenario).summary
    assert a == b
    c = lambdasim.simulate(scenario, seed=8).summary
    assert c["functions"]["f"]["stream"] != a["functions"]["f"]["stream"]


@pytest.mark.parametrize("line, key, fragment", [
    ("        maximum_record_age: 30s", "maximum_record_age", "between 60s and 7d"),
    ("        parallelization_factor: 11", "parallelization_factor", "between 1 and 10"),
    ("        maximum_retry_attempts: -2", "maximum_retry_attempts", "between -1 and 10000"),
    ("        batching_window: 301s", "batching_window", "between 0 and 300"),
    ("        retention: 1h", "retention", "between 24h and 365d, got 3600s"),
    ("        on_failure: {type: lambda, name: x}", "on_failure.type", "expected one of sqs, sns"),
    ("        poison_windows: [{start: 5s, end: 2s}]", "poison_windows.0.end", "later than start"),
    ("        shards: 0", "shards", "between 1 and 10000"),
])
def test_bad_stream_options_name_key_and_line(tmp_path, line, key, fragment):
    text = ("duration: 1m\nfunctions:\n  f:\n    duration: 10ms\n    triggers:\n"
            "      - type: kinesis\n        arrivals: {process: poisson, rate: 1}\n" + line + "\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        lambdasim.load_scenario(path)
    err = info.value
    assert err.key == f"functions.f.triggers.0.{key}"
    assert err.line == 8
    assert fragment in err.message, str(err)


def test_dynamodb_has_no_retention_key(tmp_path):
    """DynamoDB Streams keep records for a fixed 24 hours (with-ddb.html)."""
    with pytest.raises(ScenarioError) as info:
        lambdasim.load_scenario({"duration": 60, "functions": {"f": {
            "duration": "10ms", "triggers": [{"type": "dynamodb", "retention": "48h",
                                               "arrivals": {"process": "poisson", "rate": 1}}]}}})
    assert "unknown key 'retention'" in str(info.value)


def test_json_schema_describes_stream_triggers():
    schema = json_schema()
    triggers = schema["properties"]["functions"]["patternProperties"]
    item = next(iter(triggers.values()))["properties"]["triggers"]["items"]
    kinds = {option["properties"]["type"]["const"]: option for option in item["oneOf"]}
    assert {"sync", "kinesis", "dynamodb"} <= set(kinds)
    assert "retention" in kinds["kinesis"]["properties"]
    assert "retention" not in kinds["dynamodb"]["properties"]


def test_shipped_stream_poison_scenario_tells_its_story():
    """scenarios/stream_poison.yaml: with the defaults a poison burst blocks its shards for
    the 24 h retention; retry limits unblock them in seconds but discard healthy records too;
    bisection discards only the poison records."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scenarios" / "stream_poison.yaml"
    result = lambdasim.simulate(path, overrides={"duration": "12m"})
    blocks = {name: result.function(name) for name in ("defaults", "retry_limit", "bisect")}
    for block in blocks.values():
        req = block["requests"]
        assert req["arrived"] == req["succeeded"] + req["failed"] + req["dropped"] + req["in_flight"]
    defaults, limit, bisect = (blocks[n]["stream"] for n in ("defaults", "retry_limit", "bisect"))
    assert defaults["iterator_age_ms"]["max"] > 23 * 3600 * 1000.0
    assert defaults["records_expired"] > 0 and defaults["records_discarded"] == 0
    assert limit["iterator_age_ms"]["max"] < 60_000.0
    assert limit["on_failure_records"] == limit["records_discarded"] > 0
    # Bisection discards only poison records (about 100 put in half a second at 200/s).
    assert 50 < bisect["records_discarded"] < 160
    assert bisect["records_discarded"] == bisect["on_failure_batches"]
    assert bisect["records_discarded"] < limit["records_discarded"]


def test_json_schema_accepts_the_stream_scenario_and_its_resolved_config():
    jsonschema = pytest.importorskip("jsonschema")  # in the 'test' extra
    import json
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parent.parent / "scenarios" / "stream_poison.yaml"
    validator = jsonschema.Draft202012Validator(json_schema())
    raw = yaml.safe_load(path.read_text())
    validator.validate(json.loads(json.dumps(raw)))
    config = lambdasim.load_scenario(path).config
    validator.validate(config)
    dynamodb = lambdasim.load_scenario({"duration": 60, "functions": {"f": {
        "duration": "10ms", "triggers": [{"type": "dynamodb", "arrivals": {
            "process": "poisson", "rate": 1}}]}}}).config
    validator.validate(dynamodb)


# --------------------------------------------------------------------------------------
# Theory: an idle shard's poller is an M/G/1 queue with multiple vacations
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, poll, service", [
    ("kinesis", 1.0, {"dist": "constant", "value": "200ms"}),
    ("dynamodb", 0.25, {"dist": "exponential", "mean": "200ms"}),
])
def test_iterator_age_matches_mg1_with_vacations(kind, poll, service):
    """One shard, batch size 1, Poisson puts: the lane reads while records wait and, once
    empty, polls every ``poll`` seconds -- an M/G/1 queue with multiple vacations of constant
    length V and exhaustive service, whose mean wait is
    ``lambda E[S^2] / (2 (1 - rho)) + V / 2`` (Takagi, Queueing Analysis vol. 1). Iterator
    age (the put of the batch's last record to its invocation) is that wait. Polling rates
    from with-kinesis.html and with-ddb.html."""
    from lambdasim.theory import ci_contains, mean_ci

    rate, mean_s = 2.0, 0.2
    second_moment = mean_s ** 2 if service["dist"] == "constant" else 2 * mean_s ** 2
    rho = rate * mean_s
    expected = rate * second_moment / (2 * (1 - rho)) + poll / 2
    waits = []
    for replication in range(12):
        scenario = stream_scenario({
            "type": kind, "arrivals": {"process": "poisson", "rate": rate}, "batch_size": 1,
        }, horizon="1500s", duration=service, init="1ms")
        scenario = scenario.with_overrides({"warmup": "100s"})
        result = lambdasim.simulate(scenario, replication=replication)
        waits.append(result.function("f").stream["iterator_age_ms"]["mean"] / 1000.0)
    mean, low, high = mean_ci(waits, 0.99)
    assert ci_contains(waits, expected, 0.99), (mean, low, high, expected)
    assert abs(mean - expected) < 0.05 * expected
