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

    class CfnLoader(yaml.SafeLoader):
        """Safe loader that reads CloudFormation short-form tags into their long form."""

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
    """Read a template; return it and the line of each resource (by logical ID)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise TemplateError(f"{path}: not a text file (expected a YAML or JSON template)") from None
    if not text.strip():
        raise TemplateError(f"{path}: the file is empty")
    lines: dict[str, int] = {}
    json_error = None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:  # may still be YAML in flow style
            json_error = TemplateError(f"{path}:{exc.lineno}: JSON syntax error: {exc.msg}")
    if json_error is not None or not text.lstrip().startswith("{"):
        loader = _loader_class()(text)
        try:
            node = loader.get_single_node()
            if node is not None and isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if getattr(key, "value", None) == "Resources" and isinstance(value, yaml.MappingNode):
                        for rkey, _ in value.value:
                            lines[str(rkey.value)] = rkey.start_mark.line + 1
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            if json_error is not None:
                raise json_error from None
            mark = exc.problem_mark or exc.context_mark
            what = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise TemplateError(f"{where}: {what}") from None
        except yaml.YAMLError as exc:
            raise TemplateError(f"{path}: YAML error: {exc}") from None
        finally:
            loader.dispose()
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: not a SAM or CloudFormation template (no Resources mapping at the top level)")
    for name, resource in data["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            where = f"{path}:{lines[name]}" if name in lines else str(path)
            raise TemplateError(f"{where}: Resources.{name}: a resource needs a Type")
    return data, lines
