"""Invocation models: how requests reach a function and what a throttle or error means.

Each model turns arrivals into calls of :meth:`lambdasim.function.LambdaFunction.invoke` and
applies its own retry rules: ``sync`` (the caller sees throttles and errors; clients may
retry); ``streams`` (Kinesis and DynamoDB Streams event source mappings: batches per shard,
retries that block the shard, bisection, on-failure destinations).
"""
