"""Replications with confidence intervals, sweeps, paired comparisons and their executors.

The statistics are checked against their definitions (Student t) and against a known true
value (Erlang B coverage over 200 independent studies); the executors against each other
(in process, a process pool, a Dask LocalCluster and a plain thread pool give identical
numbers); the command line as a user types it, including bad sweep specs (exit 2, nothing
written).
"""
from __future__ import annotations

import io
import re
import json
import math
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

import lambdasim
from lambdasim import cli
from lambdasim.scenario import ScenarioError
from lambdasim.studies.sweep import (Comparison, ProgressBar, Replications, SchedulerUnreachable,
                             dask_executor, figure_stats, flatten_figures, parse_sweep_option,
                             simulate_many, sweep)
from lambdasim.theory import erlang_b

SMALL = """\
name: small
duration: 40s
warmup: 5s
seed: 11
functions:
  api:
    memory_mb: 1024
    memory_scaling: {cpu_bound: 0.8}
    timeout: 10s
    reserved_concurrency: 4
    duration: {dist: lognormal, median: 60ms, p99: 400ms}
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: 40/s}
"""


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.yaml").write_text(SMALL)
    return tmp_path


def _small(**overrides):
    return lambdasim.load_scenario(yaml.safe_load(SMALL), overrides or None)


# -- statistics --------------------------------------------------------------------------------

def test_figure_stats_is_the_student_t_interval():
    stats = figure_stats([1.0, 2.0, 3.0, None])
    # t(0.975, 2) = 4.302653; sd = 1; n = 3 (the None is left out and n reported).
    assert stats["mean"] == 2.0 and stats["sd"] == pytest.approx(1.0) and stats["n"] == 3
    assert stats["ci95"][1] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert figure_stats([5.0]) == {"mean": 5.0, "sd": None, "ci95": None}
    assert figure_stats([None, None]) == {"mean": None, "sd": None, "ci95": None, "n": 0}


def test_paired_and_welch_intervals_follow_their_definitions():
    a = [10.0, 12.0, 14.0, 16.0]
    b = [11.0, 13.5, 15.0, 17.5]  # differences 1, 1.5, 1, 1.5: sd 0.288675
    c = Comparison("x", a, b)
    assert c.difference == pytest.approx(1.25)
    assert c.paired_half_width == pytest.approx(3.182446 * 0.2886751 / 2.0, rel=1e-5)
    # Welch: variances 20/3 and 89/12, n = 4 -> se = 1.87639, dof = 5.983, t = 2.4487.
    se = math.sqrt((20.0 / 3.0 + 89.0 / 12.0) / 4.0)
    assert c.unpaired_half_width == pytest.approx(2.4487 * se, rel=2e-4)
    with pytest.raises(ValueError):
        Comparison("x", [1.0, 2.0], [1.0])


def test_flatten_keeps_numbers_and_nulls_and_skips_run_descriptors():
    flat = flatten_figures({"seed": 3, "scenario": "s", "duration_s": 9.0, "config": {"a": 1},
                            "functions": {"f": {"p": {"x": 1, "y": None}, "b": True}},
                            "account": {"throttles": 2}})
    assert flat == {"functions.f.p.x": 1, "functions.f.p.y": None, "account.throttles": 2}


def test_parse_sweep_option_splits_top_level_commas_only():
    assert parse_sweep_option("functions.api.memory_mb=512, 1024,2048") == (
        "functions.api.memory_mb", [512, 1024, 2048])
    key, values = parse_sweep_option(
        "functions.api.duration={dist: constant, value: 50ms},100ms,'a,b'")
    assert values == [{"dist": "constant", "value": "50ms"}, "100ms", "a,b"]
    assert parse_sweep_option("x.y=[1, 2],[3]") == ("x.y", [[1, 2], [3]])
    for bad, words in [("functions.api.memory_mb=", "empty list"),
                       ("functions.api.memory_mb=1,,2", "value 2 of 3 is empty"),
                       ("memory_mb", "KEY=VALUE")]:
        with pytest.raises(ScenarioError, match=words):
            parse_sweep_option(bad)


# -- replications ------------------------------------------------------------------------------

def test_replications_are_the_single_runs_and_summary_keeps_numbers_at_their_keys():
    scenario = _small()
    reps = simulate_many(scenario, 3, workers=1)
    for i, summary in enumerate(reps.summaries):
        single = lambdasim.simulate(scenario, replication=i).summary
        del single["config"]
        assert summary == single  # replication i is simulate(..., replication=i)
    p99 = reps.values("functions.api.latency_ms.p99")
    assert len(set(p99)) == 3  # independent streams: three different samples
    summary = reps.summary
    block = summary["functions"]["api"]
    # Existing consumers read numbers at the usual keys: the mean over replications.
    assert block["latency_ms"]["p99"] == pytest.approx(sum(p99) / 3)
    stats = summary["replications"]["figures"]["functions.api.latency_ms.p99"]
    assert stats["ci95"][0] < stats["mean"] < stats["ci95"][1] and stats["sd"] > 0
    assert summary["replications"]["n"] == 3 and summary["replications"]["level"] == 0.95
    assert summary["config"] == scenario.config and summary["seed"] == 11
    # Conservation is linear, so it holds for the means too.
    requests = block["requests"]
    assert requests["arrived"] == pytest.approx(
        sum(v for k, v in requests.items() if k != "arrived"))
    frame = reps.to_pandas()
    assert list(frame["replication"]) == [0, 1, 2]
    assert list(frame["functions.api.latency_ms.p99"]) == p99


def test_any_concurrent_futures_executor_gives_the_same_numbers():
    scenario = _small(duration="20s")
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = simulate_many(scenario, 3, executor=pool)
    assert threaded.summary == simulate_many(scenario, 3, workers=1).summary


@pytest.mark.slow
def test_same_sweep_is_identical_in_process_on_a_process_pool_and_on_dask(workdir, capsys):
    """The Must-show: one worker, a local process pool and a Dask LocalCluster (two worker
    processes, started here) give identical sweep.json figures, byte for byte."""
    executors = {"in-process": ["--workers", "1"], "process pool (2 workers)": ["--workers", "2"],
                 "dask local": ["--dask", "local", "--workers", "2"]}
    for name, options in executors.items():
        assert cli.main(["sweep", "small.yaml", "--set", "functions.api.memory_mb=1024,1536",
                         "--set", "duration=20s", "--replications", "3", "--out", name,
                         *options]) == 0
        assert json.loads((workdir / name / "run.json").read_text())["executor"] == name
    capsys.readouterr()
    files = [(workdir / name / "sweep.json").read_bytes() for name in executors]
    assert files[0] == files[1] == files[2]
    csvs = [(workdir / name / "sweep.csv").read_bytes() for name in executors]
    assert csvs[0] == csvs[1] == csvs[2]
    api = sweep(_small(duration="20s"), {"functions.api.memory_mb": [1024, 1536]}, 3, workers=1)
    # The Python API gives the same figures as the command line.
    assert ([p["figures"] for p in api.to_dict()["points"]]
            == [p["figures"] for p in json.loads(files[0])["points"]])


def test_unreachable_scheduler_is_reported_quickly():
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SchedulerUnreachable, match=f"tcp://127.0.0.1:{port}"):
        with dask_executor(f"tcp://127.0.0.1:{port}", connect_timeout_s=1.0):
            pass


# -- confidence-interval coverage against a known true value ----------------------------------

def _loss_system(servers: int, load: float, arrivals: int) -> dict:
    """Sync requests, zero Init, reserved concurrency ``servers``: M/M/c/c (Erlang B)."""
    mean_service_s = 0.1
    rate = load / mean_service_s
    return {"name": "erlang-b", "duration": 1.0 + arrivals / rate, "warmup": 1.0, "seed": 1,
            "account": {"request_rate_limit": {"enabled": False}},
            "functions": {"f": {
                "init": "0s", "timeout": "900s", "reserved_concurrency": servers,
                "duration": {"dist": "exponential", "mean": mean_service_s},
                "triggers": [{"type": "sync",
                              "arrivals": {"process": "poisson", "rate": f"{rate}/s"}}]}}}


@pytest.mark.slow
def test_95_percent_intervals_cover_the_erlang_b_probability_90_to_99_percent_of_the_time():
    """200 independent studies (seed roots 7000-7199) of 5 replications each, ~600 arrivals
    per replication: the 95 % Student-t interval of the throttle rate must contain
    ErlangB(3, 2.0) = 0.2105 in 90-99 % of the studies. A throttled sync request is rejected
    at once (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), so with
    Poisson arrivals and zero Init the function is a loss system and PASTA gives Erlang B.
    """
    servers, load = 3, 2.0
    truth = erlang_b(servers, load)
    result = sweep(_loss_system(servers, load, 600), {"seed": list(range(7000, 7200))}, 5,
                   workers=1)
    key = "functions.f.throttle_rate"
    intervals = [p.replications.figures[key]["ci95"] for p in result.points]
    covered = sum(low <= truth <= high for low, high in intervals)
    assert len(intervals) == 200
    assert 180 <= covered <= 198, covered
    # The studies are independent (different seed roots): no two share a replication value.
    firsts = [p.replications.values(key)[0] for p in result.points]
    assert len(set(firsts)) > 190
    # The grand mean over 1000 runs agrees with the truth within its own 99 % interval.
    grand = [v for p in result.points for v in p.replications.values(key)]
    mean = sum(grand) / len(grand)
    sd = math.sqrt(sum((v - mean) ** 2 for v in grand) / (len(grand) - 1))
    assert abs(mean - truth) < 2.58 * sd / math.sqrt(len(grand))


# -- common random numbers -----------------------------------------------------------------------

def test_common_random_numbers_make_the_paired_interval_narrower_than_the_unpaired():
    """1024 MB vs 1536 MB on the same 10 replications: same arrivals, same handler draws."""
    result = sweep(_small(), {"functions.api.memory_mb": [1024, 1536]}, 10, workers=1)
    comparisons = {c.figure: c for c in result.compare(0, 1)}
    for figure in ("functions.api.latency_ms.mean", "functions.api.latency_ms.p99",
                   "functions.api.cost_usd.total"):
        c = comparisons[figure]
        assert c.n == 10
        assert c.paired_half_width < 0.75 * c.unpaired_half_width, c
        assert c.paired_ci[0] <= c.difference <= c.paired_ci[1]
    # More memory, more CPU: lower latency, and the paired interval excludes zero.
    latency = comparisons["functions.api.latency_ms.mean"]
    assert latency.paired_ci[1] < 0
    # Both points saw the very same arrivals (replication by replication).
    a, b = (p.replications for p in result.points)
    assert a.values("functions.api.requests.arrived") == b.values("functions.api.requests.arrived")


# -- the command line ----------------------------------------------------------------------------

def test_run_with_replications_writes_summary_replications_and_run_json(workdir, capsys):
    assert cli.main(["run", "small.yaml", "--replications", "3", "--workers", "1",
                     "--out", "r"]) == 0
    out = capsys.readouterr()
    assert "3 replications" in out.out and "95 % confidence interval" in out.out
    assert "results: r" in out.out
    assert out.err == ""  # stderr is not a terminal here: no progress bar
    folder = workdir / "r"
    # The data, and (issue 16) the charts with their bands and report.html; the marker.
    assert {p.name for p in folder.iterdir()} == {
        "summary.json", "replications.json", "run.json", "report.html", "concurrency-api.png",
        "requests-api.png", "latency_time-api.png", "cost-api.png", ".lambdasim.json"}
    summary = json.loads((folder / "summary.json").read_text())
    assert isinstance(summary["functions"]["api"]["latency_ms"]["p99"], float)
    assert summary["replications"]["n"] == 3
    reps = json.loads((folder / "replications.json").read_text())["replications"]
    assert [r["replication"] for r in reps] == [0, 1, 2]
    single = lambdasim.simulate(workdir / "small.yaml").summary
    assert reps[0]["functions"] == single["functions"]
    run_info = json.loads((folder / "run.json").read_text())
    assert run_info["executor"] == "in-process" and run_info["replications"] == 3
    # The same seed gives a byte-identical summary.json on a process pool.
    assert cli.main(["run", "small.yaml", "--replications", "3", "--workers", "2",
                     "--out", "r2", "--quiet"]) == 0
    assert (workdir / "r2" / "summary.json").read_bytes() == (folder / "summary.json").read_bytes()


def test_run_json_with_replications_prints_the_summary(workdir, capsys):
    assert cli.main(["small.yaml", "--replications", "2", "--workers", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["replications"]["n"] == 2 and (workdir / "results" / "small").is_dir()


def test_sweep_writes_csv_json_and_png(workdir, capsys):
    assert cli.main(["sweep", "small.yaml", "--set", "functions.api.memory_mb=1024,2048",
                     "--set", "functions.api.reserved_concurrency=4,8", "--replications", "2",
                     "--workers", "1", "--set", "duration=20s"]) == 0
    out = capsys.readouterr().out
    assert "4 points x 2 replications" in out and "results: results/small-sweep" in out
    folder = workdir / "results" / "small-sweep"
    assert {p.name for p in folder.iterdir()} == {"sweep.csv", "sweep.json", "sweep.png",
                                                  "run.json", ".lambdasim.json"}
    rows = (folder / "sweep.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:4] == ["functions.api.memory_mb", "functions.api.reserved_concurrency",
                          "duration", "replications"]
    assert "functions.api.latency_ms.p99.ci95_low" in header and len(rows) == 5
    assert [r.split(",")[:2] for r in rows[1:]] == [["1024", "4"], ["1024", "8"],
                                                    ["2048", "4"], ["2048", "8"]]
    document = json.loads((folder / "sweep.json").read_text())
    assert document["keys"][0] == "functions.api.memory_mb" and len(document["points"]) == 4
    assert document["points"][3]["settings"] == {"functions.api.memory_mb": 2048,
                                                 "functions.api.reserved_concurrency": 8,
                                                 "duration": "20s"}
    assert (folder / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_result_table_converts_to_pandas():
    result = sweep(_small(duration="10s"), ["functions.api.memory_mb=512,1024,2048"], 2,
                   workers=1, metric="account.cost_usd.total")
    frame = result.to_pandas()
    assert list(frame["functions.api.memory_mb"]) == [512, 1024, 2048]
    assert result.figures[0] == "account.cost_usd.total"
    assert (frame["account.cost_usd.total.ci95_low"] <= frame["account.cost_usd.total.mean"]).all()


def test_sweep_compare_prints_paired_and_unpaired_intervals(workdir, capsys):
    assert cli.main(["sweep", "small.yaml", "--set", "functions.api.memory_mb=1024,1536",
                     "--replications", "4", "--workers", "1", "--compare", "--out", "c"]) == 0
    out = capsys.readouterr().out
    assert "paired difference B - A over 4 replications" in out
    assert "half-width of its 95 % confidence interval" in out
    assert "paired ±" in out and "unpaired ±" in out
    comparison = json.loads((workdir / "c" / "sweep.json").read_text())["comparison"]
    assert comparison[0]["figure"] == "functions.api.latency_ms.p99"
    assert comparison[0]["b"] == "memory_mb=1536"


def test_compare_two_files_runs_both_on_one_seed_root(workdir, capsys):
    (workdir / "b.yaml").write_text(SMALL.replace("memory_mb: 1024", "memory_mb: 1536")
                                    .replace("seed: 11", "seed: 99")
                                    .replace("name: small", "name: big"))
    assert cli.main(["sweep", "--compare", "small.yaml", "b.yaml", "--replications", "3",
                     "--workers", "1", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [p["settings"]["scenario"] for p in document["points"]] == ["small.yaml", "b.yaml"]
    arrived = [p["figures"]["functions.api.requests.arrived"]["mean"] for p in document["points"]]
    assert arrived[0] == arrived[1]  # B ran on A's seed: the same arrivals
    assert document["seed"] == 11
    assert (workdir / "results" / "small-vs-big-sweep" / "sweep.json").is_file()


@pytest.mark.parametrize("args, words", [
    (["--set", "functions.api.memroy_mb=1024,2048"], "unknown key 'memroy_mb'"),
    (["--set", "functions.api.memory_mb=big,1024"], "expected an integer; got 'big'"),
    (["--set", "functions.api.memory_mb=99,1024"], "must be between 128 and 10240"),
    (["--set", "functions.api.memory_mb="], "empty list of values"),
    (["--set", "functions.api.memory_mb=1024,,2048"], "value 2 of 3 is empty"),
    (["--set", "a.b=1", "--set", "a.b=2"], "swept twice"),
    ([], "nothing to sweep"),
    (["--set", "functions.api.memory_mb=512,1024,2048", "--compare"], "exactly two points"),
    (["--set", "functions.api.memory_mb=1024", "--metric", "functions.zz.p99"],
     "no figure 'functions.zz.p99'"),
    (["--set", "functions.api.memory_mb=1024", "--metric", "functions.api.latency_ms.p98"],
     "(did you mean 'functions.api.latency_ms.p99'?)"),
    (["--set", "functions.api.memory_mb=1024", "--dask", "tcp://127.0.0.1:{port}"],
     "cannot reach the Dask scheduler at tcp://127.0.0.1:"),
])
def test_bad_sweep_specs_exit_2_with_a_clear_message_and_write_nothing(workdir, capsys, args,
                                                                       words):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [a.replace("{port}", str(port)) for a in args]
    assert cli.main(["sweep", "small.yaml", "--replications", "2", "--workers", "1",
                     *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdasim: error: ") and words in err and "Traceback" not in err
    assert not (workdir / "results").exists()


def test_records_cannot_be_combined_with_replications(workdir, capsys):
    assert cli.main(["small.yaml", "--replications", "2", "--records"]) == 2
    assert "--records cannot be combined with --replications" in capsys.readouterr().err
    assert not (workdir / "results").exists()


def test_sweep_does_not_replace_a_foreign_folder(workdir, capsys):
    (workdir / "mine").mkdir()
    (workdir / "mine" / "notes.txt").write_text("keep me")
    assert cli.main(["sweep", "small.yaml", "--set", "duration=10s", "--replications", "2",
                     "--workers", "1", "--out", "mine"]) == 2
    assert "was not written by lambdasim" in capsys.readouterr().err
    assert (workdir / "mine" / "notes.txt").read_text() == "keep me"


# -- progress ------------------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_appears_on_a_terminal_stderr_unless_quiet(workdir, monkeypatch):
    for quiet, expected in (([], "runs 4/4 "), (["--quiet"], "")):
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert cli.main(["sweep", "small.yaml", "--set", "functions.api.memory_mb=512,1024",
                         "--set", "duration=10s", "--replications", "2", "--workers", "1",
                         "--out", "p", *quiet]) == 0
        drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # rich's styles
        assert expected in drawn
        if quiet:
            assert terminal.getvalue() == ""


def test_progress_bar_counts_finished_runs_and_stays_silent_when_disabled():
    stream = io.StringIO()
    bar = ProgressBar(4, enabled=True, stream=stream)
    for _ in range(4):
        bar.update()
    bar.close()
    # rich.progress draws it (escape codes between the figures); see tests/test_progress.py.
    assert "runs" in stream.getvalue() and "4/4" in stream.getvalue()
    assert "100%" in stream.getvalue()
    silent = io.StringIO()
    quiet = ProgressBar(4, enabled=False, stream=silent)
    quiet.update(4)
    quiet.close()
    assert silent.getvalue() == "" and quiet.done == 4


def test_replications_object_rejects_unknown_figures():
    reps = Replications({"name": "x", "seed": 1, "functions": {}},
                        [{"functions": {"f": {"errors": 1}}}, {"functions": {"f": {"errors": 3}}}])
    assert reps.figures["functions.f.errors"]["mean"] == 2.0
    with pytest.raises(KeyError, match="did you mean 'functions.f.errors'"):
        reps.values("functions.f.error")


def test_sweep_as_a_user_types_it(tmp_path, tiny_scenario, run_cli):
    """Through a subprocess: a process-pool sweep, then a bad spec (exit 2, no traceback)."""
    done = run_cli("sweep", tiny_scenario, "--set", "functions.api.memory_mb=512,1024",
                   "--replications", "2", "--workers", "2", "--compare")
    assert done.returncode == 0, done.stderr
    assert "paired difference B - A over 2 replications" in done.stdout and done.stderr == ""
    assert (tmp_path / "results" / "tiny-sweep" / "sweep.png").is_file()
    bad = run_cli("sweep", tiny_scenario, "--set", "functions.api.memory_mb=", "--out", "bad")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == ("lambdasim: error: --set functions.api.memory_mb: empty list of "
                          "values to sweep; expected KEY=V1,V2,...\n")
    assert not (tmp_path / "bad").exists()


def test_run_with_replications_checks_expect_on_the_confidence_bound(tmp_path):
    # The mean throttle rate (0.2128 over 5 replications) passes '< 0.22', but its 95 % upper
    # bound (0.226) does not: with --replications the check uses the bound and exits 1.
    scenario = tmp_path / "exp.yaml"
    scenario.write_text(
        "name: exp\nduration: 2m\nseed: 3\nfunctions:\n  api:\n"
        "    duration: {dist: exponential, mean: 100ms}\n    reserved_concurrency: 3\n"
        "    triggers:\n      - type: sync\n        arrivals: {process: poisson, rate: 20/s}\n"
        "expect:\n  - api.throttle_rate < 0.22\n")
    from lambdasim.cli.main import main

    assert main([str(scenario), "--out", str(tmp_path / "one"), "--no-plots", "--quiet"]) == 0
    code = main([str(scenario), "--out", str(tmp_path / "reps"), "--replications", "5",
                 "--workers", "1", "--quiet"])
    assert code == 1
    summary = json.loads((tmp_path / "reps" / "summary.json").read_text())
    figure = summary["replications"]["figures"]["functions.api.throttle_rate"]
    assert figure["mean"] < 0.22 < figure["ci95"][1]
