"""Invocation models: how requests reach a function and what a throttle or error means.

Each model turns arrivals into calls of :meth:`lambdasim.engine.function.LambdaFunction.invoke` and
applies its own retry rules: ``sync`` (the caller sees throttles and errors; clients may
retry); ``async_`` (the caller never sees a throttle: events wait in the function's internal
queue, back off, are retried, age and go to destinations); ``sqs`` (the SQS event source
mapping: pollers that ramp up, batches, visibility timeout, dead-letter queue); ``streams``
(Kinesis and DynamoDB Streams event source mappings: batches per shard, retries that block the
shard, bisection, on-failure destinations).
"""
