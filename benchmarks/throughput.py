"""Throughput of lambdasim against a bare SimPy ceiling, on the same arrivals.

Simulates about 1.07 million synchronous requests to one function with cold starts,
keep-alive reclaim (short keep-alive, traffic that falls and rises again) and throttling
(reserved concurrency below the peak load), and prints:

* lambdasim's invocations per wall second (records off: no per-request output);
* the same for a minimal hand-written SimPy callback loop that does the same admission
  (concurrency compare, scale-out token bucket) and warm-stack reuse with lazy keep-alive
  timers on the same arrival times and the same draws, without metrics -- the ceiling;
* the ratio of the two;
* peak memory of a run with records on, including writing its results folder with
  ``requests.csv.gz`` (tracemalloc, in a separate pass so it does not slow the timed runs),
  per million invocations.

Run: ``python benchmarks/throughput.py [--repeat N] [--scale X]``. It asserts nothing about
time; it prints figures.
"""
from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import simpy
from simpy.events import Timeout

import lambdasim
from lambdasim.scenario.arrivals import arrival_times
from lambdasim.scenario.distributions import make_distribution
from lambdasim.results.folder import write_results
from lambdasim.engine.rng import Streams


def scenario_dict(scale: float = 1.0) -> dict:
    rate = [[0, 400 * scale], [200, 1500 * scale], [500, 300 * scale], [700, 1500 * scale],
            [900, 600 * scale]]
    return {
        "name": "throughput",
        "duration": 1200,
        "seed": 1,
        "functions": {
            "bench": {
                "memory_mb": 512,
                "timeout": "10s",
                "reserved_concurrency": int(150 * scale),
                "duration": {"dist": "lognormal", "median": "80ms", "p99": "400ms"},
                "init": {"dist": "lognormal", "median": "300ms", "p99": "900ms"},
                "keep_alive": {"dist": "uniform", "low": "20s", "high": "40s"},
                "triggers": [{"type": "sync",
                              "arrivals": {"process": "poisson", "rate": rate}}],
            }
        },
    }


class _Env:
    __slots__ = ("idle_since", "keep_alive", "busy", "dead", "armed")

    def __init__(self, keep_alive: float) -> None:
        self.idle_since = 0.0
        self.keep_alive = keep_alive
        self.busy = True
        self.dead = False
        self.armed = False


def bare_simpy(arrivals: np.ndarray, durations: list, inits: list, keep_alives: list,
               limit: int, burst: float, refill: float) -> dict:
    """The ceiling: admission and warm-stack reuse in plain SimPy callbacks, no metrics."""
    sim = simpy.Environment()
    times = arrivals[::-1].tolist()
    stack: list[_Env] = []
    state = {"in_use": 0, "tokens": burst, "updated": 0.0, "invocations": 0,
             "throttles": 0, "cold": 0}

    def timer(event):
        env = event._value
        env.armed = False
        if env.busy or env.dead:
            return
        deadline = env.idle_since + env.keep_alive
        if sim._now >= deadline:
            env.dead = True
        else:
            env.armed = True
            Timeout(sim, deadline - sim._now, env).callbacks.append(timer)

    def done(event):
        env = event._value
        now = sim._now
        state["in_use"] -= 1
        env.busy = False
        env.idle_since = now
        stack.append(env)
        if not env.armed:
            env.armed = True
            Timeout(sim, env.keep_alive, env).callbacks.append(timer)

    def arrive(event):
        if times:
            at = times.pop()
            Timeout(sim, at - sim._now).callbacks.append(arrive)
        now = sim._now
        if state["in_use"] >= limit:
            state["throttles"] += 1
            return
        env = None
        while stack:
            candidate = stack.pop()
            if not candidate.dead:
                env = candidate
                break
        delay = durations.pop()
        if env is None:
            tokens = min(burst, state["tokens"] + (now - state["updated"]) * refill)
            state["updated"] = now
            if tokens < 1.0:
                state["tokens"] = tokens
                state["throttles"] += 1
                return
            state["tokens"] = tokens - 1.0
            env = _Env(keep_alives.pop())
            state["cold"] += 1
            delay += inits.pop()
        env.busy = True
        state["in_use"] += 1
        state["invocations"] += 1
        Timeout(sim, delay, env).callbacks.append(done)

    Timeout(sim, times.pop()).callbacks.append(arrive)
    sim.run()
    return state


def ceiling_inputs(scenario) -> tuple:
    config = scenario.config
    fn = config["functions"]["bench"]
    streams = Streams(config["seed"])
    spec = fn["triggers"][0]["arrivals"][0]
    arrivals = np.concatenate(list(arrival_times(spec, streams.generator("arrivals/bench/0/0"),
                                                 config["duration"])))
    n = len(arrivals)
    durations = make_distribution(fn["duration"]).sample(
        streams.generator("duration/bench"), n).tolist()
    inits = make_distribution(fn["init"]).sample(streams.generator("init/bench"), n).tolist()
    keep_alives = make_distribution(fn["keep_alive"]).sample(
        streams.generator("keep_alive/bench"), n).tolist()
    return arrivals, durations, inits, keep_alives


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (best kept)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the traffic")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    args = parser.parse_args()

    scenario = lambdasim.load_scenario(scenario_dict(args.scale))
    account = scenario.config["account"]["scaling"]
    limit = scenario.config["functions"]["bench"]["reserved_concurrency"]

    best_ceiling = best_sim = 0.0
    best_ceiling_cpu = best_sim_cpu = 0.0
    for _ in range(args.repeat):
        arrivals, durations, inits, keep_alives = ceiling_inputs(scenario)
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        state = bare_simpy(arrivals, durations, inits, keep_alives, limit,
                           float(account["burst"]), account["burst"] / account["per"])
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        best_ceiling = max(best_ceiling, state["invocations"] / wall)
        best_ceiling_cpu = max(best_ceiling_cpu, state["invocations"] / cpu)
        print(f"bare SimPy ceiling: {state['invocations']:,} invocations "
              f"({state['cold']:,} cold, {state['throttles']:,} throttled) in {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU = {state['invocations'] / wall:,.0f} invocations/wall s")

        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        result = lambdasim.simulate(scenario)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        block = result.summary["functions"]["bench"]
        best_sim = max(best_sim, block["invocations"] / wall)
        best_sim_cpu = max(best_sim_cpu, block["invocations"] / cpu)
        print(f"lambdasim:          {block['invocations']:,} invocations "
              f"({block['cold_starts']:,} cold, {block['throttles']:,} throttled, "
              f"{block['environments']['created']:,} environments created, at most "
              f"{block['environments']['max']:,} alive at once: the rest were reclaimed) "
              f"in {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU = {block['invocations'] / wall:,.0f} invocations/wall s "
              f"(summary included)")
    print(f"best of {args.repeat}: lambdasim {best_sim:,.0f}/s, ceiling {best_ceiling:,.0f}/s; "
          f"ratio lambdasim / ceiling: {best_sim / best_ceiling:.2f} wall, "
          f"{best_sim_cpu / best_ceiling_cpu:.2f} CPU")

    if not args.no_memory:
        gc.collect()
        tracemalloc.start()
        result = lambdasim.simulate(scenario, records=True)
        with tempfile.TemporaryDirectory() as folder:
            write_results(result, Path(folder) / "throughput")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        invocations = result.summary["functions"]["bench"]["invocations"]
        print(f"peak memory with records on: {peak / 1e6:.1f} MB for {invocations:,} "
              f"invocations = {peak / 1e6 / (invocations / 1e6):.1f} MB per million")


if __name__ == "__main__":
    main()
