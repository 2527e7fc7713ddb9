"""expect: checks -- the parser, every operator, CI bounds with replications, load-time
errors naming expect.N and its line, a missing key at check time, the command line's exit
codes 0, 1 and 2, and the one-line pytest helpers of lambdasim.testing."""
from __future__ import annotations

import json

import pytest

import lambdasim
from lambdasim import cli
from lambdasim.results.expect import (ExpectationError, evaluate, format_checks, parse_expectation)
from lambdasim.scenario import ScenarioError, json_schema
from lambdasim.testing import assert_expectations, check
from lambdasim.scenario.units import SpecError

SUMMARY = {
    "functions": {
        "checkout": {"latency_ms": {"p50": 120.0, "p99": 700.0}, "throttle_rate": 0.001,
                     "cold_starts": 3, "init_duration_ms": {"p99": None}},
        "account": {"cold_starts": 1},  # a function that happens to be called "account"
        "admin-export": {"cold_starts": 9},
    },
    "account": {"concurrency": {"max": 850, "mean": 120.5}, "throttles": 0},
}


@pytest.mark.parametrize("text, passes", [
    ("checkout.latency_ms.p99 < 800", True),
    ("checkout.latency_ms.p99 < 700", False),
    ("checkout.latency_ms.p99 <= 700", True),
    ("checkout.latency_ms.p99 <= 699.9", False),
    ("checkout.cold_starts > 2", True),
    ("checkout.cold_starts > 3", False),
    ("checkout.cold_starts >= 3", True),
    ("checkout.cold_starts >= 4", False),
    ("checkout.cold_starts == 3", True),
    ("checkout.cold_starts == 3.5", False),
    ("checkout.cold_starts != 4", True),
    ("checkout.cold_starts != 3", False),
    ("checkout.throttle_rate <= 1e-3", True),
    ("checkout.throttle_rate < .001", False),
    ("functions.checkout.latency_ms.p50 >= -1", True),
    ("admin-export.cold_starts<10", True),  # spaces are optional
])
def test_each_operator_passes_and_fails_as_it_should(text, passes):
    (result,) = evaluate([text], SUMMARY)
    assert result.passed is passes
    assert result.line().startswith("PASS" if passes else "FAIL")
    assert text.replace(" ", "") in result.line().replace(" ", "")


def test_function_names_come_first_then_account():
    # A function's name wins: here a function is called "account".
    (fn,) = evaluate(["account.cold_starts == 1"], SUMMARY)
    assert fn.key == "functions.account.cold_starts" and fn.passed
    (result,) = evaluate(["account.concurrency.max < 900"],
                         {"functions": {"checkout": {}}, "account": {"concurrency": {"max": 850}}})
    assert result.key == "account.concurrency.max" and result.passed
    assert result.describe_actual() == "actual 850"


@pytest.mark.parametrize("text, message", [
    ("checkout.latency_ms.p99", "no comparison"),
    ("checkout.latency_ms.p99 = 800", "use '==' to compare equal"),
    ("100 < checkout.latency_ms.p99 < 800", "one comparison per check"),
    ("checkout latency < 800", "expected a dotted summary key"),
    ("< 800", "got nothing"),
    ("checkout.latency_ms.p99 < 800ms", "expected a number after '<', got '800ms'"),
    ("checkout.latency_ms.p99 < abc", "expected a number"),
    ("checkout.latency_ms.p99 <", "got nothing"),
    ("__import__('os').system('true') < 1", "expected a dotted summary key"),
])
def test_syntax_errors_are_clear(text, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        parse_expectation(text, "expect.3")
    assert err.value.key == "expect.3"


def test_a_missing_key_is_a_clear_error_naming_it():
    with pytest.raises(ExpectationError) as err:
        evaluate(["checkout.latency_ms.p42 < 800"], SUMMARY)
    text = str(err.value)
    assert "no key 'functions.checkout.latency_ms.p42'" in text
    assert "p50, p99" in text  # what there is instead
    with pytest.raises(ExpectationError, match="did you mean 'throttle_rate'"):
        evaluate(["checkout.throttle_rat < 1"], SUMMARY)
    with pytest.raises(ExpectationError, match="is a block, not a number; name one of its "
                                               "keys: p50, p99"):
        evaluate(["checkout.latency_ms < 800"], SUMMARY)
    with pytest.raises(ExpectationError, match="is a value, it has no key 'x'"):
        evaluate(["checkout.cold_starts.x < 800"], SUMMARY)
    with pytest.raises(ExpectationError, match="names no function 'checkou'.*did you mean "
                                               "'checkout'"):
        evaluate(["checkou.cold_starts < 1"], SUMMARY)


def test_a_null_value_fails_its_check():
    (result,) = evaluate(["checkout.init_duration_ms.p99 < 1000"], SUMMARY)
    assert not result.passed and result.actual is None
    assert "no value" in result.line()


def _replicated(mean: float, lo: float, hi: float) -> dict:
    summary = json.loads(json.dumps(SUMMARY))
    summary["functions"]["checkout"]["latency_ms"]["p99"] = mean  # the usual keys hold means
    summary["replications"] = {"n": 10, "figures": {
        "functions.checkout.latency_ms.p99": {"mean": mean, "sd": 40.0, "ci95": [lo, hi]}}}
    return summary


def test_replications_check_the_confidence_bound_not_the_mean():
    summary = _replicated(780.0, 750.0, 810.0)
    # The mean is under 800, but the interval's upper bound is not: the check fails.
    (upper,) = evaluate(["checkout.latency_ms.p99 < 800"], summary)
    assert not upper.passed and upper.actual == 810.0 and upper.mean == 780.0
    assert upper.basis == "ci95 upper"
    assert upper.line() == ("FAIL  checkout.latency_ms.p99 < 800  (95 % CI upper bound 810 "
                            "(mean 780, 10 replications))")
    (ok,) = evaluate(["checkout.latency_ms.p99 <= 810"], summary)
    assert ok.passed
    # Lower bounds for > and >=.
    (lower,) = evaluate(["checkout.latency_ms.p99 > 760"], summary)
    assert not lower.passed and lower.actual == 750.0 and lower.basis == "ci95 lower"
    (ok,) = evaluate(["checkout.latency_ms.p99 >= 750"], summary)
    assert ok.passed
    # == and != compare the mean.
    (equal,) = evaluate(["checkout.latency_ms.p99 == 780"], summary)
    assert equal.passed and equal.basis == "mean"
    # Keys without replication figures use the summary's value.
    (plain,) = evaluate(["checkout.cold_starts < 4"], summary)
    assert plain.passed and plain.basis == "value"


def test_a_replication_figure_without_an_interval_is_a_clear_error():
    summary = _replicated(780.0, 750.0, 810.0)
    del summary["replications"]["figures"]["functions.checkout.latency_ms.p99"]["ci95"]
    with pytest.raises(ExpectationError, match="have no ci95 interval"):
        evaluate(["checkout.latency_ms.p99 < 800"], summary)


def test_replication_figures_may_be_keyed_as_written():
    summary = json.loads(json.dumps(SUMMARY))
    summary["replications"] = {"n": 5, "figures": {
        "account.concurrency.max": {"mean": 850, "sd": 10, "ci95": [840.0, 905.0]}}}
    (result,) = evaluate(["account.concurrency.max < 900"], summary)
    assert not result.passed and result.actual == 905.0


# --------------------------------------------------------------------------- in a scenario

SCENARIO = """\
name: guarded
duration: 20s
seed: 3
functions:
  api:
    memory_mb: 256
    duration: {{dist: exponential, mean: 50ms}}
    triggers:
      - type: sync
        arrivals: {{process: poisson, rate: 30/s}}
expect:
{checks}
"""


def _write(tmp_path, *checks: str):
    path = tmp_path / "guarded.yaml"
    path.write_text(SCENARIO.format(checks="\n".join(f"  - {c}" for c in checks)))
    return path


def test_load_time_errors_name_expect_n_and_its_line(tmp_path):
    path = _write(tmp_path, "api.latency_ms.p99 < 800", "api.throttle_rate <== 0")
    with pytest.raises(ScenarioError) as err:
        lambdasim.load_scenario(path)
    assert err.value.key == "expect.1" and err.value.line == 13
    assert str(err.value).endswith(":13: expect.1: one comparison per check, got "
                                   "'api.throttle_rate <== 0' (for example "
                                   "'checkout.latency_ms.p99 < 800')")
    path = _write(tmp_path, "api.latency_ms.p99 < 800", "apx.cold_starts < 3")
    with pytest.raises(ScenarioError, match=r":13: expect.1: 'apx.cold_starts < 3' names no "
                                            r"function 'apx' \(functions: api; or account., "
                                                r"dependencies.\); "
                                            r"did you mean 'api'\?"):
        lambdasim.load_scenario(path)
    path = _write(tmp_path, "{api: 3}")
    with pytest.raises(ScenarioError, match=r":12: expect.0: expected a string"):
        lambdasim.load_scenario(path)


def test_the_resolved_config_and_the_json_schema_carry_expect(tmp_path):
    scenario = lambdasim.load_scenario(_write(tmp_path, "api.cold_starts < 100"))
    assert scenario.config["expect"] == ["api.cold_starts < 100"]
    no_checks = lambdasim.load_scenario(_strip_expect(tmp_path))
    assert no_checks.config["expect"] == []
    schema = json_schema()
    assert schema["properties"]["expect"]["type"] == "array"
    assert schema["properties"]["expect"]["items"]["type"] == "string"


def _strip_expect(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(SCENARIO.format(checks="").replace("expect:\n", ""))
    return path


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_exit_0_when_every_check_passes(workdir, capsys):
    _write(workdir, "api.latency_ms.p99 < 5000", "api.throttle_rate <= 0.001",
           "account.concurrency.max < 900")
    assert cli.main(["guarded.yaml", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "expect: PASS  api.latency_ms.p99 < 5000  (actual " in out
    assert "expect: PASS  account.concurrency.max < 900  (actual " in out
    assert "expect: 3 of 3 checks passed\n" in out


def test_exit_1_when_a_check_fails_and_the_results_are_still_written(workdir, capsys):
    _write(workdir, "api.latency_ms.p99 < 5000", "api.cold_starts == 0")
    assert cli.main(["guarded.yaml", "--no-plots"]) == cli.EXIT_EXPECT_FAILED == 1
    captured = capsys.readouterr()
    summary = json.loads((workdir / "results" / "guarded" / "summary.json").read_text())
    cold = summary["functions"]["api"]["cold_starts"]
    assert f"expect: FAIL  api.cold_starts == 0  (actual {cold})" in captured.out
    assert "expect: 1 of 2 checks passed, 1 failed" in captured.out
    report = (workdir / "results" / "guarded" / "report.html").read_text()
    assert "FAIL" in report and "api.cold_starts == 0" in report

    # --json: stdout is the summary JSON alone; the checks go to stderr.
    assert cli.main(["guarded.yaml", "--no-plots", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["config"]["expect"][1] == "api.cold_starts == 0"
    assert "expect: PASS  api.latency_ms.p99 < 5000" in captured.err
    assert "expect: FAIL  api.cold_starts == 0" in captured.err
    # --quiet: nothing on stdout, only the failure on stderr.
    assert cli.main(["guarded.yaml", "--no-plots", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "FAIL  api.cold_starts == 0" in captured.err and "PASS" not in captured.err


def test_exit_2_for_a_missing_key_naming_it_and_nothing_written(workdir, capsys):
    _write(workdir, "api.latency_ms.p42 < 800")
    assert cli.main(["guarded.yaml", "--no-plots"]) == cli.EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdasim: error: expect: 'api.latency_ms.p42 < 800': the summary "
                          "has no key 'functions.api.latency_ms.p42'")
    assert "Traceback" not in err
    assert not (workdir / "results").exists()


def test_exit_2_for_a_bad_check_at_load_time(workdir, capsys):
    _write(workdir, "api.latency_ms.p99 < 800 ms")
    assert cli.main(["guarded.yaml"]) == 2
    assert cli.main(["validate", "guarded.yaml"]) == 2
    err = capsys.readouterr().err
    assert "guarded.yaml:12: expect.0: expected a number after '<', got '800 ms'" in err
    assert not (workdir / "results").exists()


def test_set_can_replace_the_checks(workdir, capsys):
    _write(workdir, "api.cold_starts == 0")
    assert cli.main(["guarded.yaml", "--no-plots", "-q",
                     "--set", "expect=['api.cold_starts >= 0']"]) == 0


# --------------------------------------------------------------------------- lambdasim.testing

def test_assert_expectations_in_one_line(tmp_path):
    result = lambdasim.simulate(_write(tmp_path, "api.cold_starts >= 1"))
    assert_expectations(result)  # the scenario's own block
    passed = assert_expectations(result, ["api.latency_ms.p99 < 5000",
                                          "api.throttle_rate == 0"])
    assert [r.passed for r in passed] == [True, True]
    with pytest.raises(AssertionError) as err:
        assert_expectations(result, ["api.latency_ms.p99 < 1", "api.throttle_rate == 0"])
    assert "FAIL  api.latency_ms.p99 < 1  (actual " in str(err.value)
    assert "PASS  api.throttle_rate == 0" in str(err.value)
    with pytest.raises(ExpectationError, match="no key 'functions.api.nope'"):
        assert_expectations(result, ["api.nope < 1"])
    with pytest.raises(AssertionError, match="no checks"):
        assert_expectations(result, [])
    assert_expectations(result.summary, ["api.cold_starts >= 1"])  # a summary dict works too


def test_check_runs_a_scenario_and_asserts_its_block(tmp_path):
    path = _write(tmp_path, "api.throttle_rate <= 0.001")
    result = check(path)
    assert result.function("api").throttle_rate == 0
    with pytest.raises(AssertionError, match="FAIL  api.cold_starts == 0"):
        check(path, ["api.cold_starts == 0"], seed=4)


def test_format_checks_counts():
    results = evaluate(["checkout.cold_starts < 4", "checkout.cold_starts > 4"], SUMMARY)
    text = format_checks(results)
    assert text.endswith("expect: 1 of 2 checks passed, 1 failed\n")
    assert "PASS" not in format_checks(results, failed_only=True)


def test_the_shipped_steady_warm_scenario_meets_its_checks():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scenarios" / "steady_warm.yaml"
    result = check(path)
    assert len(result.summary["config"]["expect"]) == 3
