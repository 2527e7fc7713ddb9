"""Documented Lambda rules added after a rule-by-rule check against the AWS documentation.

One test per rule, each citing its AWS page and using the documented figure of its case
(issue 14): the provisioned request rate, the request-rate dimension of the scale-out rate,
Init billing of images and custom runtimes before 2025-08-01, runtime crashes, small accounts,
durations measured at a stated memory, and the arm64 duration factor.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import lambdasim
from lambdasim.engine.function import (COLD, CRASH, ERROR, SUPPRESSED_INIT,
                                THROTTLE_REQUEST_SCALING)
from lambdasim.engine.model import Model
from lambdasim.results.result import build_result

#: us-east-1 x86_64 duration price per GB-s, first tier (https://aws.amazon.com/lambda/pricing/).
X86_GB_S_USD = 0.0000166667


def constant(rate, **extra):
    return {"process": "constant", "rate": rate, **extra}


def one_function(horizon="60s", account=None, **function):
    function.setdefault("triggers", [{"type": "sync", "arrivals": constant("10/s")}])
    function.setdefault("duration", "100ms")
    data = {"duration": horizon, "seed": 3, "functions": {"f": function}}
    if account is not None:
        data["account"] = account
    return lambdasim.load_scenario(data)


# --------------------------------------------------------------------------------------
# 1. Provisioned concurrency serves at most 10 x its allocation in requests per second
# --------------------------------------------------------------------------------------
def pc_rps_case(**account):
    # Case pc_rps_spillover: provisioned concurrency 10, 10 ms handler, 500 requests/s.
    return one_function(
        "60s", account=account or None, memory_mb=1024, duration="10ms", init="500ms",
        provisioned_concurrency=10,
        triggers=[{"type": "sync", "arrivals": constant("500/s")}])


def test_provisioned_concurrency_spills_over_past_ten_times_allocation_per_second():
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html, "Understanding
    # concurrency and requests per second": "a function that has a provisioned concurrency
    # allocation of 10 ... spills over into on-demand concurrency after 10 concurrency or 100
    # requests per second, whichever happens first"; gettingstarted-limits.html: "10 x
    # allocated provisioned concurrency" requests per second per version or alias.
    # 500 req/s at concurrency 5: about 100 req/s on provisioned, about 400 req/s spill over.
    result = lambdasim.simulate(pc_rps_case())
    block = result.summary["functions"]["f"]
    prov = block["provisioned"]
    assert block["requests"]["arrived"] == 30000
    assert block["requests"]["succeeded"] == 30000
    # A bucket of one second (100 requests) that starts full, then 100 per second.
    assert 6000 <= prov["invocations"] <= 6101
    assert prov["spillover_invocations"] == 30000 - prov["invocations"]
    assert abs(prov["spillover_invocations"] - 400 * 60) <= 100
    assert prov["spillover_by_reason"] == {"busy": 0,
                                           "request_rate": prov["spillover_invocations"]}
    assert sum(v for v in result.series["ProvisionedConcurrencySpilloverInvocations"] if v) \
        == prov["spillover_invocations"]
    # Spillover runs on on-demand environments (cold starts possible) and is billed at
    # on-demand rates (https://aws.amazon.com/lambda/pricing/): 10 ms at 1 GB each.
    assert block["cold_starts"] > 0
    expected = prov["spillover_invocations"] * 0.010 * X86_GB_S_USD
    assert block["cost_usd"]["duration"] == pytest.approx(expected, rel=1e-6)


def test_provisioned_request_rate_switches_with_the_request_rate_limit():
    # lambda-concurrency.html: the request-rate limits are one option (on by default);
    # switched off, provisioned environments take every request they have room for.
    result = lambdasim.simulate(pc_rps_case(request_rate_limit={"enabled": False}))
    prov = result.summary["functions"]["f"]["provisioned"]
    assert prov["invocations"] == 30000
    assert prov["spillover_invocations"] == 0
    assert prov["request_rate_limit"] is None


# --------------------------------------------------------------------------------------
# 2. The request-rate dimension of the scale-out rate: 10,000 requests/s every 10 s
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_scale_out_request_rate_dimension_throttles_a_30000_rps_step():
    # https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html: "1,000 execution
    # environment instances every 10 seconds (or 10,000 requests per second every 10 seconds)
    # ... every 10 seconds, Lambda can ... accommodate 10,000 additional requests per second,
    # to each of your functions". Case rps_scaling_rate: account limit 3,000 (30,000 req/s),
    # a 20 ms function jumping from 0 to 30,000 req/s needs only ~600 environments; AWS
    # throttles the excess for the first 10-20 s.
    scenario = one_function(
        "32s", account={"concurrency_limit": 3000}, memory_mb=1024, duration="20ms",
        init="0ms", triggers=[{"type": "sync", "arrivals": constant("30000/s")}])
    model = Model(scenario).run()
    throttles = model.recorders["f"].table("throttles")
    t = throttles["t"]
    assert 150_000 <= np.count_nonzero(t < 30.0) <= 450_000
    assert np.count_nonzero(t >= 30.0) == 0
    assert set(throttles["reason"].astype(int)) == {THROTTLE_REQUEST_SCALING}
    # About 10,000 req/s admitted in the first second, then about 1,000 req/s more each second.
    attempts = model.recorders["f"].table("attempts")
    per_second = np.bincount(attempts["t"].astype(int), minlength=32)
    assert 10_000 <= per_second[0] <= 11_001
    assert np.all(np.diff(per_second[:20]) >= 900)
    assert np.all(per_second[21:31] == 30_000)
    # Not the environment dimension: the function needs about 600 environments.
    created, _ = model.recorders["f"].environments()
    assert len(created) <= 1000


def test_request_rate_dimension_ramp_shape_and_switch():
    # scaling-behavior.html, scaled down: request_burst 100 per 10 s against a step to 300/s
    # admits 100 + about 10 more per second; with the dimension off nothing is throttled.
    def run(request_burst):
        scenario = one_function(
            "25s", account={"scaling": {"burst": 1000, "per": "10s",
                                        "request_burst": request_burst}},
            duration="1ms", init="0ms", triggers=[{"type": "sync", "arrivals": constant("300/s")}])
        return Model(scenario).run()

    model = run(100)
    attempts = model.recorders["f"].table("attempts")
    per_second = np.bincount(attempts["t"].astype(int), minlength=25)
    assert 100 <= per_second[0] <= 111
    assert np.all(np.abs(np.diff(per_second[:20]) - 10) <= 1)
    assert np.all(per_second[21:] == 300)
    throttles = model.recorders["f"].table("throttles")
    assert set(throttles["reason"].astype(int)) == {THROTTLE_REQUEST_SCALING}
    assert len(run(None).recorders["f"].table("throttles")["t"]) == 0


def test_request_rate_granted_lapses_after_ten_quiet_seconds():
    # scaling-behavior.html gives the growth, not how long a granted rate lasts; lambdasim keeps
    # a rate reached within the last 10 s [assumption]: after 15 s of silence the function
    # scales again from the bucket (100 at once), after 5 s it does not.
    def throttled_after(gap_s):
        arrivals = [constant("300/s", end="30s"), constant("300/s", start=f"{30 + gap_s}s")]
        scenario = one_function(
            f"{35 + gap_s}s", account={"scaling": {"burst": 1000, "per": "10s",
                                                   "request_burst": 100}},
            duration="1ms", init="0ms", keep_alive="1h",
            triggers=[{"type": "sync", "arrivals": arrivals}])
        throttles = Model(scenario).run().recorders["f"].table("throttles")
        return int(np.count_nonzero(throttles["t"] >= 30.0))

    assert throttled_after(5) == 0
    assert throttled_after(15) > 100


# --------------------------------------------------------------------------------------
# 5. Init billed for container images and custom runtimes before 2025-08-01
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("package_type, runtime, billed", [
    ("image", "python3.12", True),
    ("zip", "provided.al2023", True),
    ("zip", "python3.12", False),
])
def test_init_billed_before_2025_08_for_images_and_custom_runtimes(package_type, runtime,
                                                                    billed):
    # AWS Compute Blog, "AWS Lambda standardizes billing for INIT Phase" (2025-04-29,
    # https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/):
    # before 2025-08-01 functions using custom runtimes (provided.*) or container images
    # already had their INIT billed; managed-runtime zip functions did not.
    # Case init_billing_image_before_2025: 10 cold starts x 0.8 s x 1 GB x $0.0000166667.
    data = {"duration": "60s", "billing": {"date": "2025-01-01"},
            "functions": {"f": {"memory_mb": 1024, "package_type": package_type,
                                "runtime": runtime, "duration": "100ms", "init": "800ms",
                                "triggers": [{"type": "sync", "arrivals": {
                                    "process": "burst", "count": 10, "at": "0s"}}]}}}
    block = lambdasim.simulate(data).summary["functions"]["f"]
    assert block["cold_starts"] == 10
    expected = 10 * 0.8 * 1.0 * X86_GB_S_USD if billed else 0.0
    assert block["cost_usd"]["init"] == pytest.approx(expected, abs=1e-9)
    if billed:
        assert block["cost_usd"]["init"] == pytest.approx(0.000133, abs=5e-7)


# --------------------------------------------------------------------------------------
# 6. A runtime crash resets the environment; a handled error does not
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("crash_share", [0.0, 0.5, 1.0])
def test_crash_share_of_errors_resets_the_environment(crash_share):
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html: "If the
    # function crashes or times out ... Lambda resets the execution environment"; the next
    # invocation on it runs Init inside its Duration. A handled error keeps it warm.
    # Sequential requests 1 s apart reuse one environment; half of the invocations fail.
    scenario = one_function(
        "400s", memory_mb=1024, duration="100ms", init="300ms", keep_alive="1h",
        max_lifetime="24h", error_rate=0.5, crash_share=crash_share,
        triggers=[{"type": "sync", "arrivals": constant("1/s")}])
    model = Model(scenario).run()
    codes = model.recorders["f"].table("attempts")["code"].astype(int)
    assert len(model.recorders["f"].environments()[0]) == 1
    errors = (codes & ERROR) != 0
    crashes = (codes & CRASH) != 0
    suppressed = (codes & SUPPRESSED_INIT) != 0
    assert 150 <= errors.sum() <= 250
    assert np.all(errors[crashes])
    # The invocation after a crash, and only that one, re-runs Init.
    np.testing.assert_array_equal(suppressed[1:], crashes[:-1])
    assert codes[0] & COLD and not np.any(codes[1:] & COLD)
    if crash_share == 0.0:
        assert crashes.sum() == 0
    elif crash_share == 1.0:
        assert crashes.sum() == errors.sum()
    else:
        assert 0.3 * errors.sum() <= crashes.sum() <= 0.7 * errors.sum()
    block = build_result(model).summary["functions"]["f"]
    assert block["crashes"] == int(crashes.sum())
    assert block["errors"] == int(errors.sum())


def test_crash_share_zero_draws_the_same_numbers():
    # A crash share adds no random draw: the same errors happen with or without crashes.
    def codes(share):
        scenario = one_function("100s", error_rate=0.3, crash_share=share, keep_alive="1h")
        return Model(scenario).run().recorders["f"].table("attempts")["code"].astype(int)

    np.testing.assert_array_equal(codes(0.0) & ERROR, codes(0.7) & ERROR)


# --------------------------------------------------------------------------------------
# 7. Small accounts: a limit at or below 100 leaves nothing to reserve
# --------------------------------------------------------------------------------------
def test_small_account_runs_without_touching_unreserved_minimum():
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: "You can
    # reserve up to the Unreserved account concurrency value that is shown, minus 100"; a new
    # account with a limit of 50 keeps all 50 unreserved and runs as is.
    scenario = one_function("20s", account={"concurrency_limit": 50}, duration="1s",
                            init="0ms", triggers=[{"type": "sync",
                                                   "arrivals": constant("100/s")}])
    block = lambdasim.simulate(scenario).summary["functions"]["f"]
    assert block["concurrency"]["max"] == 50
    assert block["requests"]["throttled"] > 0


@pytest.mark.parametrize("limit", [10, 50, 100])
def test_small_account_cannot_reserve_or_provision(limit):
    # configuration-concurrency.html (reserved: up to the unreserved value minus 100) and
    # provisioned-concurrency.html (provisioned counts against the same pools).
    account = {"concurrency_limit": limit}
    with pytest.raises(lambdasim.ScenarioError,
                       match="allows no reserved or provisioned concurrency"):
        one_function(account=account, reserved_concurrency=1)
    with pytest.raises(lambdasim.ScenarioError,
                       match="allows no reserved or provisioned concurrency"):
        one_function(account=account, provisioned_concurrency=1)
    # Reserved 0 takes no unit: it only switches the function off.
    assert one_function(account=account, reserved_concurrency=0).config[
        "functions"]["f"]["reserved_concurrency"] == 0


def test_account_just_above_the_minimum_reserves_the_difference():
    # configuration-concurrency.html: a 150-unit account can reserve 50, not 51.
    account = {"concurrency_limit": 150}
    assert one_function(account=account, reserved_concurrency=50)
    with pytest.raises(lambdasim.ScenarioError, match="at least 100 must stay unreserved"):
        one_function(account=account, reserved_concurrency=51)


# --------------------------------------------------------------------------------------
# 3. One scenario, one answer: durations are measured at a stated reference_mb
# --------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def test_editing_memory_and_set_give_the_same_duration():
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html: CPU is
    # proportional to memory, so a duration measured at 1024 MB stretches at other sizes;
    # editing memory_mb 1024 -> 2048 in power_tuning.yaml and --set on the original are one
    # intent and must give one answer (duration p50 within 0.1 %).
    original = SCENARIOS / "power_tuning.yaml"
    text = original.read_text(encoding="utf-8")
    assert text.count("memory_mb: 1024") == 1
    edited = lambdasim.load_scenario(
        {**yaml.safe_load(text.replace("memory_mb: 1024", "memory_mb: 2048"))})
    by_edit = lambdasim.simulate(edited).summary["functions"]["image-resize"]
    by_set = lambdasim.simulate(original, overrides={
        "functions.image-resize.memory_mb": 2048}).summary["functions"]["image-resize"]
    at_1024 = lambdasim.simulate(original).summary["functions"]["image-resize"]
    p50 = by_set["duration_ms"]["p50"]
    assert by_edit["duration_ms"]["p50"] == pytest.approx(p50, rel=1e-3)
    # ... and it is really faster than at 1024 MB: 90 % CPU-bound, single-threaded, so the CPU
    # share goes from 1024/1769 to 1 vCPU: 0.1 + 0.9 x 1024/1769.
    factor = 0.1 + 0.9 * 1024 / 1769
    assert p50 == pytest.approx(factor * at_1024["duration_ms"]["p50"], rel=1e-6)
    assert by_edit["duration_basis"]["reference_mb"] == 1024
    assert by_edit["duration_basis"]["memory_factor"] == pytest.approx(factor)


def test_every_shipped_scenario_states_reference_mb():
    # One scenario, one answer: each function of every shipped scenario and template says
    # where its durations were measured (anchored functions inherit it from their anchor).
    for path in sorted(SCENARIOS.glob("*.yaml")) + sorted(SCENARIOS.glob("templates/orders.yaml")):
        scenario = lambdasim.load_scenario(path) if "templates" not in str(path) else None
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, function in raw["functions"].items():
            merged = {**function.get("<<", {}), **function}
            assert "reference_mb" in merged, f"{path.name}: functions.{name}"
        if scenario is not None:
            assert scenario.warnings() == [], path.name


def test_validate_warns_once_about_an_implicit_reference(tmp_path, run_cli):
    # The warning is one line on stderr and not an error (exit 0); stating reference_mb or
    # having no memory_scaling silences it.
    (tmp_path / "implicit.yaml").write_text(
        "duration: 1m\nfunctions:\n  f:\n    memory_mb: 1024\n    duration: 100ms\n"
        "    memory_scaling: {cpu_bound: 0.8}\n"
        "    triggers: [{type: sync, arrivals: {process: poisson, rate: 1/s}}]\n")
    (tmp_path / "stated.yaml").write_text(
        "duration: 1m\nfunctions:\n  f:\n    memory_mb: 1024\n    duration: 100ms\n"
        "    reference_mb: 1024\n    memory_scaling: {cpu_bound: 0.8}\n"
        "    triggers: [{type: sync, arrivals: {process: poisson, rate: 1/s}}]\n")
    proc = run_cli("validate", "implicit.yaml", "stated.yaml")
    assert proc.returncode == 0
    assert proc.stdout.count("ok: ") == 2
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 1
    assert "implicit.yaml:6: functions.f.reference_mb: not stated" in warnings[0]
    assert "1024 MB" in warnings[0]


def test_table_says_where_durations_were_measured():
    from lambdasim.results.table import format_summary_table

    result = lambdasim.simulate(SCENARIOS / "power_tuning.yaml",
                                overrides={"functions.image-resize.memory_mb": 2048})
    rows = {line.split("  ")[0]: line for line in format_summary_table(result).splitlines()}
    assert rows["durations measured at (MB)"].split()[-2:] == ["1,024", "128"]
    assert rows["arm64/x86_64 duration factor"].split()[-2:] == ["1", "1"]


# --------------------------------------------------------------------------------------
# 4. arm64 speed: a measured duration factor, derived by fit, explored by tune
# --------------------------------------------------------------------------------------
ARM64_BLOG = ("https://aws.amazon.com/blogs/aws/aws-lambda-functions-powered-by-aws-graviton2-"
              "processor-run-your-functions-on-arm-and-get-up-to-34-better-price-performance/")


def arm64_case(overrides=None):
    # Case arm64_speed: measured on arm64 at 1024 MB.
    data = {"duration": "2m", "seed": 5, "functions": {"f": {
        "memory_mb": 1024, "architecture": "arm64",
        "duration": {"dist": "lognormal", "median": "120ms", "p99": "900ms"},
        "memory_scaling": {"cpu_bound": 0.8},
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": "20/s"}}]}}}
    return lambdasim.load_scenario(data, overrides)


def test_arm64_duration_factor_changes_duration_not_only_price():
    # AWS News Blog 2021-09-29 (ARM64_BLOG): Graviton2 gives "up to 19 percent better
    # performance at 20 percent lower cost", workload-dependent. Durations measured on arm64
    # with arm64 0.81 x the x86_64 time: the x86_64 run takes 1 / 0.81 as long, on the same
    # random numbers; with the default factor 1.0 only the price differs (x86 25 % dearer).
    arm = lambdasim.simulate(arm64_case({"functions.f.arm64_duration_factor": 0.81}))
    x86 = lambdasim.simulate(arm64_case({"functions.f.arm64_duration_factor": 0.81,
                                         "functions.f.architecture": "x86_64"}))
    a, x = arm.summary["functions"]["f"], x86.summary["functions"]["f"]
    assert x["duration_ms"]["p50"] == pytest.approx(a["duration_ms"]["p50"] / 0.81, rel=1e-6)
    assert x["duration_basis"]["architecture_factor"] == pytest.approx(1 / 0.81)
    assert a["duration_basis"]["architecture_factor"] == 1.0
    same = lambdasim.simulate(arm64_case({"functions.f.architecture": "x86_64"}))
    s = same.summary["functions"]["f"]
    assert s["duration_ms"]["p50"] == a["duration_ms"]["p50"]
    assert s["duration_basis"]["arm64_duration_factor"] == 1.0
    assert s["cost_usd"]["duration"] == pytest.approx(a["cost_usd"]["duration"] * 1.25, rel=1e-3)


def test_fit_derives_the_arm64_factor_from_logs_of_both_architectures(tmp_path, run_cli):
    # ARM64_BLOG: the factor is workload-dependent, so fit measures it from REPORT logs
    # (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html) of both
    # architectures: here arm64 takes 0.85 x the x86_64 time.
    rng = np.random.default_rng(4)
    base = rng.lognormal(np.log(0.1), 0.3, 2000)
    for name, scale in (("x86.log", 1.0), ("arm.log", 0.85)):
        lines = [f"REPORT RequestId: {k:08d}-aaaa-bbbb-cccc-000000000000\tDuration: "
                 f"{1000 * d * scale:.2f} ms\tBilled Duration: {int(1000 * d * scale) + 1} ms\t"
                 f"Memory Size: 1024 MB\tMax Memory Used: 70 MB" for k, d in enumerate(base)]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    proc = run_cli("fit", "x86.log", "--arch", "x86_64", "--other-arch", "arm.log",
                   "--function", "f", "--out", "fit.yaml")
    assert proc.returncode == 0, proc.stderr
    body = yaml.safe_load((tmp_path / "fit.yaml").read_text())["functions"]["f"]
    assert body["reference_mb"] == 1024 and body["memory_mb"] == 1024
    assert body["architecture"] == body["reference_architecture"] == "x86_64"
    assert body["arm64_duration_factor"] == pytest.approx(0.85, abs=0.002)
    assert "arm64/x86_64 duration factor: 0.85" in proc.stdout
    bad = run_cli("fit", "x86.log", "--other-arch", "arm.log")
    assert bad.returncode == 2 and "--arch" in bad.stderr


def test_tune_shows_where_the_architecture_choice_flips():
    # ARM64_BLOG: arm64 is 20 % cheaper per GB-s at equal speed, so the cost choice stays on
    # arm64 while it is less than 1.25 x slower and flips to x86_64 beyond.
    from lambdasim.studies.tune import tune

    scenario = arm64_case({"duration": "1m"})
    report = tune(scenario, "f", [1024], ["x86_64", "arm64"], strategy="cost",
                  arm64_factors=[0.9, 1.2, 1.3, 1.5])
    chosen = {row["arm64_duration_factor"]: row["best"]["architecture"]
              for row in report["architecture_flip"]["factors"]}
    assert chosen == {0.9: "arm64", 1.2: "arm64", 1.3: "x86_64", 1.5: "x86_64"}
    assert report["architecture_flip"]["summary"] == (
        "arm64 at factors 0.9-1.2; x86_64 at factors 1.3-1.5")
    assert report["arm64_duration_factor"] == 1.0


# --------------------------------------------------------------------------------------
# 8. Async backlog drain: an assumption made visible
# --------------------------------------------------------------------------------------
def async_drain_case(**trigger):
    # Case async_backlog_drain: 10,000 events at t = 0, reserved concurrency 10, constant 1 s
    # handler: 10 events per second at full use, an ideal drain of 1,000 s.
    return lambdasim.load_scenario({"duration": "1s", "functions": {"f": {
        "memory_mb": 128, "duration": "1s", "init": "0ms", "timeout": "60s",
        "reserved_concurrency": 10,
        "triggers": [{"type": "async", "arrivals": {"process": "burst", "count": 10000,
                                                    "at": "0s"}, **trigger}]}}})


def test_async_backlog_drain_time_and_idle_share_are_reported():
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html:
    # throttled events are retried with a backoff from 1 s to 5 min, and "if the queue contains
    # many entries, Lambda increases the retry interval and reduces the rate at which it reads
    # events from the queue" -- no drain rate is documented, so lambdasim reports its drain
    # against the ideal and the idle share of the pool while events waited.
    default = lambdasim.simulate(async_drain_case()).summary["functions"]["f"]["async"]
    backlog = default["backlog"]
    assert backlog["pool_limit"] == 10
    assert backlog["ideal_drain_s"] == pytest.approx(1000.0, abs=2.0)
    assert 1300.0 <= backlog["drain_s"] <= 1600.0          # the case: 1,426 s
    assert 0.2 <= backlog["idle_share"] <= 0.4             # the case: about 30 %
    assert backlog["idle_share"] == pytest.approx(
        1.0 - backlog["ideal_drain_s"] / backlog["drain_s"], abs=1e-3)
    # The optimistic bound: a work-conserving line drains in the ideal time, never idle.
    fifo = lambdasim.simulate(async_drain_case(throttle_backoff="none")).summary[
        "functions"]["f"]["async"]["backlog"]
    assert fifo["drain_s"] == pytest.approx(999.0)
    assert fifo["idle_share"] == pytest.approx(0.0, abs=1e-6)
    # The documented slowdown with many entries (figures are the user's): slower still.
    slow = lambdasim.simulate(async_drain_case(
        backlog_slowdown={"entries": 1000, "factor": 2})).summary["functions"]["f"]["async"]
    assert slow["options"]["backlog_slowdown"] == {"entries": 1000, "factor": 2.0}
    assert default["options"]["backlog_slowdown"] is None
    assert slow["backlog"]["drain_s"] > backlog["drain_s"] * 1.1
    assert slow["backlog"]["idle_share"] > backlog["idle_share"]
    assert slow["events_succeeded"] == default["events_succeeded"] == 10000


# --------------------------------------------------------------------------------------
# 9. Every assumption a run used is printed once
# --------------------------------------------------------------------------------------
def test_assumptions_used_are_listed_once():
    # LAMBDA_MODEL.md marks every figure AWS does not publish as an assumption, e.g. the
    # keep-alive ("non-deterministic", https://docs.aws.amazon.com/lambda/latest/dg/
    # lambda-runtime-environment.html). A run lists those it relied on, once each, with the
    # functions they apply to; a stated key is no longer an assumption.
    from lambdasim.results.table import format_summary_table

    result = lambdasim.simulate(SCENARIOS / "power_tuning.yaml", overrides={
        "functions.image-resize.memory_mb": 2048,
        "functions.profile-api.keep_alive": "10m"})
    listed = {a["topic"]: a for a in result.summary["assumptions"]}
    assert listed["keep_alive"]["functions"] == ["image-resize"]
    assert listed["memory_scaling"]["functions"] == ["image-resize"]
    assert set(listed) >= {"max_lifetime", "reuse", "init"}
    assert "async_backlog" not in listed and "provisioned_preparation" not in listed
    table = format_summary_table(result)
    assert table.count("assumptions (AWS publishes no figure") == 1
    assert table.count("- keep_alive: ") == 1
    assert "uniformly from 5-7 min" in table
    # At the memory the durations were measured at, no scaling is assumed.
    plain = lambdasim.simulate(SCENARIOS / "power_tuning.yaml").summary["assumptions"]
    assert "memory_scaling" not in {a["topic"] for a in plain}
    # An asynchronous backlog names its drain assumption, or the FIFO line's poll delay.
    drain = lambdasim.simulate(async_drain_case()).summary["assumptions"]
    assert "async_backlog" in {a["topic"] for a in drain}
    fifo = lambdasim.simulate(async_drain_case(throttle_backoff="none")).summary["assumptions"]
    assert {"async_fifo"} <= {a["topic"] for a in fifo}
    assert "async_backlog" not in {a["topic"] for a in fifo}
