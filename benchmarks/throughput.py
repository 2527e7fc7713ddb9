"""Throughput of lambdasim against a bare SimPy loop and a plain-heapq floor, in one run.

The workload (issue 18): about one million synchronous requests to one function -- Poisson
arrivals at 100 per second for 10,000 s, exponential 200 ms handlers, a 500 ms Init on cold
starts, a 10 min keep-alive -- and variants of it. Every row runs in a process of its own,
and the figures are that process's CPU time (user + system, from ``os.wait4``) and peak
resident memory; rows are interleaved and each keeps its best of ``--repeat``:

* ``lambdasim``, records off, charts off: the whole process ``python -m lambdasim run
  bench.yaml --no-plots --quiet`` (start-up, loading, simulation, summary, results folder);
  with ``--records`` (``requests.csv.gz``); with the charts drawn; and ``simulate()`` alone
  (the CPU time of the call, measured inside the process);
* the **bare SimPy loop**: the minimal hand-written SimPy callback loop that does the same
  admission (a concurrency compare, the scale-out token bucket) and warm-stack reuse with
  lazy keep-alive timers, on the same arrival times and the same draws, and records nothing.
  Its figure is the CPU time of its loop alone (inputs drawn beforehand, not counted);
* the **heapq floor**: the same loop on a plain ``heapq`` (tuples, no event objects), with
  every arrival pushed on the heap, and with the arrivals merged in from their sorted list;
* scaling: the same total traffic spread over 1, 100 and 1,000 functions; and about 10,
  1,000 and 10,000 live execution environments (handlers of 0.1 s, 10 s and 100 s at
  100 requests/s, 200,000 requests), lambdasim and the bare loop on the same inputs;
* ``validate``: ``python -m lambdasim validate scenarios/peak.yaml``, the whole process;
* SimPy events per request of lambdasim (``run.json``) and of the bare loop;
* with ``--simfaas PYTHON`` (a Python with ``simfaas==0.2.2`` installed, kept out of
  lambdasim's dependencies): SimFaaS's ``ServerlessSimulator`` on its high-load case
  (arrivals 100/s, expiration threshold 600 s, 6,000 s, about 600,000 requests; warm service
  mean 2.016 s, cold 2.163 s, as in its README) and lambdasim on the same traffic (handler
  exponential with mean 2.016 s plus a 147 ms Init on cold starts), side by side.

Run: ``python benchmarks/throughput.py [--repeat N] [--scale X] [--simfaas PYTHON]``
(``--scale 0.1`` for a quick look). Measured processes keep their compiled bytecode in a
temporary cache, as an installed package does (``--no-bytecode``: compile from source each
time, as with ``PYTHONDONTWRITEBYTECODE``). It asserts nothing about time; it prints figures and a
Markdown table (benchmarks/README.md keeps the last one measured).
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve()

#: Requests per second of every workload.
RATE = 100.0


def scenario_dict(scale: float = 1.0) -> dict:
    """An older mixed workload (cold starts, reclaim, throttling; about 1.07 M requests),
    still used by ``benchmarks/provisioned.py``."""
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


def _function(rate: float, mean: str = "200ms", init: str = "500ms", timeout: str = "10s",
              keep_alive: str = "10m") -> dict:
    return {
        "memory_mb": 512,
        "timeout": timeout,
        "duration": {"dist": "exponential", "mean": mean},
        "init": init,
        "keep_alive": keep_alive,
        "triggers": [{"type": "sync", "arrivals": {"process": "poisson", "rate": rate}}],
    }


def workload(scale: float = 1.0, functions: int = 1) -> dict:
    """The 1 M-request workload (``scale`` x 10,000 s), its 100 requests/s spread evenly over
    ``functions`` functions."""
    names = ["bench"] if functions == 1 else [f"f{i:04d}" for i in range(functions)]
    return {"name": "bench", "duration": 10000.0 * scale, "seed": 1,
            "functions": {name: _function(RATE / functions) for name in names}}


def environments_workload(environments: int, scale: float = 1.0) -> dict:
    """About ``environments`` busy environments: handlers of ``environments / 100`` s at
    100 requests/s for 2,000 s (200,000 requests at scale 1)."""
    limit = max(1000, 2 * environments)
    return {"name": "bench", "duration": 2000.0 * scale, "seed": 1,
            "account": {"concurrency_limit": limit,
                        "scaling": {"burst": limit, "per": "10s"}},
            "functions": {"bench": _function(RATE, mean=f"{environments / RATE:g}s",
                                             timeout="900s")}}


def simfaas_workload(scale: float = 1.0) -> dict:
    """SimFaaS's high-load case in lambdasim's terms (see the module docstring)."""
    return {"name": "bench", "duration": 6000.0 * scale, "seed": 1,
            "functions": {"bench": _function(RATE, mean="2.016s", init="147ms",
                                             timeout="900s", keep_alive="600s")}}


# -- the yardsticks: the bare SimPy loop and the heapq floor ---------------------------------

class _Env:
    __slots__ = ("idle_since", "keep_alive", "busy", "dead", "armed")

    def __init__(self, keep_alive: float) -> None:
        self.idle_since = 0.0
        self.keep_alive = keep_alive
        self.busy = True
        self.dead = False
        self.armed = False


def bare_simpy(arrivals, durations: list, inits: list, keep_alives: list,
               limit: int, burst: float, refill: float) -> dict:
    """The yardstick: admission and warm-stack reuse in plain SimPy callbacks, no metrics."""
    import simpy
    from simpy.events import Timeout

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
    state["events"] = next(sim._eid)
    return state


def heapq_floor(arrivals, durations: list, inits: list, keep_alives: list, limit: int,
                burst: float, refill: float, merged: bool) -> dict:
    """The same loop on a bare ``heapq`` of tuples; ``merged`` takes arrivals from their list."""
    ARRIVE, DONE, TIMER = 0, 1, 2
    times = arrivals[::-1].tolist()
    heap: list = []
    push, pop = heapq.heappush, heapq.heappop
    seq = 0
    stack: list[_Env] = []
    in_use = invocations = throttles = cold = 0
    tokens, updated = burst, 0.0
    if not merged:
        push(heap, (times.pop(), 1, seq, ARRIVE, None))
    next_at = times.pop() if merged else 0.0
    while True:
        if merged and (not heap or next_at < heap[0][0]):
            if next_at == float("inf"):
                break
            now, kind, env = next_at, ARRIVE, None
            next_at = times.pop() if times else float("inf")
        elif heap:
            now, _, _, kind, env = pop(heap)
        else:
            break
        if kind == ARRIVE:
            if not merged and times:
                seq += 1
                push(heap, (times.pop(), 1, seq, ARRIVE, None))
            if in_use >= limit:
                throttles += 1
                continue
            env = None
            while stack:
                candidate = stack.pop()
                if not candidate.dead:
                    env = candidate
                    break
            delay = durations.pop()
            if env is None:
                tokens = min(burst, tokens + (now - updated) * refill)
                updated = now
                if tokens < 1.0:
                    throttles += 1
                    continue
                tokens -= 1.0
                env = _Env(keep_alives.pop())
                cold += 1
                delay += inits.pop()
            env.busy = True
            in_use += 1
            invocations += 1
            seq += 1
            push(heap, (now + delay, 0, seq, DONE, env))
        elif kind == DONE:
            in_use -= 1
            env.busy = False
            env.idle_since = now
            stack.append(env)
            if not env.armed:
                env.armed = True
                seq += 1
                push(heap, (now + env.keep_alive, 1, seq, TIMER, env))
        else:
            env.armed = False
            if env.busy or env.dead:
                continue
            deadline = env.idle_since + env.keep_alive
            if now >= deadline:
                env.dead = True
            else:
                env.armed = True
                seq += 1
                push(heap, (deadline, 1, seq, TIMER, env))
    return {"invocations": invocations, "throttles": throttles, "cold": cold}


def yardstick_inputs(data: dict) -> tuple:
    """Arrivals and draws of a one-function scenario, from lambdasim's own streams."""
    import numpy as np

    import lambdasim
    from lambdasim.engine.rng import Streams
    from lambdasim.scenario.arrivals import arrival_times
    from lambdasim.scenario.distributions import make_distribution

    config = lambdasim.load_scenario(data).config
    name, fn = next(iter(config["functions"].items()))
    streams = Streams(config["seed"])
    spec = fn["triggers"][0]["arrivals"][0]
    arrivals = np.concatenate(list(arrival_times(
        spec, streams.generator(f"arrivals/{name}/0/0"), config["duration"])))
    n = len(arrivals)
    draws = [make_distribution(fn[key]).sample(streams.generator(f"{key}/{name}"), n).tolist()
             for key in ("duration", "init", "keep_alive")]
    scaling = config["account"]["scaling"]
    limit = config["account"]["concurrency_limit"]
    return (arrivals, *draws, limit, float(scaling["burst"]), scaling["burst"] / scaling["per"])


# -- one row per process ------------------------------------------------------------------

def child(kind: str, spec: str) -> None:
    """Run one measurement in this process and print its figures as one JSON line."""
    data = json.loads(Path(spec).read_text())
    if kind in ("bare", "heapq", "heapq-merged"):
        inputs = yardstick_inputs(data)
        started = time.process_time()
        if kind == "bare":
            state = bare_simpy(*inputs)
        else:
            state = heapq_floor(*inputs, merged=kind == "heapq-merged")
        cpu = time.process_time() - started
        print(json.dumps({"cpu_s": cpu, "requests": len(inputs[0]),
                          "invocations": state["invocations"],
                          "events": state.get("events")}))
    elif kind == "simulate":
        import lambdasim
        from lambdasim.simulation import simulate  # imported before the clock starts

        started = time.process_time()
        result = simulate(data)
        cpu = time.process_time() - started
        requests = sum(f["requests"]["arrived"] for f in result.summary["functions"].values())
        print(json.dumps({"cpu_s": cpu, "requests": requests,
                          "events": result.run_info["events_processed"]}))
    elif kind == "simfaas":
        from simfaas.ServerlessSimulator import ServerlessSimulator

        started = time.process_time()
        sim = ServerlessSimulator(arrival_rate=RATE, warm_service_rate=1 / 2.016,
                                  cold_service_rate=1 / 2.163, expiration_threshold=600,
                                  max_time=data["duration"])
        sim.generate_trace(debug_print=False, progress=False)
        cpu = time.process_time() - started
        print(json.dumps({"cpu_s": cpu, "requests": sim.total_req_count,
                          "cold": sim.total_cold_count}))
    else:
        raise SystemExit(f"unknown child kind {kind!r}")


#: Where the measured processes keep their compiled bytecode, as an installed package has it
#: (set by main(); the first round compiles, best-of-N keeps the warm figures).
PYCACHE: str | None = None


def measure(argv: list[str]) -> dict:
    """Run ``argv`` as a process; its CPU time and peak resident memory from ``wait4``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if PYCACHE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    figures = json.loads(lines[-1]) if lines else {}
    figures["process_cpu_s"] = usage.ru_utime + usage.ru_stime
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024.0
    return figures


class Row:
    """One line of the table: how to run it, and its best figures so far."""

    def __init__(self, key: str, label: str, run, best: str = "process_cpu_s",
                 rounds: int | None = None) -> None:
        self.key, self.label, self.run, self.best_key = key, label, run, best
        self.rounds = rounds  # at most this many runs (None: every round)
        self.runs = 0
        self.best: dict | None = None

    def once(self) -> None:
        if self.rounds is not None and self.runs >= self.rounds:
            return
        self.runs += 1
        figures = self.run()
        if self.best is None or figures[self.best_key] < self.best[self.best_key]:
            self.best = figures


def _child_row(kind: str, data: dict, folder: Path, python: str = sys.executable) -> callable:
    path = folder / f"{kind}-{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(data))
    return lambda: measure([python, str(HERE), "--child", kind, str(path)])


def _cli_row(data: dict, folder: Path, *options: str) -> callable:
    path = folder / "bench.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML

    def run() -> dict:
        out = folder / "out"
        figures = measure([sys.executable, "-m", "lambdasim", "run", str(path), "--quiet",
                           "--out", str(out), *options])
        summary = json.loads((out / "summary.json").read_text())
        info = json.loads((out / "run.json").read_text())
        figures["requests"] = sum(f["requests"]["arrived"]
                                  for f in summary["functions"].values())
        figures["events"] = info["events_processed"]
        return figures

    return run


def _validate_row() -> dict:
    return measure([sys.executable, "-m", "lambdasim", "validate", "scenarios/peak.yaml"])


def build_rows(args, folder: Path) -> list[Row]:
    base = workload(args.scale)
    rows = []
    for key, label, options in (("off", "lambdasim, records off, charts off", ("--no-plots",)),
                                ("records", "lambdasim, records on, charts off",
                                 ("--no-plots", "--records")),
                                ("charts", "lambdasim, records off, charts on", ())):
        sub = folder / key
        sub.mkdir()
        rows.append(Row(key, label + " (whole process)", _cli_row(base, sub, *options)))
    rows.append(Row("simulate", "lambdasim simulate() alone",
                    _child_row("simulate", base, folder), best="cpu_s"))
    rows.append(Row("bare", "bare SimPy loop (loop alone)",
                    _child_row("bare", base, folder), best="cpu_s"))
    rows.append(Row("heapq", "heapq floor, arrivals on the heap",
                    _child_row("heapq", base, folder), best="cpu_s"))
    rows.append(Row("heapq-merged", "heapq floor, arrivals merged",
                    _child_row("heapq-merged", base, folder), best="cpu_s"))
    for n in (1, 100, 1000):
        rows.append(Row(f"functions-{n}", f"lambdasim simulate(), {n:,} function{'s' * (n > 1)}",
                        _child_row("simulate", workload(args.scale, n), folder), best="cpu_s"))
    for n in (10, 1000, 10000):
        data = environments_workload(n, args.scale)
        rows.append(Row(f"envs-{n}", f"lambdasim simulate(), about {n:,} live environments",
                        _child_row("simulate", data, folder), best="cpu_s"))
        rows.append(Row(f"envs-bare-{n}", f"bare SimPy loop, about {n:,} live environments",
                        _child_row("bare", data, folder), best="cpu_s"))
    rows.append(Row("validate", "validate scenarios/peak.yaml (whole process)", _validate_row))
    if args.simfaas:
        data = simfaas_workload(args.scale)
        rows.append(Row("simfaas", "SimFaaS 0.2.2, its high-load case (whole process)",
                        _child_row("simfaas", data, folder, python=args.simfaas),
                        rounds=args.simfaas_rounds))
        rows.append(Row("simfaas-lambdasim", "lambdasim, the same traffic (whole process)",
                        _child_row("simulate", data, folder)))
    return [row for row in rows if not args.rows or row.key in args.rows]


def report(rows: list[Row], args) -> None:
    by_key = {row.key: row.best for row in rows}
    print()
    print(f"best of {args.repeat}, scale {args.scale:g}, load average before: {args.load}, "
          f"after: {os.getloadavg()[0]:.2f}, "
          f"{'no bytecode cache' if args.no_bytecode else 'bytecode cached'}")
    print()
    print("| what | CPU s | requests | requests per CPU s | process CPU s | peak memory MB "
          "| SimPy events per request |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        b = row.best
        cpu = b[row.best_key]
        requests = b.get("requests") or 0
        events = b.get("events")
        print(f"| {row.label} | {cpu:.2f} | {requests:,} | "
              f"{requests / cpu:,.0f} | {b['process_cpu_s']:.2f} | {b['peak_rss_mb']:.0f} | "
              f"{'' if not events or not requests else f'{events / requests:.3f}'} |")

    def speed(key: str) -> float | None:
        b = by_key.get(key)
        if not b or not b.get("requests"):
            return None
        row = next(r for r in rows if r.key == key)
        return b["requests"] / b[row.best_key]

    print()
    bare = speed("bare")
    for key, text in (("off", "records off, charts off"), ("charts", "charts on"),
                      ("records", "records on"), ("simulate", "simulate() alone")):
        if bare and speed(key):
            print(f"lambdasim {text} / bare SimPy loop, requests per CPU s: "
                  f"{speed(key) / bare:.2f}")
    for key in ("heapq", "heapq-merged"):
        if bare and speed(key):
            print(f"{key} / bare SimPy loop: {speed(key) / bare:.2f} x")
    one, many = by_key.get("functions-1"), by_key.get("functions-1000")
    if one and many:
        print(f"1,000 functions / 1 function: simulate() CPU {many['cpu_s'] / one['cpu_s']:.2f} x,"
              f" process CPU {many['process_cpu_s'] / one['process_cpu_s']:.2f} x, peak memory "
              f"{many['peak_rss_mb']:.0f} MB against {one['peak_rss_mb']:.0f} MB")
    for who in ("envs", "envs-bare"):
        few, lots = speed(f"{who}-10"), speed(f"{who}-10000")
        if few and lots:
            print(f"{who}: CPU per request at 10,000 / at 10 environments: {few / lots:.2f} x")
    if speed("simfaas") and speed("simfaas-lambdasim"):
        print(f"lambdasim / SimFaaS, requests per CPU s: "
              f"{speed('simfaas-lambdasim') / speed('simfaas'):.1f} x")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each row (best kept)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every workload's length (0.1 for a quick look)")
    parser.add_argument("--simfaas", metavar="PYTHON",
                        help="a Python with simfaas==0.2.2 installed, for the SimFaaS rows")
    parser.add_argument("--simfaas-rounds", type=int, default=1,
                        help="runs of the (slow) SimFaaS row (default 1)")
    parser.add_argument("--rows", type=lambda s: set(s.split(",")),
                        help="only these rows (comma-separated keys)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="measured processes compile every module from source each time "
                             "(by default they keep bytecode in a temporary cache, as an "
                             "installed package does)")
    args = parser.parse_args()
    args.load = f"{os.getloadavg()[0]:.2f}"
    global PYCACHE
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_bytecode:
            PYCACHE = str(Path(tmp) / "pycache")
        rows = build_rows(args, Path(tmp))
        for repeat in range(args.repeat):
            for row in rows:  # interleaved: every row once per round
                row.once()
                b = row.best
                print(f"round {repeat + 1}: {row.label}: best {b[row.best_key]:.2f} s CPU",
                      flush=True)
        report(rows, args)


if __name__ == "__main__":
    main()
