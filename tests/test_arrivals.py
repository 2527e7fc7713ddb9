"""Tests of lambdasim.scenario.arrivals: resolution and exact arrival-time generation."""

import math

import numpy as np
import pytest
from scipy import stats

from lambdasim.scenario.arrivals import arrival_times, expected_count, rate_at, resolve_arrivals
from lambdasim.scenario.units import SpecError


def _all(spec, horizon, seed=1, block=4096):
    blocks = list(arrival_times(spec, np.random.default_rng(seed), horizon, block))
    assert all(b.size > 0 and b.dtype == np.float64 for b in blocks)
    return np.concatenate(blocks) if blocks else np.empty(0)


def _counts_match(spec, times, edges):
    """Chi-square test at 1 % that counts per bin are Poisson with the expected means."""
    observed = np.histogram(times, bins=edges)[0]
    expected = np.array([expected_count(spec, a, b) for a, b in zip(edges[:-1], edges[1:])])
    assert observed.sum() > 0
    mask = expected > 0
    assert observed[~mask].sum() == 0, "arrivals where the rate is zero"
    # Poisson counts: sum (O - E)^2 / E ~ chi2(k) (the total is random, so no degree is lost)
    chi2 = float(np.sum((observed[mask] - expected[mask]) ** 2 / expected[mask]))
    assert chi2 < stats.chi2.ppf(0.99, mask.sum()), (chi2, observed, expected)


def test_constant_rate_poisson_counts_and_dispersion():
    (spec,) = resolve_arrivals({"process": "poisson", "rate": "300/s"}, "a")
    assert spec == {"process": "poisson", "rate": [[0.0, 300.0, "step"]], "start": 0.0, "end": None}
    t = _all(spec, 120.0)
    counts = np.histogram(t, bins=np.arange(0, 121, 1.0))[0]
    # index of dispersion: sum (n - mean)^2 / mean ~ chi2(k-1) for Poisson counts
    disp = np.sum((counts - 300.0) ** 2) / 300.0
    assert stats.chi2.ppf(0.005, 119) < disp < stats.chi2.ppf(0.995, 119)
    gaps = np.diff(t)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 300)).pvalue > 0.01


def test_steps_ramps_and_zero_rate_segments():
    (spec,) = resolve_arrivals(
        {"process": "poisson",
         "rate": [["10s", "20/s"], ["30s", 0], ["40s", "50/s", "ramp"], ["60s", "5/s", "ramp"], ["70s", 0]]},
        "a",
    )
    assert spec["rate"][0] == [0.0, 0.0, "step"]  # zero before the first user point
    assert [p[2] for p in spec["rate"]] == ["step", "step", "step", "linear", "linear", "step"]
    assert expected_count(spec, 0, 10) == 0
    assert expected_count(spec, 10, 30) == pytest.approx(400)
    assert expected_count(spec, 30, 40) == pytest.approx(500 * 0 + 0.5 * 10 * 50)  # ramp 0 -> 50
    assert expected_count(spec, 40, 60) == pytest.approx(20 * 27.5)
    assert expected_count(spec, 70, 1000) == 0
    assert rate_at(spec, 35.0) == pytest.approx(25.0)
    for seed in (1, 2):
        t = _all(spec, 100.0, seed=seed, block=97)  # small blocks exercise the block seams
        assert np.all(np.diff(t) >= 0)
        assert not np.any((t < 10) | ((t >= 30) & (t < 30.0)) | (t >= 70))
        _counts_match(spec, t, np.arange(0, 101, 2.0))


def test_interpolation_linear_makes_every_point_a_ramp():
    (spec,) = resolve_arrivals(
        {"process": "poisson", "interpolation": "linear", "rate": [[0, "0/s"], ["100s", "100/s"]]}, "a"
    )
    assert spec["rate"][1][2] == "linear"
    assert expected_count(spec, 0, 100) == pytest.approx(5000)
    assert expected_count(spec, 100, 110) == pytest.approx(1000)  # constant after the last point
    t = _all(spec, 110.0)
    _counts_match(spec, t, np.arange(0, 111, 5.0))


def test_nearly_flat_ramp_is_numerically_stable():
    (spec,) = resolve_arrivals(
        {"process": "poisson", "rate": [[0, 100.0], [1000, 100.0 + 1e-9, "ramp"]]}, "a")
    t = _all(spec, 1000.0)
    assert np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0)
    assert abs(t.size - 100_000) < 4.5 * math.sqrt(100_000)


def test_decreasing_ramp_to_zero():
    (spec,) = resolve_arrivals({"process": "poisson", "rate": [[0, 200.0], [50, 0, "ramp"]]}, "a")
    t = _all(spec, 200.0)
    assert t.max() < 50.0
    _counts_match(spec, t, np.arange(0, 51, 5.0))


def test_start_end_and_horizon_bounds():
    (spec,) = resolve_arrivals({"process": "poisson", "rate": "50/s", "start": "10s", "end": "1m"}, "a")
    t = _all(spec, 40.0)
    assert t.min() >= 10.0 and t.max() < 40.0
    assert abs(t.size - 1500) < 4.5 * math.sqrt(1500)
    t_full = _all(spec, 1000.0)
    assert t_full.max() < 60.0
    assert expected_count(spec, 0, 1000) == pytest.approx(2500)


def test_constant_process_even_spacing():
    (spec,) = resolve_arrivals({"process": "constant", "rate": "10/s", "start": "2s"}, "a")
    t = _all(spec, 12.0, block=7)
    assert t.size == 100
    assert t[0] == 2.0
    assert np.allclose(np.diff(t), 0.1)
    assert expected_count(spec, 0, 12.0) == 100
    assert expected_count(spec, 2.0, 2.35) == 4


def test_burst_simultaneous_and_spread():
    specs = resolve_arrivals(
        [{"process": "burst", "count": 1000, "at": "1m"},
         {"process": "burst", "count": 5000, "at": "2m", "spread": "10s"}], "a")
    assert specs[0] == {"process": "burst", "count": 1000, "at": 60.0, "spread": 0.0, "start": 0.0, "end": None}
    t0 = _all(specs[0], 100.0, block=300)
    assert t0.size == 1000 and np.all(t0 == 60.0)
    t1 = _all(specs[1], 1000.0)
    assert t1.size == 5000 and t1.min() >= 120.0 and t1.max() < 130.0 and np.all(np.diff(t1) >= 0)
    _counts_match(specs[1], t1, np.arange(120, 131, 1.0))
    assert expected_count(specs, 0, 1000) == 6000
    assert _all(specs[0], 60.0).size == 0  # at the horizon: excluded


def test_superposed_list_resolves_to_list_with_indexed_keys():
    specs = resolve_arrivals([{"process": "poisson", "rate": 1}, {"process": "constant", "rate": 2}], "a")
    assert [s["process"] for s in specs] == ["poisson", "constant"]
    with pytest.raises(SpecError) as info:
        resolve_arrivals([{"process": "poisson", "rate": 1}, {"process": "constant", "rate": "x"}], "t.arrivals")
    assert info.value.key == "t.arrivals.1.rate"


def test_zero_rate_everywhere_yields_nothing():
    (spec,) = resolve_arrivals({"process": "poisson", "rate": 0}, "a")
    assert _all(spec, 100.0).size == 0


def test_same_seed_same_times_and_resolution_idempotent():
    raw = {"process": "poisson", "rate": [[0, 5], ["1m", "80/s", "ramp"]]}
    (spec,) = resolve_arrivals(raw, "a")
    assert resolve_arrivals(spec, "a") == [spec]
    assert np.array_equal(_all(spec, 120, seed=9), _all(spec, 120, seed=9))


@pytest.mark.parametrize(
    "spec, key, text",
    [
        ({"process": "poison", "rate": 1}, "a.process", "did you mean 'poisson'"),
        ({"rate": 1}, "a.process", "needs 'process'"),
        ({"process": "poisson"}, "a.rate", "missing 'rate'"),
        ({"process": "poisson", "rate": "5/ms"}, "a.rate", "unknown rate unit"),
        ({"process": "poisson", "rate": [[0, 1], [0, 2]]}, "a.rate.1.0", "increasing time"),
        ({"process": "poisson", "rate": [[0, 1], [5, 2, "zoom"]]}, "a.rate.1.2", "ramp"),
        ({"process": "poisson", "rate": [[0]]}, "a.rate.0", "[time, rate]"),
        ({"process": "poisson", "rate": 1, "interpolation": "cubic"}, "a.interpolation", "'step' or 'linear'"),
        ({"process": "poisson", "rate": 1, "rat": 2}, "a.rat", "unknown key"),
        ({"process": "constant", "rate": 0}, "a.rate", "> 0"),
        ({"process": "burst", "count": 2.5, "at": 1}, "a.count", "whole number"),
        ({"process": "burst", "at": 1}, "a.count", "missing 'count'"),
        ({"process": "poisson", "rate": 1, "start": "1m", "end": "30s"}, "a.end", "after start"),
        ({"process": "diurnal", "rate": 1}, "a.rate", "unknown key 'rate' for a diurnal"),
        ("300/s", "a", "expected an arrival spec"),
    ],
)
def test_bad_arrival_specs(spec, key, text):
    with pytest.raises(SpecError) as info:
        resolve_arrivals(spec, "a")
    assert info.value.key == key
    assert text in info.value.message


from hypothesis import given, settings, strategies as st  # noqa: E402

_point = st.tuples(
    st.floats(0.5, 30.0),  # gap to the previous point (s)
    st.floats(0.0, 200.0) | st.just(0.0),  # rate (/s)
    st.sampled_from(["step", "ramp"]),
)


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(_point, min_size=1, max_size=6),
    start=st.floats(0.0, 20.0),
    horizon=st.floats(1.0, 120.0),
    block=st.integers(1, 500),
    seed=st.integers(0, 2**32 - 1),
)
def test_poisson_times_sorted_within_window_for_any_piecewise_rate(points, start, horizon, block, seed):
    t, rate = 0.0, []
    for gap, r, kind in points:
        t += gap
        rate.append([t, r, kind])
    (spec,) = resolve_arrivals({"process": "poisson", "rate": rate, "start": start}, "a")
    times = _all(spec, horizon, seed=seed, block=block)
    if times.size:
        assert np.all(np.diff(times) >= 0)
        assert times[0] >= start and times[-1] < horizon
        assert np.all(np.isfinite(times))
    expected = expected_count(spec, 0, horizon)
    # loose sanity bound: 6 sigma of a Poisson count
    assert abs(times.size - expected) <= 6 * math.sqrt(expected) + 6


@settings(max_examples=60, deadline=None)
@given(
    rate=st.one_of(st.floats(1e-6, 300.0), st.sampled_from([1e-300, 0.1, 3.0])),
    first=st.floats(0.0, 50.0),
    start=st.floats(0.0, 40.0),
    horizon=st.floats(1.0, 400.0),
    block=st.integers(1, 600),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_flat_rate_gives_the_times_of_the_general_inversion(rate, first, start, horizon,
                                                              block, seed):
    # One flat segment takes a shortcut (start + u / rate); it must give the very floats of
    # the general piecewise inversion, bit for bit, wherever the segment starts.
    from unittest import mock

    from lambdasim.scenario import arrivals

    (spec,) = resolve_arrivals({"process": "poisson", "rate": [[first, rate]], "start": start},
                               "a")
    fast = _all(spec, horizon, seed=seed, block=block)
    with mock.patch.object(arrivals, "_flat_rate", lambda *segment: None):
        general = _all(spec, horizon, seed=seed, block=block)
    assert fast.tobytes() == general.tobytes()


def test_only_a_flat_rate_whose_square_is_exact_takes_the_shortcut():
    from lambdasim.scenario.arrivals import _flat_rate

    one = np.array([0.0])
    assert _flat_rate(one, np.array([2.5]), np.array([0.0])) == 2.5
    assert _flat_rate(one, np.array([2.5]), np.array([0.1])) is None  # a linear ramp
    assert _flat_rate(np.array([0.0, 5.0]), np.array([1.0, 2.0]), np.zeros(2)) is None
    assert _flat_rate(one, np.array([1e-300]), np.array([0.0])) is None  # square underflows
    assert _flat_rate(one, np.array([1e200]), np.array([0.0])) is None  # square overflows
    assert _flat_rate(one, np.array([0.0]), np.array([0.0])) is None


@pytest.mark.parametrize("seed", range(40))
def test_the_unit_sums_drawn_in_part_are_the_whole_blocks_sums(seed):
    # A quiet spec draws only the part of a block it is likely to need; the sums it gets
    # must be the whole block's, bit for bit, up to where they reach the total.
    from lambdasim.scenario.arrivals import _unit_sums

    rng = np.random.default_rng(seed)
    block = int(rng.choice([1, 7, 64, 4096]))
    last_u = float(rng.choice([0.0, rng.uniform(0, 1e4)]))
    total = last_u + float(rng.choice([0.5, 3.0, rng.uniform(0, 1.3 * block), 5e3]))
    whole = last_u + np.cumsum(np.random.default_rng(seed + 99).standard_exponential(block))
    got = _unit_sums(np.random.default_rng(seed + 99), block, last_u, total)
    assert got.tobytes() == whole[:got.size].tobytes()
    assert got.size == block or float(got[-1]) >= total


@pytest.mark.parametrize("rate", [[[0, 0.05]], [[0, 0.3], [500, 2.0, "linear"], [900, 0.0]],
                                  [[0, 40.0]]])
def test_arrivals_are_the_same_as_with_whole_blocks(rate):
    from unittest import mock

    from lambdasim.scenario import arrivals

    def whole(rng, block, last_u, total):
        return last_u + np.cumsum(rng.standard_exponential(block))

    (spec,) = resolve_arrivals({"process": "poisson", "rate": rate}, "a")
    got = _all(spec, 1000.0, seed=3)
    with mock.patch.object(arrivals, "_unit_sums", whole):
        expected = _all(spec, 1000.0, seed=3)
    assert got.size > 10 and got.tobytes() == expected.tobytes()
