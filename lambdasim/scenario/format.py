"""The declared table of the scenario format (v1): every key, its type, default and checks.

One table (:data:`SCHEMA`) drives normalisation, defaults, validation and the JSON Schema; the
machinery that reads it (:class:`~lambdasim.scenario.fields.Field`, resolution, schema
generation) is generic and lives in :mod:`lambdasim.scenario.fields`. Field-specific checks and
computed defaults sit next to the fields that use them. Checks that span several fields run on
the resolved config (:mod:`lambdasim.scenario.checks`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any


from lambdasim.scenario.around import (API_GATEWAY_FIELD, DEPENDENCIES_FIELD,
                                       SYNC_FRONT_DOOR_FIELDS, USES_FIELD)
from lambdasim.scenario.expectations import parse_expectation
from lambdasim.scenario.fields import Computed, Context, Field
from lambdasim.scenario.runtimes import default_init, runtime_family
from lambdasim.scenario.units import SpecError

__all__ = ["SCHEMA", "FUNCTION_NAME_PATTERN", "ASYNC_FUNCTION_KEYS", "PRICES_DIR"]

PRICES_DIR = Path(__file__).resolve().parent.parent / "prices"
#: Lambda's function-name rule (CreateFunction API reference).
FUNCTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def _check_prices(value: str, key: str, ctx: Context) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", value) or not (PRICES_DIR / f"{value}.json").is_file():
        known = sorted(p.stem for p in PRICES_DIR.glob("*.json"))
        raise SpecError(f"unknown price table {value!r} (available: {', '.join(known)})", key)


def _check_runtime(value: str, key: str, ctx: Context) -> None:
    runtime_family(value, key)


def _check_target_tracking(value: dict | None, key: str, ctx: Context) -> None:
    if value is not None and value["max"] < value["min"]:
        raise SpecError(f"must be >= min ({value['min']}), got {value['max']}", f"{key}.max")


def _check_provisioned(value: dict, key: str, ctx: Context) -> None:
    tracking = value["target_tracking"]
    if tracking is not None and not tracking["min"] <= value["capacity"] <= tracking["max"]:
        raise SpecError(
            f"must be within target_tracking min and max ({tracking['min']}..{tracking['max']}) "
            f"when target tracking is on, got {value['capacity']}", f"{key}.capacity")


def _default_provisioned_capacity(siblings: dict, ctx: Context) -> int:
    tracking = siblings["target_tracking"]
    return tracking["min"] if tracking is not None else 0


def _provisioned_peak(provisioned: dict) -> tuple[int, str]:
    """The largest capacity a function's provisioned concurrency can ever reach, and its key."""
    peak, where = provisioned["capacity"], "capacity"
    for index, action in enumerate(provisioned["schedule"]):
        if action["capacity"] > peak:
            peak, where = action["capacity"], f"schedule.{index}.capacity"
    tracking = provisioned["target_tracking"]
    if tracking is not None and tracking["max"] > peak:
        peak, where = tracking["max"], "target_tracking.max"
    return peak, where


def _check_name(value: str, key: str, ctx: Context) -> None:
    if not value.strip() or "/" in value or "\\" in value:
        raise SpecError(f"must be a non-empty name without slashes, got {value!r}", key)


def _check_retries(value: dict, key: str, ctx: Context) -> None:
    if value["max_delay"] < value["base_delay"]:
        raise SpecError(
            f"must be >= base_delay ({value['base_delay']:g}s), got {value['max_delay']:g}s",
            f"{key}.max_delay",
        )


def _check_expect(value: str, key: str, ctx: Context) -> None:
    parse_expectation(value, key)


def _default_init(siblings: dict, ctx: Context) -> dict:
    return default_init(siblings["runtime"], siblings["package_type"])


def _default_reference(siblings: dict, ctx: Context) -> Any:
    return ctx.written_memory.get(ctx.function, siblings["memory_mb"])


def _default_reference_architecture(siblings: dict, ctx: Context) -> Any:
    return (ctx.written_architecture or {}).get(ctx.function, siblings["architecture"])


_SYNC_TRIGGER = {
    "name": Field("str", Computed(lambda s, c: f"sync-{c.index}", "sync-<index>"), "label"),
    "arrivals": Field("arrivals", doc="one arrival spec or a list of them (superposed)"),
    **SYNC_FRONT_DOOR_FIELDS,
    "client_retries": Field(
        "map",
        {},
        "retries by the client SDK after a throttle or error, with exponential backoff",
        fields={
            "max_attempts": Field("int", 1, "attempts including the first (1 = no retries)", 1, 20),
            "base_delay": Field("time", 0.1, "backoff base"),
            "max_delay": Field("time", 20.0, "backoff cap"),
            "jitter": Field("enum", "full", "backoff jitter", choices=("full", "equal", "none", "decorrelated")),
            "retry_on": Field(
                "list",
                ["throttle"],
                "outcomes that are retried",
                item=Field("enum", choices=("throttle", "error")),
                unique=True,
            ),
        },
        check=_check_retries,
    ),
}

def _check_windows(value: dict, key: str, ctx: Context) -> None:
    if value["end"] <= value["start"]:
        raise SpecError(f"must be later than start ({value['start']:g}s), got {value['end']:g}s",
                        f"{key}.end")


def _check_record_age(value: Any, key: str, ctx: Context) -> None:
    # MaximumRecordAgeInSeconds: -1 (here null) or 60 s to 7 days (with-kinesis.html).
    if value is not None and not 60.0 <= value <= 604800.0:
        raise SpecError(f"must be between 60s and 7d (604800s), or null for no limit, got {value:g}s",
                        key)


def _check_retention(value: float, key: str, ctx: Context) -> None:
    # A Kinesis data stream keeps records 24 hours to 365 days (Kinesis Data Streams quotas).
    if not 86400.0 <= value <= 8760 * 3600.0:
        raise SpecError(f"must be between 24h and 365d, got {value:g}s", key)


def _stream_trigger(kind: str, retention: bool) -> dict:
    """Fields of a Kinesis or DynamoDB Streams event source mapping (lambdasim.engine.invoke.streams)."""
    fields = {
        "name": Field("str", Computed(lambda s, c: f"{kind}-{c.index}", f"{kind}-<index>"), "label"),
        "arrivals": Field("arrivals", doc="records put to the stream: one arrival spec or a list"),
        "shards": Field("int", 1, "shards of the stream", 1, 10000),
        "parallelization_factor": Field("int", 1, "concurrent batches per shard", 1, 10),
        "batch_size": Field("int", 100, "records per batch at most", 1, 10000),
        "batching_window": Field("time", 0.0, "time to gather a batch before invoking", 0, 300),
        "maximum_retry_attempts": Field(
            "int", -1, "retries of a failed batch (-1: until the records expire)", -1, 10000),
        "maximum_record_age": Field(
            "time", None, "discard older records (null: no limit; else 60s..7d)", nullable=True,
            check=_check_record_age),
        "bisect_batch_on_error": Field("bool", False, "split a failed batch in two before retrying"),
        "on_failure": Field(
            "map", None, "destination of discarded batches (null: none)", nullable=True,
            fields={
                "type": Field("enum", doc="destination kind", choices=("sqs", "sns")),
                "name": Field("str", doc="queue or topic name"),
            }),
        "per_record": Field("time", 0.0, "handler time added per record of a batch"),
        "partition_keys": Field("int", 1000, "distinct partition keys, hashed to shards", 1, 1000000),
        "poison_rate": Field("float", 0.0, "probability that a record always fails the handler", 0, 1),
        "poison_windows": Field(
            "list", [], "records put in [start, end) always fail the handler",
            item=Field("map", doc="an arrival window", check=_check_windows, fields={
                "start": Field("time", doc="window start"),
                "end": Field("time", doc="window end"),
            })),
    }
    if retention:
        fields["retention"] = Field("time", 86400.0, "stream retention period (24h..365d)",
                                    check=_check_retention)
    return fields


_KINESIS_TRIGGER = _stream_trigger("kinesis", retention=True)
_DYNAMODB_TRIGGER = _stream_trigger("dynamodb", retention=False)  # retention fixed at 24 h

# -- SnapStart (snapstart.html; lambdasim.engine.snapstart) -------------------------------------
# The Restore Duration of a REPORT line is restore + after_restore; its Billed Restore
# Duration is after_restore (snapstart-monitoring.html). Runtime defaults are filled in by
# lambdasim.scenario.checks (they depend on the function's runtime).
_SNAP_START = {
    "enabled": Field("bool", True, "restore new environments from the version's snapshot"),
    "restore": Field("dist", None, "snapshot restore time, not billed (null: the runtime's "
                     "default)", nullable=True),
    "after_restore": Field("dist", None, "runtime load and after-restore hooks: the Billed "
                           "Restore Duration (null: the runtime's default)", nullable=True),
    "inactive_after": Field("time", 14 * 86400.0, "a version not invoked this long loses its "
                            "snapshot; the next call runs a full Init", 0,
                            exclusive_minimum=True),
}

# -- provisioned pollers of event source mappings (invocation-eventsourcemapping.html) ----------
def _check_pollers(value: dict | None, key: str, ctx: Context) -> None:
    if value is not None and value["maximum"] < value["minimum"]:
        raise SpecError(f"must be >= minimum ({value['minimum']}), got {value['maximum']}",
                        f"{key}.maximum")


def _pollers(minimum: int, low_max: int, high_max: int, default_min: int) -> Field:
    return Field(
        "map", None,
        "provisioned mode: dedicated event pollers between minimum and maximum (null: off)",
        nullable=True, check=_check_pollers,
        fields={
            "minimum": Field("int", default_min, "MinimumPollers", minimum, 200),
            "maximum": Field("int", 200, "MaximumPollers", low_max, high_max),
        })


_SQS_PROVISIONED_POLLERS = _pollers(2, 2, 2000, 2)
_KAFKA_PROVISIONED_POLLERS = _pollers(1, 1, 2000, 1)

# -- Kafka event source mapping (kafka-scaling-modes.html; lambdasim.engine.invoke.kafka) -------
_KAFKA_TRIGGER = {
    "name": Field("str", Computed(lambda s, c: f"kafka-{c.index}", "kafka-<index>"), "label"),
    "arrivals": Field("arrivals", doc="records produced to the topic: one arrival spec or a list"),
    "partitions": Field("int", 1, "partitions of the topic", 1, 100000),
    "partition_keys": Field("int", 1000, "distinct record keys, hashed to partitions", 1, 1000000),
    "batch_size": Field("int", 100, "records per batch at most", 1, 10000),
    "batching_window": Field("time", 0.5, "longest wait of a batch's oldest record (Kafka "
                             "default 500 ms)", 0, 300),
    "record_size_kb": Field("float", 1.0, "record size (a batch carries at most 6 MB)", 0, 6144,
                            exclusive_minimum=True),
    "per_record": Field("time", 0.0, "handler time added per record of a batch"),
    "poison_rate": Field("float", 0.0, "probability that a record always fails the handler", 0, 1),
    "maximum_retry_attempts": Field("int", -1, "retries of a failed batch (-1: until it "
                                    "succeeds)", -1, 10000),
    "retry_delay": Field("time", 1.0, "wait before a failed batch is retried [assumption]", 0),
    "on_failure": Field(
        "map", None, "destination of discarded batches (null: none)", nullable=True,
        fields={
            "type": Field("enum", doc="destination kind", choices=("sqs", "sns", "s3", "kafka")),
            "name": Field("str", doc="queue, topic or bucket name"),
        }),
    "provisioned_pollers": _KAFKA_PROVISIONED_POLLERS,
    "invocations_per_poller": Field("int", 5, "concurrent invocations one poller carries", 1, 100),
    "scaling_interval": Field("time", 60.0, "offset lag evaluation interval", 1,
                              exclusive_minimum=False),
    "scaling_delay": Field("time", 180.0, "on-demand: poller changes take effect this long "
                           "after the evaluation (AWS: within three minutes)", 0),
    "provisioned_scaling_delay": Field("time", 0.0, "provisioned mode: the same delay "
                                       "[assumption: acts at the evaluation]", 0),
}

# SQS event source mapping (services-sqs-parameters.html, services-sqs-scaling.html,
# services-sqs-configure.html); the behaviour is in lambdasim/invoke/sqs.py.
_SQS_TRIGGER = {
    "name": Field("str", Computed(lambda s, c: f"sqs-{c.index}", "sqs-<index>"), "label"),
    "arrivals": Field("arrivals", doc="messages sent to the queue: one arrival spec or a list"),
    "batch_size": Field("int", 10, "messages per batch (FIFO: <= 10; > 10 needs batching_window >= 1s)", 1, 10000),
    "batching_window": Field("time", 0.0, "longest wait to fill a batch (not for FIFO)", 0, 300),
    "maximum_concurrency": Field("int", None, "cap on concurrent batches of the mapping (null = none)", 2, 1000, nullable=True),
    "provisioned_pollers": _SQS_PROVISIONED_POLLERS,
    "poller_scaling": Field("enum", "current", "current: 5, +300/min, max 1,250; legacy: 5, +60/min, max 1,000", choices=("current", "legacy")),
    "visibility_timeout": Field("time", 30.0, "queue visibility timeout (>= the function timeout)", 0, 43200),
    "max_receive_count": Field("int", None, "receives before the dead-letter queue (null = no redrive)", 1, 1000, nullable=True),
    "retention": Field("time", 345600.0, "message retention period", 60, 1209600),
    "report_batch_item_failures": Field("bool", False, "only failed messages of a batch return"),
    "fifo": Field("bool", False, "FIFO queue: order within a message group"),
    "message_groups": Field("int", 1, "FIFO message group IDs, drawn uniformly per message", 1, 1000000),
    "per_record": Field("dist", 0.0, "handler time per message, added to the duration"),
    "message_error_rate": Field("float", 0.0, "probability a message fails on a receive", 0, 1),
    "poison_rate": Field("float", 0.0, "probability a message fails on every receive", 0, 1),
    "message_size_kb": Field("float", 1.0, "message size (a batch carries at most 6 MB)", 0, 1024, exclusive_minimum=True),
}


def _check_sqs_trigger(trigger: dict, key: str, timeout_s: float) -> None:
    """Rules of CreateEventSourceMapping for SQS (services-sqs-parameters.html)."""
    if trigger["fifo"]:
        if trigger["batch_size"] > 10:
            raise SpecError(f"must be at most 10 for a FIFO queue, got {trigger['batch_size']}",
                            f"{key}.batch_size")
        if trigger["batching_window"] > 0:
            raise SpecError("a batching window is not supported for FIFO queues; remove it",
                            f"{key}.batching_window")
    elif trigger["message_groups"] != 1:
        raise SpecError(f"message groups need fifo: true, got {trigger['message_groups']}",
                        f"{key}.message_groups")
    if trigger["batch_size"] > 10 and trigger["batching_window"] < 1.0:
        raise SpecError(f"must be at least 1s when batch_size is above 10 "
                        f"(batch_size {trigger['batch_size']})", f"{key}.batching_window")
    if trigger["provisioned_pollers"] is not None and trigger["maximum_concurrency"] is not None:
        # "maximum concurrency settings or ... provisioned mode. These are mutually exclusive
        # options" (services-sqs-scaling.html).
        raise SpecError("maximum_concurrency and provisioned_pollers are mutually exclusive "
                        "(services-sqs-scaling.html); remove one", f"{key}.provisioned_pollers")
    if trigger["visibility_timeout"] < timeout_s:
        # Lambda refuses a mapping whose queue times out before the function does.
        raise SpecError(f"must be at least the function timeout ({timeout_s:g}s), got "
                        f"{trigger['visibility_timeout']:g}s", f"{key}.visibility_timeout")


#: provisioned_concurrency (LAMBDA_MODEL.md section 5; lambdasim.engine.provisioned).
_PROVISIONED = {
    "capacity": Field(
        "int",
        Computed(_default_provisioned_capacity, "target_tracking.min, else 0"),
        "capacity configured before the run (ready at time 0)",
        0,
    ),
    "preparation": Field("time", 90.0, "time before an allocation starts (then 6000/min)"),
    "schedule": Field(
        "list",
        [],
        "scheduled actions: set the capacity at a time",
        item=Field(
            "map",
            doc="a scheduled action",
            fields={
                "at": Field("time", doc="when the action runs"),
                "capacity": Field("int", doc="new provisioned capacity", minimum=0),
            },
        ),
    ),
    "target_tracking": Field(
        "map",
        None,
        "target tracking on ProvisionedConcurrencyUtilization (null = off)",
        nullable=True,
        fields={
            "target": Field("float", 0.7, "utilization target", 0, 1, exclusive_minimum=True),
            "min": Field("int", doc="minimum capacity", minimum=1),
            "max": Field("int", doc="maximum capacity", minimum=1),
            "scale_out_after": Field("time", 180.0, "consecutive 1-minute points above target", 60),
            "scale_in_after": Field("time", 900.0, "consecutive 1-minute points below the scale-in threshold", 60),
            "scale_in_threshold": Field("float", 0.9, "scale in below this fraction of the target", 0, 1),
        },
        check=_check_target_tracking,
    ),
}

def _check_target(value: str, key: str, ctx: Context) -> None:
    if not value.strip():
        raise SpecError("must be a non-empty name", key)


def _destination(types: tuple[str, ...], doc: str) -> Field:
    return Field(
        "map",
        None,
        doc,
        nullable=True,
        fields={
            "type": Field("enum", doc="kind of target", choices=types),
            "name": Field("str", doc="the target: a function of this scenario, or a queue, topic or bus name or ARN",
                          check=_check_target),
        },
    )


#: Asynchronous invocations (S3, SNS, EventBridge, InvocationType=Event); see
#: lambdasim.engine.invoke.async_ and https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
_ASYNC_TRIGGER = {
    "name": Field("str", Computed(lambda s, c: f"async-{c.index}", "async-<index>"), "label"),
    "arrivals": Field("arrivals", doc="one arrival spec or a list of them (superposed)"),
    "max_retry_attempts": Field("int", 2, "retries after a function error or timeout", 0, 2),
    "max_event_age": Field("time", 21600.0, "how long an event may stay in the queue", 60, 21600),
    "throttle_backoff": Field(
        "enum", "exponential",
        "exponential: a throttled event retries after 1 s doubling to 5 min (Lambda); "
        "none: pollers take the next event as soon as concurrency frees (FIFO)",
        choices=("exponential", "none"),
    ),
    "on_success": _destination(("function", "sqs", "sns", "eventbridge"), "where successes go"),
    "on_failure": _destination(("function", "sqs", "sns", "eventbridge"),
                               "where dropped events go (retries exhausted, too old, reserved 0)"),
    "dead_letter": _destination(("sqs", "sns"), "dead-letter queue or topic for dropped events"),
    "backlog_slowdown": Field(
        "map", None,
        "exponential backoff only: 'if the queue contains many entries, Lambda increases the "
        "retry interval and reduces the rate at which it reads events' -- from `entries` "
        "waiting events on, backoffs (and the first read of a new event) are `factor` times "
        "longer (AWS gives no figure; null = off)",
        nullable=True,
        fields={
            "entries": Field("int", doc="waiting events from which the queue counts as long",
                             minimum=1),
            "factor": Field("float", 2.0, "how much longer the backoffs get", 1, 100),
        },
    ),
}

#: Keys of an async trigger that are the function's one asynchronous configuration in Lambda
#: (invocation-async-configuring.html): all async triggers of a function must agree on them.
ASYNC_FUNCTION_KEYS = ("max_retry_attempts", "max_event_age", "throttle_backoff",
                       "backlog_slowdown", "on_success", "on_failure", "dead_letter")

_FUNCTION = {
    "memory_mb": Field("int", 128, "memory size (MB)", 128, 10240),
    "architecture": Field("enum", "x86_64", "instruction set", choices=("x86_64", "arm64")),
    "runtime": Field("str", "python3.12", "AWS runtime identifier", check=_check_runtime),
    "package_type": Field("enum", "zip", "deployment package", choices=("zip", "image")),
    "timeout": Field("time", 3.0, "function timeout", 0, 900, exclusive_minimum=True),
    "reserved_concurrency": Field("int", None, "reserved concurrency (null = none)", 0, nullable=True),
    "provisioned_concurrency": Field(
        "map",
        {},
        "pre-initialized environments: an integer (capacity), or a map",
        shorthand="capacity",
        fields=_PROVISIONED,
        check=_check_provisioned,
    ),
    "snap_start": Field(
        "map", None,
        "SnapStart: true, or a map; Java 11+, Python 3.12+, .NET 8+ (null: off)",
        nullable=True, shorthand="enabled", fields=_SNAP_START,
    ),
    "duration": Field("dist", doc="handler duration measured at reference_mb"),
    "reference_mb": Field(
        "int",
        Computed(_default_reference, "memory_mb as written in the file"),
        "memory at which duration was measured",
        128,
        10240,
    ),
    "reference_architecture": Field(
        "enum",
        Computed(_default_reference_architecture, "architecture as written in the file"),
        "architecture on which duration was measured",
        choices=("x86_64", "arm64"),
    ),
    "arm64_duration_factor": Field(
        "float", 1.0,
        "arm64 handler time / x86_64 handler time for the same work (measure it: AWS states "
        "'up to 19 % better performance', workload-dependent)", 0.1, 10.0),
    "memory_scaling": Field(
        "map",
        {},
        "how duration changes with memory: d_ref*((1-f) + f*s(ref)/s(m))",
        fields={
            "cpu_bound": Field("float", 0.0, "CPU-bound fraction f", 0, 1),
            "threads": Field("int", 1, "threads the handler can use (vCPU cap)", 1, 6),
        },
    ),
    "init": Field("dist", Computed(_default_init, "per runtime family (lambda-perf 2026)"), "Init Duration"),
    "keep_alive": Field("dist", {"dist": "uniform", "low": 300.0, "high": 420.0}, "idle time before reclaim"),
    "max_lifetime": Field("dist", {"dist": "uniform", "low": 7200.0, "high": 21600.0}, "environment lifetime"),
    "reuse": Field("enum", "mru", "which idle environment serves next", choices=("mru", "lru", "random", "newest")),
    "error_rate": Field("float", 0.0, "probability an invocation fails", 0, 1),
    "crash_share": Field("float", 0.0, "share of errors that crash the runtime and reset the "
                         "environment (the next invocation re-runs Init)", 0, 1),
    "ephemeral_storage_mb": Field("int", 512, "/tmp size (MB)", 512, 10240),
    "uses": USES_FIELD,
    "triggers": Field(
        "list",
        [],
        "event sources invoking the function",
        item=Field(
            "variant",
            doc="a trigger",
            discriminator="type",
            variants={"sync": _SYNC_TRIGGER, "async": _ASYNC_TRIGGER, "sqs": _SQS_TRIGGER,
                      "kinesis": _KINESIS_TRIGGER, "dynamodb": _DYNAMODB_TRIGGER,
                      "kafka": _KAFKA_TRIGGER},
            label="trigger",
        ),
    ),
}

#: How a scenario's measured window ``[warmup, duration)`` recurs: the basis of the 30-day
#: cost projection (lambdasim.engine.billing.projection).
RECURRENCES = ("continuous", "daily", "weekly", "once")

#: The one declared table: defaults, validation and the JSON Schema all come from it.
SCHEMA: dict[str, Field] = {
    "name": Field("str", Computed(lambda s, c: c.default_name, "file stem"), "scenario name", check=_check_name),
    "description": Field("str", "", "free text"),
    "duration": Field("time", doc="simulated horizon", minimum=0, exclusive_minimum=True),
    "warmup": Field("time", 0.0, "statistics ignore earlier arrivals (< duration)"),
    "seed": Field("int", 1, "root random seed", 0),
    "period": Field("time", 60.0, "metrics period", 0, exclusive_minimum=True),
    "recurs": Field(
        "enum", "continuous",
        "how the measured window recurs, for the 30-day cost projection: continuous (this "
        "traffic all month), daily, weekly, or once (no projection)",
        choices=RECURRENCES,
    ),
    "billing": Field(
        "map",
        {},
        "cost model",
        fields={
            "prices": Field("str", "us-east-1-2025-08", "price table in lambdasim/prices", check=_check_prices),
            "date": Field("date", "2025-08-01", "billing date (Init billed since 2025-08-01)"),
            "free_tier": Field("bool", False, "apply the monthly free tier"),
        },
    ),
    "account": Field(
        "map",
        {},
        "account-level limits",
        fields={
            "concurrency_limit": Field("int", 1000, "regional concurrency limit", 1),
            "unreserved_minimum": Field("int", 100, "units that must stay unreserved", 0),
            "scaling": Field(
                "variant",
                {},
                "scale-out rate limit",
                discriminator="model",
                label="scaling",
                variants={
                    "token-bucket": {
                        "burst": Field("int", 1000, "bucket capacity (environments)", 1),
                        "per": Field("time", 10.0, "refill time of a full bucket", 0, exclusive_minimum=True),
                        "request_burst": Field(
                            "int", 10000,
                            "requests/s a function may add per `per` (the request-rate "
                            "dimension; null = not modelled)", 1, nullable=True),
                    },
                    "regional-burst": {
                        "burst": Field("int", 3000, "initial account-wide burst", 500, 3000),
                        "per_minute": Field("int", 500, "environments added per minute", 1),
                    },
                },
            ),
            "request_rate_limit": Field(
                "map",
                {},
                "requests per second <= per_concurrency x concurrency limit",
                fields={
                    "enabled": Field("bool", True, "enforce the request-rate limit"),
                    "per_concurrency": Field("int", 10, "requests/s per unit of concurrency", 1),
                },
            ),
            "api_gateway": API_GATEWAY_FIELD,
        },
    ),
    "functions": Field(
        "named", doc="functions by name", pattern=FUNCTION_NAME_PATTERN, item=Field("map", fields=_FUNCTION)
    ),
    "dependencies": DEPENDENCIES_FIELD,
    "expect": Field(
        "list",
        [],
        "capacity checks 'PATH OP NUMBER' on summary keys (e.g. 'checkout.latency_ms.p99 < 800'); "
        "a failed check makes the run exit 1",
        item=Field("str", check=_check_expect),
    ),
}
