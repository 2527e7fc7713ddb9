"""Which scenario keys this lambdasim knows, so the importers write only what validates.

Features arrive in the scenario format one issue at a time (SnapStart's ``snap_start``, a
``kafka`` trigger, provisioned SQS pollers...). ``fit`` and ``import-sam`` ask the declared
table (:data:`lambdasim.scenario.format.SCHEMA`) instead of assuming: a key the format has is
written; one it lacks is reported in a ``# Note:`` instead.
"""

from __future__ import annotations

from lambdasim.scenario.format import SCHEMA

__all__ = ["function_key", "trigger_types", "trigger_key"]


def _walk(fields, path: tuple[str, ...]) -> bool:
    for name in path:
        if not isinstance(fields, dict) or name not in fields:
            return False
        field = fields[name]
        while field.kind == "list" and field.item is not None:
            field = field.item
        fields = field.fields if field.kind == "map" else None
    return True


def function_key(*path: str) -> bool:
    """True when ``functions.<f>.<path...>`` is a key of the scenario format
    (``function_key("snap_start", "restore")``)."""
    return _walk(SCHEMA["functions"].item.fields, path)


def trigger_types() -> tuple[str, ...]:
    """The trigger types of the scenario format (``sync``, ``async``, ``sqs``, ...)."""
    triggers = SCHEMA["functions"].item.fields["triggers"].item
    return tuple(triggers.variants or ())


def trigger_key(kind: str, *path: str) -> bool:
    """True when a trigger of type ``kind`` takes the key ``path`` (``trigger_key("sqs",
    "report_batch_item_failures")``)."""
    triggers = SCHEMA["functions"].item.fields["triggers"].item
    variant = (triggers.variants or {}).get(kind)
    return variant is not None and _walk(dict(variant), path)
