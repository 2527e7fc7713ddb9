"""SQS event source mappings in provisioned mode, and the standard mode's low-traffic floor.

https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: provisioned mode sets
minimum (2-200) and maximum (2-2,000) event pollers, each handling up to 10 concurrent
invokes, scaling "up to 1,000 concurrency per minute"; it and maximum concurrency are
"mutually exclusive options"; standard mode "can optimize to as few as 2 concurrent invokes"
when traffic is low. Event poller units are billed per second with a 1-minute minimum
(https://aws.amazon.com/lambda/pricing/).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from lambdasim import simulate
from lambdasim.engine.invoke.sqs import SqsTrigger
from lambdasim.engine.model import Model
from lambdasim.engine.pollers import step_period_maxima, unit_seconds
from lambdasim.scenario import ScenarioError, load_scenario


def scenario(trigger: dict, *, function: dict | None = None, **top) -> dict:
    fn = {"timeout": "900s", "duration": "600s", "init": "100ms", "triggers": [
        {"type": "sqs", "visibility_timeout": "900s", "batch_size": 1, **trigger}]}
    fn.update(function or {})
    data = {"duration": "5m", "seed": 3,
            "account": {"concurrency_limit": 5000, "unreserved_minimum": 100,
                        "scaling": {"burst": 5000, "per": "1s"}},
            "functions": {"f": fn}}
    data.update(top)
    return data


def column(result, name: str) -> np.ndarray:
    rows = [i for i, f in enumerate(result.series["function"]) if f == "f"]
    return np.array([result.series[name][i] for i in rows])


def test_provisioned_mode_holds_the_minimum_pollers_from_the_start():
    # Provisioned pollers "remain ready": 20 pollers x 10 concurrent invokes from t = 0.
    data = scenario({"arrivals": {"process": "burst", "count": 150, "at": "10s"},
                     "provisioned_pollers": {"minimum": 20, "maximum": 100}}, duration="2m")
    result = simulate(data, period_s=5.0)
    pollers = column(result, "ProvisionedPollers")
    assert pollers[0] == 20 and pollers.min() == 20
    # 150 messages at 10 s are all in flight at once: no ramp needed below 200.
    sqs = result.function("f").sqs
    assert sqs["pollers"]["max"] == 150
    assert sqs["provisioned_pollers"] == {"minimum": 20, "maximum": 100, "max": 20,
                                          "mean": 20.0}


def test_provisioned_mode_ramps_up_to_1000_concurrency_per_minute():
    # "can auto scale up to 1000 concurrent executions per minute": from 10 x 2 = 20
    # concurrent invokes, one more every 0.06 s while messages wait, up to 10 x maximum.
    data = scenario({"arrivals": {"process": "burst", "count": 3000, "at": "0s"},
                     "provisioned_pollers": {"minimum": 2, "maximum": 150}}, duration="3m")
    result = simulate(data, period_s=1.0)
    concurrency = column(result, "SQSPollers")
    for k in range(len(concurrency) - 60):
        assert concurrency[k + 60] - concurrency[k] <= 1000 + 1
    assert concurrency[0] <= 20 + 1 / 0.06 + 1
    # Not slower than documented: one minute in, 20 + 1,000 batches run.
    assert concurrency[59] >= 20 + 1000 - 20
    assert concurrency.max() == 1500  # 150 pollers x 10
    reached = int(np.argmax(concurrency >= 1500))
    assert 87 <= reached <= 90  # (1500 - 20) / 1000 per minute = 88.8 s
    pollers = column(result, "ProvisionedPollers")
    assert pollers.max() == 150 and pollers[0] >= 2
    # Three times faster than standard mode's 300 per minute.
    standard = simulate(scenario({"arrivals": {"process": "burst", "count": 3000, "at": "0s"}},
                                 duration="3m"), period_s=1.0)
    assert column(standard, "SQSPollers")[59] <= 5 + 300 + 1


def test_provisioned_pollers_cost_event_poller_units():
    # No traffic for an hour: the minimum of 3 pollers is billed all the same, 3 EPU-hours at
    # the price file's EPU rate.
    data = scenario({"arrivals": {"process": "burst", "count": 0, "at": "0s"},
                     "provisioned_pollers": {"minimum": 3, "maximum": 10}}, duration="1h")
    cost = simulate(data).summary["functions"]["f"]["cost_usd"]
    assert cost["event_poller_units"] == pytest.approx(3 * 0.185, abs=1e-9)
    assert cost["per_30_days"]["event_poller_units"] == pytest.approx(3 * 0.185 * 720, abs=1e-6)


def test_event_poller_units_are_billed_per_second_with_a_one_minute_minimum():
    # Pricing page: "billed per second with a 1-minute minimum" per poller.
    changes = [(0.0, 2), (100.0, 3), (110.0, 2), (200.0, 4), (500.0, 2)]
    # 2 pollers for 600 s, one more for 10 s (billed 60 s), two more for 300 s.
    assert unit_seconds(changes, 0.0, 600.0, 60.0) == pytest.approx(2 * 600 + 60 + 2 * 300)
    assert unit_seconds(changes, 0.0, 600.0) == pytest.approx(2 * 600 + 10 + 2 * 300)
    assert step_period_maxima(changes, np.array([0.0, 100.0, 200.0, 300.0])) == [2, 3, 4]


def test_provisioned_pollers_and_maximum_concurrency_exit_2(run_cli, tmp_path):
    # "These are mutually exclusive options" (services-sqs-scaling.html).
    data = scenario({"arrivals": {"process": "poisson", "rate": 5},
                     "maximum_concurrency": 50,
                     "provisioned_pollers": {"minimum": 2, "maximum": 10}})
    path = tmp_path / "both.yaml"
    path.write_text(json.dumps(data))
    done = run_cli("validate", path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "functions.f.triggers.0.provisioned_pollers" in done.stderr
    assert "mutually exclusive" in done.stderr


@pytest.mark.parametrize("pollers, key", [({"minimum": 1}, "minimum"),
                                          ({"minimum": 201}, "minimum"),
                                          ({"maximum": 2001}, "maximum"),
                                          ({"minimum": 10, "maximum": 5}, "maximum")])
def test_provisioned_poller_bounds(pollers, key):
    # MinimumPollers 2-200, MaximumPollers 2-2,000 for SQS, maximum >= minimum.
    data = scenario({"arrivals": {"process": "poisson", "rate": 5},
                     "provisioned_pollers": pollers})
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert err.value.key == f"functions.f.triggers.0.provisioned_pollers.{key}"


def test_standard_mode_scales_down_to_2_when_traffic_is_low_and_back_to_5():
    # "When traffic is low, Lambda scales back the processing to five concurrent invokes, and
    # can optimize to as few as 2 concurrent invokes ... not available when you enable the
    # maximum concurrency setting"; "When messages are available, Lambda starts processing
    # five batches at a time".
    data = scenario({"arrivals": [{"process": "burst", "count": 20, "at": "0s"},
                                  {"process": "burst", "count": 1, "at": "4m"}]},
                    function={"duration": "1s", "timeout": "60s"},
                    duration="5m")
    model = Model(load_scenario(data))
    trigger = next(t for t in model.triggers["f"] if isinstance(t, SqsTrigger))
    seen = []
    model.sim.run(until=200.0)
    seen.append(trigger.allowed)
    model.sim.run(until=240.01)  # just after the message, before the next scaling step
    seen.append(trigger.allowed)
    assert seen == [2, 5]
    capped = scenario({"arrivals": {"process": "burst", "count": 20, "at": "0s"},
                       "maximum_concurrency": 10}, function={"duration": "1s"})
    model = Model(load_scenario(capped))
    model.sim.run(until=200.0)
    assert next(t for t in model.triggers["f"] if isinstance(t, SqsTrigger)).allowed == 5


def test_conservation_and_determinism_in_provisioned_mode():
    data = scenario({"arrivals": {"process": "poisson", "rate": [[0, 20], [60, 400], [120, 20]]},
                     "provisioned_pollers": {"minimum": 2, "maximum": 50},
                     "message_error_rate": 0.05, "max_receive_count": 3,
                     "visibility_timeout": "5s"},
                    function={"duration": {"dist": "exponential", "mean": "300ms"},
                              "timeout": "5s"}, duration="4m")
    first, second = simulate(data).summary, simulate(data).summary
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    block = first["functions"]["f"]
    r, sqs = block["requests"], block["sqs"]
    assert r["arrived"] == r["succeeded"] + r["failed"] + r["throttled"] + r["dropped"] + r["in_flight"]
    assert sqs["messages_received"] == (sqs["messages_deleted"] + sqs["messages_to_dlq"]
                                        + sqs["messages_expired"] + sqs["messages_remaining"])
    assert block["concurrency"]["max"] <= 500
