"""The hot path's shape, as exact numbers (SimPy's own benchmarks assert event counts so).

How many SimPy events a run takes per request is the figure that says whether the hot path
got heavier; it is deterministic, so it is asserted exactly. Time is never asserted here
(benchmarks/throughput.py prints it).
"""
from __future__ import annotations

import json
import math
import random
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import simpy

import lambdasim
from lambdasim.engine.function import (CRASH, SUPPRESSED_INIT, THROTTLE_CONCURRENCY,
                                       THROTTLE_RATE, THROTTLE_REQUEST_SCALING,
                                       THROTTLE_SCALING, TIMEOUT)
from lambdasim.engine.events import NORMAL, URGENT, Wakeup
from lambdasim.engine.loop import Simulation
from lambdasim.engine.metrics import period_time_stats_ms, round6
from lambdasim.engine.model import Model
from lambdasim.engine.rng import BLOCK_SIZE, BlockSampler
from lambdasim.results.result import build_result
from lambdasim.results.timeline import build_timeline
from lambdasim.scenario.distributions import make_distribution

ROOT = Path(__file__).resolve().parent.parent

#: 10,039 sync requests to one function over 10 minutes, with a lull in the middle long
#: enough for idle environments to be reclaimed (60 s keep-alive), so cold starts, warm
#: reuse and keep-alive timers all happen.
COUNTED = {
    "name": "count", "duration": 600, "seed": 3,
    "functions": {"api": {
        "duration": {"dist": "exponential", "mean": "200ms"}, "init": "500ms",
        "keep_alive": "60s",
        "triggers": [{"type": "sync", "arrivals": {
            "process": "poisson", "rate": [[0, 20], [300, 0.02], [400, 20]]}}],
    }},
}


def test_simpy_events_per_request_exactly():
    model = Model(lambdasim.load_scenario(COUNTED)).run()
    block = build_result(model).summary["functions"]["api"]
    requests = block["requests"]["arrived"]
    assert (requests, block["invocations"], block["cold_starts"]) == (10039, 10039, 30)
    # Arrivals are merged into the run loop (no event); one event per invocation end and
    # 126 keep-alive timer firings.
    assert model.events == 10039 + 126


# -- the fast path is the general path ------------------------------------------------------

def _run(data_or_path, general: bool, overrides=None):
    scenario = lambdasim.load_scenario(data_or_path, overrides)
    model = Model(scenario, general=general).run()
    result = build_result(model, records=True)
    columns = result.records.columns()
    # JSON keeps NaN latencies (throttled requests) comparable.
    return model, result, json.dumps({key: np.asarray(value).tolist()
                                      for key, value in columns.items()})


def _same_run(data_or_path, overrides=None, expect_specialised=True):
    fast_model, fast, fast_records = _run(data_or_path, False, overrides)
    general_model, general, general_records = _run(data_or_path, True, overrides)
    assert general_model.specialised == []
    if expect_specialised is not None:
        assert bool(fast_model.specialised) == expect_specialised
    assert json.dumps(fast.summary) == json.dumps(general.summary)
    assert json.dumps(fast.series) == json.dumps(general.series)
    assert fast_model.events == general_model.events
    assert fast_records == general_records  # the same rows in the same order
    return fast_model, fast


#: Functions that exercise every branch of the fast path: throttles on each limit, cold
#: starts with Init over 10 s, timeouts and the suppressed Init after them, handled errors,
#: retirement past max_lifetime, keep-alive reclaim of thousands of idle environments
#: (compaction of the warm pool), a warm-up window.
BRANCHES = {
    "name": "branches", "duration": 900, "warmup": 60, "seed": 5,
    "account": {"concurrency_limit": 3000,
                "scaling": {"burst": 400, "per": "10s", "request_burst": 300},
                "request_rate_limit": {"per_concurrency": 1}},
    "functions": {
        "bursty": {
            "timeout": "2s", "error_rate": 0.05, "crash_share": 0.3,
            "reserved_concurrency": 1500,
            "duration": {"dist": "lognormal", "median": "300ms", "p99": "3s"},
            "init": {"dist": "uniform", "low": "1s", "high": "14s"},
            "keep_alive": {"dist": "uniform", "low": "20s", "high": "40s"},
            "max_lifetime": {"dist": "uniform", "low": "2m", "high": "5m"},
            "triggers": [{"type": "sync", "arrivals": [
                {"process": "poisson", "rate": [[0, 50], [200, 1400], [260, 5], [500, 900],
                                                [560, 0.5]]},
                {"process": "burst", "count": 2500, "at": 600}]}],
        },
        "steady": {
            "duration": {"dist": "exponential", "mean": "100ms"}, "init": "200ms",
            "keep_alive": "30s",
            "triggers": [{"type": "sync", "arrivals": [
                {"process": "constant", "rate": 20},
                {"process": "burst", "count": 4000, "at": 450}]}],
        },
    },
}


def test_the_fast_path_is_the_general_path_on_every_branch():
    model, result = _same_run(BRANCHES)
    assert sorted(model.specialised) == ["bursty", "steady"]
    bursty = result.summary["functions"]["bursty"]
    assert bursty["errors"] > 0 and bursty["cold_starts"] > 100
    assert bursty["requests"]["failed"] > 0
    codes = model.recorders["bursty"].table("attempts")["code"].astype(int)
    assert (codes & TIMEOUT).any() and (codes & SUPPRESSED_INIT).any()
    created, ended = model.recorders["bursty"].environments()
    assert ((ended - created) > 120.0).sum() > 100  # retired past max_lifetime (2-5 min)
    # Every throttle reason, on both request-rate paths (the account's bucket inlined for
    # "steady"; the account's and the reservation's, called, for "bursty").
    def reasons(name):
        return set(model.recorders[name].table("throttles")["reason"].astype(int).tolist())

    every = {THROTTLE_RATE, THROTTLE_CONCURRENCY, THROTTLE_REQUEST_SCALING, THROTTLE_SCALING}
    assert reasons("bursty") == every
    assert reasons("steady") >= {THROTTLE_RATE, THROTTLE_REQUEST_SCALING}
    assert (codes & CRASH).any()


@pytest.mark.parametrize("name", ["launch_provisioned", "reserved_cap", "steady_warm",
                                  "trace_replay", "power_tuning", "rare_function"])
def test_the_fast_path_is_the_general_path_on_the_shipped_scenarios(name):
    overrides = {"duration": "20m"} if name == "launch_provisioned" else None
    _same_run(ROOT / "scenarios" / f"{name}.yaml", overrides)


@pytest.mark.parametrize("name", ["api_gateway_peak", "database_bottleneck"])
def test_front_doors_and_dependencies_keep_the_run(name):
    # Functions behind a front door or using shared dependencies keep the general path;
    # the others of the scenario may be specialised, and the run is the same either way.
    model, _ = _same_run(ROOT / "scenarios" / f"{name}.yaml", {"duration": "3m"},
                         expect_specialised=None)
    config = model.scenario.config["functions"]
    for function in model.specialised:
        assert not config[function]["uses"]
        assert all(t["source"] == "direct" for t in config[function]["triggers"])


#: The request-rate dimension of the scale-out rate with a small burst (400), deferred on the
#: fast path (RequestScaling.defer): scale-out throttles undo admissions while it is deferred
#: (a burst of 30 at one instant with 3 scale-out tokens), the 400th admission falls inside a
#: burst of 400 simultaneous requests, and the rule throttles later (a jump to 1,500/s).
DEFERRED = {
    "name": "deferred", "duration": 120, "seed": 11,
    "account": {"scaling": {"burst": 3, "per": "10s", "request_burst": 400}},
    "functions": {"f": {
        "duration": {"dist": "exponential", "mean": "5ms"}, "init": "300ms",
        "keep_alive": "20s",
        "triggers": [{"type": "sync", "arrivals": [
            {"process": "burst", "count": 30, "at": 1},
            {"process": "poisson", "rate": [[0, 5], [60, 1500], [63, 5]]},
            {"process": "burst", "count": 400, "at": 20}]}],
    }},
}


def test_the_deferred_request_rate_scaling_is_the_exact_rule():
    # https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html: "10,000 requests
    # per second every 10 seconds" per function. The fast path skips its bookkeeping for the
    # first `request_burst` admissions (none can be throttled) and replays them when a
    # function gets that far; the run is the general path's, row for row.
    model, result = _same_run(DEFERRED)
    assert model.specialised == ["f"]
    throttles = model.recorders["f"].table("throttles")
    reasons = throttles["reason"].astype(int)
    scaling_at = throttles["t"][reasons == THROTTLE_SCALING]
    assert (scaling_at == 1.0).sum() == 27 and (scaling_at == 20.0).any()
    assert (reasons == THROTTLE_REQUEST_SCALING).sum() > 100
    assert model.functions["f"].request_scaling._deferred is None  # replayed


@pytest.mark.parametrize("seed", range(20))
def test_deferred_request_scaling_decides_as_the_exact_rule(seed):
    # The same admissions through a deferred and an exact RequestScaling, as the fast path
    # drives them (a decrement while there is room, admit() past it, unadmit() when a later
    # limit throttles): ties, quiet spells, jumps; the same decisions and the same state.
    from array import array

    from lambdasim.engine.account import RequestScaling

    rng = random.Random(seed)
    burst = rng.choice([1, 2, 7, 40])
    exact, deferred = RequestScaling(burst, 100.0), RequestScaling(burst, 100.0)
    rows = array("d")
    deferred.defer(lambda: np.frombuffer(rows, dtype=np.float64), lambda: len(rows))
    now = 0.0
    decisions = {id(exact): [], id(deferred): []}
    times = []
    for _ in range(150):  # groups of simultaneous requests, a gap between them
        now += rng.choice([0.01, 0.3, 1.0, 2.5, 13.0])
        times += [now] * rng.choice([1, 1, 2, 3, 12, 30])
    for now in times:
        undo = rng.random() < 0.2
        for scaling in (exact, deferred):
            room = scaling.room
            if room > 0 and now < scaling.bin_end:
                scaling.room = room - 1
                admitted = True
            else:
                admitted = scaling.admit(now)
            decisions[id(scaling)].append(admitted)
            if admitted and undo:
                scaling.unadmit(now)
            elif admitted and scaling is deferred:
                rows.append(now)
    assert decisions[id(exact)] == decisions[id(deferred)]
    assert not all(decisions[id(exact)])  # the rule throttled some
    assert deferred._deferred is None
    for slot in ("tokens", "refilled_at", "bin_start", "bin_end", "room", "level", "ring"):
        assert getattr(exact, slot) == getattr(deferred, slot), slot


def test_functions_off_the_common_configuration_keep_the_general_path():
    data = json.loads(json.dumps(BRANCHES))
    data["functions"]["bursty"]["reuse"] = "lru"
    data["functions"]["steady"]["triggers"][0]["client_retries"] = {"max_attempts": 2}
    model = Model(lambdasim.load_scenario(data))
    assert model.specialised == []


# -- the run loop: arrivals merged in, SimPy unchanged ------------------------------------

def _world(sim, log, arrival_specs, seed):
    """A small world with ties everywhere: integer times, URGENT and NORMAL wake-ups
    scheduled by arrivals, a SimPy process with timeouts, an event it waits for."""
    rng = random.Random(seed)
    signal = sim.event()

    def on_wakeup(event):
        log.append(("wakeup", event._value, sim.now))
        if event._value == "urgent" and not signal.triggered and sim.now >= 3:
            signal.succeed()

    def arrival(spec):
        def handler(now):
            log.append(("arrival", spec, now))
            for _ in range(rng.randrange(3)):
                priority = rng.choice((URGENT, NORMAL))
                Wakeup(sim, float(rng.randrange(3)),
                       "urgent" if priority == URGENT else "normal", on_wakeup, priority)
        return handler

    def process():
        for _ in range(6):
            yield sim.timeout(rng.randrange(3))
            log.append(("process", None, sim.now))
        yield signal
        log.append(("signalled", None, sim.now))

    sim.process(process())
    Wakeup(sim, 2.0, "early", on_wakeup)
    return [arrival(index) for index in range(arrival_specs)]


def _arrival_times(seed, spec):
    rng = random.Random(1000 * seed + spec)
    return np.array(sorted(float(rng.randrange(12)) for _ in range(rng.randrange(1, 25))))


def _reference_log(seed, drive):
    """The same world on plain SimPy, each arrival an event of its own (the old way)."""
    sim, log = simpy.Environment(), []
    [handler] = _world(sim, log, 1, seed)
    times = _arrival_times(seed, 0)[::-1].tolist()

    def fire(event):
        if times:
            Wakeup(sim, max(0.0, times.pop() - sim.now), None, fire)
        handler(sim.now)

    Wakeup(sim, times.pop(), None, fire)
    drive(sim)
    return log


def _merged_log(seed, drive, specs=1):
    sim, log = Simulation(), []
    handlers = _world(sim, log, specs, seed)
    for spec, handler in enumerate(handlers):
        times = _arrival_times(seed, spec)
        sim.add_arrivals(iter([times[:5], times[5:]]), handler)
    drive(sim)
    return sim, log


def _run_all(sim):
    sim.run()


def _run_in_slices(sim):
    for until in (0.5, 2.0, 2.0000001, 7.0, 20.0):
        sim.run(until=until)
    while sim.peek() < float("inf"):
        sim.step()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("drive", [_run_all, _run_in_slices])
def test_merged_arrivals_keep_the_order_of_arrivals_as_events(seed, drive):
    reference = _reference_log(seed, drive)
    sim, merged = _merged_log(seed, drive)
    assert merged == reference
    assert any(kind == "arrival" for kind, _, _ in merged)
    assert sim.arrivals_taken == len(_arrival_times(seed, 0))


def test_arrivals_of_several_specs_at_one_instant_go_in_spec_order():
    sim, log = Simulation(), []
    for spec in range(3):
        sim.add_arrivals(iter([np.array([1.0, 2.0]), np.array([2.0, 5.0])]),
                         lambda now, spec=spec: log.append((now, spec)))
    sim.run()
    assert log == [(1.0, 0), (1.0, 1), (1.0, 2), (2.0, 0), (2.0, 0), (2.0, 1), (2.0, 1),
                   (2.0, 2), (2.0, 2), (5.0, 0), (5.0, 1), (5.0, 2)]


@pytest.mark.parametrize("seed", range(6))
def test_many_specs_merge_in_small_chunks_in_time_then_spec_order(monkeypatch, seed):
    # Chunks far smaller than the specs' blocks, blocks of every size (empty ones too), runs
    # of equal times across block ends: every arrival once, ordered by (time, spec).
    import lambdasim.engine.loop as loop

    monkeypatch.setattr(loop, "CHUNK", 16)
    rng = random.Random(seed)
    sim, log, want = Simulation(), [], []
    for spec in range(rng.choice([2, 5, 40])):
        times = sorted(float(rng.randrange(60)) for _ in range(rng.randrange(0, 80)))
        cuts = sorted(rng.randrange(len(times) + 1) for _ in range(rng.randrange(4)))
        blocks = [np.array(times[a:b]) for a, b in zip([0] + cuts, cuts + [len(times)])]
        sim.add_arrivals(iter(blocks), lambda now, spec=spec: log.append((now, spec)))
        want += [(t, spec) for t in times]
    sim.run()
    assert log == sorted(want)


def test_an_invocation_ending_at_t_frees_its_unit_for_an_arrival_at_t():
    # Reserved concurrency 1, each invocation exactly as long as the gap between requests:
    # the end at t releases before the arrival at t is admitted, so nothing is throttled.
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    data = {"name": "tie", "duration": 60, "seed": 1, "functions": {"one": {
        "reserved_concurrency": 1, "duration": "250ms", "init": "250ms", "keep_alive": "10m",
        "triggers": [{"type": "sync", "arrivals": {"process": "constant", "rate": 2}}]}}}
    result = lambdasim.simulate(data)
    block = result.summary["functions"]["one"]
    assert block["throttles"] == 0 and block["requests"]["succeeded"] == 120


# -- thousands of functions: memory and statistics that do not grow per function --------------

@pytest.mark.parametrize("spec", [
    {"dist": "exponential", "mean": 0.2}, {"dist": "uniform", "low": 1, "high": 3},
    {"dist": "normal", "mean": 0.1, "sd": 0.2}, {"dist": "lognormal", "mu": -1.0, "sigma": 0.5},
    {"dist": "gamma", "shape": 0.7, "scale": 0.3}, {"dist": "weibull", "shape": 1.5, "scale": 0.3},
    {"dist": "empirical", "values": [0.1, 0.2, 0.5, 0.9, 1.3]}])
def test_growing_draw_blocks_give_the_same_stream(spec):
    # Blocks start small and double (a quiet function holds a few dozen draws, not 4,096);
    # the values must not depend on the block sizes, or runs would change with them.
    distribution = make_distribution(spec)
    sampler = BlockSampler(partial(distribution.sample, np.random.default_rng(7)))
    grown = [sampler() for _ in range(3 * BLOCK_SIZE + 5)]
    whole = distribution.sample(np.random.default_rng(7), 3 * BLOCK_SIZE + 5).tolist()
    assert grown == whole
    assert len(sampler._buffer) < BLOCK_SIZE


def test_per_period_statistics_equal_numpy_per_period():
    rng = np.random.default_rng(5)
    for trial in range(60):
        counts = rng.poisson(rng.choice([0.5, 3, 8, 40, 400]), size=rng.integers(1, 60))
        values = rng.lognormal(-1.5, 1.0, counts.sum())
        if trial % 3 == 0:
            values = np.round(values, 2)  # ties
        bounds = np.concatenate([[0], np.cumsum(counts)])
        got = period_time_stats_ms(values, bounds)
        for k, count in enumerate(counts):
            sample = values[bounds[k]:bounds[k + 1]]
            if not count:
                assert got[k] == (None,) * 5
                continue
            quantiles = np.percentile(sample, [50.0, 90.0, 99.0]) * 1000.0
            assert got[k][1:] == tuple(round(float(q), 6) for q in quantiles) + (
                round(float(sample.max()) * 1000.0, 6),)
            assert got[k][0] == pytest.approx(float(sample.mean()) * 1000.0, rel=1e-12,
                                               abs=1e-6)


def test_round6_is_pythons_round():
    rng = np.random.default_rng(0)
    for scale in (1e-3, 1.0, 1e3, 1e7):
        values = rng.random(20000) * scale
        for case in (values, np.round(values, 7), (np.floor(values * 1e6) + 0.5) / 1e6):
            assert round6(case) == [round(float(v), 6) for v in case]


def test_round_to_is_pythons_round_at_any_digits_and_keeps_rows():
    # Per-period costs are rounded to 1e-9 USD for every function at once (one row each).
    from lambdasim.engine.metrics import round_to

    rng = np.random.default_rng(1)
    for digits in (2, 9):
        for scale in (1e-6, 1e-3, 1.0, 1e4):
            values = rng.random((7, 300)) * scale
            halves = (np.floor(values * 10.0 ** digits) + 0.5) / 10.0 ** digits
            for case in (values, halves, -halves, np.round(values, digits + 1)):
                assert round_to(case, digits) == [[round(float(v), digits) for v in row]
                                                  for row in case]
    assert round_to(np.array([1e300, -0.0]), 9) == [1e300, -0.0]


def test_the_chart_timeline_is_built_only_when_asked_for(tmp_path):
    from lambdasim.results.folder import write_results

    result = lambdasim.simulate(COUNTED)
    assert result._timeline is None  # not built by the run
    write_results(result, tmp_path / "out", plots=False)  # summary, metrics, report.html
    assert result._timeline is None  # nor by a results folder without charts
    assert "chart bins" not in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    timeline = result.timeline
    assert timeline is not None and result.timeline is timeline
    model = Model(lambdasim.load_scenario(COUNTED)).run()
    eager = build_timeline(model)
    curve = timeline.functions["api"]
    assert np.array_equal(curve.invoking, eager.functions["api"].invoking)
    assert np.array_equal(curve.busy_max, eager.functions["api"].busy_max)


def test_a_thousand_quiet_functions_hold_few_draws():
    data = {"name": "many", "duration": 600, "seed": 1, "functions": {
        f"f{i:03d}": {"duration": {"dist": "exponential", "mean": "200ms"}, "init": "300ms",
                      "triggers": [{"type": "sync",
                                    "arrivals": {"process": "poisson", "rate": 0.1}}]}
        for i in range(1000)}}
    model = Model(lambdasim.load_scenario(data)).run()
    held = sum(len(f._duration._buffer) + len(f._init._buffer) for f in model.functions.values())
    assert held < 1000 * 64  # was 2 x 4,096 per function
    result = build_result(model)
    assert len(result.series["function"]) == (1000 + 1) * math.ceil(model.end_s / 60.0)


def test_per_period_latency_of_large_periods_is_the_sorted_figure():
    # One busy function: its periods' percentiles come from np.partition per period; they
    # must be those of the full (period, latency) sort, as computed for small periods.
    from lambdasim.results.periods import period_percentiles_ms

    rng = np.random.default_rng(3)
    arrived = np.sort(rng.random(60000) * 600.0)
    latency = np.round(rng.lognormal(-1.5, 1.0, arrived.size), 4)
    edges = np.arange(0.0, 601.0, 60.0)
    got = period_percentiles_ms(arrived, latency, edges, (50.0, 99.0))
    index = np.searchsorted(edges, arrived, side="right") - 1
    values = (latency * 1000.0)[np.lexsort((latency * 1000.0, index))]
    sizes = np.bincount(index, minlength=10)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for k in range(10):
        want = []
        for level in (50.0, 99.0):
            position = starts[k] + (sizes[k] - 1) * (level / 100.0)
            low = int(np.floor(position))
            high = min(low + 1, starts[k] + sizes[k] - 1)
            want.append(round(float(values[low] + (values[high] - values[low])
                                    * (position - low)), 6))
        assert got[k] == tuple(want)


def test_period_statistics_of_many_functions_are_each_ones_alone():
    # build_result reduces the periods of many functions together (one sort); each must get
    # exactly the figures it gets alone, whether its periods are large, small or empty.
    from lambdasim.engine.metrics import period_time_stats_ms_many, sorted_within
    from lambdasim.results.periods import period_percentiles_ms, period_percentiles_ms_many

    rng = np.random.default_rng(8)
    edges = np.arange(0.0, 601.0, 60.0)
    durations, latencies = [], []
    for trial in range(40):
        size = int(rng.choice([0, 1, 7, 90, 4000]))
        values = rng.lognormal(-1.5, 1.0, size)
        if trial % 3 == 0:
            values = np.round(values, 2)  # ties
        arrived = np.sort(rng.random(size) * (600.0 if trial % 4 else 130.0))
        durations.append((values, np.searchsorted(arrived, edges, side="left")))
        latencies.append((arrived, values))
    many = period_time_stats_ms_many(durations)
    assert many == [period_time_stats_ms(*sample) for sample in durations]
    many = period_percentiles_ms_many(latencies, edges, (50.0, 99.0))
    assert many == [period_percentiles_ms(*sample, edges, (50.0, 99.0))
                    for sample in latencies]
    assert any(row != (None, None) for rows in many for row in rows)
    # The summary's time statistics likewise (np.percentile, mean, max per sample).
    from lambdasim.engine.metrics import time_stats_ms, time_stats_ms_many

    samples = [rng.lognormal(-1.5, 1.0, int(size)).round(3 if size % 2 else 9)
               for size in rng.choice([0, 1, 2, 5, 333, 5000], 30)]
    assert time_stats_ms_many(samples) == [time_stats_ms(sample) for sample in samples]
    values, group = rng.random(5000).round(2), rng.integers(0, 40, 5000)
    assert np.array_equal(sorted_within(values, group),
                          values[np.lexsort((values, group))])


def _sorted_reference(arrived, latency, edges, levels):
    """Per period of arrival: the percentiles of one sample from its full (period, latency)
    sort, positions within the sample (period_percentiles_ms's arithmetic), no NumPy
    shortcut."""
    count = len(edges) - 1
    index = np.searchsorted(edges, arrived, side="right") - 1
    keep = (index >= 0) & (index < count)
    index, values = index[keep], latency[keep] * 1000.0
    values = values[np.lexsort((values, index))]
    sizes = np.bincount(index, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = []
    for k in range(count):
        if not sizes[k]:
            rows.append((None,) * len(levels))
            continue
        row = []
        for level in levels:
            position = starts[k] + (sizes[k] - 1) * (level / 100.0)
            low = int(np.floor(position))
            high = min(low + 1, starts[k] + sizes[k] - 1)
            row.append(round(float(values[low] + (values[high] - values[low])
                                   * (position - low)), 6))
        rows.append(tuple(row))
    return rows


def test_per_period_latency_of_many_samples_at_once_is_each_ones_sorted_figure():
    # build_result reduces the periods of many functions together (their requests laid end
    # to end): functions with different traffic, quiet ones, one with no request, one with
    # requests only early (empty periods), arrivals outside the periods, ties.
    from lambdasim.results.periods import period_percentiles_ms_many

    rng = np.random.default_rng(21)
    edges = np.arange(0.0, 601.0, 60.0)
    samples = []
    for size, span in ((0, 600.0), (5, 600.0), (300, 600.0), (40, 100.0), (9000, 600.0),
                       (1, 600.0), (700, 650.0), (60, 600.0)):
        arrived = np.sort(rng.random(size) * span) - (5.0 if size == 700 else 0.0)
        latency = np.round(rng.lognormal(-1.5, 1.0, size), 3 if size % 2 else 9)
        samples.append((arrived, latency))
    got = period_percentiles_ms_many(samples, edges, (50.0, 99.0))
    assert got == [_sorted_reference(*sample, edges, (50.0, 99.0)) for sample in samples]
    assert got[0] == [(None, None)] * 10 and got[3][5:] == [(None, None)] * 5


def test_per_period_durations_of_many_samples_at_once_equal_numpy_per_period():
    from lambdasim.engine.metrics import period_time_stats_ms_many

    rng = np.random.default_rng(22)
    edges = np.arange(0.0, 601.0, 60.0)
    samples = []
    for size, span in ((0, 600.0), (3, 600.0), (250, 600.0), (30, 90.0), (6000, 600.0)):
        t = np.sort(rng.random(size) * span)
        samples.append((rng.lognormal(-1.5, 1.0, size).round(4),
                        np.searchsorted(t, edges[:-1], side="left").tolist() + [size]))
    got = period_time_stats_ms_many(samples)
    for (values, bounds), rows in zip(samples, got):
        assert len(rows) == 10
        for k, row in enumerate(rows):
            sample = values[bounds[k]:bounds[k + 1]]
            if not sample.size:
                assert row == (None,) * 5
                continue
            quantiles = np.percentile(sample, [50.0, 90.0, 99.0]) * 1000.0
            assert row[1:] == tuple(round(float(q), 6) for q in quantiles) + (
                round(float(sample.max()) * 1000.0, 6),)
            assert row[0] == pytest.approx(float(sample.mean()) * 1000.0, rel=1e-12, abs=1e-6)


def test_a_stream_makes_its_generator_on_the_first_draw_and_draws_the_same_values():
    # A thousand functions' unused streams (no error share, no retries, no provisioned
    # concurrency) make no generator; a used one draws what its eager generator draws.
    from lambdasim.engine.rng import LazyDraw, Streams
    from lambdasim.scenario.distributions import parse_distribution

    made = []

    class Counting(Streams):
        __slots__ = ()

        def generator(self, name):
            made.append(name)
            return super().generator(name)

    streams = Counting(7, replication=2)
    spec = make_distribution(parse_distribution({"dist": "lognormal", "median": 0.1, "p99": 0.9}))
    lazy = BlockSampler(LazyDraw(streams, "duration/f", spec.sample), 2.0)
    uniform = BlockSampler(LazyDraw(streams, "errors/f"))
    BlockSampler(LazyDraw(streams, "retry/f"))  # never drawn
    assert made == []
    eager = BlockSampler(partial(spec.sample, Streams(7, 2).generator("duration/f")), 2.0)
    assert [lazy() for _ in range(100)] == [eager() for _ in range(100)]
    plain = Streams(7, 2).generator("errors/f").random
    assert _draws(uniform, 40) == _draws(BlockSampler(plain), 40)
    assert made == ["duration/f", "errors/f"]


def _draws(sampler, count):
    return [sampler() for _ in range(count)]


def test_levels_of_many_functions_at_once_are_each_ones_alone():
    # build_result reduces every function's concurrency and live environments together:
    # each level must get exactly its own max, mean and period maxima, empty levels,
    # changes exactly at the period edges and at the window's bounds included.
    from lambdasim.engine.metrics import StepLevel

    rng = np.random.default_rng(5)
    edges = np.arange(0.0, 601.0, 60.0)
    levels = []
    for size in (0, 1, 3, 40, 2, 0, 25, 7):
        starts = np.sort(np.round(rng.random(size) * 620.0, 0 if size % 2 else 3))
        starts[: size // 3] = rng.choice(edges, size // 3)  # some exactly on an edge
        ends = starts + np.round(rng.exponential(40.0, size), 1)
        levels.append(StepLevel(starts, ends))
    for a, b in ((0.0, 600.0), (60.0, 480.0), (120.0, 120.0)):
        maxima, means = StepLevel.max_mean_many(levels, a, b)
        assert maxima == [int(level.max(a, b)) for level in levels]
        assert means == [level.mean(a, b) for level in levels]
    many = StepLevel.period_maxima_many(levels, edges)
    for level, row in zip(levels, many):
        assert row.tolist() == level.period_maxima(edges).tolist()
    assert any(max(row) > 1 for row in many)


def test_a_constant_time_makes_no_random_stream(monkeypatch):
    # A fixed Init or keep-alive draws nothing: no generator is made for its stream (a
    # thousand functions would make two thousand for nothing), and its value is exact.
    from lambdasim.engine.rng import Streams

    made = []
    generator = Streams.generator
    monkeypatch.setattr(Streams, "generator",
                        lambda self, name: made.append(name) or generator(self, name))
    data = {"name": "fixed", "duration": 120, "seed": 1, "functions": {"f": {
        "duration": {"dist": "exponential", "mean": "100ms"}, "init": "500ms",
        "keep_alive": "10s", "triggers": [{"type": "sync", "arrivals": {
            "process": "poisson", "rate": 0.2}}]}}}
    summary = lambdasim.simulate(data).summary["functions"]["f"]
    assert summary["cold_starts"] > 1
    assert summary["init_duration_ms"]["p50"] == summary["init_duration_ms"]["max"] == 500.0
    assert "duration/f" in made and "arrivals/f/0/0" in made
    assert not [name for name in made if name.startswith(("init/", "keep_alive/"))]
