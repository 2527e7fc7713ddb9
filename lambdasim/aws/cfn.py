"""CloudFormation templates read safely: YAML with the short-form intrinsic tags, or JSON.

CloudFormation and SAM templates use YAML tags for intrinsic functions (``!Ref Name``,
``!GetAtt Resource.Attribute``, ``!Sub "..."``, ``!Join [",", [...]]``, ``!If [...]``, ...;
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
A plain safe loader rejects them, so :func:`load_template` uses a subclass of
:class:`yaml.SafeLoader` that turns each known short form into its long form (``{"Ref": x}``,
``{"Fn::GetAtt": [resource, attribute]}``, ``{"Fn::Sub": ...}``) and refuses unknown tags with
their line. Nothing is evaluated, and every other tag (``!!python/...``) is refused as by any
safe loader. A template beginning with ``{`` is read as JSON first (then as flow-style YAML).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["TemplateError", "INTRINSICS", "load_template"]

#: Short-form tags of CloudFormation intrinsic functions and conditions.
INTRINSICS = ("Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select",
              "Split", "Sub", "Transform", "Ref", "Condition", "And", "Equals", "If", "Not", "Or",
              "ForEach", "Length", "ToJsonString")


class TemplateError(Exception):
    """A template cannot be read: the message names the file and, where known, the line."""


# ======================================================================================
# Loading
# ======================================================================================
def _loader_class():
    import yaml

    from lambdasim.scenario.reading import LimitedLoaderMixin

    class CfnLoader(LimitedLoaderMixin, yaml.SafeLoader):
        """Safe loader (with lambdasim's limits on size, depth and aliases) that reads
        CloudFormation short-form tags into their long form."""

    def construct(loader, suffix, node):
        if suffix not in INTRINSICS:
            raise yaml.constructor.ConstructorError(
                None, None, f"unknown intrinsic function tag !{suffix}", node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "Condition":
            return {"Condition": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", construct)
    return CfnLoader


def load_template(path: Path) -> tuple[dict, dict[str, int]]:
    """Read a template; return it and the line of each resource (by logical ID).

    The file is read with the limits of :mod:`lambdasim.scenario.reading` (64 MiB, nesting
    64 deep, no alias bombs or recursive aliases, numbers a float can hold), and its shape is
    checked: ``Resources`` a mapping of resources with a ``Type``, ``Properties``, ``Globals``,
    ``Globals.Function``, a function's ``Events`` and each event's ``Properties`` mappings.

    Raises
    ------
    TemplateError
        Naming the file, the line where known, and the key.
    """
    from lambdasim.scenario.reading import (MAX_YAML_BYTES, InputLimitError, load_json, load_yaml,
                                            read_text)

    try:
        text = read_text(path, MAX_YAML_BYTES, encoding="utf-8-sig", what="the template")
    except UnicodeDecodeError:
        raise TemplateError(f"{path}: not a text file (expected a YAML or JSON template)") from None
    except InputLimitError as exc:
        raise TemplateError(f"{path}: {exc.message}") from None
    if not text.strip():
        raise TemplateError(f"{path}: the file is empty")
    lines: dict[str, int] = {}
    json_error = None
    data: Any = None
    if text.lstrip().startswith("{"):
        try:
            data = load_json(text, allow_nan=True)
        except InputLimitError as exc:  # may still be YAML in flow style
            where = f"{path}:{exc.line}" if exc.line else str(path)
            json_error = TemplateError(f"{where}: {exc.message}")
    if json_error is not None or not text.lstrip().startswith("{"):
        try:
            data, paths = load_yaml(text, _loader_class())
        except InputLimitError as exc:
            if json_error is not None:
                raise json_error from None
            where = f"{path}:{exc.line}" if exc.line else str(path)
            key = f"{exc.key}: " if exc.key else ""
            message = exc.message.removeprefix("YAML tag refused: ")
            raise TemplateError(f"{where}: {key}{message}") from None
        lines = {key.split(".", 1)[1]: line for key, line in paths.items()
                 if key.startswith("Resources.") and key.count(".") == 1}
    _check_shape(data, path, lines)
    return data, lines


def _check_shape(data: Any, path: Path, lines: dict[str, int]) -> None:
    """The parts of a template lambdasim reads must be mappings where CloudFormation and SAM
    say so (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html,
    https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy.html)."""
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: not a SAM or CloudFormation template (no Resources mapping at the top level)")

    def fail(name: str | None, key: str, what: str) -> TemplateError:
        where = f"{path}:{lines[name]}" if name in lines else str(path)
        return TemplateError(f"{where}: {key}: {what}")

    for section in ("Globals", "Parameters", "Mappings"):
        if data.get(section) is not None and not isinstance(data[section], dict):
            raise fail(None, section, f"must be a mapping, got {_kind(data[section])}")
    globals_ = data.get("Globals") or {}
    for name, block in globals_.items():
        if block is not None and not isinstance(block, dict):
            raise fail(None, f"Globals.{name}", f"must be a mapping of properties, got {_kind(block)}")
    for name, resource in data["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise fail(name, f"Resources.{name}", "a resource needs a Type")
        props = resource.get("Properties")
        if props is not None and not isinstance(props, dict):
            raise fail(name, f"Resources.{name}.Properties", f"must be a mapping, got {_kind(props)}")
        events = (props or {}).get("Events")
        if events is None:
            continue
        if not isinstance(events, dict):
            raise fail(name, f"Resources.{name}.Properties.Events",
                       f"must be a mapping of events, got {_kind(events)}")
        for event_id, event in events.items():
            key = f"Resources.{name}.Properties.Events.{event_id}"
            if not isinstance(event, dict):
                raise fail(name, key, f"must be a mapping with Type and Properties, got {_kind(event)}")
            if event.get("Properties") is not None and not isinstance(event["Properties"], dict):
                raise fail(name, f"{key}.Properties", f"must be a mapping, got {_kind(event['Properties'])}")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"{value!r}"[:40]
