"""Import an AWS SAM or CloudFormation template: ``lambdasim import-sam TEMPLATE [--out FILE]``.

The template (YAML with the short-form intrinsic tags ``!Ref``, ``!GetAtt``, ``!Sub``, ...,
read by the safe loader of :mod:`lambdasim.aws.cfn` that turns each tag into its long form such as
``{"Fn::GetAtt": [..]}``; or JSON) becomes a scenario skeleton:

* one function per ``AWS::Serverless::Function`` (``Globals.Function`` merged under its own
  properties, as SAM does) and per ``AWS::Lambda::Function``, named by its logical ID, with
  ``MemorySize``, ``Timeout``, ``Architectures``, ``Runtime``, ``PackageType``,
  ``ReservedConcurrentExecutions`` and ``ProvisionedConcurrencyConfig`` (also from an
  ``AWS::Lambda::Alias`` or ``AWS::Lambda::Version`` of the function);
* triggers from SAM ``Events`` and from ``AWS::Lambda::EventSourceMapping``,
  ``AWS::Lambda::Permission`` and ``AWS::Lambda::Url`` resources: Api, HttpApi, function URLs and
  API Gateway permissions become ``sync``; SQS becomes ``sqs`` (BatchSize, batching window,
  MaximumConcurrency, and the queue's VisibilityTimeout, FifoQueue, redrive and retention when
  the queue is in the template); Kinesis and DynamoDB become streams (ShardCount of a stream in
  the template, batching, ParallelizationFactor, retries, record age, bisect, on-failure
  destination); S3, SNS, EventBridgeRule, CloudWatchEvent, Schedule, ScheduleV2,
  CloudWatchLogs and IoTRule become ``async``, carrying the function's ``EventInvokeConfig``
  (SAM property or ``AWS::Lambda::EventInvokeConfig`` resource: retries, maximum event age,
  destinations) and dead-letter queue.

Values written as intrinsic functions are resolved where the template itself says what they
are (``!Ref`` of a parameter with a default, ``!FindInMap`` with literal keys); anything else
keeps lambdasim's default and is noted. Arrival rates cannot be known from a template: each is
written as ``rate: TODO`` with a ``# TODO(lambdasim import-sam)`` comment, so the scenario does
not validate until every rate is set (``--rate`` fills them all). A ``Schedule`` with a
``rate(...)`` expression is the exception: its arrivals are known. Handler durations are
written as a marked placeholder (100 ms) that does validate. Resources and events that
lambdasim does not model are listed at the top of the output, never silently dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lambdasim.aws.cfn import TemplateError, load_template

__all__ = ["TemplateError", "load_template", "import_template", "add_arguments", "run"]

TODO = "TODO(lambdasim import-sam)"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
SYNC_EVENTS = ("Api", "HttpApi")
ASYNC_EVENTS = ("S3", "SNS", "EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2",
                "CloudWatchLogs", "IoTRule")
STREAM_EVENTS = {"Kinesis": "kinesis", "DynamoDB": "dynamodb"}
_SERVICE_TYPES = {"AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns", "AWS::Events::EventBus": "eventbridge",
                  "AWS::Kinesis::Stream": "kinesis", "AWS::DynamoDB::Table": "dynamodb",
                  "AWS::Serverless::Function": "function", "AWS::Lambda::Function": "function"}
_ASYNC_PRINCIPALS = ("s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com",
                     "logs.amazonaws.com", "iot.amazonaws.com", "scheduler.amazonaws.com")


# ======================================================================================
# Reading the template
# ======================================================================================
class _Importer:
    def __init__(self, template: dict, source: str) -> None:
        self.t = template
        self.source = source
        self.resources: dict[str, dict] = template["Resources"]
        self.params = template.get("Parameters") or {}
        self.mappings = template.get("Mappings") or {}
        globals_ = template.get("Globals") or {}
        self.globals = globals_.get("Function") or {} if isinstance(globals_, dict) else {}
        self.notes: list[str] = []
        self.used: set[str] = set()      # resources turned into functions, triggers or config
        self.referenced: set[str] = set()  # resources named as sources or destinations
        self.unsupported_events: list[str] = []
        self.function_names: dict[str, str] = {}  # FunctionName (literal) -> logical ID
        for logical, res in self.resources.items():
            if res["Type"] in FUNCTION_TYPES:
                fname = (res.get("Properties") or {}).get("FunctionName")
                if isinstance(fname, str):
                    self.function_names[fname] = logical

    # -- values --------------------------------------------------------------------------
    def value(self, raw: Any, where: str) -> Any:
        """A literal, or the value an intrinsic resolves to from the template itself; None and a
        note otherwise."""
        if not isinstance(raw, dict):
            return raw
        if set(raw) == {"Ref"} and isinstance(raw["Ref"], str):
            param = self.params.get(raw["Ref"])
            if isinstance(param, dict) and "Default" in param:
                return param["Default"]
        if set(raw) == {"Fn::FindInMap"} and isinstance(raw["Fn::FindInMap"], list):
            keys = [self.value(k, where) for k in raw["Fn::FindInMap"]]
            if len(keys) == 3 and all(isinstance(k, str) for k in keys):
                found = (self.mappings.get(keys[0]) or {}).get(keys[1], {})
                if isinstance(found, dict) and keys[2] in found:
                    return found[keys[2]]
        self.notes.append(f"{where}: {_show(raw)} cannot be resolved from the template; lambdasim's default is used")
        return None

    def target(self, raw: Any) -> tuple[str | None, str | None]:
        """(kind, name) of a resource reference or ARN: kind sqs, sns, eventbridge, kinesis,
        dynamodb or function; name the logical ID (a function's: its scenario name)."""
        logical = None
        if isinstance(raw, dict):
            if "Ref" in raw and isinstance(raw["Ref"], str):
                logical = raw["Ref"]
            elif "Fn::GetAtt" in raw and isinstance(raw["Fn::GetAtt"], list) and raw["Fn::GetAtt"]:
                logical = str(raw["Fn::GetAtt"][0])
            elif "Fn::Sub" in raw:
                sub = raw["Fn::Sub"][0] if isinstance(raw["Fn::Sub"], list) else raw["Fn::Sub"]
                if isinstance(sub, str):
                    raw = sub
        if logical is not None:
            resource = self.resources.get(logical)
            if resource is None:
                param = self.params.get(logical)
                if isinstance(param, dict) and isinstance(param.get("Default"), str):
                    return self.target(param["Default"])
                return None, logical
            self.referenced.add(logical)
            return _SERVICE_TYPES.get(resource["Type"]), logical
        if isinstance(raw, str):
            match = re.match(r"arn:[^:]*:([a-z0-9-]+):[^:]*:[^:]*:(.+)$", raw)
            if match:
                service, rest = match.groups()
                if service == "lambda":
                    name = rest.split(":")[1] if rest.startswith("function:") else rest
                    return "function", self.function_names.get(name, name)
                if service == "events":
                    return "eventbridge", rest.split("/")[-1]
                if service == "dynamodb":
                    return "dynamodb", rest.split("/")[1] if "/" in rest else rest
                if service == "kinesis":
                    return "kinesis", rest.split("/")[-1]
                if service in ("sqs", "sns"):
                    return service, rest.split(":")[-1]
            name = re.sub(r"\$\{[^}]*\}", "", raw).strip(":/-") or None
            return None, name
        return None, None

    def function_of(self, raw: Any) -> str | None:
        """The logical ID of the template function a FunctionName property points to."""
        if isinstance(raw, dict):
            for k in ("Ref", "Fn::GetAtt"):
                if k in raw:
                    ref = raw[k][0] if isinstance(raw[k], list) else raw[k]
                    ref = str(ref).split(".")[0]
                    if ref in self.resources and self.resources[ref]["Type"] in FUNCTION_TYPES:
                        return ref
            return None
        if isinstance(raw, str):
            kind, name = self.target(raw) if raw.startswith("arn:") else ("function", self.function_names.get(raw, raw))
            if kind == "function" and name in self.resources:
                return name
        return None

    # -- functions -----------------------------------------------------------------------
    def import_all(self) -> dict:
        functions: dict[str, dict] = {}
        self.comments: dict[tuple, str] = {}
        logicals = [n for n, r in self.resources.items() if r["Type"] in FUNCTION_TYPES]
        for logical in logicals:
            self.used.add(logical)
            functions[logical] = self.function(logical)
        self.attach_resources(functions)
        for logical, body in functions.items():
            async_config = body.pop("_async", {})
            for trigger in body["triggers"]:
                if trigger["type"] == "async":
                    trigger.update(async_config)
            if async_config and not any(t["type"] == "async" for t in body["triggers"]):
                self.notes.append(f"{logical}: EventInvokeConfig or a dead-letter queue is set but no "
                                  "asynchronous event source was found; add an async trigger to use it")
        return functions

    def function(self, logical: str) -> dict:
        res = self.resources[logical]
        props = dict(res.get("Properties") or {})
        serverless = res["Type"] == "AWS::Serverless::Function"
        if serverless:
            props = {**self.globals, **props}
        where = f"Resources.{logical}.Properties"
        body: dict[str, Any] = {}
        memory = self.value(props.get("MemorySize", 128), f"{where}.MemorySize")
        if memory is not None:
            body["memory_mb"] = int(memory)
        arch = self.value(props.get("Architectures", ["x86_64"]), f"{where}.Architectures")
        if isinstance(arch, list) and arch and arch[0] in ("x86_64", "arm64"):
            body["architecture"] = arch[0]
        package = props.get("PackageType", "Zip")
        if package == "Image":
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
        timeout = self.value(props.get("Timeout", 3), f"{where}.Timeout")
        if timeout is not None:
            body["timeout"] = f"{float(timeout):g}s"
        reserved = props.get("ReservedConcurrentExecutions")
        if reserved is not None:
            reserved = self.value(reserved, f"{where}.ReservedConcurrentExecutions")
            if reserved is not None:
                body["reserved_concurrency"] = int(reserved)
        pcc = props.get("ProvisionedConcurrencyConfig")
        if isinstance(pcc, dict) and "ProvisionedConcurrentExecutions" in pcc:
            value = self.value(pcc["ProvisionedConcurrentExecutions"],
                               f"{where}.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions")
            if value is not None:
                body["provisioned_concurrency"] = int(value)
        body["duration"] = "100ms"
        self.comments[(logical, "duration")] = (f"{TODO}: placeholder; measure it "
                                                f"(lambdasim fit LOGFILE --function {logical})")
        # The memory the durations are measured at, stated (one scenario, one answer).
        body["reference_mb"] = body.get("memory_mb", 128)
        body["triggers"] = []
        async_config: dict[str, Any] = {}
        if serverless:
            eic = props.get("EventInvokeConfig")
            if isinstance(eic, dict):
                async_config.update(self.invoke_config(eic, f"{where}.EventInvokeConfig", sam=True))
            dlq = props.get("DeadLetterQueue")
            if isinstance(dlq, dict):
                kind, name = self.target(dlq.get("TargetArn"))
                kind = kind or str(dlq.get("Type", "")).lower()
                if kind in ("sqs", "sns") and name:
                    async_config["dead_letter"] = {"type": kind, "name": name}
            events = props.get("Events") or {}
            for event_id, event in events.items():
                trigger = self.event(logical, event_id, event)
                if trigger is not None:
                    body["triggers"].append(trigger)
        else:
            dlc = props.get("DeadLetterConfig")
            if isinstance(dlc, dict):
                kind, name = self.target(dlc.get("TargetArn"))
                if kind in ("sqs", "sns") and name:
                    async_config["dead_letter"] = {"type": kind, "name": name}
        body["_async"] = async_config
        return body

    def invoke_config(self, eic: dict, where: str, sam: bool) -> dict:
        out: dict[str, Any] = {}
        if eic.get("MaximumRetryAttempts") is not None:
            value = self.value(eic["MaximumRetryAttempts"], f"{where}.MaximumRetryAttempts")
            if value is not None:
                out["max_retry_attempts"] = int(value)
        if eic.get("MaximumEventAgeInSeconds") is not None:
            value = self.value(eic["MaximumEventAgeInSeconds"], f"{where}.MaximumEventAgeInSeconds")
            if value is not None:
                out["max_event_age"] = f"{int(value)}s"
        dest = eic.get("DestinationConfig") or {}
        for aws_key, key in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
            entry = dest.get(aws_key)
            if not isinstance(entry, dict):
                continue
            kind, name = self.target(entry.get("Destination"))
            sam_type = {"SQS": "sqs", "SNS": "sns", "Lambda": "function", "EventBridge": "eventbridge"}.get(
                str(entry.get("Type")))
            kind = kind or sam_type
            if kind == "function" and name not in self.resources and name not in self.function_names.values():
                self.notes.append(f"{where}.DestinationConfig.{aws_key}: function {name!r} is not in the "
                                  "template; add it to the scenario or change the destination")
            if kind is None or not name:
                if sam_type in ("sqs", "sns") and not entry.get("Destination"):
                    name = f"{where.split('.')[1]}-{aws_key}"  # SAM creates the queue or topic
                    kind = sam_type
                else:
                    self.notes.append(f"{where}.DestinationConfig.{aws_key}: destination "
                                      f"{_show(entry.get('Destination'))} not recognised; left out")
                    continue
            out[key] = {"type": kind, "name": name}
        return out

    def arrivals_todo(self, path: tuple, what: str) -> dict:
        self.comments[path] = f"{TODO}: set the real rate of {what}"
        return {"process": "poisson", "rate": "TODO"}

    def event(self, logical: str, event_id: str, event: Any) -> dict | None:
        if not isinstance(event, dict):
            return None
        kind = event.get("Type")
        props = event.get("Properties") or {}
        path = (logical, "triggers", event_id, "arrivals")
        for ref in ("RestApiId", "ApiId", "Bucket", "Topic", "EventBusName", "Stream", "Queue"):
            if isinstance(props.get(ref), dict):
                self.target(props[ref])  # marks the resource as referenced
        if kind in SYNC_EVENTS:
            detail = f"{kind} {props.get('Method', '')} {props.get('Path', '')}".strip()
            return {"type": "sync", "name": event_id, "arrivals": self.arrivals_todo(path, f"requests ({detail})")}
        if kind == "SQS":
            return self.sqs(logical, event_id, props, path)
        if kind in STREAM_EVENTS:
            return self.stream(STREAM_EVENTS[kind], logical, event_id, props, path)
        if kind in ASYNC_EVENTS:
            arrivals = None
            if kind in ("Schedule", "ScheduleV2"):
                arrivals = self.schedule(props.get("Schedule") or props.get("ScheduleExpression"), path)
            if arrivals is None:
                source = {"S3": "S3 notifications", "SNS": "SNS messages"}.get(kind, f"{kind} events")
                arrivals = self.arrivals_todo(path, source)
            return {"type": "async", "name": event_id, "arrivals": arrivals}
        self.unsupported_events.append(f"{logical}.Events.{event_id} (Type {kind})")
        return None

    def schedule(self, expression: Any, path: tuple) -> dict | None:
        match = re.fullmatch(r"\s*rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)\s*", str(expression))
        if not match:
            self.comments[path] = f"{TODO}: set the rate of {expression!r}"
            return {"process": "constant", "rate": "TODO"}
        count, unit = int(match.group(1)), match.group(2).rstrip("s")
        period_s = count * {"minute": 60, "hour": 3600, "day": 86400}[unit]
        self.comments[path] = f"from the schedule {expression}"
        for per, seconds in (("min", 60), ("h", 3600), ("d", 86400)):
            if period_s <= seconds and seconds % period_s == 0:
                return {"process": "constant", "rate": f"{seconds // period_s}/{per}"}
        return {"process": "constant", "rate": f"{86400 / period_s:.6g}/d"}

    def sqs(self, logical: str, event_id: str, props: dict, path: tuple) -> dict:
        where = f"Resources.{logical}.Events.{event_id}.Properties"
        kind, queue = self.target(props.get("Queue") or props.get("EventSourceArn"))
        out: dict[str, Any] = {"type": "sqs", "name": event_id,
                               "arrivals": self.arrivals_todo(path, f"messages sent to {queue or 'the queue'}")}
        out["batch_size"] = int(self.value(props.get("BatchSize", 10), f"{where}.BatchSize") or 10)
        window = self.value(props.get("MaximumBatchingWindowInSeconds", 0), f"{where}.MaximumBatchingWindowInSeconds")
        out["batching_window"] = f"{int(window or 0)}s"
        scaling = props.get("ScalingConfig") or {}
        if isinstance(scaling, dict) and scaling.get("MaximumConcurrency") is not None:
            out["maximum_concurrency"] = int(self.value(scaling["MaximumConcurrency"], f"{where}.ScalingConfig"))
        queue_res = self.resources.get(queue or "", {})
        if queue_res.get("Type") == "AWS::SQS::Queue":
            qprops = queue_res.get("Properties") or {}
            qwhere = f"Resources.{queue}.Properties"
            if qprops.get("VisibilityTimeout") is not None:
                value = self.value(qprops["VisibilityTimeout"], f"{qwhere}.VisibilityTimeout")
                if value is not None:
                    out["visibility_timeout"] = f"{int(value)}s"
            if self.value(qprops.get("FifoQueue", False), f"{qwhere}.FifoQueue") in (True, "true"):
                out["fifo"] = True
            redrive = qprops.get("RedrivePolicy")
            if isinstance(redrive, dict) and isinstance(redrive.get("deadLetterTargetArn"), dict):
                self.target(redrive["deadLetterTargetArn"])
            if isinstance(redrive, dict) and redrive.get("maxReceiveCount") is not None:
                out["max_receive_count"] = int(self.value(redrive["maxReceiveCount"], f"{qwhere}.RedrivePolicy"))
            if qprops.get("MessageRetentionPeriod") is not None:
                value = self.value(qprops["MessageRetentionPeriod"], f"{qwhere}.MessageRetentionPeriod")
                if value is not None:
                    out["retention"] = f"{int(value)}s"
        return out

    def stream(self, kind: str, logical: str, event_id: str, props: dict, path: tuple) -> dict:
        where = f"Resources.{logical}.Events.{event_id}.Properties"
        _, source = self.target(props.get("Stream") or props.get("EventSourceArn"))
        out: dict[str, Any] = {"type": kind, "name": event_id,
                               "arrivals": self.arrivals_todo(path, f"records put to {source or 'the stream'}")}
        res = self.resources.get(source or "", {})
        shards = (res.get("Properties") or {}).get("ShardCount") if res.get("Type") == "AWS::Kinesis::Stream" else None
        shards = self.value(shards, f"Resources.{source}.Properties.ShardCount") if shards is not None else None
        out["shards"] = int(shards) if shards is not None else 1
        if shards is None:
            self.comments[(logical, "triggers", event_id, "shards")] = f"{TODO}: the stream's shard count"
        retention = (res.get("Properties") or {}).get("RetentionPeriodHours") if kind == "kinesis" else None
        mapping = (("BatchSize", "batch_size", int), ("MaximumBatchingWindowInSeconds", "batching_window", "s"),
                   ("ParallelizationFactor", "parallelization_factor", int),
                   ("MaximumRetryAttempts", "maximum_retry_attempts", int),
                   ("MaximumRecordAgeInSeconds", "maximum_record_age", "s"),
                   ("BisectBatchOnFunctionError", "bisect_batch_on_error", bool))
        for aws_key, key, conv in mapping:
            if props.get(aws_key) is None and key != "batch_size":
                continue
            value = self.value(props.get(aws_key, 100), f"{where}.{aws_key}")
            if value is None:
                continue
            if conv == "s":
                if int(value) == -1:
                    continue  # -1: no limit, lambdasim's default (null)
                out[key] = f"{int(value)}s"
            elif conv is bool:
                out[key] = value in (True, "true", "True")
            else:
                out[key] = int(value)
        dest = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if dest is not None:
            dkind, dname = self.target(dest)
            if dkind in ("sqs", "sns") and dname:
                out["on_failure"] = {"type": dkind, "name": dname}
            else:
                self.notes.append(f"{where}.DestinationConfig.OnFailure: {_show(dest)} is not an SQS queue "
                                  "or SNS topic; left out")
        if retention is not None:
            value = self.value(retention, f"Resources.{source}.Properties.RetentionPeriodHours")
            if value is not None:
                out["retention"] = f"{int(value)}h"
        return out

    # -- separate resources ----------------------------------------------------------------
    def attach_resources(self, functions: dict[str, dict]) -> None:
        for rid, res in self.resources.items():
            rtype, props = res["Type"], res.get("Properties") or {}
            if rtype in ("AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig",
                         "AWS::Lambda::Permission", "AWS::Lambda::Url", "AWS::Lambda::Alias",
                         "AWS::Lambda::Version"):
                fn = self.function_of(props.get("FunctionName") or props.get("TargetFunctionArn"))
                if fn is None:
                    continue
                self.used.add(rid)
                body = functions[fn]
                path = (fn, "triggers", rid, "arrivals")
                if rtype == "AWS::Lambda::EventSourceMapping":
                    kind, _ = self.target(props.get("EventSourceArn"))
                    if kind == "sqs":
                        body["triggers"].append(self.sqs(fn, rid, props, path))
                    elif kind in ("kinesis", "dynamodb"):
                        body["triggers"].append(self.stream(kind, fn, rid, props, path))
                    else:
                        self.unsupported_events.append(f"{rid} (event source {_show(props.get('EventSourceArn'))})")
                elif rtype == "AWS::Lambda::EventInvokeConfig":
                    body["_async"].update(self.invoke_config(props, f"Resources.{rid}.Properties", sam=False))
                elif rtype == "AWS::Lambda::Url":
                    body["triggers"].append({"type": "sync", "name": rid,
                                             "arrivals": self.arrivals_todo(path, "function URL requests")})
                elif rtype == "AWS::Lambda::Permission":
                    principal = str(self.value(props.get("Principal"), f"Resources.{rid}.Properties.Principal"))
                    if principal == "apigateway.amazonaws.com":
                        body["triggers"].append({"type": "sync", "name": rid,
                                                 "arrivals": self.arrivals_todo(path, "API Gateway requests")})
                    elif principal in _ASYNC_PRINCIPALS:
                        body["triggers"].append({"type": "async", "name": rid,
                                                 "arrivals": self.arrivals_todo(path, f"events from {principal}")})
                    else:
                        self.unsupported_events.append(f"{rid} (permission for {principal})")
                else:  # Alias or Version
                    pcc = props.get("ProvisionedConcurrencyConfig")
                    if isinstance(pcc, dict) and pcc.get("ProvisionedConcurrentExecutions") is not None:
                        value = self.value(pcc["ProvisionedConcurrentExecutions"], f"Resources.{rid}.Properties")
                        if value is not None:
                            body["provisioned_concurrency"] = int(value)
                            body.pop("duration")  # keep the key order: provisioned before duration
                            body["duration"] = "100ms"
                            body["reference_mb"] = body.pop("reference_mb")
                            triggers = body.pop("triggers")
                            async_config = body.pop("_async")
                            body["triggers"], body["_async"] = triggers, async_config


def _show(raw: Any) -> str:
    if isinstance(raw, dict) and len(raw) == 1:
        (k, v), = raw.items()
        short = "!" + (k[4:] if k.startswith("Fn::") else k)
        if isinstance(v, list) and k == "Fn::GetAtt":
            return f"{short} {'.'.join(map(str, v))}"
        return f"{short} {json.dumps(v)}"
    return json.dumps(raw) if not isinstance(raw, str) else repr(raw)


# ======================================================================================
# Writing the scenario
# ======================================================================================
def _flow(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False).strip()
    return text.removesuffix("...").strip()  # a plain scalar's document end marker


def import_template(path: Path, rate: str | None = None) -> tuple[str, dict]:
    """Import a template; return the scenario text and a report
    ``{"functions", "triggers", "todo", "not_modelled", "unsupported_events", "notes"}``."""
    template, _ = load_template(path)
    importer = _Importer(template, path.name)
    functions = importer.import_all()
    if not functions:
        types = sorted({r["Type"] for r in importer.resources.values()})
        raise TemplateError(f"{path}: no AWS::Serverless::Function or AWS::Lambda::Function "
                            f"in the template (resource types: {', '.join(types)})")
    not_modelled = sorted(f"{rid} ({res['Type']})" for rid, res in importer.resources.items()
                          if rid not in importer.used and rid not in importer.referenced)
    referenced = sorted(f"{rid} ({importer.resources[rid]['Type']})" for rid in importer.referenced
                        if rid not in importer.used)
    kind = "AWS SAM" if "AWS::Serverless" in json.dumps(template.get("Transform", "")) else "CloudFormation"
    out = [f"# Scenario skeleton written by lambdasim import-sam from {path.name} ({kind} template).",
           f"# Values marked {TODO} need you: every arrival rate must be set (rate: TODO does",
           "# not validate until it is), and the handler durations are placeholders that do."]
    if referenced:
        out.append("# Referenced by triggers or destinations (not simulated themselves): " + ", ".join(referenced))
    if not_modelled:
        out.append("# Template resources lambdasim does not model: " + ", ".join(not_modelled))
    if importer.unsupported_events:
        out.append("# Event sources lambdasim does not model (no trigger written): "
                   + ", ".join(importer.unsupported_events))
    for note in importer.notes:
        out.append(f"# Note: {note}")
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", path.stem) or "imported"
    out += [f"name: {stem}", f"description: {_flow(f'Imported from {path.name} by lambdasim import-sam')}",
            f"duration: 1h  # {TODO}: the simulated horizon", "functions:"]
    todo = 0
    triggers = 0
    for fname, body in functions.items():
        out.append(f"  {fname}:")
        for key, value in body.items():
            comment = importer.comments.get((fname, key))
            if key != "triggers":
                out.append(f"    {key}: {_flow(value)}" + (f"  # {comment}" if comment else ""))
                continue
            if not value:
                out.append("    triggers: []")
                continue
            out.append("    triggers:")
            for trigger in value:
                triggers += 1
                first = True
                for tkey, tvalue in trigger.items():
                    comment = importer.comments.get((fname, "triggers", trigger["name"], tkey))
                    if tkey == "arrivals" and rate is not None and tvalue.get("rate") == "TODO":
                        tvalue = {**tvalue, "rate": rate}
                        comment = f"{TODO}: filled by --rate {rate}; set the real rate"
                    elif tkey == "arrivals" and tvalue.get("rate") == "TODO":
                        todo += 1
                    prefix = "      - " if first else "        "
                    first = False
                    out.append(f"{prefix}{tkey}: {_flow(tvalue)}" + (f"  # {comment}" if comment else ""))
    report = {"functions": list(functions), "triggers": triggers, "todo": todo,
              "not_modelled": not_modelled, "unsupported_events": importer.unsupported_events,
              "notes": importer.notes}
    return "\n".join(out) + "\n", report
