"""``lambdasim plan``: the cheapest settings of a function that keep its SLOs.

The end-to-end case: a rarely called function with a slow Init (4 s), called in pairs every
20 minutes, so every call is a cold start unless provisioned environments are ready
(https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html: provisioned
environments answer without Init; requests beyond them spill over to on-demand environments).
One provisioned environment covers one of each pair; two cover both. The cheapest setting
that keeps p99 under 1 s is 2, and plan must say that 0 and 1 broke the p99 SLO.
"""
from __future__ import annotations

import json

import pytest

import lambdasim
from lambdasim.studies.plan import plan
from lambdasim.studies.sweep import sweep

RARE = """\
name: rare_report
duration: 80m
seed: 4
functions:
  report:
    memory_mb: 1024
    timeout: 30s
    duration: {dist: uniform, low: 150ms, high: 250ms}
    init: {dist: uniform, low: 3.5s, high: 4.5s}
    keep_alive: 5m
    triggers:
      - type: sync
        arrivals:
          - {process: burst, count: 2, at: 10m}
          - {process: burst, count: 2, at: 30m}
          - {process: burst, count: 2, at: 50m}
          - {process: burst, count: 2, at: 70m}
"""


@pytest.fixture
def rare(tmp_path):
    path = tmp_path / "rare.yaml"
    path.write_text(RARE)
    return path


def _row_lines(lines: list[str], setting: str) -> list[str]:
    """Every line of a setting's rows: the lines naming it and the wrapped cell lines (they
    start with a space) that follow them."""
    out, inside = [], False
    for line in lines:
        if setting in line:
            inside = True
        elif not line.startswith(" "):
            inside = False
        if inside:
            out.append(line)
    return out


def test_plan_picks_the_smallest_provisioned_capacity_that_meets_p99(run_cli, rare, tmp_path):
    out = tmp_path / "plan-out"
    proc = run_cli("plan", rare, "--function", "report",
                   "--vary", "functions.report.provisioned_concurrency=0,1,2,3",
                   "--slo", "report.latency_ms.p99 < 1000", "--replications", "3",
                   "--workers", "1", "--out", out)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "chosen (*): provisioned_concurrency=2" in proc.stdout
    # rich splits a table wider than 100 columns into parts that repeat the rank and the
    # setting (the verdicts come in the second part), so a setting's row is all its lines.
    assert max(len(line) for line in lines) <= 100
    chosen_row = " ".join(line for line in lines if line.startswith("1*"))
    assert "provisioned_concurrency=2" in chosen_row and "meets every SLO" in chosen_row
    for cheaper in (0, 1):
        row = " ".join(" ".join(_row_lines(lines, f"provisioned_concurrency={cheaper} ")).split())
        assert "breaks report.latency_ms.p99 < 1000 (95 % CI upper" in row
        assert "meets every SLO" not in row
    document = json.loads((out / "plan.json").read_text())
    assert document["chosen"] == {"functions.report.provisioned_concurrency": 2}
    assert document["replications"] == 3 and document["objective"] == "cost"
    by_setting = {p["settings"]["functions.report.provisioned_concurrency"]: p
                  for p in document["points"]}
    assert by_setting[0]["broken"] == by_setting[1]["broken"] == ["report.latency_ms.p99 < 1000"]
    assert by_setting[3]["passed"] and by_setting[3]["rank"] == 2
    # Passing settings are ranked by cost; the cheaper failing ones come after them.
    assert by_setting[0]["cost_usd"]["mean"] < by_setting[2]["cost_usd"]["mean"]
    assert [p["rank"] for p in document["points"]] == [1, 2, 3, 4]
    assert (out / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "run.json").read_text())["runs"] == 12


def test_plan_reuses_the_sweep_common_random_numbers(rare):
    scenario = lambdasim.load_scenario(rare)
    grid = {"functions.report.provisioned_concurrency": [0, 2]}
    planned = plan(scenario, "report", grid, ["report.latency_ms.p99 < 1000"],
                   replications=2, workers=1)
    swept = sweep(scenario, grid, replications=2, workers=1)
    for point, swept_point in zip(planned.sweep.points, swept.points):
        assert (point.replications.figures["functions.report.cost_usd.total"]
                == swept_point.replications.figures["functions.report.cost_usd.total"])
    assert planned.chosen.settings == {"functions.report.provisioned_concurrency": 2}


def test_objective_p99_within_a_budget(rare):
    scenario = lambdasim.load_scenario(rare)
    grid = {"functions.report.provisioned_concurrency": [0, 2, 3],
            "functions.report.memory_mb": [512, 1024]}
    fastest = plan(scenario, "report", grid, ["report.throttle_rate <= 0.001"],
                   objective="p99", replications=2, workers=1)
    assert fastest.chosen.settings["functions.report.provisioned_concurrency"] in (2, 3)
    budget = fastest.chosen.cost_usd["mean"] / 2
    cheap = plan(scenario, "report", grid, ["report.throttle_rate <= 0.001"],
                 objective="p99", budget_usd=budget, replications=2, workers=1)
    assert cheap.chosen.cost_usd["mean"] <= budget
    assert cheap.chosen.settings["functions.report.provisioned_concurrency"] == 0


def test_no_setting_passes_exits_1_and_says_so(run_cli, rare, tmp_path):
    proc = run_cli("plan", rare, "--function", "report",
                   "--vary", "functions.report.provisioned_concurrency=0,1",
                   "--slo", "report.latency_ms.p99 < 1000", "--replications", "2",
                   "--workers", "1", "--out", tmp_path / "none")
    assert proc.returncode == 1, proc.stderr
    assert "no setting meets every SLO" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["--slo", "report.latency_ms.p98 < 1000"], "no figure 'functions.report.latency_ms.p98'"),
    (["--slo", "report.latency_ms.p99 1000"], "--slo"),
    (["--slo", "nosuch.latency_ms.p99 < 1"], "names no function 'nosuch'"),
    ([], "no SLO"),
])
def test_bad_plan_input_is_one_line_exit_2(run_cli, rare, tmp_path, args, message):
    out = tmp_path / "bad"
    proc = run_cli("plan", rare, "--function", "report",
                   "--vary", "functions.report.provisioned_concurrency=0,1", *args,
                   "--out", out)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_verdict_and_chart_speak_the_figure_unit(rare):
    """The verdict gives the compared figure in its unit at the table's precision, "95 %" as
    every lambdasim table spells it, and plan.png's y axis names the figure and its unit
    (issue 16 point 3)."""
    import re

    from lambdasim.cli.plan import format_plan_table, plot_plan
    from lambdasim.studies.plan import figure_text

    scenario = lambdasim.load_scenario(rare)
    grid = {"functions.report.provisioned_concurrency": [0, 2]}
    planned = plan(scenario, "report", grid,
                   ["report.latency_ms.p99 < 1000", "report.cold_start_rate <= 0.01"],
                   replications=2, workers=1)
    failing = next(p for p in planned.points if not p.passed)
    verdict = failing.verdict()
    assert re.search(r"\(95 % CI upper [\d,]+\.\d ms\)", verdict), verdict
    assert re.search(r"cold_start_rate <= 0.01 \(95 % CI upper [\d.]+ %\)", verdict), verdict
    text = format_plan_table(planned)
    assert "95%" not in text and "95 % CI" in text
    assert figure_text("functions.report.latency_ms.p99", 2062.93) == "2,062.9 ms"
    assert figure_text("functions.report.latency_ms.p99", 12_500.0) == "12.5 s"
    assert figure_text("functions.report.throttle_rate", 0.0123) == "1.23 %"
    assert figure_text("functions.report.cost_usd.total", 0.01234, 4) == "$0.0123"
    import matplotlib
    matplotlib.use("Agg")
    from unittest import mock

    with mock.patch("matplotlib.figure.Figure.savefig"):
        seen = {}
        real = __import__("matplotlib.axes", fromlist=["Axes"]).Axes.set_ylabel

        def spy(ax, label, *args, **kwargs):
            seen["y"] = label
            return real(ax, label, *args, **kwargs)

        with mock.patch("matplotlib.axes.Axes.set_ylabel", spy):
            plot_plan(planned)
    assert seen["y"] == "report latency p99 per request (ms, 95 % CI upper bound)", seen


def test_plan_help_spells_95_percent_as_the_tables(capsys):
    from lambdasim import cli

    with pytest.raises(SystemExit):
        cli.main(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "95 % confidence interval" in text and "95%" not in text
