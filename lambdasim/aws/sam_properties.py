"""Every property a Lambda function can carry in a template, and what ``import-sam`` does with it.

``import-sam`` must never drop a property silently. Each property of ``AWS::Serverless::Function``
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html)
and ``AWS::Lambda::Function``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html)
is in exactly one of three tables:

* :data:`MAPPED`: becomes a scenario key (the value says which);
* :data:`NOTED`: changes what Lambda does, but lambdasim does not model it: each use gets its own
  ``# Note:`` saying what is not simulated;
* :data:`NO_BEARING`: has no bearing on timing, scaling or cost (code location, permissions,
  environment, tags): listed in one ``# Note:`` per function.

A property in none of them (a newer one, or a typo) is named in a ``# Note:`` as unknown.
"""

from __future__ import annotations

__all__ = ["MAPPED", "NOTED", "NO_BEARING", "classify"]

MAPPED = {
    "MemorySize": "memory_mb",
    "Timeout": "timeout",
    "Architectures": "architecture",
    "Runtime": "runtime (and the default init)",
    "PackageType": "package_type",
    "ReservedConcurrentExecutions": "reserved_concurrency",
    "ProvisionedConcurrencyConfig": "provisioned_concurrency",
    "EphemeralStorage": "ephemeral_storage_mb (billed above 512 MB)",
    "Events": "triggers",
    "EventInvokeConfig": "max_retry_attempts, max_event_age, on_success, on_failure of async triggers",
    "DeadLetterQueue": "dead_letter of async triggers",
    "DeadLetterConfig": "dead_letter of async triggers",
    "FunctionUrlConfig": "a sync trigger (function URL requests)",
    "SnapStart": "snap_start",
    "AutoPublishAlias": "the alias that provisioned concurrency is configured on",
    "FunctionName": "resolves references to the function",
}

NOTED = {
    "VpcConfig": "VPC networking is not simulated (since 2019 Lambda creates the network "
                 "interfaces when the function is created, not per cold start)",
    "FileSystemConfigs": "the EFS mount is not simulated: its latency is part of the measured duration",
    "Layers": "layers add to the package that Init loads; the default init assumes a small "
              "package: measure init with lambdasim fit",
    "DeploymentPreference": "gradual deployments (traffic shifting between versions) are not "
                            "simulated: the scenario runs one version",
    "Tracing": "X-Ray tracing overhead is not simulated (it is part of the measured duration)",
    "TracingConfig": "X-Ray tracing overhead is not simulated (it is part of the measured duration)",
    "RecursiveLoop": "recursive-loop detection is not simulated",
    "CapacityProviderConfig": "Lambda Managed Instances (capacity providers) are not simulated: "
                              "the function is simulated on Lambda's default compute",
    "FunctionScalingConfig": "scaling limits of Lambda Managed Instances are not simulated",
    "DurableConfig": "durable functions (checkpoint and replay) are not simulated",
    "TenancyConfig": "tenant isolation mode (an environment per tenant) is not simulated",
}

NO_BEARING = (
    "Handler", "CodeUri", "InlineCode", "ImageUri", "ImageConfig", "Code", "Description",
    "Role", "Policies", "AssumeRolePolicyDocument", "RolePath", "PermissionsBoundary",
    "Environment", "Tags", "PropagateTags", "KmsKeyArn", "SourceKMSKeyArn", "CodeSigningConfigArn",
    "LoggingConfig", "RuntimeManagementConfig", "VersionDescription", "AutoPublishCodeSha256",
    "AutoPublishAliasAllProperties", "VersionDeletionPolicy", "PublishToLatestPublished",
    "Connectors",
)


def classify(name: str) -> str:
    """``"mapped"``, ``"noted"``, ``"no bearing"`` or ``"unknown"``."""
    if name in MAPPED:
        return "mapped"
    if name in NOTED:
        return "noted"
    if name in NO_BEARING:
        return "no bearing"
    return "unknown"
