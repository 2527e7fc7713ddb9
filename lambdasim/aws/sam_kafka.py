"""Kafka event sources of a template: SAM ``MSK`` and ``SelfManagedKafka`` events and
``AWS::Lambda::EventSourceMapping`` resources reading an Amazon MSK cluster or a self-managed
Kafka cluster become ``type: kafka`` triggers.

Properties (the same names in the SAM events,
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-msk.html
and sam-property-function-selfmanagedkafka.html, and in AWS::Lambda::EventSourceMapping,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-eventsourcemapping.html):

* ``Topics`` (one topic per mapping) names the records' topic in the arrival rate's TODO;
* ``BatchSize`` (1-10,000, default 100) -> ``batch_size``;
* ``MaximumBatchingWindowInSeconds`` (0-300) -> ``batching_window`` (Lambda's Kafka default,
  500 ms, when absent);
* ``ProvisionedPollerConfig`` -> ``provisioned_pollers``: ``MinimumPollers`` (1-200, default
  1) and ``MaximumPollers`` (1-2,000, default 200)
  (https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html);
* ``DestinationConfig.OnFailure.Destination`` (an SQS queue or SNS topic) -> ``on_failure``;
* ``StartingPosition``: ``LATEST`` reads what is produced from the start, as a simulation
  does; ``TRIM_HORIZON`` or ``AT_TIMESTAMP`` would first read records already in the topic,
  which a template does not describe: noted.

A template does not give the topic's partition count, which caps the mapping's concurrency
(one concurrent invocation per partition): ``partitions: 1`` is written, visibly, with a
``# Note:`` to set the real count.
"""
from __future__ import annotations

from typing import Any

from lambdasim.aws import support

__all__ = ["kafka_trigger", "is_kafka_mapping"]


def is_kafka_mapping(importer, props: dict) -> bool:
    """Whether an ``AWS::Lambda::EventSourceMapping`` reads Kafka: an MSK cluster ARN or
    reference, or a ``SelfManagedEventSource``."""
    if isinstance(props.get("SelfManagedEventSource"), dict):
        return True
    kind, _ = importer.target(props.get("EventSourceArn"))
    return kind == "kafka"


def kafka_trigger(importer, logical: str, name: str, props: dict, path: tuple, where: str,
                  what: str) -> dict | None:
    """The ``kafka`` trigger of one event source (``what``: "Amazon MSK" or "self-managed
    Kafka"), or None with a note when this lambdasim has no kafka trigger."""
    where = f"{where}.Properties" if ".Events." in where else where
    if "kafka" not in support.trigger_types():
        importer.notes.append(f"{where}: {what} event sources are not simulated by this lambdasim; "
                              "no trigger written")
        return None
    topics = props.get("Topics")
    topic = None
    if isinstance(topics, list) and topics:
        topic = importer.value(topics[0], f"{where}.Topics")
        if len(topics) > 1:
            importer.notes.append(f"{where}.Topics: Lambda reads one topic per mapping; the first "
                                  f"({topic!r}) is used")
    source = f"topic {topic}" if isinstance(topic, str) else "the topic"
    out: dict[str, Any] = {"type": "kafka", "name": name,
                           "arrivals": importer.arrivals_todo(path, f"records produced to {source} "
                                                                    f"({what})")}
    out["partitions"] = 1
    importer.comments[(logical, "triggers", name, "partitions")] = (
        f"Note: a template does not give the partition count of {source}: set the real one "
        "(Lambda runs at most one concurrent invocation per partition, kafka-scaling-modes.html)")
    batch = importer.number(props.get("BatchSize", 100), f"{where}.BatchSize", 1, 10000)
    out["batch_size"] = batch if batch is not None else 100
    if props.get("MaximumBatchingWindowInSeconds") is not None:
        window = importer.number(props["MaximumBatchingWindowInSeconds"],
                                 f"{where}.MaximumBatchingWindowInSeconds", 0, 300)
        if window is not None:
            out["batching_window"] = f"{window}s"
    pollers = props.get("ProvisionedPollerConfig")
    if isinstance(pollers, dict):
        pwhere = f"{where}.ProvisionedPollerConfig"
        low = importer.number(pollers.get("MinimumPollers", 1), f"{pwhere}.MinimumPollers", 1, 200)
        high = importer.number(pollers.get("MaximumPollers", 200), f"{pwhere}.MaximumPollers", 1, 2000)
        low, high = (1 if low is None else low), (200 if high is None else high)
        if low > high:
            importer.notes.append(f"{pwhere}: MinimumPollers {low} is above MaximumPollers {high}, "
                                  f"which Lambda refuses; maximum {low} written")
            high = low
        out["provisioned_pollers"] = {"minimum": low, "maximum": high}
    position = props.get("StartingPosition")
    if position is not None:
        position = importer.value(position, f"{where}.StartingPosition")
    if position in ("TRIM_HORIZON", "AT_TIMESTAMP"):
        importer.notes.append(f"{where}.StartingPosition: {position} first reads the records already "
                              f"in {source}, which the template does not describe; the run starts with an "
                              "empty topic (add a burst arrival for a backlog)")
    importer.on_failure_destination(props, where, out)
    return out
