"""YAML loading with line numbers: a safe loader that records where every key is.

The loader is PyYAML's ``SafeLoader`` (no tags that build objects, nothing evaluated); walking
its node tree records the line of every mapping key and sequence item by dotted path
(``functions.checkout.triggers.0.arrivals``), so that a validation error can name the line,
and rejects duplicate keys.
"""
from __future__ import annotations

from typing import Any

import yaml

from lambdasim.scenario.errors import ScenarioError

__all__ = ["load_yaml_with_lines"]


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader; :func:`_load_yaml` walks its node tree to record lines."""


def _record_lines(node: yaml.Node, path: str, lines: dict[str, int], file: str | None) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _record_lines(value_node, path, lines, file)
                continue
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            child = f"{path}.{name}" if path else str(name)
            if name in seen:
                raise ScenarioError(
                    f"duplicate key {name!r} (first defined on line {seen[name]})",
                    file=file,
                    key=child,
                    line=line,
                )
            seen[name] = line
            lines[child] = line
            _record_lines(value_node, child, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}.{index}" if path else str(index)
            lines[child] = item.start_mark.line + 1
            _record_lines(item, child, lines, file)


def _load_yaml(text: str, file: str | None) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely; return the data and the line of every dotted path."""
    lines: dict[str, int] = {}
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        _record_lines(node, "", lines, file)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScenarioError(
            f"YAML syntax error: {what or exc}", file=file, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML syntax error: {exc}", file=file) from None
    finally:
        loader.dispose()
    return data, lines



load_yaml_with_lines = _load_yaml
