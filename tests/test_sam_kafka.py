"""import-sam: Kafka event sources and provisioned pollers.

Property names from the SAM event docs (sam-property-function-msk.html,
sam-property-function-selfmanagedkafka.html, sam-property-function-sqs.html) and
AWS::Lambda::EventSourceMapping (ProvisionedPollerConfig: MinimumPollers, MaximumPollers;
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-eventsourcemapping.html);
Kafka provisioned mode: https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html;
SQS provisioned mode and its exclusion of maximum concurrency:
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html.
"""
from __future__ import annotations

import yaml

from lambdasim import cli
from lambdasim.aws.sam import import_template
from lambdasim.scenario import load_scenario

SAM = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersDLQ:
    Type: AWS::SQS::Queue
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: java21
      Handler: example.Handler::handleRequest
      MemorySize: 1024
      Timeout: 60
      Events:
        Orders:
          Type: MSK
          Properties:
            Stream: arn:aws:kafka:us-east-1:123456789012:cluster/orders-cluster/abcd1234-0123-4567-89ab-cdef01234567-2
            Topics:
              - orders
            StartingPosition: LATEST
            BatchSize: 500
            MaximumBatchingWindowInSeconds: 5
            ConsumerGroupId: orders-consumer
            ProvisionedPollerConfig:
              MinimumPollers: 2
              MaximumPollers: 10
            DestinationConfig:
              OnFailure:
                Destination: !GetAtt OrdersDLQ.Arn
  Audit:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Events:
        Clicks:
          Type: SelfManagedKafka
          Properties:
            KafkaBootstrapServers:
              - b-1.example.com:9092
              - b-2.example.com:9092
            Topics:
              - clicks
            StartingPosition: TRIM_HORIZON
            SourceAccessConfigurations:
              - Type: SASL_SCRAM_512_AUTH
                URI: arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-creds
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Timeout: 20
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: arn:aws:sqs:us-east-1:123456789012:jobs
            BatchSize: 10
            ProvisionedPollerConfig:
              MinimumPollers: 5
              MaximumPollers: 50
"""

CFN = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {ZipFile: "exports.handler = async () => {}"}
  Cluster:
    Type: AWS::MSK::ServerlessCluster
    Properties:
      ClusterName: payments
      ClientAuthentication: {Sasl: {Iam: {Enabled: true}}}
      VpcConfigs: [{SubnetIds: [subnet-1, subnet-2]}]
  PaymentsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Cluster.Arn
      Topics: [payments]
      StartingPosition: LATEST
      BatchSize: 200
      ProvisionedPollerConfig: {MinimumPollers: 3, MaximumPollers: 3}
  SelfManagedMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      SelfManagedEventSource:
        Endpoints:
          KafkaBootstrapServers: [kafka1.example.com:9092]
      Topics: [audit]
      StartingPosition: LATEST
  QueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:jobs
      ScalingConfig: {MaximumConcurrency: 50}
      ProvisionedPollerConfig: {MinimumPollers: 2, MaximumPollers: 400}
"""


def _imported(tmp_path, text: str):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    scenario_text, report = import_template(path)
    out = tmp_path / "scenario.yaml"
    out.write_text(scenario_text.replace("rate: TODO}", "rate: 5/s}"))
    return scenario_text, report, yaml.safe_load(scenario_text), load_scenario(out), out


def test_sam_msk_and_self_managed_kafka_events_become_kafka_triggers(tmp_path):
    text, report, data, scenario, out = _imported(tmp_path, SAM)
    (orders,) = data["functions"]["Consumer"]["triggers"]
    assert orders == {"type": "kafka", "name": "Orders",
                      "arrivals": {"process": "poisson", "rate": "TODO"},
                      "partitions": 1, "batch_size": 500, "batching_window": "5s",
                      "provisioned_pollers": {"minimum": 2, "maximum": 10},
                      "on_failure": {"type": "sqs", "name": "OrdersDLQ"}}
    (clicks,) = data["functions"]["Audit"]["triggers"]
    assert clicks["type"] == "kafka" and clicks["batch_size"] == 100  # Kafka's default
    assert "provisioned_pollers" not in clicks  # on-demand mode
    # The partition count is not in a template: a visible default and a note to set it.
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("partitions: 1")]
    assert len(lines) == 2 and all("# Note:" in ln and "partition count" in ln for ln in lines)
    assert "records produced to topic orders (Amazon MSK)" in text
    assert "records produced to topic clicks (self-managed Kafka)" in text
    assert any("StartingPosition: TRIM_HORIZON" in note for note in report["notes"])
    assert not any("Type MSK" in e or "SelfManagedKafka" in e for e in report["unsupported_events"])
    resolved = scenario.functions["Consumer"]["triggers"][0]
    assert resolved["provisioned_pollers"] == {"minimum": 2, "maximum": 10}
    assert cli.main(["validate", str(out)]) == 0


def test_sam_sqs_provisioned_poller_config_becomes_provisioned_pollers(tmp_path):
    _, _, data, scenario, _ = _imported(tmp_path, SAM)
    (jobs,) = data["functions"]["Worker"]["triggers"]
    assert jobs["type"] == "sqs" and jobs["provisioned_pollers"] == {"minimum": 5, "maximum": 50}
    assert scenario.functions["Worker"]["triggers"][0]["maximum_concurrency"] is None


def test_event_source_mapping_resources_of_kafka_clusters(tmp_path):
    text, report, data, scenario, out = _imported(tmp_path, CFN)
    triggers = {t["name"]: t for t in data["functions"]["Fn"]["triggers"]}
    assert triggers["PaymentsMapping"]["type"] == "kafka"
    assert triggers["PaymentsMapping"]["batch_size"] == 200
    assert triggers["PaymentsMapping"]["provisioned_pollers"] == {"minimum": 3, "maximum": 3}
    assert triggers["SelfManagedMapping"]["type"] == "kafka"
    # SQS: MaximumConcurrency and ProvisionedPollerConfig exclude each other; MaximumPollers
    # 400 is kept (2-2,000).
    queue = triggers["QueueMapping"]
    assert queue["provisioned_pollers"] == {"minimum": 2, "maximum": 400}
    assert "maximum_concurrency" not in queue
    assert any("mutually exclusive" in note for note in report["notes"])
    assert report["unsupported_events"] == []
    assert cli.main(["validate", str(out)]) == 0


def test_out_of_range_pollers_keep_the_defaults_with_a_note(tmp_path):
    bad = SAM.replace("MinimumPollers: 2\n", "MinimumPollers: 300\n")
    _, report, data, _, _ = _imported(tmp_path, bad)
    (orders,) = data["functions"]["Consumer"]["triggers"]
    assert orders["provisioned_pollers"] == {"minimum": 1, "maximum": 10}
    assert any("MinimumPollers" in note and "1..200" in note for note in report["notes"])
