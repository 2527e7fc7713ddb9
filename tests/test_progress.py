"""The progress bar: drawn on a terminal (a pseudo-terminal here) and only there, never with
--json or --quiet, never on stdout; a run with a bar is the same run as one without."""
from __future__ import annotations

import io
import json
import re
import os
import pty
import select
import subprocess
import sys

import pytest

import lambdasim
from lambdasim.engine.model import Model
from lambdasim.engine.events import Wakeup
from lambdasim.engine.run_loop import DRAIN_REPORT_STEPS, drain_with_progress, run_sliced
from lambdasim.results.progress import ProgressBar, RunsBar, progress_bar_for
from lambdasim.results.result import build_result

from conftest import PACKAGE_ROOT

SCENARIO = """\
name: bar
duration: 2m
seed: 11
functions:
  api:
    duration: {dist: exponential, mean: 80ms}
    triggers:
      - type: sync
        arrivals: {process: poisson, rate: [[0s, 50/s], [1m, 200/s]]}
"""


def test_a_run_with_a_progress_callback_is_the_same_run(tmp_path):
    path = tmp_path / "bar.yaml"
    path.write_text(SCENARIO)
    scenario = lambdasim.load_scenario(path)
    plain = Model(scenario).run()
    calls = []
    sliced = Model(scenario).run(lambda now, events: calls.append((now, events)))
    assert len(calls) > 5
    times = [now for now, _ in calls]
    assert times == sorted(times) and times[-1] == scenario.duration_s
    counts = [events for _, events in calls if events is not None]
    assert counts == sorted(counts) and 0 < counts[-1] <= sliced.events
    # Same events, same summary: slicing only pauses the event loop.
    assert sliced.events == plain.events
    assert json.dumps(build_result(sliced).summary) == json.dumps(build_result(plain).summary)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _frames(text: str) -> list[str]:
    """The lines rich drew, escape codes removed (each redraw starts with a carriage return)."""
    parts = [ESCAPES.sub("", part) for part in re.split(r"[\r\n]", text)]
    return [part for part in parts if part.strip()]


def test_the_bar_waits_for_its_delay_then_draws_and_erases_itself():
    stream, clock = io.StringIO(), _Clock()
    bar = ProgressBar(stream, duration_s=1200.0, delay_s=2.0, clock=clock, width=120)
    clock.now = 1.5
    bar(300.0, 10_000)
    assert stream.getvalue() == ""  # a short run shows nothing
    clock.now = 2.5
    bar(600.0, 2_500_000)
    clock.now = 2.55  # a redraw within 0.1 s is skipped
    bar(610.0, 2_600_000)
    clock.now = 5.0
    bar(900.0, 5_000_000)
    frames = _frames(stream.getvalue())
    assert len(frames) == 2, frames
    first, second = frames
    assert first.startswith("lambdasim ━") and " 50% 10m00s of 20m00s simulated" in first
    assert "1.00M events/s" in first and "0:00:02 elapsed" in first
    # rich estimates the time left from the recent speed: 310 simulated s in 2.5 s of wall
    # time, 300 s to go: 2.4 s, rounded up.
    assert " 75% 15m00s of 20m00s simulated" in second
    assert "0:00:05 elapsed" in second and "0:00:03 left" in second
    bar.close()
    # Transient: the last thing written moves back up and erases the line.
    assert stream.getvalue().endswith("\x1b[1A\x1b[2K")


def test_the_bar_drops_the_least_needed_figures_on_a_narrow_terminal():
    clock = _Clock()
    for width, kept, dropped in ((120, ["simulated", "events/s", "elapsed", "left"], []),
                                 (80, ["simulated", "left"], ["events/s", "elapsed"]),
                                 (60, ["simulated"], ["events/s", "elapsed", "left"])):
        stream = io.StringIO()
        bar = ProgressBar(stream, duration_s=1200.0, delay_s=0.0, clock=clock, width=width)
        bar(600.0, 2_500_000)
        (frame,) = _frames(stream.getvalue())
        assert len(frame) <= width and all(w in frame for w in kept), frame
        assert not any(w in frame for w in dropped), frame
        bar.close()


def test_runs_bar_counts_finished_runs_with_rich():
    stream = io.StringIO()
    bar = RunsBar(3, enabled=True, stream=stream, clock=_Clock(), width=100)
    for _ in range(3):
        bar.update()
    bar.close()
    frames = _frames(stream.getvalue())
    assert frames[0].startswith("runs 1/3 ━") and " 33%" in frames[0]
    assert frames[-1].startswith("runs 3/3 ━") and "100%" in frames[-1]


def test_no_bar_unless_stderr_is_a_terminal_and_output_is_wanted():
    assert progress_bar_for(io.StringIO(), 60.0) is None
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as terminal:
            assert isinstance(progress_bar_for(terminal, 60.0), ProgressBar)
            assert progress_bar_for(terminal, 60.0, quiet=True) is None
    finally:
        os.close(master)
        os.close(slave)


def test_run_sliced_reaches_the_end_exactly():
    import simpy

    sim = simpy.Environment()
    seen = []
    extra = run_sliced(sim, 10.0, lambda now, events: seen.append(now))
    assert sim.now == 10.0 and seen[-1] == 10.0 and extra == 3 * len(seen) - 2


def test_the_drain_after_the_horizon_reports_too():
    import simpy

    sim = simpy.Environment()
    left = [2 * DRAIN_REPORT_STEPS + 5]

    def done(event):
        left[0] -= 1

    for i in range(left[0]):
        Wakeup(sim, 1.0 + i * 1e-3, None, done)
    calls = []
    drain_with_progress(sim, lambda: left[0], 1e9, lambda now, events: calls.append(events))
    assert left[0] == 0 and calls == [None, None]
    stream = io.StringIO()
    bar = ProgressBar(stream, duration_s=60.0, delay_s=0.0, width=120)
    bar(75.0, None)
    (frame,) = _frames(stream.getvalue())
    assert "100% 1m15s of 1m00s simulated · draining work in flight" in frame


def _run_on_a_terminal(tmp_path, *args: str) -> tuple[int, str, str]:
    """Run the command line with stderr on a pseudo-terminal; return (code, stdout, tty)."""
    (tmp_path / "bar.yaml").write_text(SCENARIO)
    env = dict(os.environ, LAMBDASIM_PROGRESS_DELAY="0")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "lambdasim", *args], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not data:
                break
            chunks.append(data)
        stdout = proc.communicate(timeout=120)[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_the_bar_appears_on_a_terminal(tmp_path):
    code, stdout, terminal = _run_on_a_terminal(tmp_path, "bar.yaml", "--no-plots")
    assert code == 0, terminal
    frames = _frames(terminal)
    assert any(f.startswith("lambdasim ━") and "of 2m00s simulated" in f for f in frames)
    assert "\r\x1b[2K" in terminal  # rich redraws the line in place
    assert terminal.endswith("\x1b[1A\x1b[2K")  # and erases it at the end (transient)
    assert "lambdasim ━" not in stdout and "requests arrived" in stdout
    assert "\x1b[" not in stdout  # the table on a pipe is plain text


def test_no_bar_with_json_and_stdout_stays_pure_json(tmp_path):
    code, stdout, terminal = _run_on_a_terminal(tmp_path, "bar.yaml", "--no-plots", "--json")
    assert code == 0, terminal
    assert json.loads(stdout)["scenario"] == "bar"  # nothing but the JSON on stdout
    assert terminal == ""


def test_no_bar_with_quiet(tmp_path):
    code, stdout, terminal = _run_on_a_terminal(tmp_path, "bar.yaml", "--no-plots", "-q")
    assert code == 0 and stdout == "" and terminal == ""


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path):
    (tmp_path / "bar.yaml").write_text(SCENARIO)
    env = dict(os.environ, LAMBDASIM_PROGRESS_DELAY="0")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "lambdasim", "bar.yaml", "--no-plots"],
                          cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "requests arrived" in proc.stdout


@pytest.mark.parametrize("value", ["abc", ""])
def test_a_bad_delay_setting_falls_back_to_the_default(value, monkeypatch):
    monkeypatch.setenv("LAMBDASIM_PROGRESS_DELAY", value)
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as terminal:
            bar = progress_bar_for(terminal, 60.0)
            assert bar is not None and bar.delay_s == 2.0
    finally:
        os.close(master)
        os.close(slave)


def test_a_restarted_run_says_why_and_draws_a_new_bar_from_zero():
    stream, clock = io.StringIO(), _Clock()
    bar = ProgressBar(stream, duration_s=1200.0, delay_s=1.0, clock=clock, width=120)
    clock.now = 2.0
    bar(1200.0, 1_000_000)  # the first pass reached the horizon
    clock.now = 3.0
    bar.restart("the functions reached a limit they share: running them together")
    assert "lambdasim: the functions reached a limit they share" in stream.getvalue()
    before = len(stream.getvalue())
    clock.now = 3.5
    bar(600.0, 10)  # within the delay of the restart: nothing yet
    assert len(stream.getvalue()) == before
    clock.now = 4.5
    bar(600.0, 1_000_000)
    frames = _frames(stream.getvalue()[before:])
    assert frames and " 50% 10m00s of 20m00s simulated" in frames[-1]
    assert "0:00:01 elapsed" in frames[-1]
    bar.close()


def test_a_model_that_falls_back_restarts_the_progress():
    # Functions that only together fill the unreserved pool: tried separately, run together.
    from lambdasim.engine.model import Model

    function = {"duration": {"dist": "exponential", "mean": "250ms"}, "init": "300ms",
                "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": 180}}]}
    data = {"name": "shared", "duration": 120, "seed": 1,
            "account": {"concurrency_limit": 100},
            "functions": {"a": dict(function), "b": dict(function)}}

    class Recorder:
        def __init__(self):
            self.calls = []

        def __call__(self, now, events):
            self.calls.append(now)

        def restart(self, reason):
            self.calls.append(reason)

    progress = Recorder()
    model = Model(lambdasim.load_scenario(data), independent=True).run(progress)
    assert model.separate_runs == {}  # ran together in the end
    reasons = [c for c in progress.calls if isinstance(c, str)]
    assert len(reasons) == 1 and "running them together" in reasons[0]
    after = progress.calls[progress.calls.index(reasons[0]) + 1:]
    assert after and after[-1] >= 120
