"""Golden seeded runs of the shipped scenarios: any change in what they produce is caught.

Each shipped scenario runs with its own seed (``peak`` shortened to its first eight minutes,
baseline and ramp, to keep the suite quick) and its summary -- every function block and the
account block -- must equal the stored one in ``tests/golden/<name>.json``: counts exactly,
floats to 1e-9 relative.

After an intended change of the model (or a NumPy release that changes a random stream),
look at the differences, then regenerate with::

    LAMBDASIM_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

import lambdasim

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
RUNS = {
    "peak": {"duration": "8m"},
    "steady_warm": {},
    "reserved_cap": {},
    "rare_function": {},
    "sqs_spike": {"duration": "8m"},
    "launch_provisioned": {"duration": "60m"},  # the warm-up and the launch's first 15 min
}


def _observed(name: str) -> dict:
    scenario = lambdasim.load_scenario(ROOT / "scenarios" / f"{name}.yaml", RUNS[name])
    summary = lambdasim.simulate(scenario).summary
    return {"seed": summary["seed"], "functions": summary["functions"],
            "account": summary["account"]}


def _differences(expected, observed, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(observed, dict):
        out = []
        for key in sorted(set(expected) | set(observed)):
            if key not in expected or key not in observed:
                out.append(f"{path}.{key}: only in {'golden' if key in expected else 'run'}")
            else:
                out.extend(_differences(expected[key], observed[key], f"{path}.{key}"))
        return out
    if isinstance(expected, float) and isinstance(observed, float):
        if math.isclose(expected, observed, rel_tol=1e-9, abs_tol=1e-12):
            return []
    elif expected == observed and type(expected) is type(observed):
        return []
    return [f"{path}: golden {expected!r}, run {observed!r}"]


@pytest.mark.parametrize("name", sorted(RUNS))
def test_shipped_scenario_matches_its_golden_summary(name):
    observed = _observed(name)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("LAMBDASIM_UPDATE_GOLDEN"):
        path.write_text(json.dumps(observed, indent=2, allow_nan=False) + "\n")
    expected = json.loads(path.read_text())
    differences = _differences(expected, observed)
    assert not differences, (f"{name} changed (regenerate with LAMBDASIM_UPDATE_GOLDEN=1 if "
                             f"intended):\n" + "\n".join(differences[:20]))
