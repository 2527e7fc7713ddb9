"""lambdasim import-sam: AWS SAM and CloudFormation templates in, scenario skeletons out.

SAM function properties and Globals: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html
and .../sam-specification-template-anatomy-globals.html; short-form intrinsic functions:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lambdasim import cli
from lambdasim.aws.sam import TODO, TemplateError, import_template, load_template
from lambdasim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "scenarios" / "templates"

API_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Memory: {Type: Number, Default: 768}
  Env: {Type: String, Default: prod}
Mappings:
  Sizes:
    prod: {Timeout: 15}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Globals:
  Function:
    Runtime: nodejs20.x
    MemorySize: 256
    Timeout: !FindInMap [Sizes, !Ref Env, Timeout]
    Architectures: [arm64]
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-api"
      Role: !GetAtt ApiRole.Arn
      MemorySize: !Ref Memory
      ReservedConcurrentExecutions: !If [IsProd, 100, 10]
      Environment:
        Variables:
          URL: !Join ["", ["https://", !Select [0, !Split [",", "a,b"]]]]
          B64: !Base64 text
      Events:
        List: {Type: Api, Properties: {Path: /items, Method: get}}
        Create: {Type: HttpApi, Properties: {Path: /items, Method: post}}
  Search:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Timeout: 5
      Events:
        Query: {Type: HttpApi}
  ApiRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
"""


def _filled(text: str, rate: str = "5/s") -> str:
    return text.replace("rate: TODO}", f"rate: {rate}}}")


def test_sync_template_validates_once_rates_are_filled(tmp_path):
    template = tmp_path / "api.yaml"
    template.write_text(API_TEMPLATE)
    text, report = import_template(template)
    data = yaml.safe_load(text)
    api = data["functions"]["Api"]
    # Globals merged under the function's own values; !Ref of a parameter and !FindInMap resolved
    assert (api["memory_mb"], api["runtime"], api["architecture"], api["timeout"]) == (768, "nodejs20.x", "arm64", "15s")
    # !If [IsProd, 100, 10] with IsProd = !Equals [!Ref Env, prod] and Env's default prod
    assert api["reserved_concurrency"] == 100
    assert [t["name"] for t in api["triggers"]] == ["List", "Create"]
    assert data["functions"]["Search"]["timeout"] == "5s"
    assert report["not_modelled"] == ["ApiRole (AWS::IAM::Role)"]
    assert text.count(f"rate: TODO}}  # {TODO}: set the real rate") == 3
    # as written, the skeleton does not validate: the rate is named with its line
    out = tmp_path / "api-scenario.yaml"
    out.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(out)
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "rate: TODO}" in ln)) + 1
    assert str(info.value).startswith(f"{out}:{line}: functions.Api.triggers.0.arrivals.rate: expected a rate")
    out.write_text(_filled(text))
    scenario = load_scenario(out)
    assert scenario.functions["Api"]["triggers"][1]["arrivals"][0]["rate"] == [[0.0, 5.0, "step"]]
    assert cli.main(["validate", str(out)]) == 0
    # --rate fills every rate at once, still marked, and validates as written
    filled = tmp_path / "filled.yaml"
    assert cli.main(["import-sam", str(template), "--out", str(filled), "--rate", "2/s"]) == 0
    assert "filled by --rate 2/s" in filled.read_text()
    assert cli.main(["validate", str(filled)]) == 0


EXPECTED_ORDERS = {
    "CreateOrderFunction": {
        "memory_mb": 1024, "architecture": "arm64", "runtime": "python3.12", "timeout": "10s",
        "reserved_concurrency": 200, "provisioned_concurrency": 20, "duration": "100ms", "reference_mb": 1024,
        "triggers": [
            {"type": "sync", "name": "CreateOrder", "arrivals": {"process": "poisson", "rate": "TODO"}},
            {"type": "sync", "name": "GetOrder", "arrivals": {"process": "poisson", "rate": "TODO"}},
        ]},
    "ProcessOrderFunction": {
        "memory_mb": 512, "architecture": "arm64", "runtime": "python3.12", "timeout": "30s", "duration": "100ms", "reference_mb": 512,
        "triggers": [{"type": "sqs", "name": "OrderQueue", "arrivals": {"process": "poisson", "rate": "TODO"},
                      "batch_size": 10, "batching_window": "5s", "maximum_concurrency": 50,
                      "visibility_timeout": "180s", "max_receive_count": 5}]},
    "OrderEventsFunction": {
        "memory_mb": 2048, "architecture": "arm64", "runtime": "java21", "timeout": "10s", "duration": "100ms", "reference_mb": 2048,
        "triggers": [{"type": "kinesis", "name": "OrderStream", "arrivals": {"process": "poisson", "rate": "TODO"},
                      "shards": 4, "batch_size": 200, "parallelization_factor": 2, "maximum_retry_attempts": 3,
                      "maximum_record_age": "3600s", "bisect_batch_on_error": True,
                      "on_failure": {"type": "sqs", "name": "StreamFailures"}, "retention": "48h"}]},
    "NotifyFunction": {
        "memory_mb": 256, "architecture": "arm64", "runtime": "python3.12", "timeout": "10s", "duration": "100ms", "reference_mb": 256,
        "triggers": [
            {"type": "async", "name": name, "arrivals": arrivals, "max_retry_attempts": 1, "max_event_age": "3600s",
             "on_success": {"type": "function", "name": "AuditFunction"},
             "on_failure": {"type": "sqs", "name": "NotifyFailures"}}
            for name, arrivals in (("InvoiceUploaded", {"process": "poisson", "rate": "TODO"}),
                                   ("OrderShipped", {"process": "poisson", "rate": "TODO"}),
                                   ("Reminder", {"process": "constant", "rate": "12/h"}))
        ]},
    "AuditFunction": {"memory_mb": 128, "architecture": "arm64", "runtime": "nodejs20.x", "timeout": "10s",
                      "duration": "100ms", "reference_mb": 128, "triggers": []},
}


def test_orders_template_with_globals_intrinsics_event_types_and_event_invoke_config(tmp_path):
    text, report = import_template(TEMPLATES / "orders-sam.yaml")
    data = yaml.safe_load(text)
    assert data["name"] == "orders-sam" and data["duration"] == "1h"
    assert data["functions"] == EXPECTED_ORDERS
    assert report["unsupported_events"] == ["OrderEventsFunction.Events.BrokerFeed (Type MQ)"]
    assert report["not_modelled"] == ["ErrorsAlarm (AWS::CloudWatch::Alarm)", "OrdersTable (AWS::DynamoDB::Table)"]
    assert "# Event sources lambdasim does not model (no trigger written): OrderEventsFunction.Events.BrokerFeed" in text
    assert "# from the schedule rate(5 minutes)" in text
    # the shipped scenario is exactly what import-sam makes from the shipped template
    assert (TEMPLATES / "orders.yaml").read_text() == text
    # once rates are filled it validates (with the async, sqs, stream and provisioned formats merged)
    out = tmp_path / "orders.yaml"
    out.write_text(_filled(text))
    scenario = load_scenario(out)
    assert set(scenario.functions) == set(EXPECTED_ORDERS)


CFN_JSON = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Worker": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "worker", "Runtime": "python3.11", "MemorySize": 1769, "Timeout": 60,
            "Handler": "app.handler", "Code": {"ZipFile": "def handler(e, c): pass"},
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Worker"}, "EventSourceArn": {"Fn::GetAtt": ["Jobs", "Arn"]},
            "BatchSize": 50, "MaximumBatchingWindowInSeconds": 2}},
        "Table": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": "worker", "EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026",
            "MaximumRecordAgeInSeconds": -1}},
        "Config": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "Worker"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sns:us-east-1:123456789012:alerts"},
                                  "OnSuccess": {"Destination": "arn:aws:lambda:us-east-1:123456789012:function:worker"}}}},
        "S3Permission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "FunctionName": {"Fn::GetAtt": ["Worker", "Arn"]}, "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com"}},
        "Url": {"Type": "AWS::Lambda::Url", "Properties": {"TargetFunctionArn": {"Ref": "Worker"}, "AuthType": "NONE"}},
        "Live": {"Type": "AWS::Lambda::Alias", "Properties": {
            "FunctionName": {"Ref": "Worker"}, "FunctionVersion": "1", "Name": "live",
            "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 5}}},
        "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 360, "FifoQueue": True}},
        "Dlq": {"Type": "AWS::SQS::Queue"},
    },
}


def test_cloudformation_json_resources_become_triggers(tmp_path):
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(CFN_JSON, indent=2))
    text, report = import_template(path)
    worker = yaml.safe_load(text)["functions"]["Worker"]
    assert worker == {
        "memory_mb": 1769, "architecture": "x86_64", "runtime": "python3.11", "timeout": "60s", "provisioned_concurrency": 5,
        "duration": "100ms", "reference_mb": 1769,
        "triggers": [
            {"type": "sqs", "name": "Mapping", "arrivals": {"process": "poisson", "rate": "TODO"},
             "batch_size": 50, "batching_window": "2s", "visibility_timeout": "360s", "fifo": True},
            {"type": "dynamodb", "name": "Table", "arrivals": {"process": "poisson", "rate": "TODO"},
             "shards": 1, "batch_size": 100},
            {"type": "async", "name": "S3Permission", "arrivals": {"process": "poisson", "rate": "TODO"},
             "dead_letter": {"type": "sqs", "name": "Dlq"}, "max_retry_attempts": 0,
             "on_success": {"type": "function", "name": "Worker"},
             "on_failure": {"type": "sns", "name": "alerts"}},
            {"type": "sync", "name": "Url", "arrivals": {"process": "poisson", "rate": "TODO"}},
        ],
    }
    assert f"shards: 1  # {TODO}: the stream's shard count" in text
    assert report["not_modelled"] == []


def test_short_form_tags_load_as_long_forms_and_nothing_is_evaluated(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(API_TEMPLATE)
    data, lines = load_template(path)
    props = data["Resources"]["Api"]["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["ApiRole", "Arn"]}
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-api"}
    assert props["ReservedConcurrentExecutions"] == {"Fn::If": ["IsProd", 100, 10]}
    assert props["Environment"]["Variables"]["URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}]]}
    assert data["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    assert lines["Api"] == 18
    path.write_text("Resources:\n  X: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(TemplateError, match=r"t.yaml:2: .*could not determine a constructor"):
        load_template(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "content, text",
    [
        (None, "no such file"),
        ("", "the file is empty"),
        ("Resources:\n  F:\n    Type: [unclosed\n", "bad.yaml:4:"),
        ('{"Resources": {"F": }', "bad.yaml:1: JSON syntax error"),
        ("Resources:\n  F:\n    Properties: {}\n", "bad.yaml:2: Resources.F: a resource needs a Type"),
        ("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: !Magic x\n",
         "bad.yaml:5: unknown intrinsic function tag !Magic"),
        ("AWSTemplateFormatVersion: '2010-09-09'\nDescription: nothing\n", "no Resources mapping"),
        ("Resources:\n  B:\n    Type: AWS::S3::Bucket\n", "no AWS::Serverless::Function or AWS::Lambda::Function"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a text file"),
    ],
)
def test_bad_templates_exit_2_and_write_nothing(tmp_path, capsys, content, text):
    path = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    out = tmp_path / "scenario.yaml"
    assert cli.main(["import-sam", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err
    assert not out.exists()


def test_bad_rate_option_exits_2(tmp_path, capsys):
    template = tmp_path / "api.yaml"
    template.write_text(API_TEMPLATE)
    assert cli.main(["import-sam", str(template), "--rate", "lots"]) == 2
    assert "--rate: expected a rate" in capsys.readouterr().err


def test_flow_style_yaml_template_and_out_over_the_template(tmp_path, capsys):
    path = tmp_path / "flow.yaml"
    path.write_text("{Resources: {F: {Type: 'AWS::Lambda::Function', Properties: {Role: !GetAtt R.Arn}}}}\n")
    text, _ = import_template(path)
    assert yaml.safe_load(text)["functions"]["F"]["timeout"] == "3s"
    before = path.read_text()
    assert cli.main(["import-sam", str(path), "--out", str(path)]) == 2
    assert "is the template itself" in capsys.readouterr().err
    assert path.read_text() == before
