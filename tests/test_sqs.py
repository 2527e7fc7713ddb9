"""SQS event source mappings: poller scaling, batching, visibility timeout, dead-letter queue,
partial batch responses, FIFO groups, throttle back-off, conservation, validation.

Each documented Lambda rule has its test, citing the AWS page it checks.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lambdasim import simulate
from lambdasim.engine.invoke.sqs import SqsTrigger
from lambdasim.engine.invoke.sync import FAILED, SUCCEEDED
from lambdasim.engine.metrics import unpack_requests
from lambdasim.engine.model import Model
from lambdasim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def scenario(trigger: dict, *, function: dict | None = None, **top) -> dict:
    """One function ``f`` with one ``sqs`` trigger; constant times unless overridden."""
    fn = {"timeout": "30s", "duration": "100ms", "init": "100ms", "triggers": [
        {"type": "sqs", "visibility_timeout": "60s", **trigger}]}
    fn.update(function or {})
    data = {"duration": "10m", "seed": 3,
            "account": {"concurrency_limit": 3000, "unreserved_minimum": 100},
            "functions": {"f": fn}}
    data.update(top)
    return data


def backlog(count: int, **trigger) -> dict:
    """A deep backlog at t=0 and slow handlers: the pollers, not the work, set the pace."""
    return {"arrivals": {"process": "burst", "count": count, "at": "0s"}, "batch_size": 1,
            "visibility_timeout": "900s", **trigger}


SLOW = {"timeout": "900s", "duration": "600s"}


def run_model(data: dict, **kwargs) -> Model:
    return Model(load_scenario(data), **kwargs).run()


def pollers_series(result) -> np.ndarray:
    rows = [i for i, name in enumerate(result.series["function"]) if name == "f"]
    return np.array([result.series["SQSPollers"][i] for i in rows])


# -- poller scaling (services-sqs-scaling.html) ----------------------------------------------

def test_poller_ramp_current_starts_at_5_adds_300_per_minute_up_to_1250():
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: five concurrent
    # batches at first, up to 300 more per minute while messages wait, at most 1,250.
    data = scenario(backlog(3000), function=SLOW, duration="300s")
    result = simulate(data, period_s=1.0)
    pollers = pollers_series(result)
    # 5 at first, then one more every 60 s / 300 = 0.2 s: 9 within the first second.
    assert pollers_series(simulate(data, period_s=0.1))[0] == 5
    assert pollers[0] == 9
    for k, value in enumerate(pollers[:300]):
        assert value <= 5 + 300 * (k + 1) / 60, (k, value)
    for k in range(len(pollers) - 60):
        assert pollers[k + 60] - pollers[k] <= 300 + 1
    assert pollers.max() == 1250
    reached = int(np.argmax(pollers >= 1250))
    assert 248 <= reached <= 250  # (1250 - 5) / 300 per minute = 249 s
    # Not slower than documented either: two minutes in, 5 + 600 batches run.
    assert pollers[119] >= 5 + 600 - 5
    block = result.function("f")
    assert block.concurrency["max"] == 1250 and block.sqs["pollers"]["max"] == 1250


def test_poller_ramp_legacy_adds_60_per_minute_up_to_1000():
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html (before 2023-11:
    # up to 60 more instances per minute, at most 1,000 batches).
    data = scenario(backlog(2500, poller_scaling="legacy"), function=SLOW, duration="1080s")
    result = simulate(data, period_s=10.0)
    pollers = pollers_series(result)
    for k, value in enumerate(pollers[:108]):
        assert value <= 5 + 60 * (k + 1) * 10 / 60, (k, value)
    for k in range(len(pollers) - 6):
        assert pollers[k + 6] - pollers[k] <= 60 + 1
    assert pollers.max() == 1000
    reached = int(np.argmax(pollers >= 1000))
    assert reached == 99  # (1000 - 5) / 60 per minute = 995 s, in the period [990 s, 1000 s)


@pytest.mark.parametrize("cap", [2, 17, 50])
def test_maximum_concurrency_is_never_exceeded(cap):
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: maximum
    # concurrency (2-1,000) caps the concurrent invocations of one mapping.
    data = scenario(backlog(400, maximum_concurrency=cap), function={"duration": "2s"},
                    duration="60s")
    result = simulate(data, period_s=1.0)
    assert pollers_series(result).max() == cap
    assert result.function("f").concurrency["max"] == cap
    assert result.function("f").sqs["messages_deleted"] == 400


def test_pollers_scale_back_to_two_when_the_queue_drains():
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: "When traffic is
    # low, Lambda scales back the processing to five concurrent batches".
    data = scenario(backlog(2000), function={"duration": "5s"}, duration="10m")
    model = run_model(data)
    trigger = model.triggers["f"][0]
    assert trigger.pollers.w_max > 100
    # ... "and can optimize to as few as 2 concurrent invokes" (the current page).
    assert trigger.queued == 0 and trigger.allowed == 2


def test_pollers_do_not_grow_while_nothing_waits():
    # services-sqs-scaling.html: pollers are added only "if messages are still available".
    data = scenario({"arrivals": {"process": "poisson", "rate": "2/s"}, "batch_size": 1},
                    duration="10m")
    model = run_model(data)
    assert model.triggers["f"][0].pollers.w_max <= 5
    assert model.triggers["f"][0].allowed <= 5


# -- failures, visibility timeout, dead-letter queue ------------------------------------------

def test_always_failing_message_received_max_receive_count_times_then_dead_lettered():
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html and
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html: a failed batch
    # becomes visible again after the visibility timeout; after maxReceiveCount receives the
    # message moves to the dead-letter queue.
    data = scenario({"arrivals": {"process": "burst", "count": 1, "at": "10s"},
                     "visibility_timeout": "45s", "max_receive_count": 4},
                    function={"error_rate": 1.0}, duration="60s")
    model = run_model(data)
    receives = model.recorders["f"].table("attempts")["t"]
    assert receives.tolist() == pytest.approx([10.0, 55.0, 100.0, 145.0])
    requests = model.recorders["f"].table("requests")
    fields = unpack_requests(requests["packed"])
    assert fields["outcome"].tolist() == [FAILED]
    assert fields["attempts"].tolist() == [4]
    assert requests["ended"].tolist() == pytest.approx([190.0])  # fourth timeout ends
    block = simulate(data).function("f")
    assert block.sqs["messages_to_dlq"] == 1 and block.sqs["receives"] == 4
    assert block.requests["failed"] == 1


def test_failed_batch_returns_after_the_visibility_timeout_counted_from_the_receive():
    # services-sqs-errorhandling.html: the messages become visible once the visibility timeout
    # (started at the receive) expires, here while the failed invocation took 20 s of it.
    data = scenario({"arrivals": {"process": "burst", "count": 1, "at": "0s"},
                     "visibility_timeout": "50s", "max_receive_count": 2},
                    function={"error_rate": 1.0, "duration": "20s"}, duration="60s")
    model = run_model(data)
    assert model.recorders["f"].table("attempts")["t"].tolist() == pytest.approx([0.0, 50.0])


def test_report_batch_item_failures_returns_only_the_failed_messages():
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html: with
    # ReportBatchItemFailures only the reported messages return to the queue; without it the
    # whole batch does, and the poison message drags its batch-mates to the DLQ.
    def run(report: bool):
        data = scenario({"arrivals": {"process": "poisson", "rate": "20/s"}, "batch_size": 10,
                         "batching_window": "2s", "poison_rate": 0.02, "max_receive_count": 3,
                         "report_batch_item_failures": report}, duration="5m")
        sqs = simulate(data).function("f").sqs
        assert sqs["messages_remaining"] == 0
        assert sqs["messages_deleted"] + sqs["messages_to_dlq"] == sqs["messages_received"]
        return sqs

    partial, whole = run(True), run(False)
    poisoned = partial["messages_to_dlq"]  # the same messages are poison in both runs
    assert 60 < poisoned < 180  # about 2 % of 6,000
    # Poison messages are received exactly max_receive_count times, every other message once.
    assert partial["receives"] == partial["messages_deleted"] + 3 * poisoned
    assert whole["messages_to_dlq"] > 3 * poisoned
    assert whole["receives"] > partial["receives"]


def test_throttles_make_pollers_back_off_and_burn_receives():
    # Pollers invoke synchronously, so a reserved concurrency caps them; throttled batches go
    # back after the visibility timeout and their receives count
    # (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
    data = scenario(backlog(3000, max_receive_count=2, visibility_timeout="30s"),
                    function={"reserved_concurrency": 10, "duration": "1s"}, duration="10m")
    result = simulate(data)
    block = result.function("f")
    assert block.concurrency["max"] == 10
    assert block.throttles > 0
    # Backing off keeps throttles a small share of the batches.
    assert block.throttles < 0.1 * block.sqs["batches"]
    assert block.sqs["batches_throttled"] == block.throttles
    assert block.sqs["pollers"]["max"] <= 10
    assert block.sqs["messages_to_dlq"] + block.sqs["messages_deleted"] == 3000


def test_messages_past_retention_are_dropped():
    # "Amazon SQS automatically deletes messages left in a queue longer than the retention
    # period" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html);
    # here every invocation is throttled (reserved concurrency 0), so none is ever deleted.
    data = scenario({"arrivals": {"process": "burst", "count": 10, "at": "0s"},
                     "retention": "60s", "visibility_timeout": "30s"},
                    function={"reserved_concurrency": 0}, duration="1m")
    block = simulate(data).function("f")
    assert block.requests["dropped"] == 10 == block.sqs["messages_expired"]
    assert block.requests["succeeded"] == 0 and block.sqs["messages_remaining"] == 0


# -- batching and per-record time ---------------------------------------------------------------

def test_batching_window_and_batch_size():
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html: invoke when
    # the batch is full or the batching window ends.
    slow = scenario({"arrivals": {"process": "constant", "rate": "10/s"}, "batch_size": 100,
                     "batching_window": "5s"}, duration="10m")
    assert simulate(slow).function("f").sqs["batch_size"]["mean"] == pytest.approx(50, abs=1)
    fast = copy.deepcopy(slow)
    fast["functions"]["f"]["triggers"][0]["arrivals"]["rate"] = "200/s"
    assert simulate(fast).function("f").sqs["batch_size"]["mean"] == pytest.approx(100, abs=1)


def test_payload_limit_of_6_mb_caps_the_batch():
    # services-sqs-parameters.html: a batch is also invoked when its payload reaches 6 MB.
    data = scenario({"arrivals": {"process": "burst", "count": 1000, "at": "0s"},
                     "batch_size": 1000, "batching_window": "10s", "message_size_kb": 256},
                    duration="1m")
    sqs = simulate(data).function("f").sqs
    # 6 MB / 256 KB = 24 messages per batch: 41 full batches and one of 16.
    assert sqs["batches"] == 42
    assert sqs["batch_size"]["mean"] == pytest.approx(1000 / 42, abs=1e-6)


def test_per_record_time_is_added_to_the_batch_duration():
    data = scenario({"arrivals": {"process": "burst", "count": 100, "at": "0s"},
                     "batch_size": 10, "batching_window": "1s", "per_record": "10ms"},
                    duration="1m")
    block = simulate(data).function("f")
    assert block.duration_ms["mean"] == pytest.approx(200.0)
    assert block.invocations == 10


# -- FIFO ------------------------------------------------------------------------------------

def _trace_fifo(monkeypatch):
    """Record every finished message and check that no group has two batches in flight."""
    finished = []
    in_flight: dict[int, int] = {}
    start, done, finish = SqsTrigger._start, SqsTrigger._done, SqsTrigger._finish
    delete_all = SqsTrigger._delete_all

    def traced_start(self, now, batch):
        for g in {m.group for m in batch}:
            assert g not in in_flight, f"group {g} has a batch in flight already"
            in_flight[g] = 1
        admitted = start(self, now, batch)
        if not admitted:
            for g in {m.group for m in batch}:
                in_flight.pop(g, None)
        return admitted

    def traced_done(self, payload, code, now):
        for g in {m.group for m in payload[0]}:
            in_flight.pop(g, None)
        return done(self, payload, code, now)

    def traced_finish(self, msg, now, outcome, code):
        finished.append((msg.group, msg.sent_at, now, outcome))
        return finish(self, msg, now, outcome, code)

    def traced_delete_all(self, batch, now, code):
        finished.extend((msg.group, msg.sent_at, now, SUCCEEDED) for msg in batch)
        return delete_all(self, batch, now, code)

    monkeypatch.setattr(SqsTrigger, "_delete_all", traced_delete_all)
    monkeypatch.setattr(SqsTrigger, "_start", traced_start)
    monkeypatch.setattr(SqsTrigger, "_done", traced_done)
    monkeypatch.setattr(SqsTrigger, "_finish", traced_finish)
    return finished


def test_fifo_keeps_order_within_a_group_and_one_batch_per_group(monkeypatch):
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: messages of a
    # group are delivered in order, and all retries of a failed message happen before Lambda
    # receives more messages of its group.
    finished = _trace_fifo(monkeypatch)
    data = scenario({"arrivals": {"process": "poisson", "rate": "50/s"}, "fifo": True,
                     "message_groups": 8, "batch_size": 5, "message_error_rate": 0.05,
                     "report_batch_item_failures": True, "max_receive_count": 3,
                     "visibility_timeout": "30s"},
                    function={"duration": {"dist": "exponential", "mean": "300ms"},
                              "error_rate": 0.02}, duration="5m")
    model = run_model(data)
    assert model.triggers["f"][0].outstanding == 0
    by_group: dict[int, list] = {}
    for group, sent, ended, outcome in finished:
        by_group.setdefault(group, []).append((sent, ended, outcome))
    assert len(by_group) == 8
    assert len(finished) == model.triggers["f"][0].arrived_in_window
    for group, rows in by_group.items():
        sent = [r[0] for r in rows]
        assert sent == sorted(sent), f"group {group} finished out of order"
    assert model.triggers["f"][0].pollers.w_max <= 8  # one batch per group at most


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=st.integers(1, 12),
    batch_size=st.integers(1, 10),
    rate=st.sampled_from(["5/s", "40/s"]),
    error_rate=st.sampled_from([0.0, 0.05, 0.5]),
    message_error_rate=st.sampled_from([0.0, 0.1]),
    report=st.booleans(),
    max_receive_count=st.sampled_from([None, 1, 2]),
    retention=st.sampled_from([60, 345600]),
    seed=st.integers(0, 1000),
)
def test_fifo_order_holds_in_random_scenarios(groups, batch_size, rate, error_rate,
                                              message_error_rate, report, max_receive_count,
                                              retention, seed):
    # services-sqs-scaling.html: order within a message group always holds; one batch per
    # group in flight. Messages of a group end (deleted, dead-lettered or expired) in the order
    # they were sent.
    data = scenario({"arrivals": {"process": "poisson", "rate": rate}, "fifo": True,
                     "message_groups": groups, "batch_size": batch_size,
                     "message_error_rate": message_error_rate,
                     "report_batch_item_failures": report, "max_receive_count": max_receive_count,
                     "retention": retention, "visibility_timeout": "10s"},
                    function={"duration": {"dist": "exponential", "mean": "400ms"},
                              "error_rate": error_rate, "timeout": "5s"},
                    duration="90s", seed=seed)
    with pytest.MonkeyPatch.context() as patch:
        finished = _trace_fifo(patch)
        model = run_model(data)
    trigger = model.triggers["f"][0]
    assert len(finished) + trigger.outstanding == trigger.arrived_in_window
    last_sent: dict[int, float] = {}
    for group, sent, _, _ in finished:
        assert sent >= last_sent.get(group, -1.0), f"group {group} out of order"
        last_sent[group] = sent
    assert model.triggers["f"][0].pollers.w_max <= groups


# -- conservation and determinism -------------------------------------------------------------

@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    rate=st.sampled_from(["2/s", "20/s", "80/s"]),
    batch_size=st.sampled_from([1, 3, 10, 50]),
    window=st.sampled_from([0, 0.5, 3]),
    fifo=st.booleans(),
    groups=st.integers(1, 6),
    error_rate=st.sampled_from([0.0, 0.1, 1.0]),
    message_error_rate=st.sampled_from([0.0, 0.2]),
    report=st.booleans(),
    max_receive_count=st.sampled_from([None, 1, 3]),
    cap=st.sampled_from([None, 2, 7]),
    reserved=st.sampled_from([None, 0, 3]),
    retention=st.sampled_from([60, 345600]),
    warmup=st.sampled_from([0, 20]),
    seed=st.integers(0, 1000),
)
def test_conservation_every_message_ends_once(rate, batch_size, window, fifo, groups, error_rate,
                                              message_error_rate, report, max_receive_count,
                                              cap, reserved, retention, warmup, seed):
    if fifo:
        batch_size, window = min(batch_size, 10), 0
    elif batch_size > 10:
        window = max(window, 1)
    trigger = {"arrivals": {"process": "poisson", "rate": rate}, "batch_size": batch_size,
               "batching_window": window, "fifo": fifo,
               "message_groups": groups if fifo else 1,
               "message_error_rate": message_error_rate, "report_batch_item_failures": report,
               "max_receive_count": max_receive_count, "maximum_concurrency": cap,
               "retention": retention, "visibility_timeout": "20s"}
    data = scenario(trigger, function={"error_rate": error_rate, "reserved_concurrency": reserved,
                                       "duration": {"dist": "exponential", "mean": "500ms"},
                                       "timeout": "2s"},
                    duration="60s", warmup=warmup, seed=seed)
    model = run_model(data)
    result = simulate(data)
    block = result.function("f")
    requests, sqs = block.requests, block.sqs
    assert requests["arrived"] == sqs["messages_received"]
    assert requests["arrived"] == (requests["succeeded"] + requests["failed"]
                                   + requests["throttled"] + requests["dropped"]
                                   + requests["in_flight"])
    assert requests["succeeded"] == sqs["messages_deleted"]
    assert requests["failed"] == sqs["messages_to_dlq"]
    assert requests["dropped"] == sqs["messages_expired"]
    assert requests["in_flight"] == sqs["messages_remaining"] >= 0
    assert requests["throttled"] == 0
    trigger_obj = model.triggers["f"][0]
    # outstanding counts exactly the messages not yet deleted, dead-lettered or expired.
    assert trigger_obj.outstanding == sum(1 for m in trigger_obj._order if not m.done)
    assert trigger_obj.queued >= 0
    if trigger_obj.outstanding == 0:
        assert trigger_obj.in_flight == 0 and trigger_obj.queued == 0
    if cap is not None:
        assert sqs["pollers"]["max"] <= cap
        # Over the whole run, drain included, not just the measured window.
        trigger_obj.pollers.finish(model.end_s)
        assert max(trigger_obj.pollers.maxima + [trigger_obj.pollers.period_max]) <= cap
    if reserved is not None:
        assert block.concurrency["max"] <= reserved
    if max_receive_count is not None:
        attempts = unpack_requests(model.recorders["f"].table("requests")["packed"])["attempts"]
        assert attempts.max(initial=0) <= max_receive_count


def test_several_sqs_triggers_of_one_function_add_up():
    data = scenario({"arrivals": {"process": "poisson", "rate": "10/s"}}, duration="2m")
    triggers = data["functions"]["f"]["triggers"]
    triggers.append({"type": "sqs", "name": "second", "visibility_timeout": "60s",
                     "arrivals": {"process": "burst", "count": 500, "at": "30s"}})
    result = simulate(data)
    sqs = result.function("f").sqs
    first, second = sqs["by_trigger"]["sqs-0"], sqs["by_trigger"]["second"]
    assert second["messages_received"] == 500
    for key in ("messages_received", "messages_deleted", "receives", "batches"):
        assert sqs[key] == first[key] + second[key]
    assert sqs["queue_depth"]["max"] == max(first["queue_depth"]["max"],
                                            second["queue_depth"]["max"])
    assert sqs["queue_depth"]["mean"] == pytest.approx(first["queue_depth"]["mean"]
                                                       + second["queue_depth"]["mean"])
    assert result.function("f").requests["arrived"] == sqs["messages_received"]


def test_series_columns_and_summary_table():
    from lambdasim.results.table import format_summary_table

    data = scenario({"arrivals": {"process": "burst", "count": 300, "at": "65s"}},
                    function={"duration": "2s"}, duration="3m")
    result = simulate(data)
    series = result.series
    rows = [i for i, name in enumerate(series["function"]) if name == "f"]
    account = [i for i, name in enumerate(series["function"]) if name != "f"]
    depth = [series["ApproximateNumberOfMessagesVisible"][i] for i in rows]
    age = [series["ApproximateAgeOfOldestMessage_s"][i] for i in rows]
    assert depth[0] == 0 and depth[1] >= 280  # the burst lands in the second minute
    assert age[0] == 0.0 and 0 < age[1] < 60
    assert max(series["SQSPollers"][i] for i in rows) == result.function("f").sqs["pollers"]["max"]
    assert all(series["SQSPollers"][i] is None for i in account)
    table = format_summary_table(result)
    assert "sqs queue depth max" in table and "sqs pollers max" in table


def test_same_seed_same_summary():
    data = scenario({"arrivals": {"process": "poisson", "rate": "30/s"}, "batch_size": 5,
                     "message_error_rate": 0.1, "max_receive_count": 2, "fifo": True,
                     "message_groups": 4},
                    function={"duration": {"dist": "lognormal", "median": "200ms", "p99": "1s"}},
                    duration="2m")
    first, second = simulate(data).summary, simulate(data).summary
    assert first == second


def test_shipped_scenario_drains_the_spike():
    result = simulate(ROOT / "scenarios" / "sqs_spike.yaml")
    block = result.function("order-processor")
    sqs = block.sqs
    assert sqs["messages_received"] == block.requests["arrived"]
    assert sqs["queue_depth"]["max"] > 10000
    assert sqs["pollers"]["max"] > 100
    assert sqs["messages_remaining"] == 0


# -- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, key, fragment", [
    ({"batch_size": 20}, "batching_window", "at least 1s when batch_size is above 10"),
    ({"fifo": True, "batch_size": 11}, "batch_size", "at most 10 for a FIFO queue"),
    ({"fifo": True, "batching_window": "2s"}, "batching_window", "not supported for FIFO"),
    ({"message_groups": 4}, "message_groups", "need fifo: true"),
    ({"visibility_timeout": "5s"}, "visibility_timeout", "at least the function timeout (30s)"),
    ({"maximum_concurrency": 1}, "maximum_concurrency", "between 2 and 1000"),
    ({"max_receive_count": 0}, "max_receive_count", "between 1 and 1000"),
    ({"poller_scaling": "fast"}, "poller_scaling", "current, legacy"),
])
def test_bad_sqs_options_name_the_file_key_and_line(tmp_path, extra, key, fragment):
    lines = ["duration: 1h", "functions:", "  f:", "    timeout: 30s", "    duration: 1s",
             "    triggers:", "      - type: sqs", "        arrivals: {process: poisson, rate: 1}"]
    lines += [f"        {k}: {v if not isinstance(v, bool) else str(v).lower()}"
              for k, v in extra.items()]
    path = tmp_path / "q.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.key == f"functions.f.triggers.0.{key}"
    assert fragment in err.message, str(err)
    written = [i + 1 for i, line in enumerate(lines) if line.strip().startswith(f"{key}:")]
    assert err.line == (written[0] if written else 7)


# -- online monitors ---------------------------------------------------------------------------

def test_level_track_period_maxima_and_window_mean():
    from lambdasim.engine.online_levels import LevelTrack

    track = LevelTrack(10.0, 5.0, 25.0)
    track.set(0.0, 2)
    track.set(12.0, 5)
    track.set(12.0, 1)  # held for no time: not seen
    track.set(30.0, 0)
    track.finish(40.0)
    assert track.per_period(4) == [2, 2, 1, 0]
    assert track.w_max == 2
    assert track.mean() == pytest.approx((2 * 7 + 1 * 13) / 20)


def test_age_track_maxima_at_period_ends_and_changes():
    from lambdasim.engine.online_levels import AgeTrack

    track = AgeTrack(10.0, 5.0, 25.0)
    track.change(0.0, 0.0)     # a message sent at 0 is the oldest
    track.change(15.0, 12.0)   # it is deleted; the oldest now was sent at 12
    track.change(30.0, None)   # the queue is empty
    track.finish(40.0)
    assert track.per_period(4) == [10.0, 15.0, 18.0, 0.0]
    assert track.w_max == 15.0


# -- theory -------------------------------------------------------------------------------------

def test_queue_with_fixed_pollers_matches_erlang_c():
    # With batch_size 1, no window and maximum_concurrency c <= 5 the pollers stay at c (they
    # start at min(5, c) and never scale below it): Poisson sends, exponential handlers and
    # first-come first-served receives make the queue an M/M/c. Its mean wait (Erlang C) must
    # lie in the 99 % confidence interval of the replications' mean waits.
    from lambdasim.theory import ci_contains, mean_ci, mmc_mean_wait

    servers, rate, mean_service = 4, 3.0, 1.0
    data = scenario({"arrivals": {"process": "poisson", "rate": rate}, "batch_size": 1,
                     "maximum_concurrency": servers},
                    function={"duration": {"dist": "exponential", "mean": mean_service},
                              "init": "1ms", "keep_alive": "2h", "timeout": "60s"},
                    duration="2000s", warmup="200s")
    scenario_obj = load_scenario(data)
    waits = []
    for replication in range(12):
        block = simulate(scenario_obj, replication=replication).function("f")
        assert block.sqs["pollers"]["max"] == servers
        # Latency = wait in the queue + handler time (+ one 1 ms Init per environment).
        waits.append(block.latency_ms["mean"] / 1000.0 - block.duration_ms["mean"] / 1000.0)
    target = mmc_mean_wait(servers, rate, mean_service)
    mean, low, high = mean_ci(waits)
    assert ci_contains(waits, target), (target, mean, low, high)
