"""The command line called in process (``cli.main(argv)``): the same paths as the subprocess
tests in test_cli.py, fast enough to cover every branch, and visible to coverage."""
from __future__ import annotations

import json

import pytest

from lambdasim import cli

SCENARIO = """\
name: small
duration: 20s
seed: 3
functions:
  api:
    memory_mb: 256
    duration: {dist: exponential, mean: 50ms}
    reserved_concurrency: 2
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 30/s}
        client_retries: {max_attempts: 2, base_delay: 10ms}
"""


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.yaml").write_text(SCENARIO)
    return tmp_path


def test_run_writes_the_results_folder_and_prints_the_table(workdir, capsys):
    assert cli.main(["small.yaml"]) == 0
    out = capsys.readouterr().out
    assert "requests arrived" in out and "results: results/small" in out
    folder = workdir / "results" / "small"
    assert {p.name for p in folder.iterdir()} == {
        "summary.json", "run.json", "metrics.csv", "report.html",
        "concurrency-api.png", "requests-api.png", "latency-api.png",
        "latency_time-api.png", "cost-api.png", ".lambdasim.json"}
    summary = json.loads((folder / "summary.json").read_text())
    block = summary["functions"]["api"]
    assert block["throttles"] > 0  # 30/s x 50 ms against 2 units throttles some attempts
    requests = block["requests"]
    assert requests["arrived"] == sum(v for k, v in requests.items() if k != "arrived")


def test_json_records_seed_and_period(workdir, capsys):
    assert cli.main(["run", "small.yaml", "--json", "--records", "--seed", "9",
                     "--period", "5s", "--out", "out"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seed"] == 9 and summary["config"]["period"] == 5.0
    assert (workdir / "out" / "requests.csv.gz").is_file()
    rows = (workdir / "out" / "metrics.csv").read_text().splitlines()
    # A header, then (api, account) rows for each 5 s period of the 20 s horizon and of the
    # drain after it (requests in flight at 20 s end within a second).
    starts = [row.split(",")[0] for row in rows[1:]]
    assert starts[:8] == ["0.0", "0.0", "5.0", "5.0", "10.0", "10.0", "15.0", "15.0"]
    assert len(rows) in (9, 11)


def test_quiet_prints_nothing(workdir, capsys):
    assert cli.main(["small.yaml", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_validate_and_schema(workdir, capsys):
    assert cli.main(["validate", "small.yaml"]) == 0
    assert capsys.readouterr().out.startswith("ok: small.yaml")
    assert cli.main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "functions" in schema["properties"]


@pytest.mark.parametrize("argv, expected", [
    (["missing.yaml"], "missing.yaml"),
    (["small.yaml", "--set", "functions.api.memory_mb=64"], "functions.api.memory_mb"),
    (["small.yaml", "--set", "no-equals-sign"], "KEY=VALUE"),
    (["small.yaml", "--period", "soon"], "--period"),
    (["small.yaml", "--seed", "-1"], "--seed"),
    (["validate", "small.yaml", "missing.yaml"], "missing.yaml"),
])
def test_bad_input_exits_2_with_one_message_and_writes_nothing(workdir, capsys, argv, expected):
    with pytest.raises(SystemExit) if argv[-1] == "-1" else _no_raise() as caught:
        code = cli.main(argv)
    if caught is not None and getattr(caught, "value", None) is not None:
        code = caught.value.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdasim: error: ") and expected in err
    assert "Traceback" not in err
    assert not (workdir / "results").exists()


class _no_raise:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_a_run_with_many_charts_says_how_long_they_take_and_how_to_skip_them(workdir, capsys,
                                                                              monkeypatch):
    from lambdasim.cli import run as run_cli

    monkeypatch.setattr(run_cli, "NOTICE_ABOVE_S", 0.0)  # one function's charts are "many"
    assert cli.main(["small.yaml"]) == 0
    err = capsys.readouterr().err
    assert "drawing at least 5 charts (5 for each of 1 functions)" in err
    assert "--no-plots skips them" in err
    for quiet in (["--no-plots"], ["--quiet"], ["--json"]):
        assert cli.main(["small.yaml", *quiet]) == 0
        assert "drawing at least" not in capsys.readouterr().err


def test_the_chart_notice_counts_the_charts_each_function_gets():
    # Its count is the charts a plain function gets (no trigger charts); quick runs say nothing.
    import lambdasim
    from lambdasim.cli.run import CHARTS_PER_FUNCTION, SECONDS_PER_CHART, chart_notice
    from lambdasim.results.plots import charts

    result = lambdasim.simulate({"name": "n", "duration": 20, "functions": {"f": {
        "duration": "50ms", "triggers": [{"type": "sync", "arrivals": {
            "process": "poisson", "rate": 5}}]}}})
    assert sum(1 for _ in charts(result)) == CHARTS_PER_FUNCTION
    assert chart_notice(1) is None and chart_notice(40) is None
    notice = chart_notice(1000)
    assert notice.startswith("drawing at least 5,000 charts (5 for each of 1,000 functions)")
    assert f"about {5000 * SECONDS_PER_CHART / 60:.0f} min" in notice
