"""Tests of lambdasim.scenario.units: times and rates with units."""

import math

import pytest

from lambdasim.scenario.units import SpecError, format_duration, parse_duration, parse_number, parse_rate


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1.5s", 1.5),
        ("100us", 1e-4),
        ("100µs", 1e-4),
        ("5min", 300.0),
        (" 12 ms ", 0.012),
        (".5s", 0.5),
        ("1e3ms", 1.0),
        ("0", 0.0),
        ("0.12", 0.12),
        (7, 7.0),
        (0.12, 0.12),
    ],
)
def test_parse_duration_accepts_units_and_bare_seconds(text, seconds):
    assert parse_duration(text, "k") == pytest.approx(seconds, rel=1e-12)
    assert isinstance(parse_duration(text, "k"), float)


@pytest.mark.parametrize("bad", ["fast", "10 parsecs", "ms", "", "1..2s", "5y", [1], {"a": 1}, None, "nan", "infs"])
def test_parse_duration_rejects_non_times(bad):
    with pytest.raises(SpecError) as info:
        parse_duration(bad, "functions.f.timeout")
    assert info.value.key == "functions.f.timeout"
    assert "expected a time such as 250ms, 30s, 5m" in info.value.message


def test_parse_duration_message_quotes_the_bad_value():
    with pytest.raises(ValueError, match=r"expected a time such as 250ms, 30s, 5m; got 'fast'"):
        parse_duration("fast", "x")


@pytest.mark.parametrize("bad", [True, False])
def test_booleans_are_not_numbers(bad):
    with pytest.raises(SpecError, match="boolean"):
        parse_duration(bad, "k")
    with pytest.raises(SpecError, match="boolean"):
        parse_rate(bad, "k")
    with pytest.raises(SpecError, match="boolean"):
        parse_number(bad, "k")


@pytest.mark.parametrize("bad", ["-1s", -0.5, "-250ms", float("-inf"), float("inf"), float("nan")])
def test_parse_duration_rejects_negative_and_non_finite(bad):
    with pytest.raises(SpecError):
        parse_duration(bad, "k")


@pytest.mark.parametrize(
    "text, per_second",
    [
        ("200/s", 200.0),
        ("12000/min", 200.0),
        ("3e6/h", 3e6 / 3600),
        ("10/d", 10 / 86400),
        ("60 / m", 1.0),
        ("0/s", 0.0),
        (300, 300.0),
        (2.5, 2.5),
        ("42", 42.0),
    ],
)
def test_parse_rate(text, per_second):
    assert parse_rate(text, "rate") == pytest.approx(per_second, rel=1e-12)


@pytest.mark.parametrize("bad", ["5/ms", "fast", "5/y", "/s", "-3/s", -1, "1/s/s", None])
def test_parse_rate_rejects(bad):
    with pytest.raises(SpecError) as info:
        parse_rate(bad, "trig.rate")
    assert info.value.key == "trig.rate"


def test_spec_error_is_value_error_and_names_key():
    err = SpecError("bad", "a.b")
    assert isinstance(err, ValueError)
    assert str(err) == "a.b: bad"
    assert str(SpecError("bad")) == "bad"


def test_parse_number_accepts_numeric_strings_pyyaml_leaves_as_str():
    # PyYAML reads 1e-3 (no dot) as a string.
    assert parse_number("1e-3", "k") == 0.001
    with pytest.raises(SpecError):
        parse_number("abc", "k")


@pytest.mark.parametrize(
    "seconds, text",
    [(0.25, "250ms"), (30, "30s"), (300, "5m"), (5400, "1.5h"), (172800, "2d"), (1e-4, "100us"), (0, "0s"), (-2, "-2s")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_duration_round_trips_through_parse():
    for seconds in (0.001, 0.0123, 1.5, 59.0, 61.0, 3599.0, 86400.0 * 3):
        assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-3)
    assert format_duration(math.inf) == "inf"
