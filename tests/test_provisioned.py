"""Provisioned concurrency (LAMBDA_MODEL.md section 5): one test per documented rule.

Pages: https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html, Application Auto
Scaling target tracking
(https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html,
https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-lambda.html),
pricing https://aws.amazon.com/lambda/pricing/. Scenarios use constant durations and constant
or burst arrivals so that counts, times and costs can be worked out by hand.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import lambdasim
from lambdasim.engine.function import COLD, PROVISIONED, LambdaFunction
from lambdasim.engine.model import Model
from lambdasim.engine.provisioned import ProvisionedFunction, configured_gb_s
from lambdasim.results.result import SERIES_COLUMNS, build_result
from lambdasim.scenario import ScenarioError, json_schema, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def function(arrivals, **overrides):
    config = {
        "memory_mb": 1024,
        "duration": "100ms",
        "init": "200ms",
        "timeout": "900s",
        "keep_alive": "600s",
        "max_lifetime": "24h",
        "triggers": [{"type": "sync", "arrivals": arrivals}],
    }
    config.update(overrides)
    return config


def constant(rate, start=None, end=None):
    spec = {"process": "constant", "rate": rate}
    if start is not None:
        spec["start"] = start
    if end is not None:
        spec["end"] = end
    return spec


def run(functions, duration="10m", **top):
    data = {"duration": duration, "seed": 3, "functions": functions}
    data.update(top)
    model = Model(load_scenario(data)).run()
    return model, build_result(model)


def provisioned_attempts(model, name="f"):
    attempts = model.recorders[name].table("attempts")
    flag = (attempts["code"].astype(np.int64) & PROVISIONED) != 0
    return attempts, flag


# --------------------------------------------------------------------------------------
# Routing: provisioned first, then spillover to on-demand
# --------------------------------------------------------------------------------------
def test_load_below_provisioned_capacity_has_no_cold_starts_and_no_spillover():
    # provisioned-concurrency.html: provisioned environments are initialized in advance and
    # "respond immediately"; lambda-concurrency.html: concurrency = rate x duration = 10 x 0.5
    # = 5 stays below the 8 provisioned environments.
    model, result = run({"f": function(constant("10/s"), duration="500ms",
                                       provisioned_concurrency=8)})
    block = result.summary["functions"]["f"]
    assert block["invocations"] == 6000
    assert block["cold_starts"] == 0
    assert block["provisioned"]["spillover_invocations"] == 0
    assert block["provisioned"]["invocations"] == 6000
    assert block["concurrency"]["max"] == 5
    assert block["provisioned"]["allocated"] == {"max": 8, "mean": 8.0}
    assert block["provisioned"]["utilization"]["mean"] == pytest.approx(5 / 8, abs=1e-3)


def test_load_above_capacity_spills_over_to_on_demand_with_cold_starts():
    # provisioned-concurrency.html: when all provisioned environments are busy, requests are
    # served by on-demand (standard) concurrency, counted in
    # ProvisionedConcurrencySpilloverInvocations; lambda-concurrency.html for the count:
    # 20 requests/s x 1 s = 20 concurrent, 5 of them on provisioned environments.
    model, result = run({"f": function(constant("20/s"), duration="1s",
                                       provisioned_concurrency=5)}, duration="5m")
    block = result.summary["functions"]["f"]
    prov = block["provisioned"]
    assert block["invocations"] == 6000
    assert prov["invocations"] == 5 * 300
    assert prov["spillover_invocations"] == 15 * 300
    assert prov["invocations"] + prov["spillover_invocations"] == block["invocations"]
    # Cold starts happen only on the spillover side: 15 on-demand environments, plus 4 more
    # because the first 15 are busy 0.2 s longer (their Init) while 20/s keep arriving.
    attempts, flag = provisioned_attempts(model)
    cold = (attempts["code"].astype(np.int64) & COLD) != 0
    assert not np.any(cold & flag)
    assert block["cold_starts"] == 15 + 4
    assert prov["utilization"]["max"] == 1.0
    series = result.series
    rows = [i for i, name in enumerate(series["function"]) if name == "f"]
    assert sum(series["ProvisionedConcurrencySpilloverInvocations"][i] for i in rows) == 4500
    assert max(series["ProvisionedConcurrentExecutions"][i] for i in rows) == 5


def test_spillover_stays_within_the_reservation():
    # lambda-concurrency.html / provisioned-concurrency.html: provisioned concurrency counts
    # against the function's reserved concurrency; spillover runs within what is left of it.
    model, result = run({"f": function(constant("20/s"), duration="1s",
                                       reserved_concurrency=10, provisioned_concurrency=4)},
                        duration="2m")
    block = result.summary["functions"]["f"]
    assert block["concurrency"]["max"] == 10
    # Each second: 4 on provisioned, 6 spill over, 10 throttled.
    assert block["provisioned"]["invocations"] == 4 * 120
    assert block["provisioned"]["spillover_invocations"] == 6 * 120
    assert block["throttles"] == 10 * 120


def test_allocation_waits_for_free_units_of_a_full_reservation():
    # lambda-concurrency.html: the reservation caps the function, provisioned environments
    # included. 10 on-demand invocations fill the reservation of 10 until 30.2 s (Init 0.2 s +
    # 30 s); 5 provisioned environments ready at 0.05 s take their units only as those end.
    model, result = run({"f": function([{"process": "burst", "count": 10, "at": "0s"},
                                        constant("1/s", start="1s")],
                                       duration="30s", reserved_concurrency=10,
                                       provisioned_concurrency={
                                           "preparation": "0s",
                                           "schedule": [{"at": "0s", "capacity": 5}]})},
                        duration="2m")
    attempts, flag = provisioned_attempts(model)
    assert attempts["t"][flag].min() == pytest.approx(31.0)
    assert result.summary["functions"]["f"]["concurrency"]["max"] == 10
    # Every request from 1 s to 30 s was throttled: no unit was free.
    throttled = model.recorders["f"].table("throttles")["t"]
    assert np.count_nonzero(throttled <= 30.0) == 30


def test_provisioned_capacity_comes_out_of_the_unreserved_pool():
    # lambda-concurrency.html: provisioned concurrency of a function without a reservation is
    # taken from the unreserved pool, so other functions have that much less.
    functions = {
        "warm": function(constant("1/s"), provisioned_concurrency=60),
        "other": function(constant("200/s"), duration="1s"),
    }
    model, result = run(functions, duration="1m",
                        account={"concurrency_limit": 200, "unreserved_minimum": 100})
    other = result.summary["functions"]["other"]
    assert other["concurrency"]["max"] == 200 - 60


# --------------------------------------------------------------------------------------
# Allocation: preparation, then 6,000 per minute; nothing usable before all is ready
# --------------------------------------------------------------------------------------
def test_capacity_is_unusable_before_preparation_plus_rate_and_usable_right_after():
    # provisioned-concurrency.html: after 1-2 minutes of preparation Lambda allocates up to
    # 6,000 execution environments per minute; a request for 3,000 at 60 s with 90 s of
    # preparation is usable at 60 + 90 + 3000/6000 min = 180 s, not a moment before.
    model, result = run(
        {"f": function(constant("50/s"), duration="10ms",
                       provisioned_concurrency={"schedule": [{"at": "60s", "capacity": 3000}]})},
        duration="4m", account={"concurrency_limit": 5000})
    attempts, flag = provisioned_attempts(model)
    t = attempts["t"]
    ready = 60.0 + 90.0 + 3000 / 6000 * 60.0
    assert np.all(t[flag] >= ready)
    assert np.all(flag[t >= ready])  # fully usable: every later request is served warm
    assert t[flag].min() == pytest.approx(ready)
    prov = result.summary["functions"]["f"]["provisioned"]
    assert prov["scaling_actions"] == [{"t_s": 0.0, "capacity": 0}, {"t_s": 60.0, "capacity": 3000}]
    allocated = [v for name, v in zip(result.series["function"],
                                      result.series["ProvisionedConcurrencyAllocated"])
                 if name == "f"]
    assert allocated == [0, 0, 0, 3000]


def test_preparation_time_is_a_parameter():
    # provisioned-concurrency.html: preparation takes 1-2 minutes; lambdasim's default is 90 s.
    model, _ = run({"f": function(constant("10/s"), provisioned_concurrency={
        "preparation": "2m", "schedule": [{"at": "0s", "capacity": 60}]})}, duration="3m")
    attempts, flag = provisioned_attempts(model)
    assert attempts["t"][flag].min() == pytest.approx(120.0 + 60 / 100.0)


def test_decrease_takes_effect_at_once_and_busy_environments_leave_when_done():
    # provisioned-concurrency.html: capacity can be lowered at any time; Lambda keeps serving
    # the invocations in flight [assumption: they finish on their environment].
    model, result = run({"f": function(constant("10/s"), duration="2s", provisioned_concurrency={
        "capacity": 30, "schedule": [{"at": "60s", "capacity": 5}]})}, duration="2m")
    attempts, flag = provisioned_attempts(model)
    t = attempts["t"]
    late = (t >= 60.0) & flag
    # At most 5 provisioned invocations at a time after the decrease.
    starts, ends = t[late], t[late] + attempts["duration"][late]
    events = sorted([(s, 1) for s in starts] + [(e, -1) for e in ends], key=lambda x: (x[0], x[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    assert peak <= 5
    assert result.summary["functions"]["f"]["provisioned"]["allocated"]["max"] == 30


# --------------------------------------------------------------------------------------
# Recycling: never reclaimed for idleness, recycled with a background Init that is billed
# --------------------------------------------------------------------------------------
def test_provisioned_environments_are_never_reclaimed_and_are_recycled_in_the_background():
    # provisioned-concurrency.html: provisioned environments stay initialized; Lambda recycles
    # them periodically and re-runs Init in the background (billed).
    model, result = run({"f": function(constant("0.02/s"), keep_alive="1m", max_lifetime="10m",
                                       provisioned_concurrency=5)}, duration="55m")
    block = result.summary["functions"]["f"]
    assert block["cold_starts"] == 0
    assert block["provisioned"]["invocations"] == block["invocations"] == 66
    inits = np.frombuffer(model.functions["f"].provisioned.inits).reshape(-1, 2)
    # 5 at allocation, then every 10 minutes each: at 10, 20, 30, 40 and 50 min.
    assert len(inits) == 5 + 5 * 5
    assert sorted(set(inits[:, 0].round(6))) == [0.0, 600.0, 1200.0, 1800.0, 2400.0, 3000.0]
    # 5 environments alive all the time (idle for minutes, never reclaimed).
    assert block["environments"]["max"] == 5 and block["environments"]["mean"] == 5.0


# --------------------------------------------------------------------------------------
# Application Auto Scaling: target tracking
# --------------------------------------------------------------------------------------
def tracking_run(rates, duration, **tracking):
    tt = {"target": 0.7, "min": 10, "max": 60}
    tt.update(tracking)
    return run({"f": function([constant(r, start=s, end=e) for s, e, r in rates],
                              duration="1s",
                              provisioned_concurrency={"target_tracking": tt})},
               duration=duration)


def test_target_tracking_scales_out_after_three_minutes_above_target():
    # provisioned-concurrency.html / Application Auto Scaling target tracking: the scale-out
    # alarm fires when the 1-minute Average of ProvisionedConcurrencyUtilization is above the
    # target for 3 consecutive minutes. Load steps from 3 to 30 concurrent at 10 min.
    model, result = tracking_run([(0, 600, "3/s"), (600, None, "30/s")], "40m")
    actions = result.summary["functions"]["f"]["provisioned"]["scaling_actions"]
    assert actions[0] == {"t_s": 0.0, "capacity": 10}
    first = actions[1]
    assert 600 + 180 <= first["t_s"] <= 600 + 240
    assert first["capacity"] == math.ceil(10 / 0.7)  # utilization capped at 1: a x1/0.7 step
    # The new capacity is usable preparation (90 s) + 5/6000 min after the action, not before.
    from lambdasim.engine.metrics import StepLevel

    attempts, flag = provisioned_attempts(model)
    level = StepLevel(attempts["t"][flag], attempts["t"][flag] + attempts["duration"][flag])
    ready = first["t_s"] + 90.0 + (first["capacity"] - 10) / 100.0
    assert level.max(first["t_s"], ready) == 10
    assert level.max(ready, ready + 60.0) == first["capacity"]
    # It keeps scaling out towards 30 / 0.7 = 43, one allocation at a time, within [10, 60].
    capacities = [a["capacity"] for a in actions]
    assert capacities == sorted(capacities)
    assert 40 <= capacities[-1] <= 60
    # Each allocation is ready preparation + N/6000 min after its request, before the next.
    gaps = np.diff([a["t_s"] for a in actions[1:]])
    assert np.all(gaps >= 180.0)


def test_target_tracking_scales_in_only_after_fifteen_minutes_below_ninety_percent():
    # Application Auto Scaling target tracking: the scale-in alarm needs 15 consecutive
    # 1-minute points below 90 % of the target; scale-in steps are smaller than scale-out ones.
    model, result = tracking_run([(0, 1800, "30/s"), (1800, None, "3/s")], "75m", min=5)
    actions = result.summary["functions"]["f"]["provisioned"]["scaling_actions"]
    ins = [a for prev, a in zip(actions, actions[1:]) if a["capacity"] < prev["capacity"]]
    assert ins, actions
    assert ins[0]["t_s"] >= 1800 + 900
    assert ins[0]["t_s"] <= 1800 + 900 + 60
    before = [a for a in actions if a["t_s"] < ins[0]["t_s"]][-1]["capacity"]
    # Half-way to the proportional capacity (3 busy / 0.7 -> 5), not all the way down.
    assert before > 10
    assert ins[0]["capacity"] == math.ceil((before + 5) / 2)
    assert all(5 <= a["capacity"] <= 60 for a in actions)
    # Consecutive scale-ins are 15 minutes apart.
    assert np.all(np.diff([a["t_s"] for a in ins]) >= 900.0)


def test_target_tracking_never_leaves_min_and_max():
    # Application Auto Scaling keeps the capacity within the scalable target's min and max.
    model, result = tracking_run([(0, 900, "80/s"), (900, None, "0.5/s")], "50m", min=4, max=25)
    prov = result.summary["functions"]["f"]["provisioned"]
    assert all(4 <= a["capacity"] <= 25 for a in prov["scaling_actions"])
    assert max(a["capacity"] for a in prov["scaling_actions"]) == 25
    allocated = [v for name, v in zip(result.series["function"],
                                      result.series["ProvisionedConcurrencyAllocated"])
                 if name == "f"]
    assert min(allocated) >= 4 and max(allocated) == 25


# --------------------------------------------------------------------------------------
# Cost
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("architecture, configured_rate, execution_rate", [
    ("x86_64", 0.0000041667, 0.0000097222),
    ("arm64", 0.0000033334, 0.0000077778),
])
def test_cost_of_fixed_capacity_matches_hand_computation_to_the_cent(
        architecture, configured_rate, execution_rate):
    # https://aws.amazon.com/lambda/pricing/: provisioned concurrency is billed per GB-second
    # configured plus per GB-second of execution on it; requests at $0.20 per million.
    # 10 environments of 2048 MB for 1 h; 3,600 invocations of 100 ms, all on provisioned
    # environments; 10 Inits of 200 ms when they are allocated (billed, off the request path).
    model, result = run({"f": function(constant("1/s"), memory_mb=2048, architecture=architecture,
                                       provisioned_concurrency=10)}, duration="1h")
    cost = result.summary["functions"]["f"]["cost_usd"]
    configured = 10 * 2.0 * 3600 * configured_rate
    execution = (3600 * 0.100 + 10 * 0.200) * 2.0 * execution_rate
    requests = 3600 * 0.20 / 1e6
    assert round(cost["provisioned"], 2) == round(configured + execution, 2)
    assert cost["provisioned"] == pytest.approx(configured + execution, abs=1e-9)
    assert cost["duration"] == 0.0  # nothing ran on demand
    assert cost["requests"] == pytest.approx(requests, abs=1e-12)
    assert round(cost["total"], 2) == round(configured + execution + requests, 2)
    assert result.summary["functions"]["f"]["provisioned"]["cost_usd"] == cost["provisioned"]
    if architecture == "x86_64":
        assert round(cost["total"], 2) == 0.31  # 0.300002 + 0.007039 + 0.00072


def test_spillover_is_billed_at_on_demand_rates():
    # pricing: invocations that spill over are billed as on-demand duration (Init included on
    # cold starts since 2025-08-01); provisioned executions at the provisioned rate.
    model, result = run({"f": function(constant("20/s"), duration="1s",
                                       provisioned_concurrency=5)}, duration="5m")
    cost = result.summary["functions"]["f"]["cost_usd"]
    on_demand = (4500 * 1.0 + 19 * 0.2) * 1.0 * 0.0000166667  # 19 cold starts (see above)
    # Init billed on on-demand cold starts is its own item of cost_usd.
    assert cost["duration"] + cost["init"] == pytest.approx(on_demand, abs=1e-9)
    configured = 5 * 1.0 * 300 * 0.0000041667
    execution = (1500 * 1.0 + 5 * 0.2) * 1.0 * 0.0000097222
    assert cost["provisioned"] == pytest.approx(configured + execution, abs=1e-9)


def test_configured_time_is_rounded_up_to_five_minutes_per_unit():
    # pricing: provisioned concurrency is billed from enabling to disabling, rounded up to the
    # nearest 5 minutes. 10 units for 17 min bill 20 min; 4 of them then stay on to 60 min
    # (1,020 s -> 3,600 s), i.e. 6 units x 1,200 s + 4 units x 3,600 s.
    changes = [(0.0, 10), (1020.0, 4)]
    assert configured_gb_s(changes, 1024, 0.0, 3600.0, 300.0) == pytest.approx(
        6 * 1200.0 + 4 * 3600.0)
    # A rise adds a unit layer of its own: 2 units from 100 s (rounded 3,500 -> 3,600).
    assert configured_gb_s([(0.0, 1), (100.0, 3)], 2048, 0.0, 3600.0, 300.0) == pytest.approx(
        (3600.0 + 2 * 3600.0) * 2.0)


# --------------------------------------------------------------------------------------
# Scenario format and validation
# --------------------------------------------------------------------------------------
def write(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


BASE = "duration: 1h\naccount:\n  concurrency_limit: 500\nfunctions:\n  f:\n    duration: 1ms\n"


@pytest.mark.parametrize("body, key, line, fragment", [
    ("    reserved_concurrency: 20\n    provisioned_concurrency: 21\n",
     "functions.f.provisioned_concurrency.capacity", 8, "exceeds the function's reserved"),
    ("    provisioned_concurrency: 401\n",
     "functions.f.provisioned_concurrency.capacity", 7, "= 400"),
    ("    provisioned_concurrency:\n      schedule:\n        - {at: 5m, capacity: 450}\n",
     "functions.f.provisioned_concurrency.schedule.0.capacity", 9, "= 400"),
    ("    provisioned_concurrency:\n      target_tracking: {min: 5, max: 900}\n",
     "functions.f.provisioned_concurrency.target_tracking.max", 8, "= 400"),
    ("    provisioned_concurrency:\n      target_tracking: {min: 5, max: 4}\n",
     "functions.f.provisioned_concurrency.target_tracking.max", 8, "must be >= min"),
    ("    provisioned_concurrency:\n      capacity: 2\n      target_tracking: {min: 5, max: 9}\n",
     "functions.f.provisioned_concurrency.capacity", 8, "within target_tracking min and max"),
    ("    provisioned_concurrency:\n      capacity: -1\n",
     "functions.f.provisioned_concurrency.capacity", 8, ">= 0"),
    ("    provisioned_concurrency: {capacty: 3}\n",
     "functions.f.provisioned_concurrency.capacty", 7, "did you mean 'capacity'"),
])
def test_bad_provisioned_concurrency_is_rejected_naming_key_and_line(
        tmp_path, body, key, line, fragment):
    # lambda-concurrency.html / provisioned-concurrency.html: provisioned concurrency cannot
    # exceed the reservation, nor the account limit minus the unreserved minimum (100).
    path = write(tmp_path, BASE + body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert (err.key, err.line) == (key, line), str(err)
    assert fragment in err.message, str(err)
    assert str(err).startswith(f"{path}:{line}: {key}: ")


def test_provisioned_of_several_functions_must_leave_the_unreserved_minimum(tmp_path):
    # lambda-concurrency.html: at least unreserved_minimum units stay unreserved, provisioned
    # concurrency of functions without a reservation included.
    text = ("duration: 1h\naccount:\n  concurrency_limit: 500\nfunctions:\n"
            "  a:\n    duration: 1ms\n    provisioned_concurrency: 300\n"
            "  b:\n    duration: 1ms\n    provisioned_concurrency: 150\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert info.value.key == "functions.b.provisioned_concurrency.capacity"
    assert info.value.line == 10


def test_int_and_map_forms_resolve_to_the_same_config():
    a = load_scenario({"duration": 60, "functions": {"f": {"duration": 0.1,
                                                           "provisioned_concurrency": 7}}})
    b = load_scenario({"duration": 60, "functions": {"f": {"duration": 0.1,
                                                           "provisioned_concurrency": {"capacity": 7}}}})
    assert a.config == b.config
    resolved = a.config["functions"]["f"]["provisioned_concurrency"]
    assert resolved == {"capacity": 7, "preparation": 90.0, "schedule": [], "target_tracking": None}
    # A resolved config loads to itself; target tracking starts at its min.
    assert load_scenario(a.config).config == a.config
    c = load_scenario({"duration": 60, "functions": {"f": {"duration": 0.1, "provisioned_concurrency": {
        "target_tracking": {"min": 3, "max": 9}}}}})
    tt = c.config["functions"]["f"]["provisioned_concurrency"]
    assert tt["capacity"] == 3 and tt["target_tracking"]["target"] == 0.7


def test_json_schema_accepts_an_integer_or_a_map():
    schema = json_schema()
    field = schema["properties"]["functions"]["patternProperties"]
    field = next(iter(field.values()))["properties"]["provisioned_concurrency"]
    kinds = field["anyOf"]
    assert kinds[0]["type"] == "integer" and kinds[1]["type"] == "object"
    assert set(kinds[1]["properties"]) == {"capacity", "preparation", "schedule", "target_tracking"}
    jsonschema = pytest.importorskip("jsonschema")  # in the 'test' extra, so present in CI
    validator = jsonschema.validators.validator_for(schema)(schema)
    import yaml

    launch = yaml.safe_load((ROOT / "scenarios" / "launch_provisioned.yaml").read_text())
    assert list(validator.iter_errors(launch)) == []
    resolved = load_scenario(ROOT / "scenarios" / "launch_provisioned.yaml").config
    assert list(validator.iter_errors(resolved)) == []
    bad = {"duration": 1, "functions": {"f": {"duration": 1,
                                              "provisioned_concurrency": {"capacty": 1}}}}
    assert list(validator.iter_errors(bad)) != []


# --------------------------------------------------------------------------------------
# No provisioned concurrency: nothing changes
# --------------------------------------------------------------------------------------
def test_functions_without_provisioned_concurrency_keep_the_plain_invoke():
    model, result = run({"plain": function(constant("5/s")),
                         "warm": function(constant("5/s"), provisioned_concurrency=2)}, "1m")
    assert type(model.functions["plain"]) is LambdaFunction
    assert isinstance(model.functions["warm"], ProvisionedFunction)
    assert "provisioned" not in result.summary["functions"]["plain"]
    assert result.summary["functions"]["plain"]["cost_usd"]["provisioned"] == 0.0
    plain_rows = [i for i, n in enumerate(result.series["function"]) if n == "plain"]
    assert all(result.series["ProvisionedConcurrencyInvocations"][i] is None for i in plain_rows)
    for column in ("ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization",
                   "ProvisionedConcurrencyInvocations",
                   "ProvisionedConcurrencySpilloverInvocations", "ProvisionedConcurrencyAllocated"):
        assert column in SERIES_COLUMNS


def test_same_seed_gives_identical_summary():
    data = {"duration": "20m", "seed": 9, "functions": {"f": {
        "duration": {"dist": "lognormal", "median": "200ms", "p99": "1s"},
        "provisioned_concurrency": {"target_tracking": {"min": 2, "max": 30}},
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson",
                                                    "rate": [[0, "5/s"], [300, "60/s"]]}}]}}}
    a = lambdasim.simulate(data).summary
    b = lambdasim.simulate(data).summary
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --------------------------------------------------------------------------------------
# The launch scenario: three variants side by side from one command
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_launch_scenario_shows_the_trade_off():
    result = lambdasim.simulate(ROOT / "scenarios" / "launch_provisioned.yaml")
    functions = result.summary["functions"]
    assert list(functions) == ["on_demand", "scheduled", "tracking"]
    on_demand, scheduled, tracking = (functions[n] for n in functions)
    assert "provisioned" not in on_demand
    # Fewer cold starts with a scheduled warm-up, at a higher fixed cost.
    assert scheduled["cold_starts"] < on_demand["cold_starts"] / 2
    assert scheduled["cost_usd"]["provisioned"] > 0.0 == on_demand["cost_usd"]["provisioned"]
    assert scheduled["cost_usd"]["total"] > on_demand["cost_usd"]["total"]
    # Target tracking reacts to the launch minutes late: it spills over more than the warm-up.
    assert (tracking["provisioned"]["spillover_invocations"]
            > scheduled["provisioned"]["spillover_invocations"])
    assert tracking["provisioned"]["allocated"]["mean"] < scheduled["provisioned"]["allocated"]["mean"]
    # The three never compete: no throttles anywhere.
    assert result.summary["account"]["throttles"] == 0


# --------------------------------------------------------------------------------------
# Invariants on random scenarios
# --------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from lambdasim.engine.metrics import StepLevel  # noqa: E402


@st.composite
def _provisioned_scenario(draw):
    reserved = draw(st.one_of(st.none(), st.integers(1, 30)))
    cap = reserved if reserved is not None else 60
    schedule = [{"at": f"{draw(st.integers(0, 240))}s", "capacity": draw(st.integers(0, cap))}
                for _ in range(draw(st.integers(0, 3)))]
    provisioned = {"capacity": draw(st.integers(0, cap)), "schedule": schedule,
                   "preparation": f"{draw(st.integers(0, 120))}s"}
    if draw(st.booleans()):
        low = draw(st.integers(1, cap))
        provisioned["target_tracking"] = {"min": low, "max": draw(st.integers(low, cap)),
                                          "target": draw(st.sampled_from([0.3, 0.7, 0.9]))}
        provisioned["capacity"] = draw(st.integers(low, provisioned["target_tracking"]["max"]))
    rate = draw(st.integers(1, 60))
    config = function([{"process": "poisson", "rate": rate},
                       {"process": "burst", "count": draw(st.integers(0, 80)),
                        "at": f"{draw(st.integers(0, 290))}s"}],
                      duration={"dist": "exponential", "mean": f"{draw(st.integers(20, 1500))}ms"},
                      timeout="2s", keep_alive="20s",
                      max_lifetime={"dist": "uniform", "low": "60s", "high": "200s"},
                      provisioned_concurrency=provisioned)
    if reserved is not None:
        config["reserved_concurrency"] = reserved
    other = function({"process": "poisson", "rate": draw(st.integers(1, 80))},
                     duration="500ms", timeout="2s")
    return {"duration": "5m", "seed": draw(st.integers(0, 1000)),
            "account": {"concurrency_limit": 200, "unreserved_minimum": 100},
            "functions": {"f": config, "other": other}}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_provisioned_scenario())
def test_invariants_hold_with_provisioned_concurrency(data):
    # lambda-concurrency.html: a function never runs above its reservation, the account never
    # above its limit, provisioned environments included; every request ends in one outcome.
    model = Model(load_scenario(data)).run()
    summary = build_result(model).summary
    fconfig = data["functions"]["f"]
    for name, block in summary["functions"].items():
        requests = block["requests"]
        assert requests["arrived"] == (requests["succeeded"] + requests["failed"]
                                       + requests["throttled"] + requests["dropped"]
                                       + requests["in_flight"])
    attempts = model.recorders["f"].table("attempts")
    busy = StepLevel(attempts["t"], attempts["t"] + attempts["init"] + attempts["duration"])
    limit = fconfig.get("reserved_concurrency")
    if limit is not None:
        assert busy.max(0.0, model.end_s + 1) <= limit
    everyone = StepLevel.merge([
        StepLevel(t["t"], t["t"] + t["init"] + t["duration"])
        for t in (model.recorders[n].table("attempts") for n in model.recorders)])
    assert everyone.max(0.0, model.end_s + 1) <= 200
    prov = summary["functions"]["f"].get("provisioned")
    if prov is not None:
        flag = (attempts["code"].astype(np.int64) & PROVISIONED) != 0
        level = StepLevel(attempts["t"][flag], attempts["t"][flag] + attempts["duration"][flag])
        assert level.max(0.0, model.end_s + 1) <= max(
            [a["capacity"] for a in prov["scaling_actions"]] + [0])
        for key in ("mean", "max"):
            value = prov["utilization"][key]
            assert value is None or 0.0 <= value <= 1.0
        tracking = fconfig["provisioned_concurrency"].get("target_tracking")
        if tracking is not None and not fconfig["provisioned_concurrency"]["schedule"]:
            assert all(tracking["min"] <= a["capacity"] <= tracking["max"]
                       for a in prov["scaling_actions"])
        state = model.functions["f"].provisioned
        assert state.live + state.waiting >= 0 and state.busy >= 0
