"""Asynchronous invocations: the internal queue, throttle backoff, error retries, event age,
destinations (lambdasim.engine.invoke.async_).

Documented rules are checked one per test, citing the AWS page:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html (retries,
backoff, event age), https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
(destinations, dead-letter queues), https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
(limits of the settings). Scenarios are small and deterministic (constant durations, bursts)
so that counts and times can be worked out by hand.
"""
from __future__ import annotations

import json
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import lambdasim
from lambdasim.engine.function import THROTTLE_CONCURRENCY
from lambdasim.engine.metrics import unpack_requests
from lambdasim.engine.invoke.async_ import (ERROR_RETRY_DELAYS_S, EVENT_AGE, POLL_RETRY_S,
                                     THROTTLE_BACKOFF_CAP_S)
from lambdasim.engine.model import Model
from lambdasim.results.result import build_result
from lambdasim.scenario import ScenarioError, json_schema
from lambdasim.theory import ci_contains, mean_ci, mmc_mean_wait

ERROR_HANDLING = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def fn(arrivals=None, trigger=None, **overrides):
    """A function with constant timings and (when arrivals are given) one async trigger."""
    config = {"memory_mb": 1024, "duration": "1s", "init": "0s", "timeout": "900s",
              "keep_alive": "2h", "max_lifetime": "24h", "triggers": []}
    if arrivals is not None:
        config["triggers"].append({"type": "async", "arrivals": arrivals, **(trigger or {})})
    config.update(overrides)
    return config


def burst(count, at="0s", spread=None):
    spec = {"process": "burst", "count": count, "at": at}
    if spread is not None:
        spec["spread"] = spread
    return spec


def run(functions, duration="60s", **top):
    data = {"duration": duration, "seed": 3, "functions": functions, **top}
    model = Model(lambdasim.load_scenario(data)).run()
    return model, build_result(model).summary


def attempts_by_event(model, name):
    """Invocation start times grouped by the event they served (origin = receive time)."""
    table = model.recorders[name].table("attempts")
    groups: dict[float, list[tuple[float, float]]] = {}
    for t, origin, duration in zip(table["t"], table["origin"], table["duration"]):
        groups.setdefault(float(origin), []).append((float(t), float(duration)))
    return groups


def check_conservation(summary):
    for name, block in summary["functions"].items():
        r = block["requests"]
        assert r["arrived"] == (r["succeeded"] + r["failed"] + r["throttled"] + r["dropped"]
                                + r["in_flight"]), name
        a = block.get("async")
        if a is None:
            continue
        assert a["events_dropped"] == sum(a["dropped_by_reason"].values())
        assert a["events_received"] == (a["events_succeeded"] + a["events_dropped"]
                                        + a["events_waiting"] + a["events_in_flight"]), name
        assert a["events_waiting"] >= 0 and a["events_in_flight"] >= 0


# --------------------------------------------------------------------------------------
# function errors: 1 + max_retry_attempts invocations, one and two minutes apart
# --------------------------------------------------------------------------------------
def test_function_errors_are_retried_twice_after_one_then_two_minutes():
    # "If the function returns an error, by default Lambda attempts to run it two more times,
    # with a one-minute wait between the first two attempts, and two minutes between the
    # second and third attempts." (invocation-async-error-handling.html)
    failures = {"type": "sqs", "name": "failed"}
    model, summary = run({"f": fn(burst(20, spread="10s"), {"on_failure": failures},
                                  error_rate=1.0)}, duration="10m")
    groups = attempts_by_event(model, "f")
    assert len(groups) == 20
    for runs in groups.values():
        assert len(runs) == 3
        gaps = [runs[i + 1][0] - (runs[i][0] + runs[i][1]) for i in range(2)]
        assert gaps == pytest.approx(list(ERROR_RETRY_DELAYS_S), abs=1e-6)
        assert ERROR_RETRY_DELAYS_S == (60.0, 120.0)
    block = summary["functions"]["f"]
    assert block["invocations"] == 60 and block["errors"] == 60
    assert block["requests"]["failed"] == 20
    a = block["async"]
    assert a["dropped_by_reason"]["retries_exhausted"] == 20
    assert a["retries"] == 40
    assert a["destinations"]["on_failure"] == {"sqs:failed": 20}
    check_conservation(summary)


def test_max_retry_attempts_zero_invokes_once():
    # MaximumRetryAttempts 0: no retries after a function error (invocation-async-configuring.html,
    # invocation-async-error-handling.html).
    model, summary = run({"f": fn(burst(15, spread="5s"),
                                  {"max_retry_attempts": 0,
                                   "dead_letter": {"type": "sns", "name": "dlq"}},
                                  error_rate=1.0)})
    assert all(len(runs) == 1 for runs in attempts_by_event(model, "f").values())
    a = summary["functions"]["f"]["async"]
    assert summary["functions"]["f"]["invocations"] == 15
    assert a["retries"] == 0 and a["dropped_by_reason"]["retries_exhausted"] == 15
    assert a["destinations"]["dead_letter"] == {"sns:dlq": 15}


def test_timeouts_are_function_errors_and_are_retried():
    # "Function errors include errors returned by the function's code and errors returned by
    # the function's runtime, such as timeouts." (invocation-async-error-handling.html)
    model, summary = run({"f": fn(burst(3, spread="3s"), {"max_retry_attempts": 1}, duration="5s",
                                  timeout="2s")}, duration="5m")
    assert all(len(runs) == 2 for runs in attempts_by_event(model, "f").values())
    assert summary["functions"]["f"]["async"]["dropped_by_reason"]["retries_exhausted"] == 3


# --------------------------------------------------------------------------------------
# throttles: back to the queue, backoff from 1 s doubling to 5 min, until max_event_age
# --------------------------------------------------------------------------------------
def test_throttled_event_backs_off_from_one_second_doubling_to_five_minutes():
    # "For throttling errors (429) ... Lambda returns the event to the queue ... The retry
    # interval increases exponentially from 1 second after the first attempt to a maximum of
    # 5 minutes." (invocation-async-error-handling.html). Jitter: uniform in [cap/2, cap).
    model, summary = run({"f": fn(burst(2), duration="850s", reserved_concurrency=1)},
                         duration="20m")
    throttles = model.recorders["f"].table("throttles")
    assert throttles["t"][0] == 0.0  # the second event, throttled on arrival
    assert np.all(throttles["reason"] == THROTTLE_CONCURRENCY)
    gaps = np.diff(throttles["t"])
    caps = np.minimum(2.0 ** np.arange(len(gaps)), THROTTLE_BACKOFF_CAP_S)
    assert np.all(gaps >= caps / 2 - 1e-9) and np.all(gaps < caps + 1e-9)
    assert caps[-1] == THROTTLE_BACKOFF_CAP_S  # the cap was reached
    a = summary["functions"]["f"]["async"]
    assert a["throttle_retries"] == len(throttles["t"])
    # The second event ran once the first finished, at its next backoff: both succeeded.
    assert a["events_succeeded"] == 2 and summary["functions"]["f"]["invocations"] == 2


def test_events_older_than_max_event_age_are_dropped_on_time():
    # "MaximumEventAgeInSeconds: The maximum amount of time ... that Lambda keeps an event in
    # the asynchronous event queue before discarding it." (invocation-async-configuring.html)
    dlq = {"type": "sqs", "name": "late"}
    model, summary = run({"f": fn(burst(10), {"max_event_age": "60s", "dead_letter": dlq},
                                  duration="200s", reserved_concurrency=1)}, duration="10m")
    queue = model.async_queues["f"]
    drops = np.frombuffer(queue.drop_log).reshape(-1, 3)
    assert len(drops) == 9
    assert np.allclose(drops[:, 1] - drops[:, 0], 60.0)
    a = summary["functions"]["f"]["async"]
    assert a["dropped_by_reason"] == {"retries_exhausted": 0, "event_age": 9, "zero_concurrency": 0}
    assert a["destinations"]["dead_letter"] == {"sqs:late": 9}
    assert summary["functions"]["f"]["requests"]["dropped"] == 9
    assert summary["functions"]["f"]["invocations"] == 1
    assert a["event_age_ms"]["max"] <= 60_000.0


@pytest.mark.parametrize("mode", ["exponential", "none"])
def test_sustained_overload_drops_events_past_their_age_and_counts_them(mode):
    # Arrivals at 10/s into a function that serves 2/s, for five minutes: the queue grows
    # until events reach max_event_age and are discarded (invocation-async-configuring.html).
    model, summary = run({"f": fn({"process": "constant", "rate": "10/s", "end": "5m"},
                                  {"max_event_age": "60s", "throttle_backoff": mode,
                                   "on_failure": {"type": "sqs", "name": "late"}},
                                  reserved_concurrency=2)}, duration="10m")
    block = summary["functions"]["f"]
    a = block["async"]
    check_conservation(summary)
    assert a["events_received"] == 3000
    assert a["events_waiting"] == a["events_in_flight"] == 0
    assert a["dropped_by_reason"]["event_age"] == a["events_dropped"] > 2000
    assert block["requests"]["dropped"] == a["events_dropped"]
    assert a["events_succeeded"] + a["events_dropped"] == 3000
    assert a["destinations"]["on_failure"] == {"sqs:late": a["events_dropped"]}
    assert a["event_age_ms"]["max"] <= 60_000.0 + 1e-6
    # The work-conserving line keeps both units busy; per-event backoff leaves them idle at times.
    if mode == "none":
        assert a["events_succeeded"] >= 2 * 300 - 2
        assert block["throttles"] == 0
    else:
        assert block["throttles"] > 0 and a["throttle_retries"] == block["throttles"]


def test_release_listener_is_set_only_where_a_line_waits():
    functions = {
        "api": {"duration": "10ms", "triggers": [{"type": "sync", "arrivals": burst(1)}]},
        "reserved_line": fn(burst(1), {"throttle_backoff": "none"}, reserved_concurrency=5),
        "backoff": fn(burst(1)),
        "other": {"duration": "10ms", "reserved_concurrency": 3,
                  "triggers": [{"type": "sync", "arrivals": burst(1)}]},
    }
    model, _ = run(functions)
    listeners = {name: f.release_listener is not None for name, f in model.functions.items()}
    assert listeners == {"api": False, "reserved_line": True, "backoff": False, "other": False}
    functions["backoff"] = fn(burst(1), {"throttle_backoff": "none"})
    model, _ = run(functions)
    listeners = {name: f.release_listener is not None for name, f in model.functions.items()}
    # The unreserved pool is shared: every function drawing on it wakes the line.
    assert listeners == {"api": True, "reserved_line": True, "backoff": True, "other": False}


def test_reserved_concurrency_zero_sends_every_event_to_the_failure_targets():
    # Since 2021-08-16, with reserved concurrency 0 "all events will be automatically sent to
    # the configured DLQ or the on-failure event destination immediately, instead of being
    # retried" (AWS announcement; invocation-async-retain-records.html for the targets).
    functions = {
        "paused": fn({"process": "constant", "rate": "2/s", "end": "30s"},
                     {"on_failure": {"type": "function", "name": "auditor"},
                      "dead_letter": {"type": "sqs", "name": "paused-dlq"}},
                     reserved_concurrency=0),
        "auditor": fn(duration="50ms"),
    }
    model, summary = run(functions)
    paused = summary["functions"]["paused"]
    assert paused["invocations"] == 0 and paused["throttles"] == 0
    a = paused["async"]
    assert a["events_received"] == 60
    assert a["dropped_by_reason"]["zero_concurrency"] == 60
    assert a["destinations"]["on_failure"] == {"function:auditor": 60}
    assert a["destinations"]["dead_letter"] == {"sqs:paused-dlq": 60}
    drops = np.frombuffer(model.async_queues["paused"].drop_log).reshape(-1, 3)
    assert np.all(drops[:, 0] == drops[:, 1])  # at once
    auditor = summary["functions"]["auditor"]
    assert auditor["async"]["events_received"] == 60 and auditor["invocations"] == 60
    check_conservation(summary)


def test_successes_go_to_the_on_success_destination():
    # "You can configure separate destinations for successful invocations (on-success) and
    # events that fail all processing attempts (on-failure)." (invocation-async-retain-records.html)
    model, summary = run({"f": fn(burst(30), {"on_success": {"type": "eventbridge", "name": "bus"},
                                              "on_failure": {"type": "sqs", "name": "q"}})})
    a = summary["functions"]["f"]["async"]
    assert a["destinations"] == {"on_success": {"eventbridge:bus": 30},
                                 "on_failure": {"sqs:q": 0}, "dead_letter": {}}


# --------------------------------------------------------------------------------------
# pipelines: a destination function is invoked asynchronously
# --------------------------------------------------------------------------------------
def test_chained_pipeline_conserves_events_across_functions():
    functions = {
        "producer": fn({"process": "poisson", "rate": "20/s", "end": "2m"},
                       {"on_success": {"type": "function", "name": "router"}},
                       duration="200ms", error_rate=0.2),
        "router": fn(None, duration={"dist": "exponential", "mean": "500ms"},
                     reserved_concurrency=3, error_rate=0.1,
                     triggers=[{"type": "async", "arrivals": {"process": "constant", "rate": "1/s", "end": "1m"},
                                "max_event_age": "2m",
                                "on_success": {"type": "function", "name": "consumer"},
                                "on_failure": {"type": "function", "name": "consumer"}}]),
        "consumer": fn(None, duration="50ms"),
    }
    model, summary = run(functions, duration="1h")
    check_conservation(summary)
    p, r, c = (summary["functions"][n]["async"] for n in ("producer", "router", "consumer"))
    # Everything has finished (arrivals stopped early, the horizon is far away).
    for block in (p, r, c):
        assert block["events_waiting"] == 0 and block["events_in_flight"] == 0
    assert p["events_received"] == p["events_succeeded"] + p["events_dropped"]
    assert r["events_received"] == p["destinations"]["on_success"]["function:router"] + 60
    handed_on = (r["destinations"]["on_success"]["function:consumer"]
                 + r["destinations"]["on_failure"]["function:consumer"])
    assert handed_on == r["events_succeeded"] + r["events_dropped"]
    assert c["events_received"] == handed_on == c["events_succeeded"]
    assert r["dropped_by_reason"]["event_age"] > 0  # the router was overloaded
    # The router's requests: one trigger of its own, one inlet from the producer.
    names = [t.name for t in model.triggers["router"]]
    assert names == ["async-0", "producer:on_success"]


# --------------------------------------------------------------------------------------
# throttle_backoff: none -- a work-conserving FIFO line
# --------------------------------------------------------------------------------------
def test_fifo_line_serves_in_order_without_throttles():
    model, summary = run({"f": fn(burst(50, spread="5s"), {"throttle_backoff": "none"},
                                  duration="1s", reserved_concurrency=4)}, duration="5m")
    table = model.recorders["f"].table("attempts")
    assert np.all(np.diff(table["origin"]) >= 0)  # first come, first served
    block = summary["functions"]["f"]
    assert block["throttles"] == 0
    # Work conserving: every invocation starts when its event arrives or when a unit frees.
    ends = table["t"] + table["duration"]
    for start, origin in zip(table["t"], table["origin"]):
        assert start == origin or np.any(np.isclose(ends, start, rtol=0, atol=1e-9))
    assert np.count_nonzero(table["t"] > table["origin"]) >= 25
    assert block["async"]["queue_depth"]["max"] >= 25


def test_fifo_line_takes_units_freed_by_other_functions_of_the_unreserved_pool():
    # The unreserved pool is shared (lambda-concurrency.html): a unit freed by a synchronous
    # function admits the waiting event at that instant.
    functions = {
        "api": {"duration": "10s", "init": "0s", "timeout": "60s",
                "triggers": [{"type": "sync", "arrivals": burst(3)}]},
        "worker": fn(burst(1, at="1s"), {"throttle_backoff": "none"}),
    }
    model, summary = run(functions, account={"concurrency_limit": 3, "unreserved_minimum": 0})
    ages = np.frombuffer(model.async_queues["worker"].age_log).reshape(-1, 2)
    assert ages.tolist() == [[1.0, pytest.approx(9.0)]]
    assert summary["functions"]["worker"]["throttles"] == 0


def test_fifo_line_polls_again_after_a_scaling_throttle():
    # One new environment per second (token bucket of 1, refilled each second): the line
    # does not wait for a freed unit, the pollers look again after POLL_RETRY_S.
    model, summary = run({"f": fn(burst(3), {"throttle_backoff": "none"}, duration="10s")},
                         account={"scaling": {"burst": 1, "per": "1s"}})
    starts = sorted(model.recorders["f"].table("attempts")["t"])
    assert starts[0] == 0.0
    assert 1.0 <= starts[1] <= 1.0 + POLL_RETRY_S + 1e-9
    assert 2.0 <= starts[2] <= 2.0 + 2 * POLL_RETRY_S + 1e-9


@pytest.mark.parametrize("servers, rate, mean_s", [(3, 2.4, 1.0), (6, 4.5, 1.0)])
def test_fifo_mean_event_age_is_the_mmc_mean_wait(servers, rate, mean_s):
    # M/M/c (Erlang C): Poisson arrivals, exponential durations, c = reserved concurrency,
    # zero Init. The mean AsyncEventAge is the mean wait in queue, within a 99 % confidence
    # interval over replications.
    data = {"duration": "3000s", "warmup": "200s", "seed": 5,
            "functions": {"f": fn({"process": "poisson", "rate": rate},
                                  {"throttle_backoff": "none"},
                                  duration={"dist": "exponential", "mean": mean_s},
                                  reserved_concurrency=servers)}}
    scenario = lambdasim.load_scenario(data)
    means = []
    for replication in range(12):
        model = Model(scenario, replication=replication).run()
        means.append(build_result(model).summary["functions"]["f"]["async"]["event_age_ms"]["mean"] / 1000.0)
    target = mmc_mean_wait(servers, rate, mean_s)
    assert ci_contains(means, target, 0.99), (mean_ci(means), target)


# --------------------------------------------------------------------------------------
# summary block, series, determinism
# --------------------------------------------------------------------------------------
def test_series_columns_add_up_to_the_summary():
    result = lambdasim.simulate({"duration": "5m", "seed": 2, "period": "30s",
                                 "functions": {"f": fn({"process": "poisson", "rate": "5/s"},
                                                       {"max_event_age": "60s"},
                                                       reserved_concurrency=2)}})
    series = result.series
    rows = [i for i, name in enumerate(series["function"]) if name == "f"]
    a = result.summary["functions"]["f"]["async"]
    received = sum(series["AsyncEventsReceived"][i] for i in rows)
    dropped = sum(series["AsyncEventsDropped"][i] for i in rows)
    assert received == a["events_received"]
    assert dropped == a["events_dropped"] > 0
    assert max(series["AsyncQueueDepth"][i] for i in rows) == a["queue_depth"]["max"]
    ages = [series["AsyncEventAge_max_ms"][i] for i in rows if series["AsyncEventAge_max_ms"][i] is not None]
    assert max(ages) == pytest.approx(a["event_age_ms"]["max"])
    account_rows = [i for i, name in enumerate(series["function"]) if name == "(account)"]
    assert all(series["AsyncEventsReceived"][i] is None for i in account_rows)


@pytest.mark.slow
def test_async_backlog_scenario_is_deterministic_and_shows_the_backlog():
    scenario = lambdasim.load_scenario("scenarios/async_backlog.yaml",
                                       {"duration": "1h", "functions.thumbnail.triggers.0.max_event_age": "10m"})
    model = Model(scenario).run()
    first = build_result(model).summary
    second = lambdasim.simulate(scenario).summary
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    check_conservation(first)
    a = first["functions"]["thumbnail"]["async"]
    assert a["queue_depth"]["max"] > 1000
    assert a["dropped_by_reason"]["event_age"] > 0
    assert a["event_age_ms"]["max"] <= 600_000.0
    # Every success of the whole run (after the horizon too) reached the indexing function.
    outcomes = unpack_requests(model.recorders["thumbnail"].table("requests")["packed"])["outcome"]
    assert len(model.async_queues["index"].received_log) == np.count_nonzero(outcomes == 0)
    assert first["functions"]["index"]["async"]["events_received"] <= \
        a["destinations"]["on_success"]["function:index"]


# --------------------------------------------------------------------------------------
# conservation under random overload (hypothesis), checked at a random stopping time
# --------------------------------------------------------------------------------------
@st.composite
def async_scenarios(draw):
    mode = draw(st.sampled_from(["exponential", "none"]))
    functions = {
        "a": fn({"process": "poisson", "rate": f"{draw(st.integers(2, 40))}/s"},
                {"throttle_backoff": mode,
                 "max_retry_attempts": draw(st.integers(0, 2)),
                 "max_event_age": f"{draw(st.integers(60, 200))}s",
                 "on_success": draw(st.sampled_from([None, {"type": "function", "name": "b"}])),
                 "on_failure": draw(st.sampled_from([None, {"type": "function", "name": "b"},
                                                     {"type": "sqs", "name": "q"}]))},
                duration={"dist": "exponential", "mean": f"{draw(st.integers(50, 3000))}ms"},
                init=f"{draw(st.integers(0, 500))}ms",
                timeout=f"{draw(st.integers(1, 5))}s",
                error_rate=draw(st.sampled_from([0.0, 0.3, 1.0])),
                reserved_concurrency=draw(st.sampled_from([None, 0, 1, 3]))),
        "b": fn(None, duration=f"{draw(st.integers(10, 2000))}ms",
                reserved_concurrency=draw(st.sampled_from([None, 1, 2])),
                triggers=[{"type": "async", "throttle_backoff": draw(st.sampled_from(["exponential", "none"])),
                           "max_event_age": "60s",
                           "arrivals": {"process": "poisson", "rate": f"{draw(st.integers(1, 5))}/s"}},
                          # Synchronous traffic to the same function: its own requests.
                          {"type": "sync", "arrivals": {"process": "poisson", "rate": "1/s"}}]),
        "api": fn(None, duration="300ms",
                  triggers=[{"type": "sync", "arrivals": {"process": "poisson",
                                                          "rate": f"{draw(st.integers(1, 30))}/s"}}]),
    }
    return {"duration": f"{draw(st.integers(30, 120))}s", "warmup": f"{draw(st.integers(0, 20))}s",
            "seed": draw(st.integers(0, 2**31)), "period": "10s",
            "account": {"concurrency_limit": draw(st.integers(8, 15)), "unreserved_minimum": 2,
                        "scaling": {"burst": draw(st.integers(1, 10)), "per": "2s"}},
            "functions": functions}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=async_scenarios(), stop=st.floats(0.1, 1.5))
def test_nothing_is_lost_under_overload(data, stop):
    """received = succeeded + dropped + waiting + in flight, whenever the run is stopped."""
    model = Model(lambdasim.load_scenario(data))
    until = float(model.duration_s) * stop
    model.sim.run(until=until)
    model.end_s = model.sim.now
    summary = build_result(model).summary
    check_conservation(summary)
    for name, queue in model.async_queues.items():
        # Every event received (whole run, any time) has ended or is still waiting or running.
        trigger = unpack_requests(model.recorders[name].table("requests")["packed"])["trigger"]
        ended = int(np.count_nonzero(np.isin(trigger, [inlet.index for inlet in queue.inlets])))
        assert len(queue.received_log) == ended + queue.outstanding
        # No event is invoked past max_event_age; per-event timers drop it at its expiry.
        ages = np.frombuffer(queue.age_log).reshape(-1, 2)
        assert np.all(ages[:, 1] <= queue.max_age + 1e-6)
        drops = np.frombuffer(queue.drop_log).reshape(-1, 3)
        aged = drops[drops[:, 2] == EVENT_AGE]
        assert np.all(aged[:, 1] - aged[:, 0] >= queue.max_age - 1e-6)
        if not queue.fifo:
            # A waiting event is dropped at its expiry; one whose attempt is in flight then
            # cannot be, and is dropped when that attempt ends (with an error, too old to retry).
            late = aged[~np.isclose(aged[:, 1] - aged[:, 0], queue.max_age)]
            if late.size:
                attempts = model.recorders[name].table("attempts")
                ends = attempts["t"] + attempts["init"] + attempts["duration"]
                for received, dropped, _ in late:
                    assert np.any((attempts["origin"] == received) & np.isclose(ends, dropped)
                                  & (attempts["t"] < received + queue.max_age))
        assert queue.outstanding >= queue.waiting >= 0
        f = model.functions[name]
        assert 0 <= f.pool.in_use <= f.pool.limit
        if queue.zero:
            assert summary["functions"][name]["invocations"] == 0


# --------------------------------------------------------------------------------------
# validation: clear messages naming file, key and line
# --------------------------------------------------------------------------------------
BASE = """\
duration: 1h
functions:
  a:
    duration: 100ms
    triggers:
      - type: async
        arrivals: {process: poisson, rate: 1/s}
"""


@pytest.mark.parametrize("extra, key, line, fragment", [
    ("        max_retry_attempts: 3\n", "functions.a.triggers.0.max_retry_attempts", 8, "between 0 and 2"),
    ("        max_event_age: 30s\n", "functions.a.triggers.0.max_event_age", 8, "between 60 and 21600"),
    ("        max_event_age: 7h\n", "functions.a.triggers.0.max_event_age", 8, "between 60 and 21600"),
    ("        throttle_backoff: linear\n", "functions.a.triggers.0.throttle_backoff", 8, "exponential, none"),
    ("        on_success: {type: function, name: nowhere}\n", "functions.a.triggers.0.on_success.name", 8,
     "no function 'nowhere'"),
    ("        dead_letter: {type: function, name: a}\n", "functions.a.triggers.0.dead_letter.type", 8,
     "expected one of sqs, sns"),
    ("        on_failure: {type: s3, name: bucket}\n", "functions.a.triggers.0.on_failure.type", 8,
     "expected one of function, sqs, sns, eventbridge"),
    ("        on_success: {type: function, name: a}\n", "functions.a.triggers.0.on_success.name", 8,
     "loop (a -> a)"),
    ("      - type: async\n        arrivals: {process: poisson, rate: 1/s}\n        max_event_age: 1h\n",
     "functions.a.triggers.1.max_event_age", 10, "share its one asynchronous configuration"),
])
def test_bad_async_settings_name_key_and_line(tmp_path, extra, key, line, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(BASE + extra)
    with pytest.raises(ScenarioError) as info:
        lambdasim.load_scenario(path)
    message = str(info.value)
    assert info.value.key == key and info.value.line == line, message
    assert fragment in message and message.startswith(f"{path}:{line}: {key}: ")


def test_destination_loop_across_functions_is_rejected():
    data = {"duration": "1h", "functions": {
        "a": fn(burst(1), {"on_success": {"type": "function", "name": "b"}}),
        "b": fn(None, triggers=[{"type": "async", "arrivals": burst(1),
                                 "on_failure": {"type": "function", "name": "a"}}])}}
    with pytest.raises(ScenarioError, match=r"loop \(a -> b -> a\)"):
        lambdasim.load_scenario(data)


def test_resolved_async_trigger_round_trips_and_has_a_schema():
    scenario = lambdasim.load_scenario("scenarios/async_backlog.yaml")
    again = lambdasim.load_scenario(scenario.config)
    assert again.config == scenario.config
    trigger = scenario.config["functions"]["thumbnail"]["triggers"][0]
    assert trigger["dead_letter"] is None and trigger["max_event_age"] == 1800.0
    schema = json.dumps(json_schema())
    assert "throttle_backoff" in schema and "dead_letter" in schema
