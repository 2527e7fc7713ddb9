"""The command line as a user types it: ``python -m lambdasim ...`` in a subprocess.

Good runs write the results folder and print what DESIGN.md promises; bad input exits 2 with
one ``lambdasim: error:`` line naming the dotted key (and the file's line), no traceback, and
nothing written. The results-folder writer is also checked directly for atomicity.
"""

from __future__ import annotations

import gzip
import json
import re
import types
from pathlib import Path

import pytest

from conftest import TINY_SCENARIO
from lambdasim.results.folder import columns_to_csv, write_results
from lambdasim.results.table import format_summary_table

SUMMARY_KEYS = ["lambdasim_version", "scenario", "seed", "duration_s", "warmup_s", "config",
                "functions", "account"]
#: What a run writes: the data, the one-page report and the charts of its one function.
#: Every folder lambdasim writes holds its marker (.lambdasim.json, the list of its files).
RESULT_FILES = {"summary.json", "run.json", "metrics.csv", "report.html",
                "concurrency-api.png", "requests-api.png", "latency-api.png",
                "latency_time-api.png", "cost-api.png", ".lambdasim.json"}
#: What write_results makes of a result without chart data (the fake one below).
WRITTEN_FILES = {"summary.json", "run.json", "metrics.csv", "report.html", ".lambdasim.json"}


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- good runs

def test_run_writes_results_folder_and_table(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = tmp_path / "results" / "tiny"
    assert _files(out) == RESULT_FILES  # no records unless asked, no temp folders left
    assert _files(tmp_path / "results") == {"tiny"}

    summary = json.loads((out / "summary.json").read_text())
    for key in SUMMARY_KEYS:
        assert key in summary
    assert summary["scenario"] == "tiny"
    assert summary["seed"] == 42
    assert summary["duration_s"] == 30
    api = summary["functions"]["api"]
    req = api["requests"]
    assert req["arrived"] > 0
    assert req["arrived"] == (req["succeeded"] + req["failed"] + req["throttled"]
                              + req["dropped"] + req["in_flight"])
    run_info = json.loads((out / "run.json").read_text())
    assert run_info["lambdasim_version"] == summary["lambdasim_version"]

    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["period_start_s", "function"]
    assert "Invocations" in header and "ColdStarts" in header

    # the table: function column, units in labels, the folder at the end
    assert "api" in proc.stdout
    for label in ("requests arrived", "cold starts", "latency p99 per request",
                  "cost of the run", "account"):
        assert label in proc.stdout
    assert f"{req['arrived']:,}" in proc.stdout
    assert proc.stdout.rstrip().endswith(f"results: {Path('results', 'tiny')}")
    assert "\x1b[" not in proc.stdout  # no colours when not a tty


@pytest.mark.slow
def test_run_subcommand_is_the_same_as_bare_scenario(tmp_path, tiny_scenario, run_cli):
    assert run_cli("run", "tiny.yaml", "--quiet", "--out", "a").returncode == 0
    assert run_cli("tiny.yaml", "--quiet", "--out", "b").returncode == 0
    assert run_cli("--quiet", "--out", "c", "tiny.yaml").returncode == 0
    reference = (tmp_path / "a" / "summary.json").read_bytes()
    assert (tmp_path / "b" / "summary.json").read_bytes() == reference
    assert (tmp_path / "c" / "summary.json").read_bytes() == reference


def test_json_prints_only_the_summary(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--json")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)  # nothing else on stdout, or this fails
    assert printed == json.loads((tmp_path / "results/tiny/summary.json").read_text())
    assert list(printed)[:len(SUMMARY_KEYS)] == SUMMARY_KEYS[:len(printed)]


def test_quiet_prints_nothing_but_writes(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--quiet")
    assert proc.returncode == 0
    assert proc.stdout == "" and proc.stderr == ""
    assert _files(tmp_path / "results" / "tiny") == RESULT_FILES


def test_json_and_quiet_are_exclusive(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--json", "--quiet")
    assert proc.returncode == 2
    assert "not allowed with" in proc.stderr
    assert not (tmp_path / "results").exists()


def test_set_changes_the_resolved_config(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--json", "--set", "functions.api.memory_mb=1024",
                   "--set", "functions.api.timeout=5s")
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)["config"]
    assert config["functions"]["api"]["memory_mb"] == 1024
    assert config["functions"]["api"]["timeout"] in (5, 5.0, "5s")
    saved = json.loads((tmp_path / "results/tiny/summary.json").read_text())
    assert saved["config"]["functions"]["api"]["memory_mb"] == 1024


def test_out_chooses_the_folder(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--out", "elsewhere/run1")
    assert proc.returncode == 0, proc.stderr
    assert _files(tmp_path / "elsewhere" / "run1") == RESULT_FILES
    assert not (tmp_path / "results").exists()
    assert proc.stdout.rstrip().endswith(f"results: {Path('elsewhere', 'run1')}")


@pytest.mark.slow
def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path, tiny_scenario, run_cli):
    for out, seed in (("s1", "7"), ("s2", "7"), ("s3", "8")):
        proc = run_cli("tiny.yaml", "--seed", seed, "--records", "--quiet", "--out", out)
        assert proc.returncode == 0, proc.stderr
    s1, s2, s3 = (tmp_path / d / "summary.json" for d in ("s1", "s2", "s3"))
    assert s1.read_bytes() == s2.read_bytes()
    assert (tmp_path / "s1/metrics.csv").read_bytes() == (tmp_path / "s2/metrics.csv").read_bytes()
    assert ((tmp_path / "s1/requests.csv.gz").read_bytes()
            == (tmp_path / "s2/requests.csv.gz").read_bytes())
    first, third = json.loads(s1.read_text()), json.loads(s3.read_text())
    assert first["seed"] == 7 and third["seed"] == 8
    assert first["config"]["seed"] == 7  # --seed is recorded in the resolved config
    assert first["functions"] != third["functions"]


def test_records_writes_per_request_csv(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--records", "--quiet")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results" / "tiny"
    # Per-request records, and the function's REPORT lines (one per invocation).
    assert _files(out) == RESULT_FILES | {"requests.csv.gz", "report-api.log.gz"}
    reports = gzip.decompress((out / "report-api.log.gz").read_bytes()).decode().splitlines()
    summary = json.loads((out / "summary.json").read_text())
    assert len(reports) == summary["functions"]["api"]["invocations"]
    assert all("\tBilled Duration: " in line for line in reports)
    lines = gzip.decompress((out / "requests.csv.gz").read_bytes()).decode().splitlines()
    arrived = json.loads((out / "summary.json").read_text())["functions"]["api"]["requests"]
    header = lines[0].split(",")
    assert "function" in header and "latency_ms" in header
    assert len(lines) - 1 >= arrived["arrived"] > 0  # arrivals in the warm-up add rows


def test_period_sets_the_metrics_period(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("tiny.yaml", "--period", "10s", "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = (tmp_path / "results/tiny/metrics.csv").read_text().splitlines()[1:]
    starts = sorted({float(r.split(",")[0]) for r in rows})
    assert starts[:3] == [0.0, 10.0, 20.0]


@pytest.mark.slow
def test_rerun_replaces_the_folder(tmp_path, tiny_scenario, run_cli):
    assert run_cli("tiny.yaml", "--records", "--quiet").returncode == 0
    assert run_cli("tiny.yaml", "--quiet").returncode == 0
    assert _files(tmp_path / "results" / "tiny") == RESULT_FILES  # old records gone
    assert _files(tmp_path / "results") == {"tiny"}


def test_version_and_bare_command(run_cli):
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert re.fullmatch(r"lambdasim \d+\.\d+\.\d+\S*\n", proc.stdout)
    proc = run_cli()
    assert proc.returncode == 2
    assert "lambdasim: error:" in proc.stderr


# --------------------------------------------------------------------------- validate, schema

BAD_MEMORY = TINY_SCENARIO.replace("memory_mb: 512", "memory_mb: 99999")


def test_validate_ok(tmp_path, tiny_scenario, run_cli):
    proc = run_cli("validate", "tiny.yaml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok: tiny.yaml (1 function, 1 trigger)\n"
    assert not (tmp_path / "results").exists()


def test_validate_reports_every_bad_file(tmp_path, tiny_scenario, run_cli):
    (tmp_path / "bad1.yaml").write_text(BAD_MEMORY)
    (tmp_path / "bad2.yaml").write_text("- just\n- a list\n")
    proc = run_cli("validate", "bad1.yaml", "tiny.yaml", "bad2.yaml")
    assert proc.returncode == 2
    assert proc.stdout == "ok: tiny.yaml (1 function, 1 trigger)\n"
    assert "bad1.yaml:7:" in proc.stderr and "functions.api.memory_mb" in proc.stderr
    assert "bad2.yaml" in proc.stderr
    assert proc.stderr.count("lambdasim: error:") == 2
    assert "Traceback" not in proc.stderr


def test_schema_is_json_schema(tmp_path, run_cli):
    import yaml

    proc = run_cli("schema")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert "functions" in schema["properties"]
    jsonschema = pytest.importorskip("jsonschema")  # in the 'test' extra, so present in CI
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    assert list(validator(schema).iter_errors(yaml.safe_load(TINY_SCENARIO))) == []
    assert list(validator(schema).iter_errors(yaml.safe_load(BAD_MEMORY))) != []


# --------------------------------------------------------------------------- bad input

def _tiny(old: str, new: str) -> str:
    assert old in TINY_SCENARIO
    return TINY_SCENARIO.replace(old, new)


# id: (file text or None for no file, extra arguments, strings stderr must hold, line or None)
# Lines refer to TINY_SCENARIO: 7 memory_mb, 8 timeout, 9 duration, 10 dist, 11 median,
# 12 p99, 14 type, 16 process, 17 rate.
BAD_INPUT = {
    "yaml-syntax": (_tiny("timeout: 10s", "timeout: [10s"), [], [], None),
    "unknown-key": (_tiny("memory_mb: 512", "memory_mbb: 512"), [],
                    ["functions.api.memory_mbb", "did you mean 'memory_mb'"], 7),
    "wrong-type": (_tiny("memory_mb: 512", "memory_mb: lots"), [],
                   ["functions.api.memory_mb"], 7),
    "memory-range": (BAD_MEMORY, [], ["functions.api.memory_mb", "99999"], 7),
    "timeout-over-900s": (_tiny("timeout: 10s", "timeout: 901s"), [],
                          ["functions.api.timeout"], 8),
    "bad-time-unit": (_tiny("median: 40ms", "median: 40 parsecs"), [],
                      ["functions.api.duration.median"], 11),
    "bad-rate": (_tiny("rate: 5/s", "rate: fast"), [],
                 ["functions.api.triggers.0.arrivals.rate"], 17),
    "unknown-distribution": (_tiny("dist: lognormal", "dist: zipfian"), [],
                             ["functions.api.duration.dist", "zipfian"], 10),
    "lognormal-p99-below-median": (_tiny("p99: 250ms", "p99: 10ms"), [],
                                   ["functions.api.duration", "p99"], None),
    "unknown-trigger-type": (_tiny("type: sync", "type: carrier-pigeon"), [],
                             ["functions.api.triggers.0.type", "carrier-pigeon"], 14),
    "missing-duration": (_tiny("    duration:\n      dist: lognormal\n      median: 40ms\n"
                               "      p99: 250ms\n", ""), [],
                         ["functions.api.duration"], None),
    "missing-file": (None, [], ["tiny.yaml", "no such file"], None),
    "empty-file": ("", [], ["tiny.yaml"], None),
    "top-level-list": ("- name: tiny\n- duration: 30s\n", [], ["tiny.yaml"], None),
    "reserved-above-unreserved-minimum": (
        _tiny("    memory_mb: 512\n", "    memory_mb: 512\n    reserved_concurrency: 950\n"),
        [], ["reserved_concurrency", "unreserved"], None),
    "duplicate-key": (_tiny("    timeout: 10s\n", "    timeout: 10s\n    timeout: 20s\n"), [],
                      ["functions.api.timeout", "duplicate"], 9),
    "negative-warmup": (_tiny("seed: 42", "seed: 42\nwarmup: -5s"), [], ["warmup"], 5),
    "bad-set-syntax": (TINY_SCENARIO, ["--set", "functions.api.memory_mb"],
                       ["--set", "functions.api.memory_mb", "KEY=VALUE"], None),
    "bad-set-key": (TINY_SCENARIO, ["--set", "functions.api.memroy_mb=1024"],
                    ["functions.api.memroy_mb"], None),
    "bad-set-value": (TINY_SCENARIO, ["--set", "functions.api.memory_mb=64"],
                      ["functions.api.memory_mb"], None),
    "bad-period": (TINY_SCENARIO, ["--period", "soon"], ["--period", "soon"], None),
    "bad-seed": (TINY_SCENARIO, ["--seed", "abc"], ["--seed", "'abc'", "--help"], None),
    "negative-seed": (TINY_SCENARIO, ["--seed", "-1"], ["--seed", "-1"], None),
}


@pytest.mark.parametrize("text, args, needles, line", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_exits_2_and_writes_nothing(tmp_path, run_cli, text, args, needles, line):
    if text is not None:
        (tmp_path / "tiny.yaml").write_text(text)
    proc = run_cli("tiny.yaml", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert 1 <= len(lines) <= 2, proc.stderr  # the error, at most a hint
    assert lines[0].startswith("lambdasim: error: "), proc.stderr
    assert lines[1:] == [] or lines[1].startswith("lambdasim: hint: ")
    for needle in needles:
        assert needle in proc.stderr
    if line is not None:
        assert f"tiny.yaml:{line}:" in proc.stderr
    elif text and not args:  # a file's own content is wrong: some line is named
        assert re.search(r"tiny\.yaml:\d+", proc.stderr), proc.stderr
    assert not (tmp_path / "results").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"tiny.yaml"}


@pytest.mark.slow
def test_failed_run_keeps_the_earlier_results(tmp_path, tiny_scenario, run_cli):
    assert run_cli("tiny.yaml", "--quiet").returncode == 0
    out = tmp_path / "results" / "tiny"
    before = _snapshot(out)
    proc = run_cli("tiny.yaml", "--set", "functions.api.memory_mb=99999")
    assert proc.returncode == 2
    tiny_scenario.write_text(BAD_MEMORY)
    assert run_cli("tiny.yaml").returncode == 2
    assert _snapshot(out) == before
    assert _files(tmp_path / "results") == {"tiny"}


def test_out_refuses_to_replace_a_foreign_folder(tmp_path, tiny_scenario, run_cli):
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    proc = run_cli("tiny.yaml", "--out", "docs")
    assert proc.returncode == 2
    assert ("lambdasim: error: cannot write results to docs: the folder exists and was not "
            "written by lambdasim") in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _files(precious) == {"notes.txt"}
    assert {p.name for p in tmp_path.iterdir()} == {"tiny.yaml", "docs"}


def test_interrupt_exits_130_and_writes_nothing(tmp_path, run_cli):
    # A run far too long to finish (a simulated day at 2,000/s, many minutes of wall time),
    # so the interrupt always lands in the middle of the simulation, however fast it gets.
    (tmp_path / "long.yaml").write_text(_tiny("duration: 30s", "duration: 1d")
                                        .replace("rate: 5/s", "rate: 2000/s"))
    # Beyond the default work limits (1.7e8 arrivals): switched off, as a user would.
    # 10 s: on a loaded 2-core machine the import alone took more than 4 s, and Ctrl-C during
    # the import is Python's, not lambdasim's (a traceback, exit 1).
    proc = run_cli("long.yaml", "--max-arrivals", "none", "--max-events", "none",
                   "--max-memory", "none", interrupt_after_s=10.0)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "lambdasim: interrupted; nothing written\n"
    assert proc.stdout == ""
    assert {p.name for p in tmp_path.iterdir()} == {"long.yaml"}


# --------------------------------------------------------------------------- report, in process

def _fake_result(seed: int = 1, records: bool = False) -> types.SimpleNamespace:
    function = {
        "requests": {"arrived": 1234, "succeeded": 1200, "failed": 4, "throttled": 30,
                     "dropped": 0, "in_flight": 0},
        "invocations": 1204, "errors": 4, "throttles": 30, "cold_starts": 12,
        "cold_start_rate": 12 / 1204, "throttle_rate": 30 / 1234,
        "latency_ms": {"mean": 50.5, "p50": 41.0, "p90": 90.0, "p95": 120.0, "p99": 310.25,
                       "p999": 600.0, "max": 812.5},
        "duration_ms": {"mean": 45.0, "p50": 40.0, "p90": 80.0, "p95": 100.0, "p99": None,
                        "p999": None, "max": 700.0},
        "concurrency": {"max": 9, "mean": 2.345},
        "environments": {"created": 12, "max": 10, "mean": 6.5},
        "cost_usd": {"requests": 0.0002468, "duration": 0.001, "provisioned": 0.0,
                     "total": 0.0012468},
    }
    summary = {"lambdasim_version": "0.1.0", "scenario": "fake", "seed": seed,
               "duration_s": 60.0, "warmup_s": 0.0, "config": {"name": "fake"},
               "functions": {"checkout": function},
               "account": {"concurrency": {"max": 9, "mean": 2.345}, "throttles": 30,
                           "cost_usd": {"total": 0.0012468}}}
    series = {"period_start_s": [0.0, 0.0, 60.0], "function": ["checkout", "(account)", "x,y"],
              "Invocations": [3, 4, 5], "Duration_p99_ms": [0.1, None, float("nan")]}
    recs = {"arrival_s": [0.5, 1.25], "function": ["checkout", "checkout"]} if records else None
    return types.SimpleNamespace(summary=summary, run_info={"wall_time_s": 0.1},
                                 series=series, records=recs)


def test_summary_table_is_aligned():
    text = format_summary_table(_fake_result())
    assert "checkout" in text and "1,234" in text and "310.2" in text and "1.00" in text
    body = [ln for ln in text.splitlines() if ln.startswith(("requests arrived", "  failed"))]
    assert len({len(ln) for ln in body}) == 1  # right-aligned numbers end in one column


def test_metrics_csv_formatting():
    text = columns_to_csv(_fake_result().series)
    assert text == ("period_start_s,function,Invocations,Duration_p99_ms\n"
                    "0.0,checkout,3,0.1\n0.0,(account),4,\n60.0,\"x,y\",5,\n")
    with pytest.raises(ValueError, match="differ in length"):
        columns_to_csv({"a": [1, 2], "b": [1]})


def test_write_results_is_atomic(tmp_path):
    out = write_results(_fake_result(seed=1, records=True), tmp_path / "res" / "fake")
    assert out == tmp_path / "res" / "fake"
    before = _snapshot(out)
    assert set(before) == WRITTEN_FILES | {"requests.csv.gz"}
    assert before["summary.json"].endswith(b"}\n")

    def explode(result, folder):
        assert (folder / "summary.json").exists()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_results(_fake_result(seed=2), out, extra=[explode])
    assert _snapshot(out) == before  # the earlier result is untouched
    assert _files(tmp_path / "res") == {"fake"}  # and no temporary folder is left

    again = write_results(_fake_result(seed=1, records=True), tmp_path / "res2")
    assert _snapshot(again) == before  # deterministic, gzip included
    write_results(_fake_result(seed=2), out)
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert _files(out) == WRITTEN_FILES
