"""Front doors of synchronous traffic: API Gateway (REST, HTTP APIs), ALB and function URLs.

Each rule is checked against the page that documents it:

* API Gateway's account throttle, a token bucket of 5,000 requests refilled at 10,000/s per
  account and Region: https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html;
  a throttled request gets 429 and never reaches Lambda.
* Integration timeout: 29 s by default for REST APIs
  (https://docs.aws.amazon.com/apigateway/latest/api/API_Integration.html, timeoutInMillis),
  at most 30 s for HTTP APIs
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html); the
  client gets 504 while the Lambda invocation runs on and is billed.
* Behind API Gateway a rejected invocation is a 500 and a function error a 502, and API
  Gateway does not retry (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
* Function URLs and ALB targets add no throttle of their own
  (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html,
  https://docs.aws.amazon.com/lambda/latest/dg/services-alb.html).
"""
from __future__ import annotations

import pytest

import lambdasim
from lambdasim.scenario import ScenarioError


def scenario(source="api_gateway", arrivals=None, duration="5s", account=None, **function):
    trigger = {"type": "sync", "source": source,
               "arrivals": arrivals or {"process": "poisson", "rate": "20000/s"}}
    trigger.update(function.pop("trigger", {}))
    body = {"memory_mb": 1024, "duration": "1ms", "init": "0s", "timeout": "60s",
            "keep_alive": "600s", "max_lifetime": "24h", "triggers": [trigger]}
    body.update(function)
    return {"name": "door", "duration": duration, "seed": 3,
            "account": account or {"concurrency_limit": 5000},
            "functions": {"api": body}}


def conserved(block):
    r = block["requests"]
    assert r["arrived"] == (r["succeeded"] + r["failed"] + r["throttled"] + r["dropped"]
                            + r["in_flight"])


def test_gateway_throttles_about_half_of_20000_rps_without_invoking_them():
    # limits.html: 10,000 requests/s steady, a bucket of 5,000 requests. At 20,000/s for 5 s
    # the gateway passes the full bucket plus 10,000 per second: 55,000 of ~100,000.
    result = lambdasim.simulate(scenario())
    block = result.summary["functions"]["api"]
    door = block["front_door"]
    arrived = block["requests"]["arrived"]
    passed = arrived - door["throttled"]
    assert passed == pytest.approx(5000 + 10000 * 5, rel=0.002)
    assert door["throttled"] / arrived == pytest.approx(0.45, abs=0.01)
    # No invocation (and no Lambda throttle) for a request the gateway throttled.
    assert block["invocations"] + block["throttles"] == passed
    assert door["throttled_api_requests"] == door["throttled"] == door["4XXError"]
    assert door["api_requests"] == arrived  # no client retries: one API request each
    assert block["requests"]["throttled"] == door["throttled"] + block["throttles"]
    conserved(block)
    # The CloudWatch-style columns of metrics.csv add up to the summary.
    rows = [i for i, name in enumerate(result.series["function"]) if name == "api"]
    assert sum(result.series["Count"][i] for i in rows) == door["api_requests"]
    assert sum(result.series["4XXError"][i] for i in rows) == door["4XXError"]


def test_the_account_bucket_is_shared_by_every_api_and_http_api():
    # limits.html: the quota applies "across HTTP APIs, REST APIs, WebSocket APIs": two
    # functions at 6,000/s each share one 10,000/s bucket.
    config = scenario(arrivals={"process": "poisson", "rate": "6000/s"})
    other = dict(config["functions"]["api"])
    other["triggers"] = [dict(other["triggers"][0], source="http_api")]
    config["functions"]["web"] = other
    result = lambdasim.simulate(config)
    functions = result.summary["functions"]
    passed = sum(f["requests"]["arrived"] - f["front_door"]["throttled"]
                 for f in functions.values())
    assert passed == pytest.approx(5000 + 10000 * 5, rel=0.003)
    # 60,000 arrivals, 55,000 passed: each API gets about half of the 5,000 429s.
    assert all(1500 < f["front_door"]["throttled"] < 3500 for f in functions.values())


def test_stage_or_method_limit_throttles_before_the_account():
    # api-gateway-request-throttling.html: stage and method limits apply before the
    # account-level limit and cannot exceed it.
    config = scenario(arrivals={"process": "constant", "rate": "300/s"},
                      trigger={"throttle": {"rate": "100/s", "burst": 50}})
    block = lambdasim.simulate(config).summary["functions"]["api"]
    passed = block["requests"]["arrived"] - block["front_door"]["throttled"]
    assert passed == pytest.approx(50 + 100 * 5, abs=2)
    with pytest.raises(ScenarioError, match=r"triggers\.0\.throttle\.rate.*account\.api_gateway"):
        lambdasim.load_scenario(scenario(trigger={"throttle": {"rate": "20000/s", "burst": 10}}))


def test_a_40_s_handler_behind_rest_gets_504_at_29_s_while_its_invocation_runs_40_s_billed():
    # API_Integration.html (timeoutInMillis default 29,000 ms): the client gets 504 at 29 s;
    # Lambda does not know the caller gave up: the invocation runs its 40 s and is billed.
    config = scenario(arrivals={"process": "burst", "count": 1, "at": "0s"}, duration="1s")
    config["functions"]["api"]["duration"] = "40s"
    result = lambdasim.simulate(config)
    block = result.summary["functions"]["api"]
    assert block["requests"]["failed"] == 1
    assert block["front_door"]["timed_out"] == 1 and block["front_door"]["5XXError"] == 1
    assert block["latency_ms"]["max"] == pytest.approx(29000.0)
    assert block["front_door"]["integration_latency_ms"]["max"] == pytest.approx(29000.0)
    assert block["invocations"] == 1 and block["errors"] == 0
    assert block["duration_ms"]["max"] == pytest.approx(40000.0)
    # Billed for all 40 s at 1 GB: $0.0000166667 per GB-s (aws.amazon.com/lambda/pricing).
    assert block["cost_usd"]["duration"] == pytest.approx(40 * 0.0000166667, rel=1e-4)
    assert block["concurrency"]["max"] == 1
    conserved(block)


def test_http_api_times_out_at_30_s_and_rejects_more():
    # http-api-quotas.html: "Maximum integration timeout 30 seconds", not adjustable.
    config = scenario(source="http_api", arrivals={"process": "burst", "count": 1, "at": "0s"},
                      duration="1s")
    config["functions"]["api"]["duration"] = "45s"
    block = lambdasim.simulate(config).summary["functions"]["api"]
    assert block["latency_ms"]["max"] == pytest.approx(30000.0)
    assert block["front_door"]["timed_out"] == 1
    config["functions"]["api"]["triggers"][0]["integration_timeout"] = "31s"
    with pytest.raises(ScenarioError, match=r"triggers\.0\.integration_timeout.*30 s"):
        lambdasim.load_scenario(config)


def test_answers_before_the_timeout_are_not_504():
    config = scenario(arrivals={"process": "constant", "rate": "20/s"}, duration="10s",
                      trigger={"integration_timeout": "2s"})
    config["functions"]["api"]["duration"] = {"dist": "uniform", "low": "1s", "high": "3s"}
    block = lambdasim.simulate(config).summary["functions"]["api"]
    door = block["front_door"]
    assert 0 < door["timed_out"] < block["requests"]["arrived"]
    assert block["requests"]["succeeded"] + door["timed_out"] == block["requests"]["arrived"]
    assert block["latency_ms"]["max"] <= 2000.0 + 1e-6
    assert block["duration_ms"]["max"] > 2500.0  # the invocations behind the 504s ran on


def test_client_retries_see_the_gateway_429():
    # services-apigateway-errors.html: API Gateway does not retry; the client does, and a
    # retry is a new API request (Count).
    config = scenario(arrivals={"process": "poisson", "rate": "15000/s"}, duration="3s",
                      trigger={"client_retries": {"max_attempts": 4, "base_delay": "50ms",
                                                  "max_delay": "1s"}})
    result = lambdasim.simulate(config, records=True)
    block = result.summary["functions"]["api"]
    door = block["front_door"]
    assert door["api_requests"] > block["requests"]["arrived"]
    assert door["throttled_api_requests"] > door["throttled"]
    # Requests first refused with 429 and served on a later attempt.
    records = result.records.columns()
    retried = (records["attempts"] > 1) & (records["outcome"] == "succeeded")
    assert int(retried.sum()) > 1000
    assert int(records["attempts"].max()) == 4
    conserved(block)


def test_504_is_retried_as_an_error_when_the_client_retries_errors():
    config = scenario(arrivals={"process": "burst", "count": 1, "at": "0s"}, duration="10s",
                      trigger={"integration_timeout": "1s",
                               "client_retries": {"max_attempts": 3, "retry_on": ["error"],
                                                  "base_delay": "100ms", "jitter": "none"}})
    config["functions"]["api"]["duration"] = "5s"
    block = lambdasim.simulate(config).summary["functions"]["api"]
    assert block["invocations"] == 3  # each retry invokes again; the earlier ones run on
    assert block["front_door"]["timed_out_api_requests"] == 3
    assert block["front_door"]["timed_out"] == 1
    assert block["concurrency"]["max"] == 3


@pytest.mark.parametrize("source,status", [("function_url", "4XXError"), ("alb", "5XXError")])
def test_function_urls_and_albs_add_no_throttle_of_their_own(source, status):
    # urls-configuration.html / services-alb.html: the function's own limits apply, nothing
    # else. Reserved concurrency 5 of a 1 s handler throttles at Lambda; the front door
    # answers 429 (function URL) or 5XX (ALB), and nothing is throttled at the door itself.
    config = scenario(source=source, arrivals={"process": "constant", "rate": "50/s"},
                      duration="2s", reserved_concurrency=5)
    config["functions"]["api"]["duration"] = "1s"
    block = lambdasim.simulate(config).summary["functions"]["api"]
    door = block["front_door"]
    assert door["throttled"] == 0 and door["timed_out"] == 0
    assert block["throttles"] > 0
    assert door[status] == block["throttles"]
    with pytest.raises(ScenarioError, match=r"triggers\.0\.integration_timeout.*api_gateway"):
        bad = scenario(source=source, trigger={"integration_timeout": "5s"})
        lambdasim.load_scenario(bad)


def test_function_errors_are_502_behind_api_gateway():
    # services-apigateway-errors.html: a function error is a 502 to the client.
    config = scenario(arrivals={"process": "constant", "rate": "100/s"}, duration="2s",
                      error_rate=1.0)
    block = lambdasim.simulate(config).summary["functions"]["api"]
    assert block["front_door"]["5XXError"] == block["errors"] == block["requests"]["failed"]
    assert block["front_door"]["4XXError"] == 0


def test_direct_triggers_are_unchanged_and_have_no_front_door_block():
    config = scenario(source="direct", arrivals={"process": "constant", "rate": "10/s"},
                      duration="2s")
    summary = lambdasim.simulate(config).summary
    assert "front_door" not in summary["functions"]["api"]
    assert summary["config"]["functions"]["api"]["triggers"][0]["integration_timeout"] is None


def test_conservation_with_front_door_and_dependency_outcomes():
    # Every request ends in one outcome; every API request is throttled at the gateway,
    # throttled by Lambda, or invoked; every invocation got its connection or gave up.
    config = scenario(arrivals={"process": "poisson", "rate": [[0, "200/s"], ["2s", "900/s"],
                                                               ["6s", "200/s"]]},
                      duration="8s", reserved_concurrency=120, uses=["db"],
                      trigger={"integration_timeout": "400ms",
                               "throttle": {"rate": "600/s", "burst": 100},
                               "client_retries": {"max_attempts": 3,
                                                  "retry_on": ["throttle", "error"],
                                                  "base_delay": "50ms", "max_delay": "500ms"}})
    config["functions"]["api"]["duration"] = {"dist": "exponential", "mean": "150ms"}
    config["dependencies"] = {"db": {"type": "pool", "capacity": 60, "acquire_timeout": "80ms"}}
    summary = lambdasim.simulate(config).summary
    block, db = summary["functions"]["api"], summary["dependencies"]["db"]
    door = block["front_door"]
    conserved(block)
    assert block["requests"]["in_flight"] == 0
    assert door["throttled"] > 0 and door["timed_out"] > 0 and db["rejected"] > 0
    assert door["throttled"] <= block["requests"]["throttled"]
    assert door["timed_out"] <= block["requests"]["failed"]
    assert door["api_requests"] == (door["throttled_api_requests"] + block["throttles"]
                                    + block["invocations"])
    assert db["acquired"] + db["rejected"] == block["invocations"]
    assert door["4XXError"] + door["5XXError"] <= door["api_requests"]
