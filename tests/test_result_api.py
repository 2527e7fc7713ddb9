"""The Python API a notebook uses: load_scenario, simulate, Result and its views."""
from __future__ import annotations

import numpy as np
import pytest

import lambdasim
from lambdasim.results.result import ACCOUNT_ROW, RECORD_COLUMNS, SERIES_COLUMNS

SCENARIO = {
    "name": "api",
    "duration": "2m",
    "warmup": "10s",
    "functions": {
        "checkout": {
            "memory_mb": 512,
            "reserved_concurrency": 3,
            "duration": {"dist": "lognormal", "median": "80ms", "p99": "400ms"},
            "triggers": [{"type": "sync", "name": "api",
                          "arrivals": {"process": "poisson", "rate": "40/s"},
                          "client_retries": {"max_attempts": 2}}],
        },
        "search": {"duration": "20ms",
                   "triggers": [{"type": "sync",
                                 "arrivals": {"process": "constant", "rate": "5/s"}}]},
    },
}


@pytest.fixture(scope="module")
def result():
    return lambdasim.simulate(SCENARIO, records=True)


def test_function_view_reads_the_summary(result):
    view = result.function("checkout")
    assert view.latency_ms["p99"] == result.summary["functions"]["checkout"]["latency_ms"]["p99"]
    assert view["invocations"] == view.invocations
    assert view.as_dict() == result.summary["functions"]["checkout"]
    assert result.functions == ["checkout", "search"]
    with pytest.raises(AttributeError, match="no 'latency'"):
        view.latency
    with pytest.raises(KeyError, match="functions: checkout, search"):
        result.function("missing")
    assert "api" in repr(result)


def test_series_columns_and_rows(result):
    series = result.series
    assert tuple(series) == SERIES_COLUMNS
    lengths = {len(column) for column in series.values()}
    assert len(lengths) == 1
    accounts = [i for i, name in enumerate(series["function"]) if name == ACCOUNT_ROW]
    # Two function rows and one account row per period.
    assert len(accounts) * 3 == len(series["function"])
    for i in accounts:
        assert series["Invocations"][i] == series["Invocations"][i - 2] + series["Invocations"][i - 1]
        assert series["ClaimedAccountConcurrency"][i] == 3 + series["UnreservedConcurrentExecutions"][i]
        assert series["ConcurrentExecutions"][i - 2] <= 3


def test_columns_no_function_fills_are_none_in_every_row(result):
    from lambdasim.results.result import EXTRA_COLUMNS

    series = result.series
    for column in EXTRA_COLUMNS:  # sync functions only: no trigger-specific column
        assert series[column] == [None] * len(series["function"])
        assert series[column] is not series[EXTRA_COLUMNS[0]] or column == EXTRA_COLUMNS[0]
    starts = series["period_start_s"]
    assert starts == sorted(starts) and starts[0] == 0.0 and starts[3] == 60.0


def test_the_summary_config_is_a_deep_copy_whatever_it_holds(result):
    # The resolved config is copied into the summary through marshal (plain data), or
    # through pickle when it holds anything marshal does not write.
    from collections import OrderedDict

    from lambdasim.scenario.loader import plain_copy

    config = result.summary["config"]
    assert config is not result.scenario.config
    assert config["functions"] == result.scenario.config["functions"]
    assert config["functions"]["checkout"] is not result.scenario.config["functions"]["checkout"]
    plain = {"a": [1, 2.5, None, True, "é", {"b": (3, [4])}], "n": 10**30, "nan": float("nan")}

    class Opaque:  # neither marshal nor pickle takes a local class: copy.deepcopy does
        pass

    for data in (plain, {**plain, "odd": OrderedDict(c=np.float64(0.1))},
                 {**plain, "odd": Opaque()}):
        copy = plain_copy(data)
        assert type(copy.get("odd")) is type(data.get("odd"))
        if not isinstance(data.get("odd"), Opaque):
            assert repr(copy) == repr(data)
        copy["a"][5]["b"][1].append(5)
        copy["a"].append(0)
        assert data["a"] == [1, 2.5, None, True, "é", {"b": (3, [4])}]


def test_records_match_the_summary(result):
    records = result.records
    columns = records.columns()
    assert tuple(columns) == RECORD_COLUMNS
    assert len(records) == len(columns["request"])
    checkout = columns["function"] == "checkout"
    in_window = checkout & (columns["arrived_s"] >= 10.0) & (columns["arrived_s"] < 120.0)
    block = result.summary["functions"]["checkout"]["requests"]
    assert int(np.count_nonzero(in_window & (columns["outcome"] == "throttled"))) == block["throttled"]
    assert int(np.count_nonzero(in_window)) == block["arrived"] - block["in_flight"]
    assert set(columns["trigger"][checkout]) == {"api"}
    throttled = columns["outcome"] == "throttled"
    assert np.isnan(columns["latency_ms"][throttled]).all()
    assert (columns["attempts"][checkout] >= 1).all() and (columns["attempts"] <= 2).all()
    chunked = list(records.chunks(size=100))
    assert sum(len(chunk["request"]) for chunk in chunked) == len(records)


def test_records_are_absent_unless_asked_for():
    result = lambdasim.simulate(SCENARIO)
    assert result.records is None
    with pytest.raises(ValueError, match="records=True"):
        result.records_to_pandas()


def test_overrides_and_seed_through_simulate():
    scenario = lambdasim.load_scenario(SCENARIO)
    bigger = lambdasim.simulate(scenario, overrides={"functions.checkout.reserved_concurrency": 30})
    assert bigger.summary["config"]["functions"]["checkout"]["reserved_concurrency"] == 30
    assert bigger.function("checkout").throttles < lambdasim.simulate(scenario).function(
        "checkout").throttles
    assert lambdasim.simulate(scenario, seed=5).summary["seed"] == 5


def test_a_window_that_holds_every_row_is_a_slice_else_the_mask():
    from lambdasim.results.function_block import EVERY, window

    assert window(np.empty(0), 0.0, 10.0) is EVERY
    inside = np.array([3.0, 0.0, 9.5])
    assert window(inside, 0.0, 10.0) is EVERY
    np.testing.assert_array_equal(inside[window(inside, 0.0, 10.0)], inside)
    for times in (np.array([3.0, 10.0, 1.0]), np.array([-1.0, 2.0]),
                  np.array([1.0, np.nan, 2.0])):
        mask = window(times, 0.0, 10.0)
        assert mask is not EVERY
        np.testing.assert_array_equal(mask, (times >= 0.0) & (times < 10.0))


def test_simulate_leaves_the_garbage_collector_as_it_was():
    # Loading and building pause the cyclic collector (nothing to collect); it must be back
    # as the caller had it, after a run and after a scenario that fails to load.
    import gc

    from lambdasim.scenario import ScenarioError

    good = {"name": "gc", "duration": 30, "functions": {"f": {"duration": "50ms", "triggers": [
        {"type": "sync", "arrivals": {"process": "poisson", "rate": 1}}]}}}
    bad = {"name": "gc", "duration": 30, "functions": {"f": {"duration": "50ms",
                                                           "memory_mb": "lots"}}}
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            lambdasim.simulate(good)
            assert gc.isenabled() is enabled
            with pytest.raises(ScenarioError):
                lambdasim.simulate(bad)
            assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
