"""Throughput of the Kinesis / DynamoDB Streams triggers: records per wall second.

Simulates about 1.08 million records put to two streams read by one function: a Kinesis
stream (40 shards, parallelization factor 2, 1,500 records/s, 1 poison record in 20,000 with
bisect and 2 retries to an SQS on-failure queue) and a DynamoDB stream (10 shards,
500 records/s, a 1 s batching window). Every record is routed to its shard by partition key,
batched, delivered, and recorded as a request; the summary (iterator age, pollers, series)
is computed as part of the timed run.

Prints records and invocations per wall second, events processed, and the summary's stream
figures; then, as a yardstick measured in the same process, the same arrivals (same function
and trigger indices, hence the same random streams) sent to ``sync`` triggers, one invocation
per record. Run: ``python benchmarks/stream_records.py [--repeat N] [--scale X]``. It asserts
nothing about time; it prints figures.
"""
from __future__ import annotations

import argparse
import gc
import time

import lambdasim
from lambdasim.engine.model import Model
from lambdasim.results.result import build_result


def scenario_dict(scale: float = 1.0) -> dict:
    return {
        "name": "stream_records",
        "duration": 540,
        "seed": 1,
        "functions": {
            "consumer": {
                "memory_mb": 1024,
                "timeout": "60s",
                "duration": {"dist": "lognormal", "median": "30ms", "p99": "150ms"},
                "init": {"dist": "lognormal", "median": "250ms", "p99": "800ms"},
                "triggers": [
                    {"type": "kinesis", "name": "clicks",
                     "arrivals": {"process": "poisson", "rate": 1500 * scale},
                     "shards": 40, "parallelization_factor": 2, "batch_size": 100,
                     "per_record": "0.2ms", "partition_keys": 100000,
                     "poison_rate": 0.00005, "bisect_batch_on_error": True,
                     "maximum_retry_attempts": 2,
                     "on_failure": {"type": "sqs", "name": "clicks-failures"}},
                    {"type": "dynamodb", "name": "orders",
                     "arrivals": {"process": "poisson", "rate": 500 * scale},
                     "shards": 10, "batch_size": 500, "batching_window": "1s",
                     "per_record": "0.5ms", "partition_keys": 20000},
                ],
            }
        },
    }


def sync_dict(scale: float = 1.0) -> dict:
    data = scenario_dict(scale)
    for trigger in data["functions"]["consumer"]["triggers"]:
        for key in list(trigger):
            if key not in ("name", "arrivals"):
                del trigger[key]
        trigger["type"] = "sync"
    data["functions"]["consumer"]["reserved_concurrency"] = 800
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    scenario = lambdasim.load_scenario(scenario_dict(args.scale))
    for run in range(args.repeat):
        gc.collect()
        started = time.perf_counter()
        model = Model(scenario).run()
        result = build_result(model)
        wall = time.perf_counter() - started
        block = result.summary["functions"]["consumer"]
        stream = block["stream"]
        records = stream["records"]
        print(f"run {run + 1}: {records:,} records, {block['invocations']:,} invocations "
              f"(batches), {model.events:,} events in {wall:.2f} s wall "
              f"(simulation {model.wall_s:.2f} s + summary {wall - model.wall_s:.2f} s)")
        print(f"  {records / wall:,.0f} records per wall second, "
              f"{block['invocations'] / wall:,.0f} invocations per wall second")
        print(f"  processed {stream['records_processed']:,}, discarded "
              f"{stream['records_discarded']:,} (on-failure {stream['on_failure_records']:,}), "
              f"expired {stream['records_expired']:,}, waiting {stream['records_waiting']:,}; "
              f"iterator age mean {stream['iterator_age_ms']['mean']:.1f} ms, "
              f"p99 {stream['iterator_age_ms']['p99']:.1f} ms, "
              f"max {stream['iterator_age_ms']['max']:.1f} ms; pollers max "
              f"{stream['pollers']['max']}, mean {stream['pollers']['mean']:.1f}")
        del model, result
    gc.collect()
    started = time.perf_counter()
    result = lambdasim.simulate(lambdasim.load_scenario(sync_dict(args.scale)))
    wall = time.perf_counter() - started
    arrived = result.function("consumer").requests["arrived"]
    print(f"yardstick: the same {arrived:,} arrivals as sync requests (one invocation each): "
          f"{arrived / wall:,.0f} requests per wall second")


if __name__ == "__main__":
    main()
