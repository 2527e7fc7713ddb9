"""Throughput of the Kafka trigger: records per wall second.

Simulates about 1.08 million records produced to two Kafka topics read by one function: an
on-demand mapping (``orders``, 24 partitions, 1,500 records/s with a peak to 3,000/s, batches
of 100 with the default 500 ms window, 1 poison record in 20,000 with 2 retries to an SQS
on-failure destination) and a provisioned-mode mapping (``clicks``, 12 partitions, 2-6
pollers, 500 records/s). Every record is routed to its partition by key, batched, delivered
in order, committed and recorded as a request; pollers follow the offset lag; the summary
(offset lag, pollers, EPU cost, series) is computed as part of the timed run.

Prints records and invocations per wall second, events processed and the summary's Kafka
figures. Run: ``python benchmarks/kafka_records.py [--repeat N] [--scale X]``. It asserts
nothing about time; it prints figures.
"""
from __future__ import annotations

import argparse
import gc
import time

from lambdasim.engine.model import Model
from lambdasim.results.result import build_result
from lambdasim.scenario import load_scenario


def scenario_dict(scale: float = 1.0) -> dict:
    rate = [[0, 1500 * scale], [180, 1500 * scale], [200, 3000 * scale, "ramp"],
            [300, 3000 * scale], [320, 1500 * scale, "ramp"]]
    return {
        "name": "kafka_records",
        "duration": 540,
        "seed": 1,
        "functions": {
            "consumer": {
                "memory_mb": 1024,
                "timeout": "60s",
                "duration": {"dist": "lognormal", "median": "30ms", "p99": "150ms"},
                "init": {"dist": "lognormal", "median": "250ms", "p99": "800ms"},
                "triggers": [
                    {"type": "kafka", "name": "orders",
                     "arrivals": {"process": "poisson", "rate": rate},
                     "partitions": 24, "batch_size": 100, "per_record": "0.2ms",
                     "partition_keys": 100000, "poison_rate": 0.00005,
                     "maximum_retry_attempts": 2,
                     "on_failure": {"type": "sqs", "name": "orders-failures"}},
                    {"type": "kafka", "name": "clicks",
                     "arrivals": {"process": "poisson", "rate": 500 * scale},
                     "partitions": 12, "batch_size": 500, "per_record": "0.5ms",
                     "partition_keys": 20000,
                     "provisioned_pollers": {"minimum": 2, "maximum": 6}},
                ],
            }
        },
    }


def run_once(scale: float) -> tuple[float, Model, dict]:
    scenario = load_scenario(scenario_dict(scale))
    gc.collect()
    started = time.perf_counter()
    model = Model(scenario).run()
    summary = build_result(model).summary
    return time.perf_counter() - started, model, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the rates")
    args = parser.parse_args()
    best = None
    for _ in range(max(1, args.repeat)):
        wall, model, summary = run_once(args.scale)
        if best is None or wall < best[0]:
            best = (wall, model, summary)
    wall, model, summary = best
    block = summary["functions"]["consumer"]
    kafka = block["kafka"]
    records = kafka["records"]
    print(f"records: {records:,} in {wall:.2f} s wall -> {records / wall:,.0f} records/s")
    print(f"invocations: {block['invocations']:,} -> {block['invocations'] / wall:,.0f}/s; "
          f"events processed: {model.events:,} ({model.events / wall:,.0f}/s)")
    for name, sub in kafka["by_trigger"].items():
        print(f"  {name} ({sub['mode']}): processed {sub['records_processed']:,}, discarded "
              f"{sub['records_discarded']:,}, SumOffsetLag max {sub['sum_offset_lag']['max']:,}, "
              f"pollers max {sub['pollers']['max']}")
    print(f"event poller cost: ${block['cost_usd']['event_poller_units']:.6f}")


if __name__ == "__main__":
    main()
