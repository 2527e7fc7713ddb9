"""Write a commented, runnable scenario to start from: ``lambdasim init NAME``.

::

    python -m lambdasim init NAME [--trigger sync|async|sqs|kinesis|dynamodb|kafka] [--out FILE]

writes ``NAME.yaml`` (or ``--out FILE``; ``--out -`` prints it): one function with one trigger
of the chosen type, every key it sets explained in a comment, an ``expect:`` block, and the
``yaml-language-server`` line that lets an editor check the file against
``python -m lambdasim schema``. The text is validated before it is written; an existing file
is never overwritten. ``scenarios/examples/`` holds the six outputs (``init example-sync
--trigger sync``, ...), one minimal complete example per trigger type.

Examples::

    python -m lambdasim init checkout                     # checkout.yaml, an API (sync)
    python -m lambdasim init thumbnails --trigger async   # S3 events into a function
    python -m lambdasim init orders --trigger sqs --out scenarios/orders.yaml
    python -m lambdasim checkout.yaml                     # then run it
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from lambdasim.cli.common import EXIT_OK, InputError

__all__ = ["add_arguments", "run", "scenario_text", "TRIGGERS"]

#: Trigger types ``init`` writes, each with its function's name, its trigger block and a
#: capacity check that the first run passes.
TRIGGERS: dict[str, tuple[str, str, str]] = {
    "sync": ("api", """\
      # A synchronous caller (API Gateway, ALB, a function URL, the Invoke API): a request
      # over the concurrency limit gets a 429 at once; the client's SDK may retry it.
      - type: sync
        name: api
        arrivals: {process: poisson, rate: 50/s}     # requests per second (also /min, /h)
        client_retries: {max_attempts: 3, base_delay: 100ms, max_delay: 2s}  # retries of 429s
""", "request_throttle_rate <= 0.01"),
    "async": ("worker", """\
      # Asynchronous events (S3, SNS, EventBridge, InvocationType=Event): they wait in
      # Lambda's internal queue and are retried; the sender never sees a throttle.
      - type: async
        name: uploads
        arrivals: {process: poisson, rate: 20/s}     # events per second
        max_retry_attempts: 2        # retries after a function error or timeout (0..2)
        max_event_age: 6h            # events older than this are dropped (60s..6h)
        # on_failure: {type: sqs, name: upload-failures}   # where dropped events go
""", "async.event_age_ms.p99 < 60000"),
    "sqs": ("consumer", """\
      # An SQS queue read by Lambda's pollers in batches (an event source mapping).
      - type: sqs
        name: orders
        arrivals: {process: poisson, rate: 100/s}    # messages sent to the queue per second
        batch_size: 10               # messages per invocation at most
        batching_window: 0s          # wait up to this long to fill a batch
        visibility_timeout: 60s      # at least the function's timeout
        # max_receive_count: 3       # receives before the dead-letter queue
        # maximum_concurrency: 50    # cap on concurrent batches
        # Or provisioned mode (billed per event poller unit-hour; not with maximum_concurrency):
        # provisioned_pollers: {minimum: 2, maximum: 200}   # minimum 2..200, maximum 2..2,000
""", "sqs.oldest_message_age_s.max < 60"),
    "kinesis": ("processor", """\
      # A Kinesis data stream: one batch in flight per shard, records in order per key.
      - type: kinesis
        name: clicks
        arrivals: {process: poisson, rate: 200/s}    # records put to the stream per second
        shards: 4
        batch_size: 100              # records per invocation at most
        parallelization_factor: 1    # concurrent batches per shard (1..10)
        maximum_retry_attempts: 2    # retries of a failed batch (-1: until the records expire)
        bisect_batch_on_error: true  # split a failing batch to isolate a bad record
""", "stream.iterator_age_ms.p99 < 10000"),
    "dynamodb": ("processor", """\
      # A DynamoDB stream: like Kinesis, polled four times a second, records kept 24 hours.
      - type: dynamodb
        name: table-changes
        arrivals: {process: poisson, rate: 50/s}     # item changes per second
        shards: 2
        batch_size: 100
        maximum_retry_attempts: 2
""", "stream.iterator_age_ms.p99 < 10000"),
    "kafka": ("consumer", """\
      # A Kafka topic (Amazon MSK or self-managed) read by an event source mapping: records
      # stay in order per partition, one batch in flight per partition at most.
      - type: kafka
        name: orders-topic
        arrivals: {process: poisson, rate: 200/s}    # records produced to the topic per second
        partitions: 6                # the function never runs more than 6 batches at once
        batch_size: 100              # records per invocation at most (1..10,000)
        batching_window: 500ms       # wait up to this long to fill a batch (Kafka's default)
        per_record: 1ms              # handler time added per record of a batch
        maximum_retry_attempts: 2    # retries of a failed batch (-1: until it succeeds)
        on_failure: {type: sqs, name: orders-failures}   # where discarded batches go
        # On-demand pollers (the default): one poller of 5 concurrent invocations at first;
        # every minute the offset lag sets how many, acting within three minutes. For
        # provisioned mode (billed per event poller unit-hour) uncomment:
        # provisioned_pollers: {minimum: 1, maximum: 6}   # minimum 1..200, maximum 1..2,000
""", "kafka.max_offset_lag.max < 10000"),
}

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def scenario_text(name: str, trigger: str) -> str:
    """The commented scenario ``init`` writes for ``name`` with one ``trigger`` (a type)."""
    function, block, check = TRIGGERS[trigger]
    return f"""\
# yaml-language-server: $schema=lambdasim-schema.json
# (editors with the YAML language server check this file as you type; write the schema next
#  to it once with: python -m lambdasim schema > lambdasim-schema.json)
#
# {name}: a lambdasim scenario with one function and a {trigger} trigger, written by
# 'python -m lambdasim init'. Times take units (250ms, 30s, 5m, 2h, 1d), rates too (200/s,
# 12000/min); the README's "Scenario format v1" lists every key.
#
#   python -m lambdasim {name}.yaml                      # run it: table, findings, results/{name}/
#   python -m lambdasim validate {name}.yaml             # check it without running
#   python -m lambdasim {name}.yaml --set functions.{function}.memory_mb=1024   # try a variant
name: {name}
description: One {trigger}-triggered function (edit me)
duration: 10m        # simulated time: arrivals stop here, work in flight drains
warmup: 1m           # statistics ignore requests that arrive earlier
recurs: continuous   # how this window recurs, for the cost per 30 days: continuous, daily, weekly or once
seed: 1              # the same seed gives the same results (--seed overrides)
account:
  concurrency_limit: 1000    # the Region's concurrent executions (AWS default 1,000)
functions:
  {function}:
    memory_mb: 512           # 128..10240; the CPU share grows with memory
    architecture: x86_64     # or arm64 (cheaper per GB-second)
    runtime: python3.12      # sets the default cold-start Init duration
    timeout: 30s
    # Handler time per invocation at memory_mb; measure yours from REPORT logs with
    # 'python -m lambdasim fit'.
    duration: {{dist: lognormal, median: 80ms, p99: 400ms}}
    # reserved_concurrency: 100     # caps (and guarantees) this function's concurrency
    # provisioned_concurrency: 10   # pre-initialized environments: no cold start up to 10
    triggers:
{block}expect:               # capacity checks: a failed one makes the run exit 1 (for CI)
  - {function}.latency_ms.p99 < 5000
  - {function}.{check}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``init`` subcommand's options."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "examples:" + __doc__.split("Examples::", 1)[1].rstrip()
    parser.description = "Write a commented, runnable scenario to start from."
    parser.add_argument("name", metavar="NAME",
                        help="scenario name (letters, digits, '-' and '_'); the file NAME.yaml")
    parser.add_argument("--trigger", choices=tuple(TRIGGERS), default="sync",
                        help="the event source of its function (default: sync)")
    parser.add_argument("--out", metavar="FILE",
                        help="where to write it (default: NAME.yaml; '-' prints it)")


def run(args: argparse.Namespace) -> int:
    """``lambdasim init``: write the scenario, never over an existing file."""
    if not _NAME.match(args.name):
        raise InputError(f"NAME: expected letters, digits, '-' or '_' (at most 64), "
                         f"got {args.name!r}")
    text = scenario_text(args.name, args.trigger)
    _check(text)
    if args.out == "-":
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.out) if args.out else Path(f"{args.name}.yaml")
    try:
        with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite a file
            f.write(text)
    except FileExistsError:
        raise InputError(f"{path}: exists; not overwriting it",
                         "choose another file with --out FILE or another NAME") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {path}: run it with 'python -m lambdasim {path}'")
    return EXIT_OK


def _check(text: str) -> None:
    """The written text loads and validates (a bug here would be lambdasim's, not the user's)."""
    import yaml

    from lambdasim.scenario import load_scenario

    load_scenario(yaml.safe_load(text))
