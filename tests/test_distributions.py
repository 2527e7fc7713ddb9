"""Tests of lambdasim.scenario.distributions: parsing, moments, quantiles, sampling."""

import math

import numpy as np
import pytest
from scipy import stats

from lambdasim.scenario.distributions import (
    REGISTRY,
    Z_99,
    make_distribution,
    parse_distribution,
)
from lambdasim.scenario.units import SpecError

N = 200_000
SIGMAS = 4.5  # tolerance in standard errors: a false alarm about once in 150,000 checks

CASES = [
    {"dist": "constant", "value": "120ms"},
    {"dist": "exponential", "mean": "200ms"},
    {"dist": "uniform", "low": "5m", "high": "7m"},
    {"dist": "normal", "mean": "100ms", "sd": "30ms"},
    {"dist": "normal", "mean": "10ms", "sd": "40ms"},  # heavily truncated
    {"dist": "lognormal", "median": "120ms", "p99": "900ms"},
    {"dist": "lognormal", "mu": -2.0, "sigma": 0.5},
    {"dist": "lognormal", "mean": "1s", "sd": "500ms"},
    {"dist": "gamma", "shape": 2.5, "scale": "40ms"},
    {"dist": "gamma", "mean": "300ms", "sd": "100ms"},
    {"dist": "weibull", "shape": 1.5, "scale": "2s"},
    {"dist": "empirical", "values": ["10ms", "20ms", 0.05, "1s"]},
]


def _rng(seed=12345):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s["dist"])
def test_sample_moments_match_analytic(spec):
    dist = make_distribution(parse_distribution(spec, "d"))
    x = dist.sample(_rng(), N)
    assert x.dtype == np.float64 and x.shape == (N,)
    assert (x >= 0).all()
    mean, var = dist.mean(), dist.var()
    if var == 0:
        assert np.all(x == mean)
        return
    # standard error of the sample mean, and of the sample variance from the 4th central moment
    assert abs(x.mean() - mean) <= SIGMAS * math.sqrt(var / N)
    m4 = np.mean((x - mean) ** 4)
    se_var = math.sqrt(max(m4 - var**2, 0.0) / N)
    assert abs(x.var() - var) <= SIGMAS * se_var + 1e-12


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s["dist"])
def test_quantiles_match_samples(spec):
    dist = make_distribution(parse_distribution(spec, "d"))
    x = dist.sample(_rng(7), N)
    for q in (0.1, 0.5, 0.9):
        value = dist.quantile(q)
        # binomial standard error of the empirical CDF at the quantile
        frac = np.mean(x <= value)
        assert frac >= q - SIGMAS * math.sqrt(q * (1 - q) / N) - 1e-12
        assert np.mean(x < value) <= q + SIGMAS * math.sqrt(q * (1 - q) / N) + 1e-12


def test_lognormal_median_p99_round_trip():
    resolved = parse_distribution({"dist": "lognormal", "median": "120ms", "p99": "900ms"}, "d")
    assert set(resolved) == {"dist", "mu", "sigma"}
    assert resolved["mu"] == pytest.approx(math.log(0.12))
    assert resolved["sigma"] == pytest.approx(math.log(900 / 120) / 2.3263478740408408)
    dist = make_distribution(resolved)
    assert dist.quantile(0.5) == pytest.approx(0.12, rel=1e-12)
    assert dist.quantile(0.99) == pytest.approx(0.9, rel=1e-12)
    assert Z_99 == pytest.approx(stats.norm.ppf(0.99), rel=1e-14)


def test_lognormal_mean_sd_round_trip():
    dist = make_distribution(parse_distribution({"dist": "lognormal", "mean": 2.0, "sd": 3.0}, "d"))
    assert dist.mean() == pytest.approx(2.0)
    assert dist.std() == pytest.approx(3.0)


def test_gamma_mean_sd_round_trip():
    resolved = parse_distribution({"dist": "gamma", "mean": "300ms", "sd": "100ms"}, "d")
    assert resolved["shape"] == pytest.approx(9.0)
    dist = make_distribution(resolved)
    assert dist.mean() == pytest.approx(0.3) and dist.std() == pytest.approx(0.1)


def test_truncated_normal_uses_truncnorm_and_never_negative():
    dist = make_distribution(parse_distribution({"dist": "normal", "mean": "10ms", "sd": "40ms"}, "d"))
    ref = stats.truncnorm(-0.25, np.inf, loc=0.01, scale=0.04)
    assert dist.mean() == pytest.approx(ref.mean())
    assert dist.mean() > 0.01  # truncation pushes the mean up
    assert dist.quantile(0.0) == pytest.approx(0.0, abs=1e-12)
    assert dist.sample(_rng(), 50_000).min() >= 0.0


def test_bare_time_is_constant():
    assert parse_distribution("120ms", "d") == {"dist": "constant", "value": 0.12}
    assert parse_distribution(0.12, "d") == {"dist": "constant", "value": 0.12}
    assert parse_distribution(3, "d") == {"dist": "constant", "value": 3.0}


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s["dist"])
def test_resolving_is_idempotent_and_all_times_are_floats(spec):
    once = parse_distribution(spec, "d")
    assert parse_distribution(once, "d") == once
    for key, value in once.items():
        if key != "dist":
            assert all(isinstance(v, float) for v in (value if isinstance(value, list) else [value]))


def test_empirical_sorted_and_draws_only_its_values(tmp_path):
    (tmp_path / "d.txt").write_text("# measured\n250ms\n\n0.1\n1s  # slow one\n")
    resolved = parse_distribution({"dist": "empirical", "file": "d.txt"}, "d", base_dir=tmp_path)
    assert resolved == {"dist": "empirical", "values": [0.1, 0.25, 1.0]}
    x = make_distribution(resolved).sample(_rng(), 30_000)
    assert set(np.unique(x)) == {0.1, 0.25, 1.0}
    counts = np.array([np.sum(x == v) for v in (0.1, 0.25, 1.0)])
    assert stats.chisquare(counts).pvalue > 0.001


def test_empirical_file_errors(tmp_path):
    with pytest.raises(SpecError, match="cannot read") as info:
        parse_distribution({"dist": "empirical", "file": "missing.txt"}, "f.duration", base_dir=tmp_path)
    assert info.value.key == "f.duration.file"
    (tmp_path / "bad.txt").write_text("1s\nquick\n")
    with pytest.raises(SpecError, match="line 2"):
        parse_distribution({"dist": "empirical", "file": "bad.txt"}, "k", base_dir=tmp_path)


@pytest.mark.parametrize(
    "spec, bad_key, text",
    [
        ({"dist": "lognorm", "median": 1, "p99": 2}, "k.dist", "did you mean 'lognormal'"),
        ({"dist": "lognormal", "median": "1s"}, "k.p99", "missing parameter 'p99'"),
        ({"dist": "lognormal", "median": "1s", "p99": "500ms"}, "k.p99", "greater than median"),
        ({"dist": "lognormal", "median": "1s", "p99": "2s", "sigma": 1}, "k.sigma", "cannot be combined"),
        ({"dist": "lognormal", "medain": "1s", "p99": "2s"}, "k.medain", "did you mean 'median'"),
        ({"dist": "uniform", "low": "2s", "high": "1s"}, "k.high", "high must be >= low"),
        ({"dist": "exponential", "mean": 0}, "k.mean", "must be > 0"),
        ({"dist": "exponential", "mean": "fast"}, "k.mean", "expected a time"),
        ({"dist": "gamma", "shape": -1, "scale": 1}, "k.shape", "must be > 0"),
        ({"dist": "weibull", "shape": 1}, "k.scale", "missing parameter 'scale'"),
        ({"dist": "normal", "mean": "1s", "sd": 0}, "k.sd", "must be > 0"),
        ({"dist": "empirical", "values": []}, "k.values", "at least one value"),
        ({"dist": "empirical", "values": ["1s", "soon"]}, "k.values.1", "expected a time"),
        ({"dist": "constant", "value": "-1s"}, "k.value", "negative"),
        ({"median": "1s"}, "k.dist", "needs 'dist'"),
        (True, "k", "expected a time"),
        ([1, 2], "k", "expected a time"),
    ],
)
def test_bad_specs_name_the_bad_param(spec, bad_key, text):
    with pytest.raises(SpecError) as info:
        parse_distribution(spec, "k")
    assert info.value.key == bad_key
    assert text in info.value.message


def test_registry_is_the_whitelist():
    assert set(REGISTRY) == {
        "constant", "exponential", "uniform", "normal", "lognormal", "gamma", "weibull", "empirical"
    }
    with pytest.raises(SpecError):
        make_distribution({"dist": "__import__", "value": 1})


def test_same_seed_same_samples():
    dist = make_distribution(parse_distribution({"dist": "gamma", "shape": 2, "scale": 1}, "d"))
    assert np.array_equal(dist.sample(_rng(3), 100), dist.sample(_rng(3), 100))
    assert isinstance(dist.sample(_rng(3), 4096).tolist()[0], float)


def test_quantile_rejects_bad_level():
    dist = make_distribution({"dist": "exponential", "mean": 1.0})
    with pytest.raises(ValueError):
        dist.quantile(1.5)
    assert dist.quantile(0.5) == pytest.approx(math.log(2))
