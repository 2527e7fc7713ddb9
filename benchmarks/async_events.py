"""Throughput of asynchronous invocations with a standing backlog.

One function with reserved concurrency 100 and exponential handler time (mean 100 ms:
capacity about 1,000 events/s) receives a burst of ``backlog`` events at t = 0 and then
Poisson traffic at 98 % of its capacity, so the backlog drains only slowly and stands for the
whole run. About ``--events`` events in total (1,000,000 by default), for each poller
discipline:

* ``none`` -- the work-conserving FIFO line (pollers take the next event when a unit frees);
* ``exponential`` -- Lambda's per-event throttle backoff (1 s doubling to 5 min): every
  waiting event sleeps on its own timer, so the run also makes millions of throttled attempts.

For two backlog sizes (1,000 and 100,000 events by default) it prints events received per
wall second, invocations, throttled attempts and the queue depth. Per-event work does not
depend on the queue's length (deque appends and pops, one timer per waiting event), so the
rate should barely change with a backlog 100 times larger. What does change it is Python's
cyclic garbage collector: waiting events are long-lived objects, and each full collection
visits all of them; collections are spaced by a quarter of the long-lived objects, so this is a
constant cost per event, not one that grows with the queue. ``--no-gc`` shows the rates without
it.

Run: ``python benchmarks/async_events.py [--events N] [--backlog A B ...] [--mode M ...]``.
It asserts nothing about time; it prints figures.
"""
from __future__ import annotations

import argparse
import gc
import time

import lambdasim
from lambdasim.engine.model import Model
from lambdasim.results.result import build_result

CONCURRENCY = 100
MEAN_S = 0.1


def scenario(events: int, backlog: int, mode: str) -> dict:
    capacity = CONCURRENCY / MEAN_S
    rate = 0.98 * capacity
    horizon = max(1.0, (events - backlog) / rate)
    return {
        "name": f"async-bench-{mode}-{backlog}",
        "duration": horizon,
        "seed": 1,
        "functions": {
            "worker": {
                "memory_mb": 512,
                "timeout": "10s",
                "reserved_concurrency": CONCURRENCY,
                "duration": {"dist": "exponential", "mean": MEAN_S},
                "init": "200ms",
                "keep_alive": "1h",
                "triggers": [{
                    "type": "async",
                    "throttle_backoff": mode,
                    "arrivals": [{"process": "burst", "count": backlog, "at": 0},
                                 {"process": "poisson", "rate": rate}],
                }],
            }
        },
    }


def measure(events: int, backlog: int, mode: str, collector: bool = True) -> dict:
    scenario_ = lambdasim.load_scenario(scenario(events, backlog, mode))
    gc.collect()
    if not collector:
        gc.disable()
    started = time.perf_counter()
    try:
        model = Model(scenario_).run()
    finally:
        gc.enable()
    run_s = time.perf_counter() - started
    summary = build_result(model).summary
    total_s = time.perf_counter() - started
    block = summary["functions"]["worker"]
    received = len(model.async_queues["worker"].received_log)
    return {
        "mode": mode, "backlog": backlog, "received": received,
        "invocations": block["invocations"], "throttles": block["throttles"],
        "depth_max": block["async"]["queue_depth"]["max"],
        "depth_mean": block["async"]["queue_depth"]["mean"],
        "age_mean_s": (block["async"]["event_age_ms"]["mean"] or 0.0) / 1000.0,
        "simpy_events": model.events, "run_s": run_s, "total_s": total_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backlog", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--mode", nargs="+", default=["none", "exponential"],
                        choices=["none", "exponential"])
    parser.add_argument("--no-gc", action="store_true",
                        help="switch Python's cyclic garbage collector off during the runs: "
                             "its full collections visit every live object, so a large standing "
                             "backlog costs a constant extra per event")
    args = parser.parse_args()
    header = (f"{'mode':<12}{'backlog':>9}{'events':>10}{'invocations':>13}{'throttles':>11}"
              f"{'depth max':>11}{'depth mean':>12}{'age mean s':>12}{'wall s':>9}"
              f"{'events/s':>11}{'simpy ev/s':>12}")
    print(header)
    print("-" * len(header))
    for mode in args.mode:
        for backlog in args.backlog:
            r = measure(args.events, backlog, mode, collector=not args.no_gc)
            print(f"{r['mode']:<12}{r['backlog']:>9,}{r['received']:>10,}{r['invocations']:>13,}"
                  f"{r['throttles']:>11,}{r['depth_max']:>11,}{r['depth_mean']:>12,.0f}"
                  f"{r['age_mean_s']:>12.1f}{r['total_s']:>9.1f}"
                  f"{r['received'] / r['total_s']:>11,.0f}{r['simpy_events'] / r['run_s']:>12,.0f}",
                  flush=True)
    print("\nwall s includes building the summary; events/s = async events received per wall "
          "second; simpy ev/s = SimPy events processed per second of the run itself.")


if __name__ == "__main__":
    main()
