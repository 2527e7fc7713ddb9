"""Throughput of the SQS event source mapping: messages simulated per wall second.

Two workloads of about 1.2 million messages each, one run apiece:

* ``standard``: a standard queue at 600 messages/s for 30 minutes with a spike of 120,000
  messages, batches of 10 with a 1 s batching window, 0.5 % of receives failing (partial batch
  responses, a dead-letter queue after 3 receives), pollers ramping and scaling back;
* ``fifo``: a FIFO queue with 200 message groups at 600 messages/s plus the same spike,
  batches of 10, 1 % of the invocations failing whole.

Each prints messages, batches (invocations), simulated events, wall time, messages per wall
second (and per CPU second of the process, steadier on a shared machine) and invocations per
wall second. It asserts nothing about time; it prints figures.

Run: ``python benchmarks/sqs_messages.py [--scale X]`` (``--scale 0.1`` for a quick look).
"""
from __future__ import annotations

import argparse
import gc
import time

import lambdasim
from lambdasim.engine.model import Model
from lambdasim.scenario import load_scenario


def scenario_dict(kind: str, scale: float = 1.0) -> dict:
    rate = 600 * scale
    trigger = {
        "type": "sqs",
        "arrivals": [{"process": "poisson", "rate": rate},
                     {"process": "burst", "count": int(120_000 * scale), "at": "10m",
                      "spread": "30s"}],
        "batch_size": 10,
        "visibility_timeout": "60s",
        "max_receive_count": 3,
        "per_record": "10ms",
    }
    function = {"memory_mb": 1024, "timeout": "10s",
                "duration": {"dist": "lognormal", "median": "150ms", "p99": "800ms"}}
    if kind == "fifo":
        trigger.update(fifo=True, message_groups=200)
        function["error_rate"] = 0.01
    else:
        trigger.update(batching_window="1s", message_error_rate=0.005,
                       report_batch_item_failures=True)
    function["triggers"] = [trigger]
    return {"name": f"sqs-{kind}", "duration": "30m", "seed": 1,
            "functions": {"consumer": function}}


def run(kind: str, scale: float) -> dict:
    scenario = load_scenario(scenario_dict(kind, scale))
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    model = Model(scenario).run()
    simulated = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    result = lambdasim.results.result.build_result(model)
    total = time.perf_counter() - started
    block = result.function("consumer")
    messages = block.sqs["messages_received"]
    return {"kind": kind, "messages": messages, "invocations": block.invocations,
            "events": model.events, "wall_s": simulated, "wall_with_result_s": total,
            "messages_per_wall_s": messages / simulated,
            "messages_per_cpu_s": messages / cpu,
            "invocations_per_wall_s": block.invocations / simulated,
            "deleted": block.sqs["messages_deleted"], "dlq": block.sqs["messages_to_dlq"],
            "pollers_max": block.sqs["pollers"]["max"],
            "queue_depth_max": block.sqs["queue_depth"]["max"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="traffic multiplier")
    args = parser.parse_args()
    for kind in ("standard", "fifo"):
        r = run(kind, args.scale)
        print(f"{r['kind']:>8}: {r['messages']:,} messages, {r['invocations']:,} batches, "
              f"{r['events']:,} events in {r['wall_s']:.2f} s "
              f"({r['wall_with_result_s']:.2f} s with the summary)")
        print(f"{'':>8}  {r['messages_per_wall_s']:,.0f} messages/s "
              f"({r['messages_per_cpu_s']:,.0f} per CPU second), "
              f"{r['invocations_per_wall_s']:,.0f} invocations/s; deleted {r['deleted']:,}, "
              f"dead-lettered {r['dlq']:,}, pollers max {r['pollers_max']}, "
              f"queue depth max {r['queue_depth_max']:,}")


if __name__ == "__main__":
    main()
