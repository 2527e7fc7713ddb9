"""How long ``lambdasim tune`` takes: the shipped power_tuning scenario, one function.

Prints the wall time of a tune (7 memory sizes x 2 architectures x N replications), the runs
per wall second and the simulated invocations per wall second, serially and with a process
pool. Run from the repository root: ``python benchmarks/tune.py [replications] [jobs]``.
Never asserts a time.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lambdasim  # noqa: E402
from lambdasim.studies.tune import DEFAULT_MEMORY_MB, tune  # noqa: E402


def main() -> None:
    replications = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    scenario = lambdasim.load_scenario(ROOT / "scenarios" / "power_tuning.yaml")
    archs = ["x86_64", "arm64"]
    runs = len(DEFAULT_MEMORY_MB) * len(archs) * replications
    for n_jobs in (1, jobs):
        started = time.perf_counter()
        report = tune(scenario, "image-resize", DEFAULT_MEMORY_MB, archs, strategy="balanced",
                      replications=replications, jobs=n_jobs)
        wall = time.perf_counter() - started
        invocations = sum(c["invocations"]["value"] for c in report["configurations"])
        # Both functions run in every configuration; count the tuned one's invocations only.
        print(f"jobs={n_jobs}: {runs} runs in {wall:.2f} s wall = {runs / wall:.1f} runs/s, "
              f"{invocations * replications / wall:,.0f} tuned-function invocations/s; "
              f"best {report['best']['memory_mb']} MB {report['best']['architecture']}")


if __name__ == "__main__":
    main()
