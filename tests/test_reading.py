"""What a capacity planner reads: units in every label, human numbers, honest projections,
per-period latency and cost, replication intervals inside each figure's range.

Prices: https://aws.amazon.com/lambda/pricing/ (lambdasim/prices/us-east-1-2025-08.json).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import lambdasim
from lambdasim.results import humanize as hz
from lambdasim.engine.billing import MONTH_S, projection
from lambdasim.results.result import ACCOUNT_ROW
from lambdasim.scenario import ScenarioError
from lambdasim.studies.replications import clip_interval, figure_range
from lambdasim.results.findings import findings, format_findings
from lambdasim.results.table import (ACCOUNT_ROWS, BLOCK_ROWS, COST_ROWS, FUNCTION_ROWS, UNITS,
                             figure_label, format_replications_table, format_summary_table)

ROOT = Path(__file__).resolve().parent.parent
#: A figure written in milliseconds: "1,234.5 ms", "12 ms", "[3.0, 4.0] ms" (the last number).
MS_FIGURE = re.compile(r"(-?[\d,]+(?:\.\d+)?)\]? ms\b")


def _all_rows():
    return list(FUNCTION_ROWS) + [r for _, rows in BLOCK_ROWS for r in rows] + list(
        COST_ROWS) + list(ACCOUNT_ROWS)


def _scenario(trigger: dict, *, duration="2m", warmup="0s", recurs="continuous", **function):
    data = {"duration": duration, "warmup": warmup, "seed": 3, "recurs": recurs,
            "functions": {"f": {"memory_mb": 512, "timeout": "10s",
                                "duration": {"dist": "lognormal", "median": "80ms",
                                             "p99": "400ms"},
                                "triggers": [trigger], **function}}}
    return lambdasim.load_scenario(data)


# --------------------------------------------------------------------------- point 1: units

def test_every_table_label_names_what_it_counts():
    rows = _all_rows()
    parent = None
    for row in rows:
        assert row.unit in UNITS, row
        if row.label.startswith("  "):  # a part of the row above: that row names the unit
            assert parent is not None and (row.unit in row.label or row.unit in parent.label
                                           or parent.unit in parent.label), row
        else:
            words = row.label.replace("%", "").lower()
            assert row.unit.lower().split()[0] in words or row.kind == "usd", row
            parent = row
    # Throttles: the requests that ended throttled and the attempts that were, both as
    # counts and as rates, each labelled as such.
    labels = [r.label.strip() for r in FUNCTION_ROWS]
    assert "requests throttled (% of requests)" in labels
    assert "attempts throttled (% of attempts)" in labels
    assert "throttled attempts" in [r.label.strip() for r in ACCOUNT_ROWS]


def test_async_table_tells_throttled_requests_from_throttled_attempts():
    # Async events are never throttled requests (Lambda retries them), but their attempts
    # are: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    scenario = _scenario({"type": "async", "arrivals": {"process": "poisson", "rate": "40/s"}},
                         reserved_concurrency=2)
    result = lambdasim.simulate(scenario)
    block = result.function("f")
    assert block.requests["throttled"] == 0 and block.throttles > 0
    assert block.attempts == block.invocations + block.throttles
    assert block.request_throttle_rate == 0.0
    text = format_summary_table(result)
    line = next(ln for ln in text.splitlines() if ln.startswith("requests throttled (%"))
    assert line.split()[-2:] == ["0.00", "%"]
    line = next(ln for ln in text.splitlines() if ln.startswith("attempts throttled (%"))
    rate = float(line.split()[-2]) / 100
    assert rate == pytest.approx(block.throttle_rate, abs=5e-5) and rate > 0.5
    assert f"{block.throttles:,}" in text


# --------------------------------------------------------------------------- point 3: numbers

def test_durations_switch_unit_above_ten_seconds():
    assert hz.duration_ms(273.34) == "273.3 ms"
    assert hz.duration_ms(9_999.9) == "9,999.9 ms"
    assert hz.duration_ms(10_000) == "10.0 s"
    assert hz.duration_ms(85_570_004.8) == "23.8 h"
    assert hz.duration_ms(86_400_000 * 3) == "3.0 d"
    assert hz.duration_s(150) == "2.5 min"
    assert hz.duration_ms(None) == "-"
    assert hz.clock(418) == "6:58" and hz.clock(3723) == "1:02:03"


def test_money_has_one_precision_per_table_and_plurals_agree():
    assert hz.money_decimals([10.12, 22999.2]) == 2
    assert hz.money_decimals([0.0012, 0.81]) == 4
    assert hz.money_decimals([0.0, None]) == 2
    assert hz.usd(22999.2) == "$22,999.20" and hz.usd(0) == "$0" and hz.usd(None) == "-"
    assert hz.plural(1, "function") == "1 function" and hz.plural(2, "function") == "2 functions"
    assert hz.plural(1000, "replication") == "1,000 replications"
    assert hz.percent(0.3455) == "34.55 %" and hz.count(1975271) == "1,975,271"


def _huge_summary() -> dict:
    """A summary whose durations are hours long: a stream blocked for a day."""
    hours = 85_570_004.8
    stats = {k: hours for k in ("mean", "p50", "p90", "p95", "p99", "p999", "max")}
    block = {"requests": {"arrived": 1_234_567, "succeeded": 1_000_000, "failed": 0,
                          "throttled": 234_567, "dropped": 0, "in_flight": 0},
             "invocations": 2_000_000, "errors": 0, "throttles": 979_734,
             "attempts": 2_979_734, "cold_starts": 875, "cold_start_rate": 0.0004,
             "throttle_rate": 0.33, "request_throttle_rate": 0.19, "latency_ms": stats,
             "duration_ms": stats, "concurrency": {"max": 1000, "mean": 512.01},
             "environments": {"created": 875, "max": 1000, "mean": 900.5},
             "stream": {"records_processed": 5, "records_discarded": 0, "records_expired": 0,
                        "iterator_age_ms": stats},
             "async": {"events_dropped": 3, "event_age_ms": stats,
                       "queue_depth": {"max": 26_000}},
             "cost_usd": {"requests": 0.4, "duration": 9.0, "provisioned": 0.0,
                          "total": 10.115388, "per_30_days": {"total": 303.46}}}
    return {"scenario": "huge", "seed": 1, "duration_s": 172800.0, "warmup_s": 60.0,
            "functions": {"f": block},
            "account": {"concurrency": {"max": 1000, "mean": 512.01}, "throttles": 979_734,
                        "cost_usd": {"total": 10.115388, "per_30_days": {"total": 303.46}}},
            "cost_projection": projection("daily", 172740.0)}


def _millisecond_figures(text: str) -> list[float]:
    return [float(m.group(1).replace(",", "")) for m in MS_FIGURE.finditer(text)]


def test_no_table_shows_a_million_milliseconds():
    summary = _huge_summary()
    text = format_summary_table(summary)
    assert "23.8 h" in text
    assert all(v < 1e6 for v in _millisecond_figures(text))
    figures = {}
    for key, value in (("functions.f.latency_ms.p99", 85_570_004.8),
                       ("functions.f.stream.iterator_age_ms.max", 85_570_004.8)):
        figures[key] = {"mean": value, "sd": 1.0, "ci95": [value * 0.9, value * 1.1]}
    reps = format_replications_table(summary, figures, 5, 1)
    assert "23.8 [21.4, 26.1] h" in reps
    assert all(v < 1e6 for v in _millisecond_figures(reps))


def test_money_and_not_applicable_cells():
    summary = _huge_summary()
    text = format_summary_table(summary)
    assert "$10.12" in text and "$303.46" in text and "0.000000" not in text
    # No provisioned concurrency: no provisioned rows at all; with it on another function,
    # this one shows "-".
    assert "provisioned" not in text
    other = json.loads(json.dumps(summary["functions"]["f"]))
    other["provisioned"] = {"allocated": {"max": 5, "mean": 5.0},
                            "utilization": {"mean": 0.5}, "invocations": 10,
                            "spillover_invocations": 0}
    other["cost_usd"]["provisioned"] = 1.5
    summary["functions"]["g"] = other
    lines = format_summary_table(summary).splitlines()
    row = next(ln for ln in lines if ln.startswith("provisioned cost"))
    assert row.split()[-2:] == ["-", "$1.50"]


# --------------------------------------------------------------------------- point 2: projection

def test_projection_basis_follows_recurs():
    window = 19 * 60.0
    assert projection("continuous", window)["factor"] == pytest.approx(MONTH_S / window)
    assert projection("daily", window) == {"recurs": "daily", "factor": 30.0,
                                           "basis": "window repeated daily"}
    assert projection("weekly", window)["factor"] == pytest.approx(30 / 7)
    assert projection("once", window)["factor"] is None


def test_every_shipped_scenario_says_how_it_recurs():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        assert raw.get("recurs") in ("continuous", "daily", "weekly", "once"), path.name


def test_peak_projects_at_most_31_times_its_run_cost():
    # peak.yaml's sale recurs daily; the shortened run has the same basis.
    scenario = lambdasim.load_scenario(ROOT / "scenarios" / "peak.yaml", {"duration": "6m"})
    result = lambdasim.simulate(scenario)
    cost = result.summary["account"]["cost_usd"]
    assert result.summary["cost_projection"]["recurs"] == "daily"
    assert 0 < cost["per_30_days"]["total"] <= 31 * cost["total"]
    assert "cost per 30 days (window repeated daily)" in format_summary_table(result)


def test_once_is_not_projected_and_a_long_window_cannot_repeat_daily():
    scenario = _scenario({"type": "sync", "arrivals": {"process": "poisson", "rate": "5/s"}},
                         recurs="once", duration="30s")
    result = lambdasim.simulate(scenario)
    month = result.summary["account"]["cost_usd"]["per_30_days"]
    assert month["total"] is None and result.function("f").cost_usd["per_30_days"]["total"] is None
    line = next(ln for ln in format_summary_table(result).splitlines()
                if ln.startswith("cost per 30 days"))
    assert "not projected" in line and line.rstrip().endswith("-")
    with pytest.raises(ScenarioError, match="recurs"):
        _scenario({"type": "sync", "arrivals": {"process": "poisson", "rate": "1/s"}},
                  recurs="daily", duration="25h")


# --------------------------------------------------------------------------- point 4: series

def test_metrics_series_has_latency_percentiles_and_cost_per_period():
    scenario = _scenario({"type": "sync", "arrivals": {"process": "poisson",
                                                       "rate": [[0, "5/s"], ["1m", "30/s"]]}},
                         duration="3m", reserved_concurrency=3,
                         provisioned_concurrency=1)
    result = lambdasim.simulate(scenario, records=True)
    series = result.series
    for column in ("Latency_p50_ms", "Latency_p99_ms", "Cost_usd"):
        assert column in series
    rows = [i for i, f in enumerate(series["function"]) if f == "f"]
    starts = [series["period_start_s"][i] for i in rows]
    records = result.records.columns()
    answered = np.isin(records["outcome"], ["succeeded", "failed"])
    for i, start in zip(rows, starts):
        chosen = answered & (records["arrived_s"] >= start) & (records["arrived_s"] < start + 60)
        if not chosen.any():
            assert series["Latency_p99_ms"][i] is None
            continue
        p50, p99 = np.percentile(records["latency_ms"][chosen], [50, 99])
        assert series["Latency_p50_ms"][i] == pytest.approx(p50, abs=1e-5)
        assert series["Latency_p99_ms"][i] == pytest.approx(p99, abs=1e-5)
    # The periods add up to the run's bill to 1e-9, provisioned capacity included (its
    # rounding up to 5 minutes is spread over the periods in proportion).
    total = sum(series["Cost_usd"][i] for i in rows)
    cost = result.function("f").cost_usd
    assert abs(total - cost["total"]) <= 1e-9 + 1e-15
    plain = lambdasim.simulate(scenario.with_overrides({"functions.f.provisioned_concurrency": 0}))
    rows = [i for i, f in enumerate(plain.series["function"]) if f == "f"]
    assert abs(sum(plain.series["Cost_usd"][i] for i in rows)
               - plain.function("f").cost_usd["total"]) <= 1e-9 + 1e-15
    account = [i for i, f in enumerate(plain.series["function"]) if f == ACCOUNT_ROW]
    assert [plain.series["Cost_usd"][i] for i in account] == pytest.approx(
        [plain.series["Cost_usd"][i] for i in rows], abs=1e-9)


# --------------------------------------------------------------------------- point 8: replications

def test_confidence_bounds_stay_inside_each_figures_range():
    assert figure_range("functions.f.cold_start_rate", [0.0, 0.1]) == (0.0, 1.0)
    assert figure_range("functions.f.provisioned.utilization.mean", [0.9, 1.0]) == (0.0, 1.0)
    assert figure_range("functions.f.cold_starts", [0, 3]) == (0.0, None)
    assert figure_range("functions.f.stream.maximum_retry_attempts", [-1, -1]) == (None, None)
    assert clip_interval({"mean": 3.0, "ci95": [-3.57, 9.57]}, (0.0, None))["ci95"] == [0.0, 9.57]
    assert clip_interval({"mean": 0.99, "ci95": [0.97, 1.01]}, (0.0, 1.0))["ci95"] == [0.97, 1.0]
    # A rare function: cold starts now and then, so a plain interval would reach below zero.
    scenario = _scenario({"type": "sync", "arrivals": {"process": "poisson", "rate": "1/m"}},
                         duration="20m", keep_alive="2m")
    reps = lambdasim.simulate_many(scenario, 4, workers=1)
    for key, stats in reps.figures.items():
        if stats["ci95"] is None:
            continue
        low, high = stats["ci95"]
        assert low >= 0, key
        if key.endswith("_rate"):
            assert high <= 1, key
    text = format_replications_table(reps.summary, reps.figures, reps.n, reps.seed)
    assert "requests arrived" in text and "attempts throttled (% of attempts)" in text
    assert not re.search(r"\[-\d", text)  # no negative bound anywhere


def test_figure_labels_read_as_words():
    assert figure_label("functions.api.latency_ms.p99") == "api latency p99 per request"
    assert figure_label("functions.api.requests.succeeded") == "api requests succeeded"
    assert figure_label("account.cost_usd.total") == "account cost of the run"
    assert figure_label("functions.api.made_up") == "functions.api.made_up"


# --------------------------------------------------------------------------- point 10: --json

def test_json_run_prints_every_check_on_stderr(tiny_scenario, run_cli):
    proc = run_cli(tiny_scenario, "--json", "--no-plots",
                   "--set", "expect=['api.latency_ms.p99 < 100000']")
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)  # stdout is the summary JSON only
    assert "PASS" in proc.stderr and "api.latency_ms.p99 < 100000" in proc.stderr


# --------------------------------------------------------------------------- point 6: findings

def test_findings_say_what_happened_and_when():
    # A burst at 1 min into a function held to 4 environments: the reservation is reached,
    # requests are throttled after their client's retries, latency rises during the burst.
    scenario = _scenario({"type": "sync", "name": "api",
                          "arrivals": {"process": "poisson",
                                       "rate": [[0, "1/s"], ["1m", "150/s"], ["2m", "1/s"]]},
                          "client_retries": {"max_attempts": 2}},
                         duration="4m", reserved_concurrency=6)
    result = lambdasim.simulate(scenario)
    block = result.function("f")
    found = result.findings
    text = "\n".join(found)
    assert "Reserved concurrency of 6 was reached from 1:00 to " in text
    share = hz.percent(block.requests["throttled"] / block.requests["arrived"])
    assert f"{share} of requests ({block.requests['throttled']:,}) failed with a throttle " \
           "(429) after 2 attempts" in text
    assert f"{block.throttles:,} attempts" in text
    assert any(s.startswith("P99 latency per 1 min period") for s in found)
    assert found[-1].startswith("The run cost $")
    printed = format_findings(found)
    assert printed.startswith("findings:\n- ") and max(map(len, printed.splitlines())) <= 100


def test_findings_of_an_async_backlog_name_attempts_not_requests():
    scenario = _scenario({"type": "async", "arrivals": {"process": "poisson", "rate": "40/s"}},
                         reserved_concurrency=2)
    text = "\n".join(lambdasim.simulate(scenario).findings)
    assert "but no request ended throttled: Lambda retried them" in text
    assert "async queue peaked at" in text


# --------------------------------------------------------------------------- point 10: --set

def test_set_addresses_a_trigger_by_name(tiny_scenario, run_cli):
    base = {"duration": "1m", "functions": {"f": {"duration": "50ms", "triggers": [
        {"type": "sync", "name": "api", "arrivals": {"process": "poisson", "rate": "5/s"}},
        {"type": "async", "arrivals": {"process": "poisson", "rate": "1/s"}}]}}}
    by_name = lambdasim.load_scenario(base, ["triggers.api.arrivals.rate=500/s",
                                             "functions.f.triggers.async-1.max_retry_attempts=0"])
    triggers = by_name.config["functions"]["f"]["triggers"]
    by_index = lambdasim.load_scenario(base, ["functions.f.triggers.0.arrivals.rate=500/s",
                                              "functions.f.triggers.1.max_retry_attempts=0"])
    assert triggers == by_index.config["functions"]["f"]["triggers"]
    assert triggers[1]["max_retry_attempts"] == 0
    with pytest.raises(ScenarioError, match="no trigger named 'web'; triggers: api, async-1"):
        lambdasim.load_scenario(base, ["triggers.web.arrivals.rate=1/s"])
    with pytest.raises(ScenarioError, match="no entry named 'web'"):
        lambdasim.load_scenario(base, ["functions.f.triggers.web.arrivals.rate=1/s"])
    proc = run_cli("validate", tiny_scenario, "--set", "triggers.sync-0.arrivals.rate=50/s")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("validate", tiny_scenario, "--set", "triggers.nope.arrivals.rate=50/s")
    assert proc.returncode == 2 and "no trigger named 'nope'" in proc.stderr


def test_findings_time_a_latency_rise_and_a_burst_of_cold_starts():
    summary = {"duration_s": 600.0, "warmup_s": 0.0, "config": {"period": 60.0},
               "functions": {"api": {"cold_starts": 100, "cold_start_rate": 0.01,
                                     "requests": {"arrived": 10000}}},
               "account": {}}
    p99 = [300.0, 310.0, 305.0, 1200.0, 320.0, 300.0, 310.0, 305.0, 300.0, 310.0]
    cold = [0, 2, 1, 60, 30, 1, 2, 1, 2, 1]
    series = {"period_start_s": [60.0 * k for k in range(10)], "function": ["api"] * 10,
              "Latency_p99_ms": p99, "ColdStarts": cold}
    found = findings(summary, series)
    assert "100 cold starts (1.00 % of invocations), 90 % of them between 3:00 and 5:00." in found
    assert ("P99 latency per 1 min period rose from 310.0 ms (the median period) to 1,200.0 ms in "
            "the period from 3:00.") in found


# --------------------------------------------------------------------------- point 10: widths

def test_tune_and_sweep_tables_fit_100_columns_with_human_numbers():
    from lambdasim.cli.sweep import format_comparisons, format_sweep_table
    from lambdasim.studies.sweep import sweep
    from lambdasim.studies.tune import tune
    from lambdasim.studies.tune_report import format_tune_table

    scenario = _scenario({"type": "sync", "name": "api",
                          "arrivals": {"process": "poisson", "rate": "20/s"}},
                         duration="1m", memory_scaling={"cpu_bound": 0.9})
    report = tune(scenario, "f", [128, 1024, 10240], ["x86_64", "arm64"], replications=2)
    text = format_tune_table(report)
    assert max(map(len, text.splitlines())) <= 100, text
    assert "10,240 MB" in text and "USD per 1M" in text and "2 replications" in text
    assert all(v < 1e6 for v in _millisecond_figures(text))
    result = sweep(scenario, {"functions.f.memory_mb": [512, 1024],
                              "functions.f.reserved_concurrency": [2, 8]}, 2, workers=1)
    text = format_sweep_table(result) + format_comparisons(result.compare(0, 1))
    assert max(map(len, text.splitlines())) <= 100, text
    assert "f latency p99 per request" in " ".join(text.split())  # words, not dotted keys
    assert "functions.f.latency_ms.p99" not in text


def test_cold_start_share_counts_only_the_table_window():
    # The period that straddles the warm-up (0:00-1:00 with a 30 s warm-up) also holds the
    # warm-up's cold starts: "1 cold start, 83 % of them between 0:00 and 1:00" read wrong.
    summary = {"duration_s": 360.0, "warmup_s": 30.0, "config": {"period": 60.0},
               "functions": {"k": {"cold_starts": 1, "cold_start_rate": 0.0005,
                                   "requests": {"arrived": 7000}}},
               "account": {}}
    series = {"period_start_s": [60.0 * k for k in range(6)], "function": ["k"] * 6,
              "ColdStarts": [6, 1, 0, 0, 0, 0]}
    found = " ".join(findings(summary, series))
    assert "1 cold start (0.05 % of invocations), 100 % of them between 1:00 and 2:00." in found
    assert "0:00" not in found
