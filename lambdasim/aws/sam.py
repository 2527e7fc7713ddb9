"""Import an AWS SAM or CloudFormation template: ``lambdasim import-sam TEMPLATE [--out FILE]``.

The template (YAML with the short-form intrinsic tags ``!Ref``, ``!GetAtt``, ``!Sub``, ...,
read by the safe loader of :mod:`lambdasim.aws.cfn` that turns each tag into its long form such as
``{"Fn::GetAtt": [..]}``; or JSON) becomes a scenario skeleton:

* one function per ``AWS::Serverless::Function`` (``Globals.Function`` merged under its own
  properties, as SAM does) and per ``AWS::Lambda::Function``, named by its logical ID (made a
  valid lambdasim name when it is not one). Every property is mapped, noted or listed as having
  no bearing (:mod:`lambdasim.aws.sam_properties`): ``MemorySize``, ``Timeout``,
  ``Architectures``, ``Runtime``, ``PackageType``, ``ReservedConcurrentExecutions``,
  ``ProvisionedConcurrencyConfig`` (also of an ``AWS::Lambda::Alias``/``Version``),
  ``EphemeralStorage``, ``SnapStart``, ``FunctionUrlConfig`` (a sync trigger), ...;
* triggers from SAM ``Events`` and from ``AWS::Lambda::EventSourceMapping``,
  ``AWS::Lambda::Permission``, ``AWS::Lambda::Url``, ``AWS::Scheduler::Schedule`` and
  ``AWS::Events::Rule`` resources (:mod:`lambdasim.aws.sam_resources`): Api, HttpApi, function
  URLs, Cognito and Alexa triggers, load balancers and API Gateway permissions become ``sync``;
  SQS becomes ``sqs`` (BatchSize, batching window, MaximumConcurrency,
  ``FunctionResponseTypes: [ReportBatchItemFailures]``, and the queue's VisibilityTimeout,
  FifoQueue, redrive and retention when the queue is in the template); Kinesis and DynamoDB
  become streams; MSK and SelfManagedKafka become ``kafka`` (:mod:`lambdasim.aws.sam_kafka`,
  with ``ProvisionedPollerConfig`` as on SQS: ``provisioned_pollers``); S3, SNS, EventBridgeRule, CloudWatchEvent, Schedule, ScheduleV2,
  CloudWatchLogs and IoTRule become ``async``, carrying the function's ``EventInvokeConfig``
  and dead-letter queue. A schedule's ``rate(...)`` or ``cron(...)`` gives its arrival rate
  (:mod:`lambdasim.aws.schedules`).

Values written as intrinsic functions are resolved where the template itself says what they
are (:mod:`lambdasim.aws.intrinsics`: parameter defaults, mappings, conditions and ``Fn::If``,
``AWS::NoValue``); anything else keeps lambdasim's default and is noted. A resource whose
``Condition`` is false is left out, with a note. Arrival rates cannot be known from a template:
each is written as ``rate: TODO`` with a ``# TODO(lambdasim import-sam)`` comment, so the
scenario does not validate until every rate is set (``--rate`` fills them all). Handler
durations are written as a marked placeholder (100 ms) that does validate. Values the
scenario would refuse (a queue's visibility timeout below the function timeout, reservations
beyond the default account limit) are adjusted to what a deployable template implies, and
each adjustment is noted. Resources, events and properties that lambdasim does not model are
listed at the top of the output, never silently dropped.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any

from lambdasim.aws import sam_properties, support
from lambdasim.aws.cfn import TemplateError, load_template
from lambdasim.aws.intrinsics import NO_VALUE, UNRESOLVED, Resolver
from lambdasim.aws.sam_kafka import kafka_trigger
from lambdasim.aws.sam_resources import FUNCTION_TYPES, ResourceImporter, show
from lambdasim.aws.sam_writer import render
from lambdasim.scenario.format import FUNCTION_NAME_PATTERN

__all__ = ["TemplateError", "load_template", "import_template", "TODO"]

TODO = "TODO(lambdasim import-sam)"
SYNC_EVENTS = {"Api": "API Gateway REST API requests", "HttpApi": "API Gateway HTTP API requests",
               "Cognito": "Cognito user pool trigger calls", "AlexaSkill": "Alexa skill requests"}
ASYNC_EVENTS = ("S3", "SNS", "EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2",
                "CloudWatchLogs", "IoTRule")
STREAM_EVENTS = {"Kinesis": "kinesis", "DynamoDB": "dynamodb"}
KAFKA_EVENTS = {"MSK": "Amazon MSK", "SelfManagedKafka": "self-managed Kafka"}
#: Event properties that change what Lambda does but that lambdasim does not simulate.
_EVENT_NOTES = {
    "FilterCriteria": "only messages or records that match the filter invoke the function: set "
                      "the arrival rate to the matching ones",
    "TumblingWindowInSeconds": "tumbling-window aggregation is not simulated",
    "FilterPolicy": "only messages that match the subscription filter policy invoke the function: "
                    "set the arrival rate to the matching ones",
    "RetryPolicy": "the event source's own retries (before Lambda's) are not simulated",
    "DeadLetterConfig": "the event source's own dead-letter queue is not simulated",
    "FlexibleTimeWindow": "the flexible time window spreads each invocation within the window; "
                          "the rate is the same",
}


def scenario_name(logical: str, taken: set[str]) -> str:
    """A valid lambdasim function name for a logical ID (1-64 letters, digits, ``-``, ``_``):
    the ID itself when it is one, else a shortened or cleaned form with a checksum suffix."""
    if re.fullmatch(FUNCTION_NAME_PATTERN, logical) and logical not in taken:
        return logical
    clean = re.sub(r"[^A-Za-z0-9_-]", "-", logical) or "function"
    suffix = f"-{zlib.crc32(logical.encode()):08x}"
    name = clean if len(clean) <= 64 and clean not in taken else clean[: 64 - len(suffix)] + suffix
    while name in taken:
        name = name[:55] + f"-{len(taken):08d}"[-9:]
    return name


# ======================================================================================
# Reading the template
# ======================================================================================
class _Importer(ResourceImporter):
    def __init__(self, template: dict, source: str) -> None:
        self.t = template
        self.source = source
        self.resources: dict[str, dict] = template["Resources"]
        self.resolver = Resolver(template)
        self.params = self.resolver.params
        globals_ = template.get("Globals") if isinstance(template.get("Globals"), dict) else {}
        self.globals = globals_.get("Function") if isinstance(globals_.get("Function"), dict) else {}
        self.notes: list[str] = []
        self.used: set[str] = set()      # resources turned into functions, triggers or config
        self.referenced: set[str] = set()  # resources named as sources or destinations
        self.unsupported_events: list[str] = []
        self.comments: dict[tuple, str] = {}
        self.trigger_names: dict[str, set[str]] = {}
        self.account: dict[str, Any] = {}
        self.noted: dict[str, list[str]] = {}       # noted property -> functions that carry it
        self.no_bearing: dict[str, list[str]] = {}  # properties without bearing -> functions
        self.function_names: dict[str, str] = {}  # FunctionName (literal) -> logical ID
        self.names: dict[str, str] = {}           # logical ID -> scenario name
        for logical, res in self.resources.items():
            if res["Type"] in FUNCTION_TYPES and self.created(logical):
                self.names[logical] = scenario_name(logical, set(self.names.values()))
                fname = self.resolver.value((res.get("Properties") or {}).get("FunctionName"))
                if isinstance(fname, str):
                    self.function_names[fname] = logical

    # -- values --------------------------------------------------------------------------
    def created(self, logical: str) -> bool:
        """False when the resource's ``Condition`` is false (CloudFormation skips it)."""
        condition = self.resources[logical].get("Condition")
        if condition is None:
            return True
        truth = self.resolver.condition(condition)
        return truth is not False

    def value(self, raw: Any, where: str) -> Any:
        """A literal, or the value an intrinsic resolves to from the template itself; None (and a
        note) otherwise; None without a note for ``AWS::NoValue``."""
        resolved = self.resolver.value(raw)
        if resolved is NO_VALUE:
            return None
        if resolved is UNRESOLVED or (isinstance(resolved, dict) and len(resolved) == 1 and (
                "Ref" in resolved or next(iter(resolved)).startswith("Fn::"))):
            if isinstance(raw, dict) and "Fn::If" in raw:
                self.notes.append(f"{where}: {show(raw)} is conditional on a condition the template "
                                  "cannot decide (no parameter default); lambdasim's default is used")
            else:
                self.notes.append(f"{where}: {show(raw)} cannot be resolved from the template; "
                                  "lambdasim's default is used")
            return None
        return resolved

    def number(self, raw: Any, where: str, low: float, high: float, what: str = "") -> int | None:
        """A whole number within ``[low, high]`` or None with a note."""
        value = self.value(raw, where)
        if value is None:
            return None
        try:
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
        except (TypeError, ValueError):
            self.notes.append(f"{where}: {value!r} is not a number; lambdasim's default is used")
            return None
        if not low <= number <= high:
            self.notes.append(f"{where}: {value!r} is outside {low:g}..{high:g}{what}; lambdasim's default is used")
            return None
        return int(round(number))

    def trigger_name(self, function: str, wanted: str) -> str:
        """A trigger name not yet used by the function (trigger names are unique per function)."""
        taken = self.trigger_names.setdefault(function, set())
        name, n = wanted, 2
        while name in taken:
            name, n = f"{wanted}-{n}", n + 1
        taken.add(name)
        return name

    def arrivals_todo(self, path: tuple, what: str) -> dict:
        self.comments[path] = f"{TODO}: set the real rate of {what}"
        return {"process": "poisson", "rate": "TODO"}

    # -- functions -----------------------------------------------------------------------
    def import_all(self) -> dict:
        functions: dict[str, dict] = {}
        for logical, res in self.resources.items():
            if res["Type"] not in FUNCTION_TYPES:
                continue
            self.used.add(logical)
            if not self.created(logical):
                self.notes.append(f"Resources.{logical}: its Condition {res.get('Condition')!r} is false "
                                  "with the parameter defaults: CloudFormation does not create it; left out")
                continue
            functions[logical] = self.function(logical)
        self.property_notes()
        self.attach_resources(functions)
        for logical, body in functions.items():
            async_config = body.pop("_async", {})
            for trigger in body["triggers"]:
                if trigger["type"] == "async":
                    trigger.update(async_config)
            if async_config and not any(t["type"] == "async" for t in body["triggers"]):
                self.notes.append(f"{logical}: EventInvokeConfig or a dead-letter queue is set but no "
                                  "asynchronous event source was found; add an async trigger to use it")
        self.fit_account(functions)
        return functions

    def function(self, logical: str) -> dict:
        res = self.resources[logical]
        props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
        serverless = res["Type"] == "AWS::Serverless::Function"
        if serverless:
            props = {**self.globals, **props}
        where = f"Resources.{logical}.Properties"
        self.classify(logical, props, where)
        body: dict[str, Any] = {}
        memory = self.number(props.get("MemorySize", 128), f"{where}.MemorySize", 128, 10240)
        if memory is not None:
            body["memory_mb"] = memory
        arch = self.value(props.get("Architectures", ["x86_64"]), f"{where}.Architectures")
        if isinstance(arch, list) and arch and arch[0] in ("x86_64", "arm64"):
            body["architecture"] = arch[0]
        if self.value(props.get("PackageType", "Zip"), f"{where}.PackageType") == "Image":
            body["package_type"] = "image"
        runtime = self.value(props.get("Runtime"), f"{where}.Runtime") if "Runtime" in props else None
        if isinstance(runtime, str):
            from lambdasim.scenario.runtimes import runtime_family
            from lambdasim.scenario.units import SpecError

            try:
                runtime_family(runtime)
                body["runtime"] = runtime
            except SpecError:
                self.notes.append(f"{where}.Runtime: {runtime!r} is not a runtime lambdasim knows; left out")
        timeout = self.number(props.get("Timeout", 3), f"{where}.Timeout", 1, 900)
        self.timeout_s = float(timeout if timeout is not None else 3)
        body["timeout"] = f"{self.timeout_s:g}s"
        if props.get("ReservedConcurrentExecutions") is not None:
            reserved = self.number(props["ReservedConcurrentExecutions"], f"{where}.ReservedConcurrentExecutions",
                                   0, 1e9)
            if reserved is not None:
                body["reserved_concurrency"] = reserved
        self.provisioned(body, props.get("ProvisionedConcurrencyConfig"), f"{where}.ProvisionedConcurrencyConfig")
        storage = props.get("EphemeralStorage")
        if storage is not None:
            size = self.value(storage, f"{where}.EphemeralStorage")
            if isinstance(size, dict) and size.get("Size") is not None:
                mb = self.number(size["Size"], f"{where}.EphemeralStorage.Size", 512, 10240)
                if mb is not None and support.function_key("ephemeral_storage_mb"):
                    body["ephemeral_storage_mb"] = mb
                elif mb is not None:
                    self.notes.append(f"{where}.EphemeralStorage: {mb} MB of /tmp; this lambdasim bills no "
                                      "ephemeral storage, left out")
        self.snap_start(body, logical, props, where)
        body["duration"] = "100ms"
        self.comments[(logical, "duration")] = (f"{TODO}: placeholder; measure it "
                                                f"(lambdasim fit LOGFILE --function {self.names[logical]})")
        # The memory the durations are measured at, stated (one scenario, one answer).
        body["reference_mb"] = body.get("memory_mb", 128)
        body["triggers"] = []
        async_config: dict[str, Any] = {}
        if serverless:
            eic = self.value(props.get("EventInvokeConfig"), f"{where}.EventInvokeConfig")
            if isinstance(eic, dict):
                async_config.update(self.invoke_config(eic, f"{where}.EventInvokeConfig"))
            dlq = self.value(props.get("DeadLetterQueue"), f"{where}.DeadLetterQueue")
            if isinstance(dlq, dict):
                kind, name = self.target(dlq.get("TargetArn"))
                kind = kind or str(dlq.get("Type", "")).lower()
                if kind in ("sqs", "sns") and name:
                    async_config["dead_letter"] = {"type": kind, "name": name}
            url = self.value(props.get("FunctionUrlConfig"), f"{where}.FunctionUrlConfig")
            if isinstance(url, dict):
                body["triggers"].append(self.function_url(logical, "FunctionUrl", url, f"{where}.FunctionUrlConfig"))
            events = props.get("Events") if isinstance(props.get("Events"), dict) else {}
            for event_id, event in events.items():
                trigger = self.event(logical, str(event_id), event)
                if trigger is not None:
                    body["triggers"].append(trigger)
        else:
            dlc = self.value(props.get("DeadLetterConfig"), f"{where}.DeadLetterConfig")
            if isinstance(dlc, dict):
                kind, name = self.target(dlc.get("TargetArn"))
                if kind in ("sqs", "sns") and name:
                    async_config["dead_letter"] = {"type": kind, "name": name}
        body["_async"] = async_config
        return body

    def classify(self, logical: str, props: dict, where: str) -> None:
        """Record every property that is not mapped (:mod:`lambdasim.aws.sam_properties`);
        :meth:`property_notes` writes them, grouped over the functions that share them."""
        no_bearing = []
        for name in props:
            kind = sam_properties.classify(str(name))
            if kind == "noted":
                value = self.resolver.value(props[name])
                if value in (NO_VALUE, None, {}, []) or (name == "Tracing" and value == "PassThrough"):
                    continue
                self.noted.setdefault(str(name), []).append(self.names[logical])
            elif kind == "no bearing":
                no_bearing.append(str(name))
            elif kind == "unknown":
                self.notes.append(f"{where}.{name}: not a property lambdasim import-sam knows; ignored")
        if no_bearing:
            self.no_bearing.setdefault(", ".join(sorted(no_bearing)), []).append(self.names[logical])

    def property_notes(self) -> None:
        for name, functions in self.noted.items():
            self.notes.append(f"{name} ({', '.join(functions)}): {sam_properties.NOTED[name]}")
        for names, functions in self.no_bearing.items():
            self.notes.append(f"no bearing on timing, scaling or cost, left out: {names} ({', '.join(functions)})")

    def provisioned(self, body: dict, raw: Any, where: str) -> None:
        if raw is None:
            return
        pcc = self.value(raw, where)
        if not isinstance(pcc, dict) or pcc.get("ProvisionedConcurrentExecutions") is None:
            return
        value = self.number(pcc["ProvisionedConcurrentExecutions"], f"{where}.ProvisionedConcurrentExecutions", 0, 1e9)
        if value is not None:
            body["provisioned_concurrency"] = value

    def snap_start(self, body: dict, logical: str, props: dict, where: str) -> None:
        """``SnapStart: {ApplyOn: PublishedVersions}`` (snapstart.html)."""
        raw = props.get("SnapStart")
        if raw is None:
            return
        config = self.value(raw, f"{where}.SnapStart")
        if not isinstance(config, dict) or config.get("ApplyOn") != "PublishedVersions":
            return
        runtime = str(body.get("runtime", ""))
        if not re.fullmatch(r"java(1[1-9]|[2-9]\d)|python3\.(1[2-9]|[2-9]\d)|dotnet([89]|\d\d)", runtime):
            self.notes.append(f"{where}.SnapStart: SnapStart supports Java 11+, Python 3.12+ and .NET 8+ "
                              f"(snapstart.html), not runtime {runtime or 'unknown'!r}; left out")
            return
        if support.function_key("snap_start") and "provisioned_concurrency" not in body:
            body["snap_start"] = True
            return
        if "provisioned_concurrency" in body:
            self.notes.append(f"{where}.SnapStart: SnapStart cannot be used with provisioned concurrency on "
                              "the same version (snapstart.html); left out")
            return
        self.notes.append(f"{where}.SnapStart: ApplyOn PublishedVersions; this lambdasim does not model "
                          "SnapStart: cold starts use the runtime's non-SnapStart init")

    def function_url(self, logical: str, wanted: str, config: dict, where: str) -> dict:
        """A function URL: synchronous requests with the function's own limits (urls-configuration.html)."""
        name = self.trigger_name(logical, wanted)
        if config.get("InvokeMode") == "RESPONSE_STREAM":
            self.notes.append(f"{where}.InvokeMode: RESPONSE_STREAM; response streaming is not simulated "
                              "(a request lasts its handler duration)")
        return {"type": "sync", "name": name,
                "arrivals": self.arrivals_todo((logical, "triggers", name, "arrivals"), "function URL requests")}

    def invoke_config(self, eic: dict, where: str) -> dict:
        out: dict[str, Any] = {}
        if eic.get("MaximumRetryAttempts") is not None:
            value = self.number(eic["MaximumRetryAttempts"], f"{where}.MaximumRetryAttempts", 0, 2)
            if value is not None:
                out["max_retry_attempts"] = value
        if eic.get("MaximumEventAgeInSeconds") is not None:
            value = self.number(eic["MaximumEventAgeInSeconds"], f"{where}.MaximumEventAgeInSeconds", 60, 21600)
            if value is not None:
                out["max_event_age"] = f"{value}s"
        dest = eic.get("DestinationConfig") if isinstance(eic.get("DestinationConfig"), dict) else {}
        for aws_key, key in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
            entry = dest.get(aws_key)
            if not isinstance(entry, dict):
                continue
            kind, name = self.target(entry.get("Destination"))
            sam_type = {"SQS": "sqs", "SNS": "sns", "Lambda": "function", "EventBridge": "eventbridge"}.get(
                str(entry.get("Type")))
            kind = kind or sam_type
            if kind == "function" and name in self.names:
                name = self.names[name]
            elif kind == "function":
                self.notes.append(f"{where}.DestinationConfig.{aws_key}: function {name!r} is not in the "
                                  "template; add it to the scenario or change the destination")
            if kind is None or not name:
                if sam_type in ("sqs", "sns") and not entry.get("Destination"):
                    name = f"{where.split('.')[1]}-{aws_key}"  # SAM creates the queue or topic
                    kind = sam_type
                else:
                    self.notes.append(f"{where}.DestinationConfig.{aws_key}: destination "
                                      f"{show(entry.get('Destination'))} not recognised; left out")
                    continue
            out[key] = {"type": kind, "name": name}
        return out

    # -- events ----------------------------------------------------------------------------
    def event(self, logical: str, event_id: str, event: Any) -> dict | None:
        if not isinstance(event, dict):
            return None
        kind = event.get("Type")
        raw_props = event.get("Properties")
        props = self.resolver.value(raw_props) if isinstance(raw_props, dict) else {}
        where = f"Resources.{logical}.Properties.Events.{event_id}"
        for ref in ("RestApiId", "ApiId", "Bucket", "Topic", "EventBusName", "Stream", "Queue", "UserPool"):
            if isinstance(props.get(ref), dict):
                self.target(props[ref])  # marks the resource as referenced
        if props.get("Enabled") in (False, "false", "False") or props.get("State") == "DISABLED":
            self.notes.append(f"{where}: disabled in the template (Enabled: false or State: DISABLED); "
                              "no trigger written")
            return None
        for key, text in _EVENT_NOTES.items():
            if props.get(key) not in (None, {}, []):
                self.notes.append(f"{where}.Properties.{key}: {text}")
        name = self.trigger_name(logical, event_id)
        path = (logical, "triggers", name, "arrivals")
        if kind in SYNC_EVENTS:
            detail = " ".join(str(props.get(k, "")) for k in ("Method", "Path")).strip()
            what = SYNC_EVENTS[kind] + (f" ({detail})" if detail else "")
            return {"type": "sync", "name": name, "arrivals": self.arrivals_todo(path, what)}
        if kind == "SQS":
            return self.sqs(logical, name, props, path, where)
        if kind in STREAM_EVENTS:
            return self.stream(STREAM_EVENTS[kind], logical, name, props, path, where)
        if kind in KAFKA_EVENTS:
            trigger = kafka_trigger(self, logical, name, props, path, where, KAFKA_EVENTS[kind])
            if trigger is None:
                self.trigger_names[logical].discard(name)
            return trigger
        if kind in ASYNC_EVENTS:
            arrivals = None
            if kind in ("Schedule", "ScheduleV2"):
                arrivals = self.schedule(props.get("Schedule") or props.get("ScheduleExpression"), path, where)
            if arrivals is None:
                source = {"S3": "S3 notifications", "SNS": "SNS messages"}.get(kind, f"{kind} events")
                arrivals = self.arrivals_todo(path, source)
            return {"type": "async", "name": name, "arrivals": arrivals}
        self.trigger_names[logical].discard(name)
        self.unsupported_events.append(f"{logical}.Events.{event_id} (Type {kind})")
        return None

    def on_failure_destination(self, props: dict, where: str, out: dict) -> None:
        """``DestinationConfig.OnFailure`` of an event source mapping (streams, Kafka) as
        ``on_failure`` when it names an SQS queue or SNS topic of the template, else a note."""
        destination = props.get("DestinationConfig")
        failure = destination.get("OnFailure") if isinstance(destination, dict) else None
        dest = failure.get("Destination") if isinstance(failure, dict) else None
        if dest is None:
            return
        kind, name = self.target(dest)
        if kind in ("sqs", "sns") and name:
            out["on_failure"] = {"type": kind, "name": name}
        else:
            self.notes.append(f"{where}.DestinationConfig.OnFailure: {show(dest)} is not an SQS queue "
                              "or SNS topic of the template; left out")

    def batch_failures(self, kind: str, props: dict, where: str, out: dict) -> None:
        """``FunctionResponseTypes: [ReportBatchItemFailures]`` (services-sqs-errorhandling.html,
        with-kinesis.html#services-kinesis-batchfailurereporting)."""
        types = props.get("FunctionResponseTypes")
        if not isinstance(types, list) or "ReportBatchItemFailures" not in types:
            return
        if support.trigger_key(kind, "report_batch_item_failures"):
            out["report_batch_item_failures"] = True
        else:
            self.notes.append(f"{where}.FunctionResponseTypes: ReportBatchItemFailures on a {kind} stream "
                              "is not simulated: a failing batch is retried whole")

    def sqs(self, logical: str, name: str, props: dict, path: tuple, where: str) -> dict:
        where = f"{where}.Properties" if ".Events." in where else where
        kind, queue = self.target(props.get("Queue") or props.get("EventSourceArn"))
        out: dict[str, Any] = {"type": "sqs", "name": name,
                               "arrivals": self.arrivals_todo(path, f"messages sent to {queue or 'the queue'}")}
        out["batch_size"] = self.number(props.get("BatchSize", 10), f"{where}.BatchSize", 1, 10000) or 10
        window = self.number(props.get("MaximumBatchingWindowInSeconds", 0),
                             f"{where}.MaximumBatchingWindowInSeconds", 0, 300) or 0
        if out["batch_size"] > 10 and window < 1:
            # Lambda requires a window of at least 1 s for batches above 10 (services-sqs-parameters.html)
            self.notes.append(f"{where}: BatchSize {out['batch_size']} needs MaximumBatchingWindowInSeconds "
                              ">= 1 (Lambda refuses the mapping otherwise); batching_window 1s written")
            window = 1
        out["batching_window"] = f"{window}s"
        scaling = props.get("ScalingConfig")
        if isinstance(scaling, dict) and scaling.get("MaximumConcurrency") is not None:
            value = self.number(scaling["MaximumConcurrency"], f"{where}.ScalingConfig.MaximumConcurrency", 2, 1000)
            if value is not None:
                out["maximum_concurrency"] = value
        self.batch_failures("sqs", props, where, out)
        pollers = props.get("ProvisionedPollerConfig")
        if isinstance(pollers, dict):
            if "maximum_concurrency" in out:  # exclusive options (services-sqs-scaling.html)
                del out["maximum_concurrency"]
                self.notes.append(f"{where}: ScalingConfig.MaximumConcurrency and ProvisionedPollerConfig "
                                  "are mutually exclusive (Lambda refuses both); provisioned_pollers written")
            if support.trigger_key("sqs", "provisioned_pollers", "minimum"):
                out["provisioned_pollers"] = {k: v for k, v in (
                    ("minimum", self.number(pollers.get("MinimumPollers", 2), f"{where}.ProvisionedPollerConfig", 2, 200)),
                    ("maximum", self.number(pollers.get("MaximumPollers", 200), f"{where}.ProvisionedPollerConfig", 2, 2000)))
                    if v is not None}
            else:
                self.notes.append(f"{where}.ProvisionedPollerConfig: provisioned mode for SQS is not simulated "
                                  "by this lambdasim: the standard poller scaling is used")
        queue_res = self.resources.get(queue or "", {})
        visibility = None
        if queue_res.get("Type") == "AWS::SQS::Queue":
            qprops = self.resolver.value(queue_res.get("Properties") or {})
            qwhere = f"Resources.{queue}.Properties"
            if qprops.get("VisibilityTimeout") is not None:
                visibility = self.number(qprops["VisibilityTimeout"], f"{qwhere}.VisibilityTimeout", 0, 43200)
            if qprops.get("FifoQueue") in (True, "true"):
                out["fifo"] = True
            redrive = qprops.get("RedrivePolicy")
            if isinstance(redrive, dict) and isinstance(redrive.get("deadLetterTargetArn"), dict):
                self.target(redrive["deadLetterTargetArn"])
            if isinstance(redrive, dict) and redrive.get("maxReceiveCount") is not None:
                count = self.number(redrive["maxReceiveCount"], f"{qwhere}.RedrivePolicy.maxReceiveCount", 1, 1000)
                if count is not None:
                    out["max_receive_count"] = count
            if qprops.get("MessageRetentionPeriod") is not None:
                retention = self.number(qprops["MessageRetentionPeriod"], f"{qwhere}.MessageRetentionPeriod",
                                        60, 1209600, " s (SQS allows 60 s to 14 days)")
                if retention is not None:
                    out["retention"] = f"{retention}s"
            if visibility is None and self.timeout_s > 30:
                visibility = 30  # the SQS default, below the function timeout
        # Lambda refuses a mapping whose queue's visibility timeout is below the function
        # timeout (services-sqs-configure.html), so a deployable template implies at least it.
        if visibility is not None and visibility >= self.timeout_s:
            out["visibility_timeout"] = f"{visibility}s"
        elif visibility is not None:
            out["visibility_timeout"] = f"{self.timeout_s:g}s"
            self.notes.append(f"Resources.{queue}.Properties.VisibilityTimeout: {visibility}s is below the "
                              f"function timeout ({self.timeout_s:g}s), which Lambda refuses; "
                              f"visibility_timeout {self.timeout_s:g}s written")
        elif self.timeout_s > 30:
            out["visibility_timeout"] = f"{self.timeout_s:g}s"
            self.comments[(logical, "triggers", name, "visibility_timeout")] = (
                f"{TODO}: the queue's VisibilityTimeout (not in the template; Lambda needs at least "
                "the function timeout)")
        return out

    def stream(self, kind: str, logical: str, name: str, props: dict, path: tuple, where: str) -> dict:
        where = f"{where}.Properties" if ".Events." in where else where
        _, source = self.target(props.get("Stream") or props.get("EventSourceArn"))
        out: dict[str, Any] = {"type": kind, "name": name,
                               "arrivals": self.arrivals_todo(path, f"records put to {source or 'the stream'}")}
        res = self.resources.get(source or "", {})
        sprops = self.resolver.value(res.get("Properties") or {}) if isinstance(res.get("Properties"), dict) else {}
        shards = sprops.get("ShardCount") if res.get("Type") == "AWS::Kinesis::Stream" else None
        shards = self.number(shards, f"Resources.{source}.Properties.ShardCount", 1, 10000) if shards is not None else None
        out["shards"] = shards if shards is not None else 1
        if shards is None:
            self.comments[(logical, "triggers", name, "shards")] = f"{TODO}: the stream's shard count"
        mapping = (("BatchSize", "batch_size", 1, 10000), ("MaximumBatchingWindowInSeconds", "batching_window", 0, 300),
                   ("ParallelizationFactor", "parallelization_factor", 1, 10),
                   ("MaximumRetryAttempts", "maximum_retry_attempts", -1, 10000),
                   ("MaximumRecordAgeInSeconds", "maximum_record_age", -1, 604800))
        for aws_key, key, low, high in mapping:
            if props.get(aws_key) is None and key != "batch_size":
                continue
            value = self.number(props.get(aws_key, 100), f"{where}.{aws_key}", low, high)
            if value is None:
                continue
            if key in ("batching_window", "maximum_record_age"):
                if value == -1:
                    continue  # -1: no limit, lambdasim's default (null)
                out[key] = f"{max(value, 60) if key == 'maximum_record_age' else value}s"
            else:
                out[key] = value
        if props.get("BisectBatchOnFunctionError") is not None:
            out["bisect_batch_on_error"] = props["BisectBatchOnFunctionError"] in (True, "true", "True")
        self.batch_failures(kind, props, where, out)
        self.on_failure_destination(props, where, out)
        retention = sprops.get("RetentionPeriodHours") if kind == "kinesis" else None
        if retention is not None:
            value = self.number(retention, f"Resources.{source}.Properties.RetentionPeriodHours", 24, 8760)
            if value is not None:
                out["retention"] = f"{value}h"
        return out


# ======================================================================================
# The command's work
# ======================================================================================
def import_template(path: Path, rate: str | None = None) -> tuple[str, dict]:
    """Import a template; return the scenario text and a report
    ``{"functions", "triggers", "todo", "not_modelled", "unsupported_events", "notes"}``.

    Raises
    ------
    TemplateError
        When the file is not a readable template or holds no function.
    """
    template, _ = load_template(path)
    importer = _Importer(template, path.name)
    functions = importer.import_all()
    if not functions:
        types = sorted({r["Type"] for r in importer.resources.values()})
        raise TemplateError(f"{path}: no AWS::Serverless::Function or AWS::Lambda::Function "
                            f"in the template (resource types: {', '.join(types)})")
    kind = "AWS SAM" if "AWS::Serverless" in json.dumps(template.get("Transform", "")) else "CloudFormation"
    return render(importer, functions, path, kind, rate, TODO)
