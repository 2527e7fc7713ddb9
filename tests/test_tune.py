"""``python -m lambdasim tune``: power tuning with common random numbers.

Memory and CPU: "At 1,769 MB, a function has the equivalent of one vCPU"
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html); CPU is allocated in
proportion to memory, so a CPU-bound single-threaded handler halves its duration when memory
doubles, until one vCPU.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import lambdasim
from lambdasim import cli
from lambdasim.engine.function import duration_factor
from lambdasim.studies.tune import _paired, tune

ROOT = Path(__file__).resolve().parent.parent

CPU_BOUND = {
    "name": "cpu",
    "duration": "60s",
    "seed": 11,
    "functions": {
        "resize": {
            "memory_mb": 512,
            "timeout": "30s",
            "duration": "1s",  # at 512 MB, all of it CPU on one thread
            "init": "300ms",
            "memory_scaling": {"cpu_bound": 1.0, "threads": 1},
            "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": "2/s"}}],
        }
    },
}
MEMORIES = [512, 1024, 1536, 1769, 2048, 3008, 10240]


def cpu_scenario():
    return lambdasim.load_scenario(CPU_BOUND)


def by_memory(report, arch="x86_64"):
    return {c["memory_mb"]: c for c in report["configurations"] if c["architecture"] == arch}


def value(entry, *path):
    for key in path:
        entry = entry[key]
    return entry["value"]


def test_duration_factor_halves_from_512_to_1024_and_stops_at_1769():
    # Fully CPU-bound (f = 1), single-threaded, measured at 512 MB.
    assert duration_factor(1024, 512, 1.0) == pytest.approx(0.5 * duration_factor(512, 512, 1.0))
    at_vcpu = duration_factor(1769, 512, 1.0)
    assert at_vcpu == pytest.approx(512 / 1769)
    for memory_mb in (1770, 2048, 3008, 10240):
        assert duration_factor(memory_mb, 512, 1.0) == at_vcpu


@pytest.fixture(scope="module")
def cpu_reports():
    scenario = cpu_scenario()
    return {strategy: tune(scenario, "resize", MEMORIES, ["x86_64"], strategy=strategy)
            for strategy in ("speed", "cost")}


def test_simulated_duration_halves_then_stops_improving(cpu_reports):
    rows = by_memory(cpu_reports["speed"])
    assert value(rows[512], "duration_ms_mean") == pytest.approx(1000.0, abs=1e-6)
    assert value(rows[1024], "duration_ms_mean") == pytest.approx(500.0, abs=1e-6)
    plateau = value(rows[1769], "duration_ms_mean")
    assert plateau == pytest.approx(1000.0 * 512 / 1769, abs=1e-6)
    for memory_mb in (2048, 3008, 10240):
        assert value(rows[memory_mb], "duration_ms_mean") == plateau
        assert value(rows[memory_mb], "latency_ms", "mean") == value(rows[1769], "latency_ms",
                                                                     "mean")


def test_speed_picks_about_1769_not_10240(cpu_reports):
    report = cpu_reports["speed"]
    assert report["best"]["memory_mb"] == 1769
    assert "cheapest" in report["best"]["reason"]
    rows = by_memory(report)
    # Equally fast from 1,769 MB up, and 1,769 MB is the cheapest of those.
    assert all(value(rows[1769], "cost_per_million_requests_usd")
               < value(rows[m], "cost_per_million_requests_usd") for m in (2048, 3008, 10240))
    # The runner-up is compared on what decided: cost, since the two are equally fast.
    top_two = report["best"]["top_two"]
    assert top_two["memory_mb"] == 2048 and "cost" in top_two["criterion"]


def test_cost_picks_the_cheapest(cpu_reports):
    report = cpu_reports["cost"]
    rows = report["configurations"]
    cheapest = min(rows, key=lambda c: value(c, "cost_per_million_requests_usd"))
    assert (report["best"]["memory_mb"], report["best"]["architecture"]) == (
        cheapest["memory_mb"], cheapest["architecture"])
    assert "cheapest" in report["best"]["reason"]


def test_common_random_numbers_same_arrivals_for_every_memory(cpu_reports):
    # The memory size changes no random stream: every configuration sees the same requests.
    invocations = {value(c, "invocations") for c in cpu_reports["cost"]["configurations"]}
    assert len(invocations) == 1


def test_pareto_front_is_the_set_of_non_dominated_configurations(cpu_reports):
    report = cpu_reports["cost"]
    points = {(c["memory_mb"], c["architecture"]): (value(c, "cost_per_million_requests_usd"),
                                                    value(c, "latency_ms", "mean"))
              for c in report["configurations"]}
    front = {(p["memory_mb"], p["architecture"]) for p in report["pareto_front"]}
    for key, (cost, time) in points.items():
        dominated = any(c <= cost and t <= time and (c < cost or t < time)
                        for other, (c, t) in points.items() if other != key)
        assert (key in front) == (not dominated)
        assert next(c for c in report["configurations"]
                    if (c["memory_mb"], c["architecture"]) == key)["pareto"] == (key in front)
    assert (3008, "x86_64") not in front and (10240, "x86_64") not in front


def test_balanced_minimises_the_power_tuning_score():
    report = tune(cpu_scenario(), "resize", [512, 1024, 2048], ["x86_64", "arm64"],
                  strategy="balanced", weight=0.3, objective="p90")
    rows = report["configurations"]
    costs = [value(c, "cost_per_million_requests_usd") for c in rows]
    times = [value(c, "latency_ms", "p90") for c in rows]
    scores = [0.3 * c / max(costs) + 0.7 * t / max(times) for c, t in zip(costs, times)]
    for row, score in zip(rows, scores):
        assert value(row, "score") == pytest.approx(score, rel=1e-6)
    best = rows[scores.index(min(scores))]
    assert (report["best"]["memory_mb"], report["best"]["architecture"]) == (
        best["memory_mb"], best["architecture"])


def test_max_p99_excludes_slow_configurations():
    scenario = cpu_scenario()
    # p99 latency at 512 MB is about 1.3 s (1 s handler, cold starts); at 1024 MB under 1 s.
    report = tune(scenario, "resize", [512, 1024, 2048], ["x86_64"], strategy="cost",
                  max_p99_ms=1000.0)
    rows = by_memory(report)
    assert not rows[512]["feasible"] and rows[1024]["feasible"]
    assert report["best"]["memory_mb"] != 512
    assert value(rows[report["best"]["memory_mb"]], "latency_ms", "p99") <= 1000.0
    none = tune(scenario, "resize", [512, 1024], ["x86_64"], max_p99_ms=1.0)
    assert none["best"] is None


def _figures(node, path=""):
    """Every figure ({"value", "ci95"}) inside a tune.json node, with its path."""
    if isinstance(node, dict):
        if set(node) == {"value", "ci95"}:
            yield path, node
            return
        for key, child in node.items():
            yield from _figures(child, f"{path}.{key}")
    elif isinstance(node, list):
        for k, child in enumerate(node):
            yield from _figures(child, f"{path}[{k}]")


def test_replications_give_every_figure_a_95_percent_interval():
    report = tune(cpu_scenario(), "resize", [512, 1024], ["x86_64", "arm64"],
                  strategy="balanced", replications=3)
    assert report["replications"] == 3 and report["confidence_level"] == 0.95
    figures = list(_figures(report["configurations"]))
    # 4 latency + duration, cold-start rate, throttles, invocations, 3 costs, score.
    assert len(figures) == 4 * 12
    for path, figure in figures:
        low, high = figure["ci95"]
        assert low <= figure["value"] <= high, path
    # A quantity that differs between replications has an interval of positive width.
    row = report["configurations"][0]
    low, high = row["latency_ms"]["mean"]["ci95"]
    assert high > low
    assert report["best"]["top_two"]["difference"]["distinguishable"] in (True, False)


def test_without_replications_figures_have_no_interval():
    report = tune(cpu_scenario(), "resize", [512, 1024], ["x86_64"])
    assert all(figure["ci95"] is None for _, figure in _figures(report["configurations"]))
    assert report["best"]["top_two"]["difference"]["distinguishable"] is None


def test_paired_difference_flags_indistinguishable_values():
    assert _paired([1.0, 2.0, 3.0], [1.1, 2.1, 3.1])["distinguishable"] is True
    assert _paired([1.0, 2.0, 3.0], [1.2, 1.9, 3.0])["distinguishable"] is False
    assert _paired([1.0, 2.0], [1.0, 2.0])["distinguishable"] is False
    assert _paired([1.0], [2.0])["distinguishable"] is None


def test_close_top_two_are_flagged():
    # 1024 MB and 1025 MB of a CPU-bound handler cost the same per request except for the
    # per-invocation rounding to 1 ms, which goes either way: per invocation the billed
    # MB-ms differ by +0.5 on average with a standard deviation of about 220 (a rounding
    # boundary crossed costs 1,025 MB-ms), so over 12 replications of ~1,200 invocations the
    # cost strategy cannot tell them apart, and says so.
    data = json.loads(json.dumps(CPU_BOUND))
    fn = data["functions"]["resize"]
    fn["duration"] = {"dist": "lognormal", "median": "100ms", "p99": "400ms"}
    fn["init"] = "1ms"
    fn["triggers"][0]["arrivals"]["rate"] = "20/s"
    report = tune(lambdasim.load_scenario(data), "resize", [1024, 1025], ["x86_64"],
                  strategy="cost", replications=12)
    difference = report["best"]["top_two"]["difference"]
    low, high = difference["ci95"]
    assert low <= 0.0 <= high
    assert difference["distinguishable"] is False
    assert "NOT distinguishable" in report["best"]["reason"]


# ------------------------------------------------------------------------------ command line

@pytest.fixture
def cpu_file(tmp_path):
    import yaml

    path = tmp_path / "cpu.yaml"
    path.write_text(yaml.safe_dump(CPU_BOUND))
    return path


def test_cli_writes_table_json_and_png(cpu_file, tmp_path, capsys):
    out = tmp_path / "results" / "cpu"
    code = cli.main(["tune", str(cpu_file), "--function", "resize", "--memory",
                     "512,1024,1769,2048", "--strategy", "speed", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "best: 1769 MB x86_64" in captured.out
    assert "1,769 MB" in captured.out and "USD per 1M" in captured.out
    report = json.loads((out / "tune.json").read_text())
    assert report["strategy"] == "speed"
    assert report["best"]["memory_mb"] == 1769 and report["best"]["architecture"] == "x86_64"
    assert report["best"]["reason"]
    assert [c["memory_mb"] for c in report["configurations"]] == [512, 1024, 1769, 2048]
    assert report["pareto_front"]
    assert (out / "tune.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.parent.glob(".*tmp*"))


def test_cli_keeps_a_runs_files_in_the_same_folder(cpu_file, tmp_path, capsys):
    out = tmp_path / "cpu"
    assert cli.main(["run", str(cpu_file), "--out", str(out), "--quiet"]) == 0
    summary = (out / "summary.json").read_bytes()
    assert cli.main(["tune", str(cpu_file), "--function", "resize", "--memory", "512,1024",
                     "--out", str(out), "--quiet"]) == 0
    assert (out / "summary.json").read_bytes() == summary
    assert (out / "tune.json").is_file() and (out / "tune.png").is_file()
    # ... and a second tune replaces its own files.
    assert cli.main(["tune", str(cpu_file), "--function", "resize", "--memory", "2048",
                     "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "tune.json").read_text())
    assert [c["memory_mb"] for c in report["configurations"]] == [2048]
    assert (out / "summary.json").read_bytes() == summary


def test_cli_json_output(cpu_file, tmp_path, capsys):
    code = cli.main(["tune", str(cpu_file), "--function", "resize", "--memory", "512,1024",
                     "--replications", "2", "--out", str(tmp_path / "o"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["replications"] == 2
    assert report["configurations"][0]["cost_usd"]["ci95"] is not None


def test_cli_exit_1_when_no_configuration_meets_max_p99(cpu_file, tmp_path, capsys):
    code = cli.main(["tune", str(cpu_file), "--function", "resize", "--memory", "512",
                     "--max-p99", "10ms", "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 1
    assert "no configuration meets --max-p99" in capsys.readouterr().err
    assert json.loads((tmp_path / "o" / "tune.json").read_text())["best"] is None


@pytest.mark.parametrize("flags,message", [
    (["--function", "nope"], "--function 'nope': no such function"),
    (["--function", "resize", "--memory", "64"], "--memory: 64 MB is out of range"),
    (["--function", "resize", "--memory", "10241"], "--memory: 10241 MB is out of range"),
    (["--function", "resize", "--memory", ""], "--memory: empty list"),
    (["--function", "resize", "--memory", ",,"], "--memory: empty list"),
    (["--function", "resize", "--memory", "512,abc"], "--memory: 'abc' is not a whole number"),
    (["--function", "resize", "--memory", "512,512"], "--memory: 512 MB is listed twice"),
    (["--function", "resize", "--strategy", "fastest"], "invalid choice: 'fastest'"),
    (["--function", "resize", "--objective", "p75"], "invalid choice: 'p75'"),
    (["--function", "resize", "--arch", "sparc"], "--arch: unknown architecture 'sparc'"),
    (["--function", "resize", "--weight", "1.5"], "--weight: must be between 0 and 1"),
    (["--function", "resize", "--replications", "0"], "--replications: must be at least 1"),
    (["--function", "resize", "--jobs", "0"], "--jobs: must be at least 1"),
    (["--function", "resize", "--max-p99", "fast"], "--max-p99"),
    (["--function", "resize", "--max-p99", "0s"], "--max-p99: must be longer than 0s"),
    (["--memory", "512"], "the following arguments are required: --function"),
])
def test_bad_flags_exit_2_with_a_clear_message(cpu_file, tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    try:
        code = cli.main(["tune", str(cpu_file), *flags, "--out", str(out)])
    except SystemExit as exc:  # argparse usage errors (unknown choice, missing option)
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert captured.err.startswith("lambdasim: error:")
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_cli_unknown_function_lists_the_functions(cpu_file, tmp_path, capsys):
    assert cli.main(["tune", str(cpu_file), "--function", "nope",
                     "--out", str(tmp_path / "o")]) == 2
    assert "functions: resize" in capsys.readouterr().err


def test_power_tuning_scenario_best_memory_sizes_differ():
    scenario = lambdasim.load_scenario(ROOT / "scenarios" / "power_tuning.yaml",
                                       {"duration": "4m"})
    memories = [128, 256, 512, 1024, 1536, 2048, 3008]
    resize = tune(scenario, "image-resize", memories, ["x86_64"], strategy="balanced")
    api = tune(scenario, "profile-api", memories, ["x86_64"], strategy="balanced")
    assert api["best"]["memory_mb"] == 128
    assert resize["best"]["memory_mb"] >= 1024
    # CPU-bound: the cost per request barely grows up to one vCPU while time falls sharply;
    # I/O-bound: time hardly moves while cost grows with memory.
    r, a = by_memory(resize), by_memory(api)
    assert value(r[1536], "latency_ms", "mean") < 0.15 * value(r[128], "latency_ms", "mean")
    assert value(r[1536], "cost_per_million_requests_usd") < 1.3 * value(
        r[128], "cost_per_million_requests_usd")
    assert value(a[1536], "latency_ms", "mean") > 0.9 * value(a[128], "latency_ms", "mean")
    assert value(a[1536], "cost_per_million_requests_usd") > 3 * value(
        a[128], "cost_per_million_requests_usd")


def test_as_a_user_types_it(tiny_scenario, run_cli, tmp_path):
    # Through a subprocess: the default results folder, then a bad flag.
    done = run_cli("tune", tiny_scenario, "--function", "api", "--memory", "128,512")
    assert done.returncode == 0, done.stderr
    assert "best: " in done.stdout
    report = json.loads((tmp_path / "results" / "tiny" / "tune.json").read_text())
    assert [c["memory_mb"] for c in report["configurations"]] == [128, 512]
    bad = run_cli("tune", tiny_scenario, "--function", "api", "--memory", "64",
                  "--out", "elsewhere")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == ("lambdasim: error: --memory: 64 MB is out of range; "
                                         "Lambda allows 128 to 10240 MB")
    assert not (tmp_path / "elsewhere").exists()


def test_parallel_runs_give_the_same_report():
    scenario = cpu_scenario()
    serial = tune(scenario, "resize", [512, 1024], ["x86_64"], replications=2)
    parallel = tune(scenario, "resize", [512, 1024], ["x86_64"], replications=2, jobs=2)
    assert parallel == serial


def test_a_function_that_answers_nothing_has_no_best(tmp_path, capsys):
    import yaml

    data = json.loads(json.dumps(CPU_BOUND))
    data["functions"]["resize"]["reserved_concurrency"] = 0  # throttles everything
    path = tmp_path / "zero.yaml"
    path.write_text(yaml.safe_dump(data))
    code = cli.main(["tune", str(path), "--function", "resize", "--memory", "512,1024",
                     "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 1
    assert "answered no request" in capsys.readouterr().err
    report = json.loads((tmp_path / "o" / "tune.json").read_text())
    assert report["best"] is None
    assert all(not c["feasible"] for c in report["configurations"])
    assert value(report["configurations"][0], "throttles") > 0


def test_cli_does_not_replace_a_folder_of_other_files(cpu_file, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code = cli.main(["tune", str(cpu_file), "--function", "resize", "--memory", "512",
                     "--out", str(out)])
    assert code == 2
    assert "was not written by lambdasim" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
