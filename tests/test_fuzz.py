"""A seeded mutation fuzzer of the shipped scenarios in CI (issue 15, point 8).

The generator and the checks are those of ``benchmarks/fuzz.py`` (run it for the long
campaign: 2,000 ``validate`` calls and 300 runs); here a few hundred cases run in process: every
one must end in exit 0, 1 or 2, without a traceback, a refusal in one error line, nothing
written when refused, and every finished run must conserve requests and respect its limits.
"""
from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "lambdasim_fuzz", Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fuzz)

SEED = 20261129
VALIDATE_CASES = 300
RUN_CASES = 24


def _campaign(kind: str, count: int, tmp_path: Path) -> Counter:
    counts: Counter = Counter()
    problems = []
    for index in range(count):
        name, text = fuzz.make_case(SEED, index, for_run=kind == "run")
        folder = tmp_path / f"{kind}-{index}"
        folder.mkdir()
        outcome, bad = fuzz.run_case(kind, text, folder, timeout_s=60.0)
        counts[outcome] += 1
        if bad or outcome not in ("0", "1", "2"):
            problems.append(f"{kind} case {index} from {name}: exit {outcome}: {bad}\n{text[:400]}")
    assert not problems, "\n\n".join(problems[:5])
    return counts


@pytest.mark.slow
def test_fuzzed_validate_calls_end_in_0_1_or_2(tmp_path):
    counts = _campaign("validate", VALIDATE_CASES, tmp_path)
    assert counts["2"] > 0 and counts["0"] > 0  # the generator reaches both sides


@pytest.mark.slow
def test_fuzzed_runs_end_in_0_1_or_2_and_conserve_requests(tmp_path):
    counts = _campaign("run", RUN_CASES, tmp_path)
    assert counts["0"] + counts["1"] > 0  # some runs finish and are checked
