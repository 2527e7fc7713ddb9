"""SnapStart: restore instead of Init, the 10 s restore limit, inactive versions, cost, validation.

Each documented Lambda rule has its test, citing the AWS page it checks:
https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html (supported runtimes, no
provisioned concurrency), snapstart-monitoring.html (Restore Duration, Billed Restore
Duration), snapstart-troubleshooting.html (10 s limit, 14-day inactivity),
https://aws.amazon.com/lambda/pricing/ (SnapStart pricing).
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import lambdasim
from lambdasim import simulate
from lambdasim.engine.billing import load_prices
from lambdasim.engine.function import COLD, RESTORE
from lambdasim.engine.model import Model
from lambdasim.engine.snapstart import SnapStartFunction, snapshot_seconds
from lambdasim.scenario import ScenarioError, load_scenario
from lambdasim.scenario.runtimes import default_restore, snap_start_supported

PRICES = load_prices("us-east-1-2025-08")


def scenario(runtime: str = "python3.12", memory_mb: int = 2048, count: int = 3, **snap) -> dict:
    """``count`` simultaneous requests at t=0: ``count`` new environments."""
    snap_start = {"restore": "200ms", "after_restore": "50ms", **snap}
    return {"duration": "4h", "period": "1h", "seed": 7, "functions": {"f": {
        "runtime": runtime, "memory_mb": memory_mb, "timeout": "30s", "duration": "100ms",
        "init": "5s", "snap_start": snap_start,
        "triggers": [{"type": "sync", "arrivals": {"process": "burst", "count": count,
                                                    "at": "0s"}}]}}}


def test_cold_starts_restore_and_never_run_init():
    # snapstart.html: "Lambda resumes new execution environments from the cached snapshot
    # instead of initializing them from scratch"; snapstart-monitoring.html: the REPORT of a
    # new environment carries Restore Duration, not Init Duration. Init here is 5 s, so a
    # single Init on the request path would show in the latency.
    model = Model(load_scenario(scenario(count=4))).run()
    attempts = model.recorders["f"].table("attempts")
    codes = attempts["code"].astype(int)
    assert np.all(codes & COLD) and np.all(codes & RESTORE)
    assert np.allclose(attempts["init"], 0.25)  # Restore Duration = restore + after_restore
    block = lambdasim.simulate(scenario(count=4)).summary["functions"]["f"]
    assert block["cold_starts"] == 4
    assert block["init_duration_ms"]["max"] is None  # no Init at all
    assert block["latency_ms"]["max"] == pytest.approx(350.0)
    snap = block["snap_start"]
    assert snap["restores"] == 4 and snap["full_inits"] == 0
    assert snap["restore_duration_ms"]["p99"] == pytest.approx(250.0)
    assert snap["billed_restore_duration_ms"]["max"] == pytest.approx(50.0)


def test_python_pays_cache_and_restore_hand_computed():
    # https://aws.amazon.com/lambda/pricing/ (SnapStart): cache $0.0000015046 per GB-s while
    # the snapshot exists, restore $0.0001397998 per GB restored, for Python and .NET.
    block = simulate(scenario("python3.12", memory_mb=2048, count=3)).summary["functions"]["f"]
    cost = block["cost_usd"]
    gb = 2048 / 1024
    cache = 4 * 3600 * gb * 0.0000015046  # cached through the whole 4 h window
    restore = 3 * gb * 0.0001397998
    assert cost["snap_start_cache"] == pytest.approx(cache, abs=1e-9)
    assert cost["snap_start_restore"] == pytest.approx(restore, abs=1e-9)
    # Billed Duration = ceil_ms(Duration + Billed Restore Duration): 100 + 50 ms, the 50 ms
    # in the init item (snapstart-monitoring.html).
    price = 0.0000166667
    assert cost["duration"] == pytest.approx(3 * 0.100 * gb * price, abs=1e-9)
    assert cost["init"] == pytest.approx(3 * 0.050 * gb * price, abs=1e-9)
    items = [k for k in cost if k not in ("total", "per_30_days")]
    assert cost["total"] == pytest.approx(sum(cost[k] for k in items), abs=5e-9)
    assert block["snap_start"]["runtime_pays_snap_start"] is True
    # The month projection caches the snapshot for all 30 days.
    assert cost["per_30_days"]["snap_start_cache"] == pytest.approx(
        30 * 86400 * gb * 0.0000015046, abs=1e-9)


@pytest.mark.parametrize("runtime", ["java21", "java11"])
def test_java_pays_no_snapstart_items(runtime):
    # "SnapStart pricing does not apply to supported Java managed runtimes" (pricing page).
    summary = simulate(scenario(runtime, count=3)).summary
    cost = summary["functions"]["f"]["cost_usd"]
    assert cost["snap_start_cache"] == 0.0 and cost["snap_start_restore"] == 0.0
    assert cost["per_30_days"]["snap_start_cache"] == 0.0
    assert summary["functions"]["f"]["snap_start"]["restores"] == 3
    # The Billed Restore Duration is billed at the duration rate all the same.
    assert cost["init"] == pytest.approx(3 * 0.050 * 2 * 0.0000166667, abs=1e-9)


def test_every_cost_block_carries_the_snapstart_items_zero_where_they_do_not_apply():
    data = scenario("python3.12")
    data["functions"]["g"] = {"duration": "10ms", "triggers": [
        {"type": "sync", "arrivals": {"process": "constant", "rate": 1}}]}
    summary = simulate(data).summary
    for block in (summary["functions"]["g"]["cost_usd"], summary["account"]["cost_usd"],
                  summary["account"]["cost_usd"]["per_30_days"]):
        assert "snap_start_cache" in block and "snap_start_restore" in block
    assert summary["functions"]["g"]["cost_usd"]["snap_start_cache"] == 0.0
    assert "snap_start" not in summary["functions"]["g"]
    account = summary["account"]["cost_usd"]
    assert account["snap_start_cache"] == pytest.approx(
        summary["functions"]["f"]["cost_usd"]["snap_start_cache"], abs=1e-9)


def test_restore_longer_than_10_seconds_fails_with_a_timeout():
    # snapstart-troubleshooting.html: "If an after-restore runtime hook runs for longer than
    # 10 seconds, the Restore phase times out" (SnapStartTimeoutException).
    data = scenario("java21", count=2, restore="1s", after_restore="12s")
    block = simulate(data).summary["functions"]["f"]
    assert block["requests"]["failed"] == 2 and block["errors"] == 2
    assert block["latency_ms"]["max"] == pytest.approx(10_000.0)
    assert block["snap_start"]["restore_timeouts"] == 2
    # Billed: the after-restore part inside the limit, 9 s [assumption].
    assert block["snap_start"]["billed_restore_duration_ms"]["max"] == pytest.approx(9000.0)


def test_a_14_day_idle_gap_brings_back_a_full_init():
    # snapstart-troubleshooting.html (SnapStartNotReadyException): a version "becomes Inactive
    # when it hasn't been invoked for 14 days"; its snapshot is gone and the next call
    # initializes it again. 13 days of quiet keep the snapshot; 15 more days lose it.
    data = {"duration": "30d", "period": "1d", "seed": 1, "functions": {"f": {
        "runtime": "python3.12", "memory_mb": 1024, "duration": "100ms", "init": "2s",
        "snap_start": {"restore": "200ms", "after_restore": "50ms"},
        "triggers": [{"type": "sync", "arrivals": [
            {"process": "burst", "count": 1, "at": "0s"},
            {"process": "burst", "count": 1, "at": "13d"},
            {"process": "burst", "count": 1, "at": "28d"}]}]}}}
    summary = simulate(data).summary["functions"]["f"]
    snap = summary["snap_start"]
    assert snap["restores"] == 2 and snap["full_inits"] == 1
    assert summary["cold_starts"] == 3
    assert summary["init_duration_ms"]["max"] == pytest.approx(2000.0)
    assert summary["latency_ms"]["max"] == pytest.approx(2100.0)
    assert snap["snapshots_created"] == 2
    # Cached from 0 to 13 d + 14 d, then again from the re-Init at 28 d to the end (30 d).
    assert snap["snapshot_cached_s"] == pytest.approx((27 + 2) * 86400.0)
    assert summary["cost_usd"]["snap_start_cache"] == pytest.approx(
        29 * 86400 * 1.0 * 0.0000015046, abs=1e-9)


def test_snapshot_seconds_minimum_three_hours_per_snapshot():
    # Pricing page: the cache is billed for a minimum of 3 hours per snapshot.
    assert snapshot_seconds([0.0, 100.0], [50.0], 100.0, 1e9, 0.0, 1e6, 1e6, 10800.0) == \
        pytest.approx(10800.0 + (1e6 - 100.0))
    # A snapshot still alive at the end of the run is billed for the time it existed.
    assert snapshot_seconds([0.0], [], 0.0, 1e9, 0.0, 600.0, 600.0, 10800.0) == 600.0


def test_snapstart_with_provisioned_concurrency_exits_2(run_cli, tmp_path):
    # snapstart.html: "SnapStart does not support provisioned concurrency".
    data = scenario("java21")
    data["functions"]["f"]["provisioned_concurrency"] = 5
    path = tmp_path / "snap.yaml"
    path.write_text(json.dumps(data))
    done = run_cli("validate", path)
    assert done.returncode == 2
    assert "functions.f.snap_start" in done.stderr and "provisioned" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli(path, "--out", tmp_path / "out")
    assert done.returncode == 2 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("runtime", ["nodejs20.x", "python3.11", "java8.al2", "dotnet6",
                                     "provided.al2023", "ruby3.3"])
def test_unsupported_runtimes_are_rejected_naming_the_key(runtime):
    # snapstart.html: Java 11+, Python 3.12+ and .NET 8+ managed runtimes only.
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario(runtime))
    assert err.value.key == "functions.f.snap_start"
    assert "Java 11+, Python 3.12+ and .NET 8+" in str(err.value)


def test_supported_runtimes_and_other_limits():
    for runtime in ("java11", "java17", "java21", "python3.12", "python3.13", "dotnet8"):
        assert snap_start_supported(runtime) is None
    assert "container images" in snap_start_supported("java21", "image")
    data = scenario("java21")
    data["functions"]["f"]["ephemeral_storage_mb"] = 1024
    with pytest.raises(ScenarioError, match="512 MB"):
        load_scenario(data)


def test_shorthand_true_fills_the_runtime_defaults_and_round_trips():
    data = scenario("java21")
    data["functions"]["f"]["snap_start"] = True
    config = load_scenario(data).config
    snap = config["functions"]["f"]["snap_start"]
    restore, after = default_restore("java21")
    assert snap == {"enabled": True, "restore": restore, "after_restore": after,
                    "inactive_after": 14 * 86400.0}
    assert load_scenario(config).config == config
    off = copy.deepcopy(data)
    off["functions"]["f"]["snap_start"] = False
    model = Model(load_scenario(off))
    assert not isinstance(model.functions["f"], SnapStartFunction)


def test_default_java_restore_matches_the_dated_measurement():
    # lambda-perf 2023-04-21: java11 SnapStart hello world, Restore Duration 123-228 ms,
    # mean 174 ms [measured]; the default restore + after_restore medians sum to 175 ms.
    data = scenario("java21", count=400)
    data["functions"]["f"]["snap_start"] = True
    block = simulate(data).summary["functions"]["f"]["snap_start"]
    assert 140.0 < block["restore_duration_ms"]["p50"] < 210.0


def test_conservation_and_determinism_with_snapstart():
    data = scenario("dotnet8", count=50)
    data["functions"]["f"]["triggers"].append(
        {"type": "sync", "arrivals": {"process": "poisson", "rate": "2/s"}})
    first = simulate(data).summary
    second = simulate(data).summary
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    r = first["functions"]["f"]["requests"]
    assert r["arrived"] == r["succeeded"] + r["failed"] + r["throttled"] + r["dropped"] + r["in_flight"]


def test_report_lines_carry_restore_duration_not_init_duration(tmp_path):
    # snapstart-monitoring.html: "the REPORT doesn't include the Init Duration field ... the
    # REPORT includes the Restore Duration and Billed Restore Duration fields"; Billed
    # Duration = ceil_ms(Duration + Billed Restore Duration).
    result = simulate(scenario("java21", count=2), records=True)
    lines = list(result.records.report_lines("f"))
    assert len(lines) == 2
    for line in lines:
        fields = dict(part.split(": ", 1) for part in line.split(" ", 1)[1].strip().split("\t"))
        assert "Init Duration" not in fields
        assert fields["Restore Duration"] == "250.00 ms"
        assert fields["Billed Restore Duration"] == "50 ms"
        assert fields["Duration"] == "100.00 ms" and fields["Billed Duration"] == "150 ms"
        assert fields["Memory Size"] == "2048 MB"
    folder = tmp_path / "out"
    from lambdasim.results.folder import write_results
    write_results(result, folder, plots=False)
    import gzip
    text = gzip.open(folder / "report-f.log.gz", "rt").read()
    assert text.count("Restore Duration: 250.00 ms") == 2
