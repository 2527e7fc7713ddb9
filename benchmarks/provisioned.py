"""Cost of provisioned concurrency on the hot path: the throughput scenario with and without it.

Runs the scenario of ``benchmarks/throughput.py`` (about 1.07 million synchronous requests,
reserved concurrency 150) as it is, then with ``provisioned_concurrency: 100`` (a free
provisioned environment first, spillover to on-demand) and prints invocations per wall second
and per CPU second of each, best of ``--repeat``, with how many invocations ran on provisioned
environments. Functions without provisioned concurrency keep ``LambdaFunction.invoke``
untouched; compare the first figure with ``throughput.py``'s.

Run: ``python benchmarks/provisioned.py [--repeat N] [--capacity N]``. It asserts nothing.
"""
from __future__ import annotations

import argparse
import copy
import gc
import time

import lambdasim
from throughput import scenario_dict


def timed(data: dict) -> tuple[float, float, dict]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = lambdasim.simulate(data)
    return time.perf_counter() - wall, time.process_time() - cpu, result.summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (best kept)")
    parser.add_argument("--capacity", type=int, default=100, help="provisioned environments")
    args = parser.parse_args()
    plain = scenario_dict()
    warm = copy.deepcopy(plain)
    warm["functions"]["bench"]["provisioned_concurrency"] = args.capacity
    for label, data in (("on-demand only", plain), (f"provisioned {args.capacity}", warm)):
        best_wall = best_cpu = float("inf")
        for _ in range(args.repeat):
            wall, cpu, summary = timed(data)
            best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
        block = summary["functions"]["bench"]
        invocations = block["invocations"]
        prov = block.get("provisioned") or {}
        print(f"{label:>16}: {invocations:,} invocations ({block['cold_starts']:,} cold, "
              f"{block['throttles']:,} throttled, {prov.get('invocations', 0):,} on provisioned, "
              f"{prov.get('spillover_invocations', 0):,} spillover) "
              f"{invocations / best_wall:,.0f}/wall s, {invocations / best_cpu:,.0f}/CPU s "
              f"(summary included)")


if __name__ == "__main__":
    main()
