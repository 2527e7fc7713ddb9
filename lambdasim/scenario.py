"""Scenarios: load a YAML file, apply overrides, normalise, fill defaults, validate, freeze.

A scenario file describes an account, its functions and their traffic (DESIGN.md, "The scenario
file"). This module turns it into a *resolved* config: a plain, JSON-serialisable dict in which
every key is present, every time is seconds as a float, every rate is per second, every
distribution and arrival spec is in canonical form. The model reads only the resolved config,
and every result stores it, so a run can be reproduced from its output.

The pipeline follows Ciw and desmod:

1. Load YAML with a safe loader that records the line of every mapping key and sequence item
   (by dotted path, ``functions.checkout.triggers.0.arrivals``) and rejects duplicate keys.
2. Apply overrides (``--set functions.checkout.memory_mb=2048``) to the raw data by dotted path.
3. Normalise shorthands, fill defaults and validate, all driven by ONE declared table of fields
   (:data:`SCHEMA`); :func:`json_schema` is generated from the same table. The table is this
   module's; the machinery that reads it (:class:`~lambdasim.fields.Field`, resolution, schema
   generation) is generic and lives in :mod:`lambdasim.fields`.
4. Cross-field checks (reserved concurrency, warmup < duration, unique trigger names), then
   freeze into a :class:`Scenario`.

Every problem is a :class:`ScenarioError` naming the file, the line, the dotted key and what
was expected, e.g. ``peak.yaml:12: functions.checkout.memory_mb: must be between 128 and
10240, got 99999``. Nothing from a file is ever evaluated as code.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .expect import check_targets, parse_expectation
from .fields import Computed, Context, Field, describe, resolve_map, schema_for
from .runtimes import default_init, runtime_family
from .units import SpecError

__all__ = [
    "ScenarioError",
    "Scenario",
    "load_scenario",
    "parse_set_option",
    "json_schema",
    "SCHEMA",
    "FUNCTION_NAME_PATTERN",
]

PRICES_DIR = Path(__file__).resolve().parent / "prices"
#: Lambda's function-name rule (CreateFunction API reference).
FUNCTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


# ======================================================================================
# Errors
# ======================================================================================
class ScenarioError(Exception):
    """A scenario cannot be loaded: bad file, bad YAML, or a value that fails validation.

    Attributes
    ----------
    file : str or None
        The scenario file, when loaded from one.
    key : str or None
        Dotted path of the offending value.
    line : int or None
        1-based line of that key in the file, when known.
    message : str
        What is wrong and what was expected.
    override : str or None
        The dotted key of the override (``--set KEY=VALUE``) the bad value came from, if any;
        then the location reads ``--set KEY`` instead of ``file:line``.
    """

    def __init__(
        self,
        message: str,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        override: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.key = key
        self.line = line
        self.override = override
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.override is not None:
            parts = [f"--set {self.override}"]
            if self.key and self.key != self.override:
                parts.append(self.key)
        else:
            location = self.file or ""
            if self.line is not None:
                location = f"{location}:{self.line}" if location else f"line {self.line}"
            parts = [p for p in (location, self.key) if p]
        return ": ".join([*parts, self.message])


# ======================================================================================
# YAML loading with line numbers
# ======================================================================================
class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader; :func:`_load_yaml` walks its node tree to record lines."""


def _record_lines(node: yaml.Node, path: str, lines: dict[str, int], file: str | None) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _record_lines(value_node, path, lines, file)
                continue
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            child = f"{path}.{name}" if path else str(name)
            if name in seen:
                raise ScenarioError(
                    f"duplicate key {name!r} (first defined on line {seen[name]})",
                    file=file,
                    key=child,
                    line=line,
                )
            seen[name] = line
            lines[child] = line
            _record_lines(value_node, child, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}.{index}" if path else str(index)
            lines[child] = item.start_mark.line + 1
            _record_lines(item, child, lines, file)


def _load_yaml(text: str, file: str | None) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely; return the data and the line of every dotted path."""
    lines: dict[str, int] = {}
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        _record_lines(node, "", lines, file)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScenarioError(
            f"YAML syntax error: {what or exc}", file=file, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML syntax error: {exc}", file=file) from None
    finally:
        loader.dispose()
    return data, lines


# ======================================================================================
# The declared table of the scenario format: field-specific checks, computed defaults, fields
# ======================================================================================
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


def _check_account(value: dict, key: str, ctx: Context) -> None:
    if value["unreserved_minimum"] > value["concurrency_limit"]:
        raise SpecError(
            f"must not exceed concurrency_limit ({value['concurrency_limit']}), "
            f"got {value['unreserved_minimum']}",
            f"{key}.unreserved_minimum",
        )


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


_SYNC_TRIGGER = {
    "name": Field("str", Computed(lambda s, c: f"sync-{c.index}", "sync-<index>"), "label"),
    "arrivals": Field("arrivals", doc="one arrival spec or a list of them (superposed)"),
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
    """Fields of a Kinesis or DynamoDB Streams event source mapping (lambdasim.invoke.streams)."""
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

# SQS event source mapping (services-sqs-parameters.html, services-sqs-scaling.html,
# services-sqs-configure.html); the behaviour is in lambdasim/invoke/sqs.py.
_SQS_TRIGGER = {
    "name": Field("str", Computed(lambda s, c: f"sqs-{c.index}", "sqs-<index>"), "label"),
    "arrivals": Field("arrivals", doc="messages sent to the queue: one arrival spec or a list"),
    "batch_size": Field("int", 10, "messages per batch (FIFO: <= 10; > 10 needs batching_window >= 1s)", 1, 10000),
    "batching_window": Field("time", 0.0, "longest wait to fill a batch (not for FIFO)", 0, 300),
    "maximum_concurrency": Field("int", None, "cap on concurrent batches of the mapping (null = none)", 2, 1000, nullable=True),
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
    if trigger["visibility_timeout"] < timeout_s:
        # Lambda refuses a mapping whose queue times out before the function does.
        raise SpecError(f"must be at least the function timeout ({timeout_s:g}s), got "
                        f"{trigger['visibility_timeout']:g}s", f"{key}.visibility_timeout")


#: provisioned_concurrency (LAMBDA_MODEL.md section 5; lambdasim.provisioned).
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
#: lambdasim.invoke.async_ and https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
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
}

#: Keys of an async trigger that are the function's one asynchronous configuration in Lambda
#: (invocation-async-configuring.html): all async triggers of a function must agree on them.
ASYNC_FUNCTION_KEYS = ("max_retry_attempts", "max_event_age", "throttle_backoff", "on_success",
                       "on_failure", "dead_letter")

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
    "duration": Field("dist", doc="handler duration measured at reference_mb"),
    "reference_mb": Field(
        "int",
        Computed(_default_reference, "memory_mb as written in the file"),
        "memory at which duration was measured",
        128,
        10240,
    ),
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
    "ephemeral_storage_mb": Field("int", 512, "/tmp size (MB)", 512, 10240),
    "triggers": Field(
        "list",
        [],
        "event sources invoking the function",
        item=Field(
            "variant",
            doc="a trigger",
            discriminator="type",
            variants={"sync": _SYNC_TRIGGER, "async": _ASYNC_TRIGGER, "sqs": _SQS_TRIGGER,
                      "kinesis": _KINESIS_TRIGGER, "dynamodb": _DYNAMODB_TRIGGER},
            label="trigger",
        ),
    ),
}

#: The one declared table: defaults, validation and the JSON Schema all come from it.
SCHEMA: dict[str, Field] = {
    "name": Field("str", Computed(lambda s, c: c.default_name, "file stem"), "scenario name", check=_check_name),
    "description": Field("str", "", "free text"),
    "duration": Field("time", doc="simulated horizon", minimum=0, exclusive_minimum=True),
    "warmup": Field("time", 0.0, "statistics ignore earlier arrivals (< duration)"),
    "seed": Field("int", 1, "root random seed", 0),
    "period": Field("time", 60.0, "metrics period", 0, exclusive_minimum=True),
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
        },
        check=_check_account,
    ),
    "functions": Field(
        "named", doc="functions by name", pattern=FUNCTION_NAME_PATTERN, item=Field("map", fields=_FUNCTION)
    ),
    "expect": Field(
        "list",
        [],
        "capacity checks 'PATH OP NUMBER' on summary keys (e.g. 'checkout.latency_ms.p99 < 800'); "
        "a failed check makes the run exit 1",
        item=Field("str", check=_check_expect),
    ),
}


# ======================================================================================
# Cross-field checks (on the resolved config)
# ======================================================================================
def _cross_checks(config: dict) -> None:
    if not config["warmup"] < config["duration"]:
        raise SpecError(
            f"must be shorter than duration ({config['duration']:g}s), got {config['warmup']:g}s",
            "warmup",
        )
    account = config["account"]
    limit, minimum = account["concurrency_limit"], account["unreserved_minimum"]
    reserved = [(n, f["reserved_concurrency"]) for n, f in config["functions"].items()
                if f["reserved_concurrency"] is not None]
    total = 0
    for name, units in reserved:
        total += units
        if limit - total < minimum:
            # LAMBDA_MODEL.md section 1; docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
            detail = ", ".join(f"{n} {u}" for n, u in reserved)
            raise SpecError(
                f"reserved concurrency totals {sum(u for _, u in reserved)} ({detail}), leaving "
                f"{limit - sum(u for _, u in reserved)} of account.concurrency_limit {limit} "
                f"unreserved; at least account.unreserved_minimum = {minimum} must stay unreserved",
                f"functions.{name}.reserved_concurrency",
            )
    _check_provisioned_limits(config)
    for fname, function in config["functions"].items():
        seen: dict[str, int] = {}
        for index, trigger in enumerate(function["triggers"]):
            if trigger["name"] in seen:
                raise SpecError(
                    f"duplicate trigger name {trigger['name']!r} (also trigger {seen[trigger['name']]})",
                    f"functions.{fname}.triggers.{index}.name",
                )
            seen[trigger["name"]] = index
            if trigger["type"] == "sqs":
                _check_sqs_trigger(trigger, f"functions.{fname}.triggers.{index}", function["timeout"])
    _async_checks(config)
    check_targets(config["expect"], config["functions"])


def _check_provisioned_limits(config: dict) -> None:
    """Provisioned concurrency fits the reservation and leaves the unreserved minimum.

    "Provisioned concurrency counts towards a function's reserved concurrency and Regional
    quotas" and at most ``limit - unreserved_minimum`` can be provisioned in total
    (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html,
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
    """
    account = config["account"]
    limit, minimum = account["concurrency_limit"], account["unreserved_minimum"]
    claimed = sum(f["reserved_concurrency"] or 0 for f in config["functions"].values())
    for fname, function in config["functions"].items():
        peak, where = _provisioned_peak(function["provisioned_concurrency"])
        key = f"functions.{fname}.provisioned_concurrency.{where}"
        reserved = function["reserved_concurrency"]
        if reserved is not None and peak > reserved:
            raise SpecError(
                f"provisioned concurrency {peak} exceeds the function's reserved_concurrency "
                f"{reserved}; provisioned environments count against the reservation", key)
        if peak > limit - minimum:
            raise SpecError(
                f"provisioned concurrency {peak} exceeds account.concurrency_limit {limit} minus "
                f"account.unreserved_minimum {minimum} = {limit - minimum}", key)
        if reserved is None and peak:
            claimed += peak
            if limit - claimed < minimum:
                raise SpecError(
                    f"reserved plus provisioned concurrency of functions without a reservation "
                    f"reach {claimed}, leaving less than account.unreserved_minimum = {minimum} "
                    f"of account.concurrency_limit {limit} unreserved", key)


def _async_checks(config: dict) -> None:
    """One asynchronous configuration per function; function destinations exist, no loops."""
    functions = config["functions"]
    edges: dict[str, list[str]] = {}
    for fname, function in functions.items():
        first = None
        for index, trigger in enumerate(function["triggers"]):
            if trigger["type"] != "async":
                continue
            if first is None:
                first = index
                for kind in ("on_success", "on_failure", "dead_letter"):
                    target = trigger[kind]
                    if target is None or target["type"] != "function":
                        continue
                    if target["name"] not in functions:
                        known = ", ".join(functions)
                        raise SpecError(f"no function {target['name']!r} in this scenario (functions: {known})",
                                        f"functions.{fname}.triggers.{index}.{kind}.name")
                    edges.setdefault(fname, []).append(target["name"])
                continue
            for key in ASYNC_FUNCTION_KEYS:
                mine, theirs = trigger[key], function["triggers"][first][key]
                if mine != theirs:
                    raise SpecError(
                        f"async triggers of a function share its one asynchronous configuration "
                        f"(Lambda keeps one per function); trigger {first} has {theirs!r}, this one {mine!r}",
                        f"functions.{fname}.triggers.{index}.{key}",
                    )
    # Destinations that invoke functions must not loop back (an endless chain of invocations).
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in edges.get(name, []):
            if state.get(target) == 1:
                cycle = " -> ".join(path[path.index(target):] + [target]) if target in path else f"{name} -> {target}"
                first = next(i for i, t in enumerate(functions[name]["triggers"]) if t["type"] == "async")
                kind = next(k for k in ("on_success", "on_failure")
                            if (functions[name]["triggers"][first][k] or {}).get("name") == target
                            and functions[name]["triggers"][first][k]["type"] == "function")
                raise SpecError(f"function destinations form a loop ({cycle}); lambdasim does not model "
                                f"recursive invocation loops", f"functions.{name}.triggers.{first}.{kind}.name")
            if state.get(target) is None:
                visit(target, path + [target])
        state[name] = 2

    for name in edges:
        if state.get(name) is None:
            visit(name, [name])


# ======================================================================================
# Overrides
# ======================================================================================
_DOTTED = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


def parse_set_option(text: str) -> tuple[str, Any]:
    """Parse a command-line override ``KEY=VALUE``.

    Parameters
    ----------
    text : str
        ``functions.checkout.memory_mb=2048``; the value is read as YAML (``2048`` an int,
        ``250ms`` a string, ``true`` a boolean, ``[1, 2]`` a list).

    Returns
    -------
    tuple
        ``(dotted_key, value)``.

    Raises
    ------
    ScenarioError
        When the text is not ``KEY=VALUE`` with a dotted key, or the value is not valid YAML.
    """
    if not isinstance(text, str) or "=" not in text:
        raise ScenarioError(
            f"--set expects KEY=VALUE (e.g. functions.checkout.memory_mb=2048), got {text!r}"
        )
    key, _, value_text = text.partition("=")
    key = key.strip()
    if not _DOTTED.match(key):
        raise ScenarioError(
            f"--set expects KEY=VALUE with a dotted KEY such as functions.checkout.memory_mb, "
            f"got {text!r}"
        )
    try:
        value = yaml.safe_load(value_text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"cannot read the value {value_text!r}: {exc}", key=key, override=key) from None
    return key, value


def _normalise_overrides(overrides: Any) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, str):
        overrides = [overrides]
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        items = [parse_set_option(o) if isinstance(o, str) else tuple(o) for o in overrides]
    out = []
    for key, value in items:
        if not isinstance(key, str) or not _DOTTED.match(key):
            raise ScenarioError(f"override keys are dotted paths such as seed or functions.f.memory_mb, got {key!r}")
        out.append((key, value))
    return out


def _apply_override(data: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[part] = copy.deepcopy(value)
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        elif isinstance(node, list):
            if not part.isdigit():
                raise ScenarioError(f"{'.'.join(parts[:depth]) or 'top level'} is a list; "
                                    f"expected a numeric index, got {part!r}", key=key, override=key)
            index = int(part)
            if index > len(node) or (index == len(node) and not last):
                raise ScenarioError(f"index {index} is out of range for {'.'.join(parts[:depth])} "
                                    f"(length {len(node)})", key=key, override=key)
            if last:
                if index == len(node):
                    node.append(copy.deepcopy(value))
                else:
                    node[index] = copy.deepcopy(value)
            else:
                node = node[index]
        else:
            raise ScenarioError(f"cannot set {here}: {'.'.join(parts[:depth])} is "
                                f"{describe(node)}, not a mapping", key=key, override=key)


# ======================================================================================
# The frozen scenario
# ======================================================================================
@dataclasses.dataclass(frozen=True)
class Scenario:
    """A loaded, fully resolved scenario.

    Attributes
    ----------
    name : str
        Scenario name (``config["name"]``).
    path : str or None
        The file it was loaded from.
    config : dict
        The resolved config (JSON-serialisable; see DESIGN.md and this module's docstring).
    """

    name: str
    path: str | None
    config: dict
    _raw: Any = dataclasses.field(default=None, repr=False, compare=False)
    _lines: Mapping[str, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    _overrides: tuple = dataclasses.field(default=(), repr=False, compare=False)

    @property
    def seed(self) -> int:
        """Root random seed."""
        return self.config["seed"]

    @property
    def duration_s(self) -> float:
        """Simulated horizon in seconds."""
        return self.config["duration"]

    @property
    def warmup_s(self) -> float:
        """Warm-up in seconds."""
        return self.config["warmup"]

    @property
    def period_s(self) -> float:
        """Metrics period in seconds."""
        return self.config["period"]

    @property
    def functions(self) -> dict:
        """Resolved functions by name."""
        return self.config["functions"]

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> "Scenario":
        """Return a new scenario re-resolved from the raw data plus earlier and new overrides.

        Parameters
        ----------
        overrides : mapping or iterable of str
            ``{"seed": 7}`` or ``["seed=7"]``; later overrides win.
        """
        combined = [*self._overrides, *_normalise_overrides(overrides)]
        return _build(self._raw, self.path, dict(self._lines), combined)


def load_scenario(
    source: str | Path | Mapping[str, Any],
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
) -> Scenario:
    """Load, override, normalise, default and validate a scenario.

    Parameters
    ----------
    source : str, Path or mapping
        Path of a YAML file, or already-parsed data (then errors carry no file or line). A
        resolved config (e.g. ``summary["config"]``) loads to the same config.
    overrides : mapping or iterable of str, optional
        ``{"functions.checkout.memory_mb": 2048}`` or ``["seed=7", ...]`` (``--set`` strings).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With file, dotted key and line where known.
    """
    if isinstance(source, Mapping):
        raw, path, lines = copy.deepcopy(dict(source)), None, {}
    elif isinstance(source, (str, Path)):
        path = str(source)
        file = Path(source)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError("file not found", file=path) from None
        except IsADirectoryError:
            raise ScenarioError("is a directory, expected a scenario file", file=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"cannot read the file: {exc}", file=path) from None
        raw, lines = _load_yaml(text, path)
        if raw is None:
            raise ScenarioError("the file is empty; a scenario needs at least duration and functions", file=path)
    else:
        raise TypeError(f"load_scenario expects a path or a mapping, got {type(source).__name__}")
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"the top level must be a mapping of keys such as duration and functions, got {describe(raw)}",
            file=path,
            line=1 if path else None,
        )
    return _build(raw, path, lines, _normalise_overrides(overrides))


def _build(raw: dict, path: str | None, lines: dict[str, int], overrides: list) -> Scenario:
    data = copy.deepcopy(raw)
    for key, value in overrides:
        _apply_override(data, key, value)
    functions = raw.get("functions") if isinstance(raw.get("functions"), Mapping) else {}
    # reference_mb defaults to memory_mb as written in the file (or its default when absent), so
    # an override of memory_mb changes the duration through memory_scaling.
    default_memory = _FUNCTION["memory_mb"].default
    written = {n: f.get("memory_mb", default_memory) for n, f in functions.items() if isinstance(f, Mapping)}
    ctx = Context(
        file=path,
        base_dir=Path(path).resolve().parent if path else None,
        default_name=Path(path).stem if path else "scenario",
        written_memory=written,
    )
    try:
        config = resolve_map(data, SCHEMA, "", ctx)
        _cross_checks(config)
    except SpecError as exc:
        raise _locate(exc, path, lines, overrides) from None
    config = copy.deepcopy(config)
    return Scenario(config["name"], path, config, copy.deepcopy(raw), dict(lines), tuple(overrides))


def _locate(exc: SpecError, path: str | None, lines: Mapping[str, int], overrides: list) -> ScenarioError:
    """Attach the file and line (or the --set option) to a validation error."""
    key = exc.key
    if key:
        for okey, _ in reversed(overrides):
            if key == okey or key.startswith(okey + "."):
                return ScenarioError(exc.message, file=path, key=key, override=okey)
    line, found = None, ""
    probe = key or ""
    while probe:
        if probe in lines:
            line, found = lines[probe], probe
            break
        probe = probe.rpartition(".")[0]
    if key:
        # A key missing from the file below something an override created (e.g. a new function
        # added with --set) belongs to that override, not to the nearest line of the file.
        depth = found.count(".") + 1 if found else 0
        for okey, _ in reversed(overrides):
            shared = _common_depth(key, okey)
            if shared > depth:
                return ScenarioError(exc.message, file=path, key=key, override=okey)
    return ScenarioError(exc.message, file=path, key=key, line=line)


def _common_depth(a: str, b: str) -> int:
    """Number of leading dotted components shared by two keys."""
    depth = 0
    for x, y in zip(a.split("."), b.split(".")):
        if x != y:
            break
        depth += 1
    return depth


# ======================================================================================
# JSON Schema, generated from SCHEMA
# ======================================================================================
def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the scenario file format, generated from :data:`SCHEMA`.

    The rendering is :func:`lambdasim.fields.schema_for`; this adds the schema's identity.

    Returns
    -------
    dict
        A schema that accepts scenario files and resolved configs alike.
    """
    schema = schema_for(SCHEMA)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lambdasim.dev/schema/scenario-v1.json",
        "title": "lambdasim scenario",
        **schema,
    }
