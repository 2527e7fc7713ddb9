"""How a sweep scales from one worker to a local process pool (and, with --dask, Dask).

A 16-run sweep: scenarios/steady_warm.yaml (30 simulated minutes at 50 requests/s, about
90,000 requests per run) at four memory sizes x four replications. It runs in process
(``workers=1``), then on a process pool of ``--workers`` (default 2), and prints both wall
times, the CPU seconds spent (pool workers included: the pool's overhead), the wall-time
ratio, the machine's load average (other work on the machine slows the pool more than the
single worker), and whether the numbers were identical (they must be).

    python benchmarks/sweep_scaling.py [--workers 2] [--repeat 1] [--dask]

Prints figures only; nothing here asserts a wall time.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lambdasim  # noqa: E402
from lambdasim.studies.executors import dask_executor, usable_cores  # noqa: E402
from lambdasim.studies.sweep import sweep  # noqa: E402

SCENARIO = ROOT / "scenarios" / "steady_warm.yaml"
SETTINGS = {"functions.profile-api.memory_mb": [512, 1024, 1536, 2048]}
REPLICATIONS = 4


def cpu_s() -> float:
    """CPU seconds of this process and of its finished child processes (pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(**kwargs):
    started, cpu = time.perf_counter(), cpu_s()
    result = sweep(SCENARIO, SETTINGS, REPLICATIONS, **kwargs)
    return time.perf_counter() - started, cpu_s() - cpu, result.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="alternate the two runs N times")
    parser.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster")
    args = parser.parse_args()
    runs = len(SETTINGS["functions.profile-api.memory_mb"]) * REPLICATIONS
    print(f"lambdasim {lambdasim.__version__}: {runs}-run sweep of {SCENARIO.name}, "
          f"usable cores {usable_cores()}, load average before {os.getloadavg()[0]:.2f}")
    for attempt in range(args.repeat):
        one_s, one_cpu, one = timed(workers=1)
        pool_s, pool_cpu, pooled = timed(workers=args.workers)
        print(f"[{attempt + 1}] 1 worker {one_s:6.2f} s wall, {one_cpu:6.2f} s CPU; "
              f"{args.workers} workers {pool_s:6.2f} s wall, {pool_cpu:6.2f} s CPU; "
              f"wall ratio {pool_s / one_s:.3f}; identical {one == pooled}; "
              f"load average {os.getloadavg()[0]:.2f}")
        if args.dask:
            with dask_executor("local", workers=args.workers) as executor:
                dask_s, _, on_dask = timed(executor=executor)
            print(f"    Dask LocalCluster ({args.workers} workers, startup excluded) "
                  f"{dask_s:6.2f} s; ratio {dask_s / one_s:.3f}; identical {one == on_dask}")


if __name__ == "__main__":
    main()
