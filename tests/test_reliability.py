"""Hostile and absurd input ends in a clear exit 2, never a crash, a lost file or a runaway run.

Each test stands for one kind of fault of issue 15 (the sample cases live in the issue's
``cases/reliability`` folder; each is reproduced here with small sizes): ``--out`` folders
that lambdasim did not write, YAML bombs and bad tags, absurd work, values that validate but
cannot be written, hostile templates and logs, signals and leftovers. The command line is
called in process (``cli.main``) where possible, so the whole file stays fast.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lambdasim import cli
from lambdasim.results.folder import MARKER

SMALL = "duration: 30s\nfunctions:\n  f: {duration: 10ms}\n"


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(SMALL)
    return tmp_path


def _error(capsys) -> str:
    """The single stderr line of a refused command (asserting there is exactly one)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("lambdasim: hint:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _no_simulation(monkeypatch):
    """Make any simulation fail the test: a refusal must come before the work."""
    import lambdasim.simulation

    def refuse(*args, **kwargs):
        raise AssertionError("simulated although the input should have been refused first")

    monkeypatch.setattr(lambdasim.simulation, "simulate", refuse)


# ------------------------------------------------------------------ --out never deletes a file

def test_a_folder_with_a_foreign_summary_json_is_not_replaced(workdir, capsys, monkeypatch):
    """fs_foreign_file_deleted.sh: any folder holding a summary.json used to be replaced whole,
    deleting the thesis.tex beside it."""
    out = workdir / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "thesis.tex").write_text("precious")
    _no_simulation(monkeypatch)
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 2
    assert "cannot write results to out: the folder exists and was not written by lambdasim" \
        in _error(capsys)
    assert (out / "thesis.tex").read_text() == "precious"
    assert (out / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in workdir.iterdir()) == ["out", "s.yaml"]


def test_a_user_file_added_to_a_results_folder_is_kept(workdir, capsys, monkeypatch):
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 0
    marker = json.loads((workdir / "out" / MARKER).read_text())
    assert marker["written_by"] == "lambdasim" and "summary.json" in marker["files"]
    (workdir / "out" / "notes.txt").write_text("mine")
    _no_simulation(monkeypatch)
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 2
    assert "holds files lambdasim did not write (notes.txt)" in _error(capsys)
    assert (workdir / "out" / "notes.txt").read_text() == "mine"
    assert (workdir / "out" / "summary.json").exists()


def test_a_file_in_a_subfolder_of_results_is_kept(workdir, capsys):
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 0
    (workdir / "out" / "drafts").mkdir()
    (workdir / "out" / "drafts" / "a.txt").write_text("mine")
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 2
    assert "drafts" in _error(capsys)
    assert (workdir / "out" / "drafts" / "a.txt").read_text() == "mine"


def test_a_folder_lambdasim_wrote_is_replaced_and_an_empty_one_is_used(workdir, capsys):
    (workdir / "empty").mkdir()
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "empty"]) == 0
    assert (workdir / "empty" / "summary.json").exists()
    first = (workdir / "empty" / "summary.json").read_text()
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--seed", "9", "--out", "empty"]) == 0
    assert (workdir / "empty" / "summary.json").read_text() != first
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]


def test_a_bad_out_is_refused_before_simulating(workdir, capsys, monkeypatch):
    """A bad --out on peak.yaml used to be reported after 40 s of simulation."""
    (workdir / "file").write_text("x")
    _no_simulation(monkeypatch)
    assert cli.main(["run", "s.yaml", "--out", "file"]) == 2
    assert "cannot write results to file: exists and is not a folder" in _error(capsys)
    assert cli.main(["run", "s.yaml", "--out", "file/below"]) == 2
    assert "is not a folder" in _error(capsys)
    assert (workdir / "file").read_text() == "x"


def test_sweep_and_tune_check_out_before_running(workdir, capsys, monkeypatch):
    (workdir / "mine").mkdir()
    (workdir / "mine" / "notes.txt").write_text("keep me")
    import lambdasim.studies.sweep as sweep_module
    import lambdasim.studies.tune as tune_module

    def refuse(*args, **kwargs):
        raise AssertionError("ran although --out should have been refused first")

    monkeypatch.setattr(sweep_module, "simulate", refuse, raising=False)
    monkeypatch.setattr(tune_module, "tune", refuse, raising=False)
    _no_simulation(monkeypatch)
    assert cli.main(["sweep", "s.yaml", "--set", "seed=1,2", "--out", "mine"]) == 2
    assert "was not written by lambdasim" in _error(capsys)
    assert cli.main(["tune", "s.yaml", "--function", "f", "--memory", "512", "--out", "mine"]) == 2
    assert "was not written by lambdasim" in _error(capsys)
    assert [p.name for p in (workdir / "mine").iterdir()] == ["notes.txt"]


def test_a_symlink_loop_as_out_exits_2(workdir, capsys, monkeypatch):
    """fs_symlink_loop.sh: exit 3 (RuntimeError from Path.resolve) before the fix."""
    os.symlink("loop2", workdir / "loop1")
    os.symlink("loop1", workdir / "loop2")
    _no_simulation(monkeypatch)
    assert cli.main(["run", "s.yaml", "--out", "loop1"]) == 2
    assert "cannot write results to loop1: symbolic link loop" in _error(capsys)


# ------------------------------------------------------------------ YAML and numbers

def _bomb(levels: int) -> str:
    lines = ["l0: &l0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n" + SMALL


YAML_CASES = {
    # name: (text, "file:LINE: key: message" fragment after the file name)
    "alias_bomb_7_levels": (_bomb(7), ":5: aliases expand to more than"),
    "billion_laughs_9_levels": (_bomb(9), ":5: aliases expand to more than"),
    "alias_bomb_inside_functions": (
        "big: &b [" + ", ".join(["x"] * 200) + "]\nduration: 30s\nfunctions:\n"
        "  f: {duration: 10ms, triggers: &t [" + ", ".join(["*b"] * 200) + "]}\n",
        ":4: aliases expand to more than"),
    "recursive_alias": ("x: &a [*a]\n" + SMALL, ":1: recursive alias *a"),
    "recursive_alias_in_mapping": ("x: &a {y: *a}\n" + SMALL, ":1: recursive alias *a"),
    "deep_nesting": (SMALL + "x: " + "[" * 1000 + "]" * 1000 + "\n", ":4: nested deeper than 64 levels"),
    "deep_block_nesting": (SMALL + "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n",
                           ": nested deeper than 64 levels"),
    "bad_implicit_date": ("duration: 30s\ndescription: 2025-13-45\nfunctions:\n  f: {duration: 10ms}\n",
                          ":2: description: cannot read '2025-13-45' as !!timestamp: an impossible date"),
    "bad_int_tag": ("duration: 30s\nseed: !!int abc\nfunctions:\n  f: {duration: 10ms}\n",
                    ":2: seed: cannot read 'abc' as !!int"),
    "bad_float_tag": ("duration: !!float 3x\nfunctions:\n  f: {duration: 10ms}\n",
                      ":1: duration: cannot read '3x' as !!float"),
    "bad_timestamp_tag": ("duration: 30s\ndescription: !!timestamp nope\nfunctions:\n  f: {duration: 10ms}\n",
                          ":2: description: cannot read 'nope' as !!timestamp"),
    "int_over_4300_digits": ("duration: 30s\nseed: " + "9" * 5000 + "\nfunctions:\n  f: {duration: 10ms}\n",
                             ":2: seed: cannot read '99999"),
    "int_too_large_for_float": (
        "duration: 30s\nfunctions:\n  f: {duration: 10ms, memory_mb: 1" + "0" * 400 + "}\n",
        ":3: functions.f.memory_mb: expected an integer; got 1000"),
    "huge_int_duration": ("duration: 1" + "0" * 400 + "\nfunctions:\n  f: {duration: 10ms}\n",
                          ":1: duration: expected a time"),
    "nul_byte": (SMALL + "x\0: 1\n", ":4: YAML syntax error: unacceptable character #x00"),
    "python_tag": ("duration: !!python/object:os.system x\nfunctions:\n  f: {duration: 10ms}\n",
                   ":1: YAML tag refused: could not determine a constructor"),
    "name_with_newline": ('duration: 30s\nfunctions:\n  "x\\ny": {duration: 10ms}\n',
                          ":3: functions.x\\ny: invalid name 'x\\ny'"),
    "lone_surrogate": ('duration: 30s\ndescription: "\\ud800"\nfunctions:\n  f: {duration: 10ms}\n',
                       ":2: description: is not valid Unicode text"),
    "nul_in_string": ('duration: 30s\nname: "a\\0b"\nfunctions:\n  f: {duration: 10ms}\n',
                      ":2: name: must not contain a NUL character"),
    "lognormal_denormal_median": (
        "duration: 30s\nfunctions:\n  f:\n    duration: {dist: lognormal, median: 1e-320, p99: 800ms}\n",
        ":4: functions.f.duration: the lognormal distribution's times overflow"),
    "lognormal_huge_sigma": (
        "duration: 30s\nfunctions:\n  f:\n    duration: {dist: lognormal, mu: 0, sigma: 1e6}\n",
        ":4: functions.f.duration: the lognormal distribution's times overflow"),
}


@pytest.mark.parametrize("name", sorted(YAML_CASES))
def test_hostile_yaml_is_one_bounded_line_with_file_line_and_key(name, workdir, capsys):
    text, expected = YAML_CASES[name]
    (workdir / "bad.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    assert cli.main(["validate", "bad.yaml"]) == 2
    line = _error(capsys)
    assert line.startswith("lambdasim: error: bad.yaml:"), line
    assert expected in line, line
    assert len(line) < 800


def test_a_scenario_larger_than_the_limit_is_refused(workdir, capsys, monkeypatch):
    import lambdasim.scenario.reading as reading

    monkeypatch.setattr(reading, "MAX_YAML_BYTES", 1000)
    monkeypatch.setattr(reading.read_text, "__defaults__", (1000,))
    (workdir / "big.yaml").write_text(SMALL + "# " + "x" * 2000 + "\n")
    assert cli.main(["validate", "big.yaml"]) == 2
    assert "big.yaml: the scenario file is larger than the limit of 1,000 bytes" in _error(capsys)


def test_anchors_reused_a_few_times_still_load(workdir, capsys):
    (workdir / "ok.yaml").write_text(
        "duration: 30s\nfunctions:\n"
        "  a: &f {duration: 10ms, triggers: [{type: sync, arrivals: {process: poisson, rate: 1/s}}]}\n"
        "  b: *f\n  c: {<<: *f, memory_mb: 256}\n")
    assert cli.main(["validate", "ok.yaml"]) == 0
    assert "ok: ok.yaml (3 functions, 3 triggers)" in capsys.readouterr().out


# ------------------------------------------------------------------ absurd work, refused up front

def _one(trigger: str, extra: str = "", duration: str = "1h") -> str:
    return (f"duration: {duration}\n{extra}functions:\n  f:\n    duration: 10ms\n    timeout: 900s\n"
            f"    triggers:\n      - {trigger}\n")


WORK_CASES = {
    # name: (scenario, extra options, fragment of the one-line error)
    "rate_1e9_30s": (_one("{type: sync, arrivals: {process: poisson, rate: 1e9/s}}", duration="30s"), [],
                     ":7: functions.f.triggers.0.arrivals: about 3e10 arrivals expected over the 30s "
                     "horizon; the limit is 1e8; lower the rate, the count or the duration, or pass "
                     "--max-arrivals"),
    "rate_1e9_a_year": (_one("{type: sync, arrivals: {process: poisson, rate: 1e9/s}}", duration="365d"),
                        [], "about 3.2e16 arrivals expected over the 365d horizon"),
    "burst_1e12": (_one("{type: sync, arrivals: {process: burst, count: 1000000000000, at: 1s}}"), [],
                   "about 1e12 arrivals"),
    "diurnal_tiny_period": (
        _one("{type: sync, arrivals: {process: diurnal, mean: 1e6/s, amplitude: 1e6/s, period: 1us}}"),
        [], "about 3.6e9 arrivals"),
    "mmpp_tiny_sojourn": (
        _one("{type: sync, arrivals: {process: mmpp, states: [{rate: 1/s, mean_sojourn: 1us}, "
             "{rate: 2/s, mean_sojourn: 1us}]}}", duration="1d"),
        [], "functions.f.triggers.0.arrivals.0.states: about 8.6e10 simulation events"),
    "period_1us": (_one("{type: sync, arrivals: {process: poisson, rate: 1/h}}", "period: 1us\n", "1d"), [],
                   ":2: period: about 62.9 TiB of memory needed (largest part: 8.64e10 metrics periods"),
    "trace_rate_scale": (_one("{type: sync, arrivals: {process: trace, times: [0, 1, 2], rate_scale: 1e9}}"),
                         [], "about 3e9 arrivals"),
    "trace_file_rate_scale": (
        _one("{type: sync, arrivals: {process: trace, file: access.txt, rate_scale: 1e9}}", duration="20m"),
        [], "functions.f.triggers.0.arrivals: about"),
    "sqs_1e6_per_s": (
        _one("{type: sqs, batch_size: 10000, batching_window: 300s, visibility_timeout: 12h, "
             "arrivals: {process: poisson, rate: 1e6/s}}", duration="10m"),
        [], "about 6e8 arrivals"),
    "provisioned_1e8": (
        "duration: 1h\naccount: {concurrency_limit: 1000000000, scaling: {burst: 1000000000, per: 1us}}\n"
        "functions:\n  f:\n    duration: 1h\n    timeout: 900s\n    provisioned_concurrency: 100000000\n"
        "    triggers: [{type: sync, arrivals: {process: poisson, rate: 1/s}}]\n",
        [], ":7: functions.f.provisioned_concurrency: about 79.3 GiB of memory needed (largest part: "
            "1e8 provisioned environments)"),
    "kinesis_shards_polled_for_a_year": (
        _one("{type: kinesis, shards: 10000, parallelization_factor: 10, retention: 365d, "
             "arrivals: {process: poisson, rate: 1/h}}", duration="365d"),
        [], "functions.f.triggers.0.shards: about 3.2e12 simulation events"),
    "concurrency_of_a_long_function": (
        "duration: 1h\naccount: {concurrency_limit: 1000000000}\nfunctions:\n  f:\n    duration: 15m\n"
        "    timeout: 900s\n    triggers: [{type: sync, arrivals: {process: poisson, rate: 2e4/s}}]\n",
        [], ":5: functions.f.duration: about 23.1 GiB of memory needed (largest part: about 1.8e7 "
            "environments busy at once)"),
    "provisioned_recycled_every_microsecond": (
        "duration: 1h\nfunctions:\n  f:\n    duration: 10ms\n    provisioned_concurrency: 10\n"
        "    max_lifetime: 1us\n    triggers: [{type: sync, arrivals: {process: poisson, rate: 1/s}}]\n",
        [], ":6: functions.f.max_lifetime: about 3.6e10 simulation events expected"),
    "many_functions": (
        "duration: 1m\nfunctions:\n" + "".join(f"  f{i}: {{duration: 10ms}}\n" for i in range(200)),
        ["--max-memory", "200MiB"], "functions: about 229 MiB of memory needed (largest part: 200 "
                                    "functions at about 700 kB each); the limit is 200 MiB"),
    "limit_lowered_on_the_command_line": (
        _one("{type: sync, arrivals: {process: poisson, rate: 5/s}}", duration="30s"),
        ["--max-arrivals", "100"], "about 150 arrivals expected over the 30s horizon; the limit is 100"),
}


@pytest.mark.parametrize("name", sorted(WORK_CASES))
def test_absurd_work_is_refused_before_anything_is_built(name, workdir, capsys, monkeypatch):
    text, options, expected = WORK_CASES[name]
    (workdir / "access.txt").write_text(
        (Path(__file__).parent.parent / "scenarios" / "traces" / "checkout_access.txt").read_text())
    (workdir / "big.yaml").write_text(text)
    assert cli.main(["validate", "big.yaml", *options]) == 2
    line = _error(capsys)
    assert expected in line, line
    assert line.startswith("lambdasim: error: big.yaml:") and len(line) < 800, line
    _no_simulation(monkeypatch)
    assert cli.main(["run", "big.yaml", "--out", "out", *options]) == 2
    assert expected in _error(capsys)
    assert sorted(p.name for p in workdir.iterdir()) == ["access.txt", "big.yaml", "s.yaml"]


def test_limits_can_be_raised_or_switched_off(workdir, capsys):
    (workdir / "w.yaml").write_text(_one("{type: sync, arrivals: {process: poisson, rate: 5/s}}",
                                         duration="30s"))
    assert cli.main(["run", "w.yaml", "--max-arrivals", "100", "-q", "--no-plots"]) == 2
    capsys.readouterr()
    assert cli.main(["run", "w.yaml", "--max-arrivals", "none", "-q", "--no-plots"]) == 0
    assert cli.main(["run", "w.yaml", "--max-arrivals", "1e3", "--max-memory", "1GB", "-q",
                     "--no-plots"]) == 0
    assert cli.main(["validate", "w.yaml", "--max-memory", "lots"]) == 2
    assert "--max-memory: expected a number >= 1 such as 16GB, 8GiB, or none; got 'lots'" \
        in _error(capsys)


def test_the_python_api_refuses_absurd_work_with_the_estimate():
    from lambdasim import ScenarioError, simulate
    from lambdasim.scenario.workload import Limits, estimate
    from lambdasim.scenario import load_scenario

    raw = {"duration": "30s", "functions": {"f": {"duration": "10ms", "triggers": [
        {"type": "sync", "arrivals": {"process": "poisson", "rate": "1e9/s"}}]}}}
    with pytest.raises(ScenarioError, match="about 3e10 arrivals expected"):
        simulate(raw)
    small = {**raw, "functions": {"f": {"duration": "10ms", "triggers": [
        {"type": "sync", "arrivals": {"process": "poisson", "rate": "5/s"}}]}}}
    with pytest.raises(ScenarioError, match="the limit is 10;"):
        simulate(small, limits=Limits(max_arrivals=10))
    work = estimate(load_scenario(small).config)
    assert work.arrivals == pytest.approx(150)
    assert simulate(small).summary["functions"]["f"]["requests"]["arrived"] > 100


# ------------------------------------------------------------------ signals and leftovers

def _send_sigterm(*args, **kwargs):
    import signal

    os.kill(os.getpid(), signal.SIGTERM)
    raise AssertionError("SIGTERM was not raised where the program was")


def test_sigterm_while_writing_exits_143_and_leaves_nothing(workdir, capsys, monkeypatch):
    """fs_sigterm_leaves_tmp.sh: SIGTERM while the folder was written left .out.tmp-PID."""
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 0
    before = {p.name: p.read_bytes() for p in (workdir / "out").iterdir()}
    import lambdasim.results.html_report as html_report

    monkeypatch.setattr(html_report, "write_report", _send_sigterm)
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--seed", "5", "--out", "out"]) == 143
    assert _error(capsys) == "lambdasim: terminated; nothing written"
    assert {p.name: p.read_bytes() for p in (workdir / "out").iterdir()} == before
    assert sorted(p.name for p in workdir.iterdir()) == ["out", "s.yaml"]


def test_sigterm_while_simulating_exits_143_with_a_message(workdir, capsys, monkeypatch):
    import lambdasim.simulation

    monkeypatch.setattr(lambdasim.simulation, "simulate", _send_sigterm)
    assert cli.main(["run", "s.yaml", "--out", "out"]) == 143
    assert _error(capsys) == "lambdasim: terminated; nothing written"
    assert not (workdir / "out").exists()


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_stale_temporary_folders_of_dead_processes_are_removed(workdir, capsys):
    """SIGKILL (or a power cut) mid-write leaves .NAME.tmp-PID; the next write clears it."""
    pid = _dead_pid()
    stale = workdir / f".out.tmp-{pid}"
    stale.mkdir()
    (stale / MARKER).write_text('{"written_by": "lambdasim", "files": []}')
    (stale / "summary.json").write_text("{}")
    empty_old = workdir / f".out.old-{pid}"
    empty_old.mkdir()
    foreign = workdir / f".out.tmp-{pid + 1}"  # not marked: not ours, kept whatever its pid
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    live = workdir / f".out.tmp-{os.getppid()}"  # a running process's folder is left alone
    live.mkdir()
    (live / MARKER).write_text("{}")
    assert cli.main(["run", "s.yaml", "--no-plots", "-q", "--out", "out"]) == 0
    assert not stale.exists() and not empty_old.exists()
    assert (foreign / "mine.txt").read_text() == "keep"
    assert live.exists()


@pytest.mark.slow
def test_sigterm_to_a_real_process_while_it_writes(tmp_path):
    """The shell case as a user meets it: kill -TERM while ``.res.tmp-PID`` is being written."""
    import signal
    import subprocess
    import sys
    import time

    from conftest import PACKAGE_ROOT

    (tmp_path / "w.yaml").write_text(
        "duration: 2m\nfunctions:\n  f:\n    duration: 5ms\n    triggers:\n"
        "      - {type: sync, arrivals: {process: poisson, rate: 2000/s}}\n")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    codes = []
    for _ in range(3):  # the write may end before the signal on a busy machine: try again
        proc = subprocess.Popen([sys.executable, "-m", "lambdasim", "run", "w.yaml", "--records",
                                 "--no-plots", "-q", "--out", "res"], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tmp = tmp_path / f".res.tmp-{proc.pid}"
        while proc.poll() is None and not tmp.exists():
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        codes.append(proc.returncode)
        assert not tmp.exists()
        assert "Traceback" not in err
        if proc.returncode == 143:
            assert err.strip() == "lambdasim: terminated; nothing written"
            break
        assert proc.returncode == 0  # finished before the signal: a complete folder
    assert 143 in codes, codes
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res.")]


# ------------------------------------------------------------------ import-sam and fit on hostile files

SAM_HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
SAM_FUNCTION = ("  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Runtime: python3.12\n      Handler: app.handler\n")

SAM_REFUSED = {
    # name: (template, fragment of the one-line error)
    "bad_date": (SAM_HEAD + "Description: 2025-13-45\nResources:\n" + SAM_FUNCTION,
                 ":3: Description: cannot read '2025-13-45' as !!timestamp: an impossible date"),
    "deep_join": (SAM_HEAD + "Resources:\n" + SAM_FUNCTION + "      MemorySize: "
                  + "!Join ['', [" * 200 + "'1'" + "]]" * 200 + "\n", ":9: nested deeper than 64 levels"),
    "events_list": (SAM_HEAD + "Resources:\n  F: {Type: 'AWS::Serverless::Function', Properties: "
                    "{Events: [1, 2]}}\n", ":4: Resources.F.Properties.Events: must be a mapping of events"),
    "event_properties_list": (SAM_HEAD + "Resources:\n  F: {Type: 'AWS::Serverless::Function', "
                              "Properties: {Events: {E: {Type: SQS, Properties: [1]}}}}\n",
                              ":4: Resources.F.Properties.Events.E.Properties: must be a mapping"),
    "globals_function_string": (SAM_HEAD + "Globals: {Function: x}\nResources:\n" + SAM_FUNCTION,
                                ": Globals.Function: must be a mapping of properties, got a string"),
    "properties_string": (SAM_HEAD + "Resources:\n  F: {Type: 'AWS::Serverless::Function', "
                          "Properties: 'x'}\n", ":4: Resources.F.Properties: must be a mapping, got a string"),
    "recursive_alias": (SAM_HEAD + "Resources:\n" + SAM_FUNCTION + "      MemorySize: &a [*a]\n",
                        ":9: recursive alias *a"),
    "alias_bomb": (SAM_HEAD + _bomb(6).split("duration")[0] + "Resources:\n" + SAM_FUNCTION,
                   "aliases expand to more than"),
    "json_huge_number": ('{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": '
                         '{"MemorySize": ' + "1" * 5000 + '}}}}',
                         "JSON number refused: an integer with more than 4,300 digits"),
    "json_deep": ('{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": '
                  '{"MemorySize": ' + "[" * 3000 + "]" * 3000 + '}}}}', "nested deeper than 64 levels"),
}


@pytest.mark.parametrize("name", sorted(SAM_REFUSED))
def test_hostile_templates_exit_2_with_one_line(name, workdir, capsys):
    text, expected = SAM_REFUSED[name]
    suffix = ".json" if text.startswith("{") else ".yaml"
    (workdir / f"t{suffix}").write_text(text)
    assert cli.main(["import-sam", f"t{suffix}", "--out", "s2.yaml"]) == 2
    line = _error(capsys)
    assert expected in line, line
    assert not (workdir / "s2.yaml").exists()


SAM_NOTED = {
    # name: (template, notes expected in the output)
    "ref_loop": (SAM_HEAD + "Parameters:\n  A: {Type: Number, Default: !Ref B}\n"
                 "  B: {Type: Number, Default: !Ref A}\nResources:\n" + SAM_FUNCTION
                 + "      MemorySize: !Ref A\n",
                 ["# Note: Resources.F.Properties.MemorySize: !Ref \"A\" cannot be resolved"]),
    "self_reference": (SAM_HEAD + "Parameters:\n  A: {Type: Number, Default: !Ref A}\nResources:\n"
                       + SAM_FUNCTION + "      Timeout: !Ref A\n",
                       ["# Note: Resources.F.Properties.Timeout: !Ref \"A\" cannot be resolved"]),
    "weird_numbers": (SAM_HEAD + "Resources:\n" + SAM_FUNCTION + "      MemorySize: 1e308\n"
                      "      Timeout: -1\n      ReservedConcurrentExecutions: .nan\n"
                      "      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: [1]}\n",
                      ["MemorySize: '1e308' is outside 128..10240; lambdasim's default is used",
                       "Timeout: -1 is outside 1..900",
                       "ReservedConcurrentExecutions: nan is not a number",
                       "ProvisionedConcurrentExecutions: [1] is not a number"]),
    "weird_schedules": (SAM_HEAD + "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
                        "    Properties:\n      Events:\n"
                        "        S: {Type: Schedule, Properties: {Schedule: 'rate(0 minutes)'}}\n"
                        "        T: {Type: Schedule, Properties: {Schedule: 'rate(99999999999999999999 days)'}}\n"
                        "        U: {Type: Schedule, Properties: {Schedule: 'cron(* * * * ? *)'}}\n"
                        "        V: {Type: Schedule, Properties: {Schedule: 5}}\n"
                        "        W: {Type: SQS, Properties: {Queue: x, BatchSize: {a: 1}}}\n",
                        ["Events.S: rate(0 minutes): the value must be a positive whole number",
                         "'5' is not a schedule expression",
                         "BatchSize: {'a': 1} is not a number"]),
    "json_float_overflow": ('{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": '
                            '{"MemorySize": 1e999}}}}',  # not JSON for Python; read as YAML
                            ["MemorySize: '1e999' is not a number"]),
}


@pytest.mark.parametrize("name", sorted(SAM_NOTED))
def test_unusable_template_values_become_notes(name, workdir, capsys):
    text, notes = SAM_NOTED[name]
    (workdir / "t.yaml").write_text(text)
    assert cli.main(["import-sam", "t.yaml"]) == 0
    out = capsys.readouterr().out
    for note in notes:
        assert note in out, out


def test_fit_refuses_a_gzip_bomb_while_decompressing(workdir, capsys, monkeypatch):
    """fit_gzip_bomb.sh: a 2 MB .gz inflating to 2 GiB took 4.2 GB of memory; the same kind,
    scaled down: 16 MiB of newlines against a 1 MiB limit."""
    import gzip

    import lambdasim.aws.fit as fit

    monkeypatch.setattr(fit, "MAX_LOG_BYTES", 1 << 20)
    with gzip.open(workdir / "bomb.log.gz", "wb") as f:
        for _ in range(16):
            f.write(b"\n" * (1 << 20))
    assert (workdir / "bomb.log.gz").stat().st_size < 100_000
    assert cli.main(["fit", "bomb.log.gz"]) == 2
    assert ("bomb.log.gz: the log file decompressed size exceeds the limit of 1 MiB"
            in _error(capsys))


def test_fit_refuses_a_log_larger_than_the_limit_without_reading_it(workdir, capsys, monkeypatch):
    import lambdasim.aws.fit as fit

    monkeypatch.setattr(fit, "MAX_LOG_BYTES", 1000)
    (workdir / "big.log").write_text("REPORT RequestId: x Duration: 1 ms\n" * 100)
    assert cli.main(["fit", "big.log"]) == 2
    assert "big.log: the log file size exceeds the limit of 1,000 bytes" in _error(capsys)


def test_fit_refuses_a_line_over_the_line_limit(workdir, capsys):
    """fit_1gb_line.sh: a 1 GiB line took 7.3 GB and exited 1; a 3 MiB line shows the kind."""
    with open(workdir / "long.log", "wb") as f:
        f.write(b"START RequestId: y\nREPORT RequestId: x Duration: ")
        f.write(b"9" * (3 << 20))
        f.write(b" ms\n")
    assert cli.main(["fit", "long.log"]) == 2
    assert _error(capsys) == "lambdasim: error: long.log:2: a line longer than 1 MiB; is this a text file?"


def test_trace_and_empirical_files_are_read_with_limits(workdir, capsys):
    """A trace or empirical file of /dev/zero (or a 1 GiB line) must not be read whole, and a
    binary empirical file is bad input, not a crash (UnicodeDecodeError)."""
    (workdir / "bin.txt").write_bytes(b"\xff\xfe\n")
    (workdir / "long.txt").write_bytes(b"1" * (2 << 20))
    cases = {"zero_trace": "{process: trace, file: /dev/zero}",
             "long_trace": "{process: trace, file: long.txt}"}
    for name, arrivals in cases.items():
        (workdir / f"{name}.yaml").write_text(_one(f"{{type: sync, arrivals: {arrivals}}}"))
        assert cli.main(["validate", f"{name}.yaml"]) == 2
        assert "a line longer than 1 MiB" in _error(capsys)
    for name, file in {"zero_dist": "/dev/zero", "binary_dist": "bin.txt"}.items():
        (workdir / f"{name}.yaml").write_text(
            f"duration: 30s\nfunctions:\n  f:\n    duration: {{dist: empirical, file: {file}}}\n")
        assert cli.main(["validate", f"{name}.yaml"]) == 2
        assert "functions.f.duration.file: cannot read" in _error(capsys)


def test_fit_on_deeply_nested_json_is_not_a_log(workdir, capsys):
    """fit_deep_json.log: exit 3 (RecursionError in json.loads) before the fix."""
    (workdir / "deep.log").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    (workdir / "deep2.log").write_text('{"type": "platform.report", "record": '
                                       + "[" * 5000 + "]" * 5000 + "}\n")
    for name in ("deep.log", "deep2.log"):
        assert cli.main(["fit", name]) == 2
        line = _error(capsys)
        assert line.startswith(f"lambdasim: error: {name}"), line
        assert "nests too deeply" in line or "no REPORT lines found" in line, line


def test_fit_skips_timestamps_that_cannot_be_times(workdir, capsys):
    """fit_events_bad_timestamps.json: 1e20, NaN, -1e18, 1e300 ms used to end in an OSError
    reported as if the file could not be read."""
    events = [{"message": f"REPORT RequestId: {i} Duration: {100 + i} ms Billed Duration: 100 ms "
                          "Memory Size: 512 MB Max Memory Used: 71 MB", "timestamp": stamp}
              for i, stamp in enumerate([1e20, float("nan"), -1e18, 1e300, "x", None, True] * 4)]
    (workdir / "events.json").write_text(json.dumps({"events": events}))
    assert cli.main(["fit", "events.json"]) == 0
    out = capsys.readouterr().out
    assert "memory_mb: 512" in out and "duration:" in out
