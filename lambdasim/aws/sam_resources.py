"""Template resources that point at a function from outside it, for ``import-sam``.

A function's traffic and configuration are often separate resources that name it:
``AWS::Lambda::EventSourceMapping`` (SQS, Kinesis, DynamoDB, Amazon MSK and self-managed
Kafka), ``AWS::Lambda::Permission`` (the service allowed to invoke it), ``AWS::Lambda::Url`` (a function URL),
``AWS::Lambda::EventInvokeConfig``, ``AWS::Lambda::Alias`` and ``AWS::Lambda::Version``
(provisioned concurrency), and the schedules of ``AWS::Scheduler::Schedule`` and
``AWS::Events::Rule`` (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html), whose
``rate(...)``/``cron(...)`` expression gives the arrival rate on their target function
(:mod:`lambdasim.aws.schedules`). EventBridge and Scheduler invoke Lambda asynchronously.

The permission that lets a rule, a function URL or a load balancer invoke the function is part
of that trigger, not a second one: a permission whose ``SourceArn`` is a rule of the template,
or that is for a function URL (``lambda:InvokeFunctionUrl``), adds nothing. This module is the
resource half of :class:`lambdasim.aws.sam._Importer`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lambdasim.aws.sam_kafka import is_kafka_mapping, kafka_trigger
from lambdasim.aws.schedules import parse_schedule, rate_text

TODO_TEXT = "TODO(lambdasim import-sam)"

__all__ = ["FUNCTION_TYPES", "ResourceImporter", "show"]

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_SERVICE_TYPES = {"AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns", "AWS::Events::EventBus": "eventbridge",
                  "AWS::Kinesis::Stream": "kinesis", "AWS::DynamoDB::Table": "dynamodb",
                  "AWS::Serverless::SimpleTable": "dynamodb", "AWS::MSK::Cluster": "kafka",
                  "AWS::MSK::ServerlessCluster": "kafka",
                  "AWS::Serverless::Function": "function", "AWS::Lambda::Function": "function"}
#: Services that invoke a function asynchronously (invocation-async.html) or synchronously.
_ASYNC_PRINCIPALS = ("s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com",
                     "logs.amazonaws.com", "iot.amazonaws.com", "scheduler.amazonaws.com",
                     "ses.amazonaws.com", "config.amazonaws.com", "codecommit.amazonaws.com")
_SYNC_PRINCIPALS = {"apigateway.amazonaws.com": "API Gateway requests",
                    "elasticloadbalancing.amazonaws.com": "load balancer requests",
                    "cognito-idp.amazonaws.com": "Cognito user pool trigger calls",
                    "alexa-appkit.amazon.com": "Alexa skill requests",
                    "lex.amazonaws.com": "Lex bot requests"}
_REFERENCES = ("AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Permission",
               "AWS::Lambda::Url", "AWS::Lambda::Alias", "AWS::Lambda::Version")


def show(raw: Any) -> str:
    """A template value as its short form reads (``!If [...]``, ``!GetAtt Queue.Arn``)."""
    if isinstance(raw, dict) and len(raw) == 1:
        (k, v), = raw.items()
        short = "!" + (k[4:] if k.startswith("Fn::") else k)
        if isinstance(v, list) and k == "Fn::GetAtt":
            return f"{short} {'.'.join(map(str, v))}"
        return f"{short} {json.dumps(v, default=str)[:200]}"
    return json.dumps(raw, default=str)[:200] if not isinstance(raw, str) else repr(raw)


class ResourceImporter:
    """The resource half of the importer: references, standalone resources, the account."""

    # -- references ------------------------------------------------------------------------
    def target(self, raw: Any) -> tuple[str | None, str | None]:
        """(kind, name) of a resource reference or ARN: kind sqs, sns, eventbridge, kinesis,
        dynamodb or function; name the logical ID (a function's: its logical ID)."""
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
                if service == "kafka":
                    return "kafka", rest.split("/")[-2] if rest.count("/") >= 2 else rest
            name = re.sub(r"\$\{[^}]*\}", "", raw).strip(":/-") or None
            return None, name
        return None, None

    def function_of(self, raw: Any) -> str | None:
        """The logical ID of the template function a FunctionName or target ARN points to:
        ``!Ref``/``!GetAtt`` of the function, of its ``Fn.Alias``/``Fn.Version`` or of the
        ``<Fn>Alias<name>`` resource SAM generates for ``AutoPublishAlias``, ``!Sub "${Fn.Arn}"``,
        an ARN or a literal function name."""
        raw = self.resolver.value(raw) if isinstance(raw, dict) and "Fn::If" in raw else raw
        if isinstance(raw, dict) and "Fn::Sub" in raw:
            sub = raw["Fn::Sub"][0] if isinstance(raw["Fn::Sub"], list) and raw["Fn::Sub"] else raw["Fn::Sub"]
            match = re.fullmatch(r"\$\{([A-Za-z0-9]+)(?:\.(?:Arn|Alias|Version))?\}(?::[A-Za-z0-9$_-]+)?", str(sub))
            raw = {"Ref": match.group(1)} if match else raw
        if isinstance(raw, dict):
            for k in ("Ref", "Fn::GetAtt"):
                if k in raw:
                    ref = raw[k][0] if isinstance(raw[k], list) and raw[k] else raw[k]
                    ref = str(ref).split(".")[0]
                    if ref in self.resources and self.resources[ref]["Type"] in FUNCTION_TYPES:
                        return ref
                    for logical, res in self.resources.items():  # SAM's generated alias
                        if res["Type"] == "AWS::Serverless::Function" and isinstance(res.get("Properties"), dict):
                            alias = res["Properties"].get("AutoPublishAlias") or self.globals.get("AutoPublishAlias")
                            if isinstance(alias, str) and ref == f"{logical}Alias{alias}":
                                return logical
                    if ref in self.resources and self.resources[ref]["Type"] in ("AWS::Lambda::Alias",
                                                                                 "AWS::Lambda::Version"):
                        props = self.resources[ref].get("Properties") or {}
                        return self.function_of(props.get("FunctionName")) if isinstance(props, dict) else None
            return None
        if isinstance(raw, str):
            kind, name = self.target(raw) if raw.startswith("arn:") else ("function", self.function_names.get(raw, raw))
            if kind == "function" and name in self.resources:
                return name
        return None

    # -- schedules ---------------------------------------------------------------------------
    def schedule(self, expression: Any, path: tuple, where: str) -> dict | None:
        """Arrivals of a schedule expression, or a TODO rate with a note when it is not one."""
        try:
            parsed = parse_schedule(expression)
        except ValueError as exc:
            self.notes.append(f"{where}: {exc}")
            self.comments[path] = f"{TODO_TEXT}: set the rate of {expression!r}"
            return {"process": "constant", "rate": "TODO"}
        if parsed.kind == "at":
            self.comments[path] = (f"once, from the schedule {parsed.text}: placed at the start; "
                                   f"{TODO_TEXT}: move it where the run needs it")
            return {"process": "burst", "count": 1, "at": "0s"}
        per = " on average" if parsed.kind == "cron" else ""
        self.comments[path] = f"from the schedule {parsed.text}{per}"
        return {"process": "constant", "rate": rate_text(parsed.per_second)}

    # -- standalone resources -----------------------------------------------------------------
    def attach_resources(self, functions: dict[str, dict]) -> None:
        rule_ids = {rid for rid, res in self.resources.items() if res["Type"] == "AWS::Events::Rule"}
        for rid, res in self.resources.items():
            rtype = res["Type"]
            props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
            if rtype in ("AWS::Scheduler::Schedule", "AWS::Events::Rule"):
                self.scheduled(rid, rtype, props, functions)
                continue
            if rtype not in _REFERENCES:
                continue
            fn = self.function_of(props.get("FunctionName") or props.get("TargetFunctionArn"))
            if fn is None or fn not in functions:
                continue
            self.used.add(rid)
            if not self.created(rid):
                self.notes.append(f"Resources.{rid}: its Condition is false with the parameter defaults; left out")
                continue
            props = self.resolver.value(props)
            body = functions[fn]
            where = f"Resources.{rid}.Properties"
            if rtype == "AWS::Lambda::EventSourceMapping":
                self.mapping(fn, rid, props, body, where)
            elif rtype == "AWS::Lambda::EventInvokeConfig":
                body["_async"].update(self.invoke_config(props, where))
            elif rtype == "AWS::Lambda::Url":
                body["triggers"].append(self.function_url(fn, rid, props, where))
            elif rtype == "AWS::Lambda::Permission":
                self.permission(fn, rid, props, body, where, rule_ids)
            else:  # Alias or Version
                before = "provisioned_concurrency" in body
                self.provisioned(body, props.get("ProvisionedConcurrencyConfig"), f"{where}.ProvisionedConcurrencyConfig")
                if "provisioned_concurrency" in body and not before:
                    for key in ("duration", "reference_mb", "triggers", "_async"):  # keep the key order
                        body[key] = body.pop(key)

    def mapping(self, fn: str, rid: str, props: dict, body: dict, where: str) -> None:
        if props.get("Enabled") in (False, "false", "False"):
            self.notes.append(f"Resources.{rid}: the event source mapping is disabled (Enabled: false); "
                              "no trigger written")
            return
        kind, _ = self.target(props.get("EventSourceArn"))
        if kind in ("sqs", "kinesis", "dynamodb"):
            name = self.trigger_name(fn, rid)
            path = (fn, "triggers", name, "arrivals")
            if props.get("FilterCriteria") not in (None, {}, []):
                self.notes.append(f"{where}.FilterCriteria: only messages or records that match the filter "
                                  "invoke the function: set the arrival rate to the matching ones")
            trigger = (self.sqs(fn, name, props, path, where) if kind == "sqs"
                       else self.stream(kind, fn, name, props, path, where))
            body["triggers"].append(trigger)
        elif is_kafka_mapping(self, props):
            name = self.trigger_name(fn, rid)
            what = "self-managed Kafka" if "SelfManagedEventSource" in props else "Amazon MSK"
            trigger = kafka_trigger(self, fn, name, props, (fn, "triggers", name, "arrivals"), where,
                                    what)
            if trigger is not None:
                body["triggers"].append(trigger)
        else:
            self.unsupported_events.append(f"{rid} (event source {show(props.get('EventSourceArn'))})")

    def permission(self, fn: str, rid: str, props: dict, body: dict, where: str, rule_ids: set) -> None:
        principal = self.value(props.get("Principal"), f"{where}.Principal")
        principal = str(principal) if principal is not None else "?"
        source = props.get("SourceArn")
        source_id = self.function_of_source(source)
        if source_id in rule_ids:
            return  # the rule is the trigger (see attach_resources)
        if props.get("Action") == "lambda:InvokeFunctionUrl" or props.get("FunctionUrlAuthType") is not None:
            return  # a function URL's permission: the URL is the trigger
        name = self.trigger_name(fn, rid)
        path = (fn, "triggers", name, "arrivals")
        if principal in _SYNC_PRINCIPALS:
            body["triggers"].append({"type": "sync", "name": name,
                                     "arrivals": self.arrivals_todo(path, _SYNC_PRINCIPALS[principal])})
        elif principal in _ASYNC_PRINCIPALS:
            body["triggers"].append({"type": "async", "name": name,
                                     "arrivals": self.arrivals_todo(path, f"events from {principal}")})
        else:
            self.trigger_names[fn].discard(name)
            self.unsupported_events.append(f"{rid} (permission for {principal})")

    def function_of_source(self, raw: Any) -> str | None:
        if isinstance(raw, dict):
            for k in ("Ref", "Fn::GetAtt"):
                if k in raw:
                    ref = raw[k][0] if isinstance(raw[k], list) and raw[k] else raw[k]
                    return str(ref).split(".")[0]
        return None

    def scheduled(self, rid: str, rtype: str, props: dict, functions: dict[str, dict]) -> None:
        """A Scheduler schedule or an EventBridge rule: an async trigger on each target function."""
        props = self.resolver.value(props)
        where = f"Resources.{rid}.Properties"
        if rtype == "AWS::Scheduler::Schedule":
            targets = [props.get("Target")] if isinstance(props.get("Target"), dict) else []
        else:
            targets = [t for t in props.get("Targets") or [] if isinstance(t, dict)]
        fns = [fn for fn in (self.function_of(t.get("Arn")) for t in targets) if fn in functions]
        if not fns:
            return
        self.used.add(rid)
        if not self.created(rid):
            self.notes.append(f"Resources.{rid}: its Condition is false with the parameter defaults; left out")
            return
        if props.get("State") in ("DISABLED", "DISABLED_BY_DEFAULT") or props.get("State") is False:
            self.notes.append(f"Resources.{rid}: disabled in the template (State: {props.get('State')}); "
                              "no trigger written")
            return
        window = props.get("FlexibleTimeWindow")
        if isinstance(window, dict) and window.get("Mode") == "FLEXIBLE":
            self.notes.append(f"{where}.FlexibleTimeWindow: each invocation lands within "
                              f"{window.get('MaximumWindowInMinutes', '?')} minutes of its time; the rate is the same")
        expression = props.get("ScheduleExpression")
        for fn in fns:
            name = self.trigger_name(fn, rid)
            path = (fn, "triggers", name, "arrivals")
            if expression is not None:
                arrivals = self.schedule(expression, path, f"{where}.ScheduleExpression")
            else:
                arrivals = self.arrivals_todo(path, "events matching the rule's event pattern")
            functions[fn]["triggers"].append({"type": "async", "name": name, "arrivals": arrivals})

    # -- the account -------------------------------------------------------------------------
    def fit_account(self, functions: dict[str, dict]) -> None:
        """Provisioned within the reservation, and an account limit that leaves the 100
        unreserved units (lambda-concurrency.html): a template that reserves more deploys only
        in an account with a raised limit, so the scenario says so instead of failing."""
        for logical, body in functions.items():
            reserved, pc = body.get("reserved_concurrency"), body.get("provisioned_concurrency")
            if reserved is not None and pc is not None and pc > reserved:
                self.notes.append(f"Resources.{logical}: provisioned concurrency {pc} is above the reserved "
                                  f"concurrency {reserved}, which Lambda refuses; provisioned_concurrency {reserved} written")
                body["provisioned_concurrency"] = reserved
        committed = sum(max(b.get("reserved_concurrency") or 0, b.get("provisioned_concurrency") or 0)
                        for b in functions.values())
        if committed + 100 > 1000:
            self.account["concurrency_limit"] = committed + 100
            self.notes.append(f"the functions reserve or provision {committed} units of concurrency, more than the "
                              "default account limit of 1,000 leaves (100 must stay unreserved): "
                              f"account.concurrency_limit {committed + 100} written; set your account's limit")


