"""Shared fixtures: a tiny scenario (runs in well under a second) and a way to run the real
command line in a subprocess, as a user types it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import lambdasim

#: The folder that holds the lambdasim package under test (the checkout or site-packages).
PACKAGE_ROOT = Path(lambdasim.__file__).resolve().parent.parent

TINY_SCENARIO = """\
name: tiny
description: one small synchronous function
duration: 30s
seed: 42
functions:
  api:
    memory_mb: 512
    timeout: 10s
    duration:
      dist: lognormal
      median: 40ms
      p99: 250ms
    triggers:
      - type: sync
        arrivals:
          process: poisson
          rate: 5/s
"""


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """``tmp_path/tiny.yaml``: one function, one sync trigger, 30 s at 5 requests/s."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SCENARIO)
    return path


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run ``python -m lambdasim ARGS...`` in ``tmp_path``; return the CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    env.pop("COLUMNS", None)

    def run(*args: str, cwd: Path | None = None,
            interrupt_after_s: float | None = None) -> subprocess.CompletedProcess:
        """Run the command; with ``interrupt_after_s``, send it SIGINT (Ctrl-C) then."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "lambdasim", *map(str, args)],
            cwd=cwd or tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True,
        )
        if interrupt_after_s is not None:
            try:
                proc.wait(timeout=interrupt_after_s)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)
        try:
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)

    return run
