"""Start-up: the quick commands import only what they use.

``python -m lambdasim validate``, ``schema`` and ``--help`` are typed often (editors run
``validate`` on save); they must not pay for SciPy, Matplotlib, SimPy, the engine, rich (the
tables and progress bars) or Jinja2 (report.html). These
tests look at what a fresh interpreter has imported after the command, not at the time it
took (timings belong in benchmarks/, see benchmarks/throughput.py for the figure).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "matplotlib", "simpy", "pandas", "lambdasim.engine", "lambdasim.studies.sweep",
         "rich", "jinja2")  # rich draws tables and bars, jinja2 report.html: only when used

PROBE = """
import contextlib, io, json, sys
from lambdasim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:  # --help exits through argparse
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["code"], data["modules"]


@pytest.mark.parametrize("argv", [("validate", "scenarios/peak.yaml"), ("schema",), ("--help",)])
def test_quick_commands_import_no_heavy_module(argv):
    code, modules = _modules_after(*argv)
    assert code == 0
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


def test_the_public_api_still_resolves_every_name():
    import lambdasim

    for name in lambdasim.__all__:
        assert getattr(lambdasim, name) is not None
    assert callable(lambdasim.simulate) and "simulate" in dir(lambdasim)
    with pytest.raises(AttributeError):
        lambdasim.no_such_name  # noqa: B018


def test_a_run_without_charts_imports_no_chart_library(tmp_path):
    # `run --no-plots` writes summary, metrics and report.html: no Matplotlib, no SciPy.
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(json.dumps({"name": "tiny", "duration": 60, "functions": {"f": {
        "duration": "100ms",
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": 2}}]}}}))
    code, modules = _modules_after("run", str(scenario), "--no-plots", "--quiet",
                                   "--out", str(tmp_path / "out"))
    assert code == 0 and (tmp_path / "out" / "report.html").is_file()
    assert [m for m in modules if m.split(".")[0] in ("matplotlib", "scipy")] == []
    # Nor the chart data, nor the modules of the other commands (fit, import-sam, tune).
    assert "lambdasim.results.timeline" not in modules
    assert [m for m in modules if m.startswith(("lambdasim.aws", "lambdasim.cli.fit",
                                                "lambdasim.cli.tune"))] == []


BLAS_PROBE = """
import json, os, sys
from lambdasim.cli import main
main(["validate", "scenarios/peak.yaml"])
import numpy
print(json.dumps({v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}))
"""


def _blas_variables(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", BLAS_PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_command_line_run_keeps_blas_to_one_thread():
    # OpenBLAS threads spin after NumPy's import (about 0.1 s of CPU per process); lambdasim
    # does no large linear algebra and runs replications one process per core.
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    assert _blas_variables(env) == {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_a_users_blas_thread_setting_is_kept():
    import os

    env = dict(os.environ, OPENBLAS_NUM_THREADS="4", MKL_NUM_THREADS="3")
    assert _blas_variables(env) == {"OPENBLAS_NUM_THREADS": "4", "MKL_NUM_THREADS": "3"}
