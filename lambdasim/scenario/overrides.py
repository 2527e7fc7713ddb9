"""Overrides: ``--set KEY=VALUE`` and ``overrides={...}`` applied to the raw data by dotted path.

Values are parsed as YAML scalars or flow collections with the safe loader; a trigger may be
addressed by its index or its name (``functions.checkout.triggers.api.arrivals.rate``), and
``triggers.NAME...`` finds the one function with a trigger of that name. Overrides apply before normalisation, so an overridden value is
validated like one written in the file, and an error names the ``--set`` option it came from.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Mapping

from lambdasim.scenario.reading import InputLimitError, load_yaml, shorten

from lambdasim.scenario.fields import describe
from lambdasim.scenario.errors import ScenarioError

__all__ = ["parse_set_option", "normalise_overrides", "apply_override"]


_DOTTED = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


def parse_set_option(text: str) -> tuple[str, Any]:
    """Parse a command-line override ``KEY=VALUE``.

    Parameters
    ----------
    text : str
        ``functions.checkout.memory_mb=2048``; the value is read as YAML (``2048`` an int,
        ``250ms`` a string, ``true`` a boolean, ``[1, 2]`` a list).

    Returns
    -------
    tuple
        ``(dotted_key, value)``.

    Raises
    ------
    ScenarioError
        When the text is not ``KEY=VALUE`` with a dotted key, or the value is not valid YAML.
    """
    if not isinstance(text, str) or "=" not in text:
        raise ScenarioError(
            f"--set expects KEY=VALUE (e.g. functions.checkout.memory_mb=2048), got {text!r}"
        )
    key, _, value_text = text.partition("=")
    key = key.strip()
    if not _DOTTED.match(key):
        raise ScenarioError(
            f"--set expects KEY=VALUE with a dotted KEY such as functions.checkout.memory_mb, "
            f"got {text!r}"
        )
    try:
        value, _ = load_yaml(value_text)
    except InputLimitError as exc:
        raise ScenarioError(f"cannot read the value {shorten(repr(value_text))}: {exc.message}",
                            key=key, override=key) from None
    return key, value


def _normalise_overrides(overrides: Any) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, str):
        overrides = [overrides]
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        items = [parse_set_option(o) if isinstance(o, str) else tuple(o) for o in overrides]
    out = []
    for key, value in items:
        if not isinstance(key, str) or not _DOTTED.match(key):
            raise ScenarioError(f"override keys are dotted paths such as seed or functions.f.memory_mb, got {key!r}")
        out.append((key, value))
    return out


def _named_index(items: list, name: str) -> int | None:
    """The position of the entry called ``name`` in a list of mappings (a trigger's ``name``,
    or its default ``<type>-<index>``), or None."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and (
                item.get("name") == name
                or (item.get("name") is None and f"{item.get('type')}-{index}" == name)):
            return index
    return None


def _item_names(items: list) -> str:
    names = [str(item.get("name") or f"{item.get('type')}-{i}") if isinstance(item, dict)
             else str(i) for i, item in enumerate(items)]
    return ", ".join(names) or "none"


def _resolve_trigger_shortcut(data: dict, key: str) -> str:
    """``triggers.NAME.rest`` -> ``functions.F.triggers.NAME.rest`` for the one function that
    has a trigger called NAME."""
    parts = key.split(".")
    if parts[0] != "triggers" or "triggers" in data or len(parts) < 2:
        return key
    functions = data.get("functions") if isinstance(data.get("functions"), dict) else {}
    owners = [f for f, spec in functions.items() if isinstance(spec, dict)
              and isinstance(spec.get("triggers"), list)
              and _named_index(spec["triggers"], parts[1]) is not None]
    if len(owners) == 1:
        return ".".join(["functions", owners[0]] + parts)
    if not owners:
        names = sorted({str(t.get("name") or f"{t.get('type')}-{i}")
                        for spec in functions.values() if isinstance(spec, dict)
                        for i, t in enumerate(spec.get("triggers") or ())
                        if isinstance(t, dict)})
        raise ScenarioError(f"no trigger named {parts[1]!r}; triggers: "
                            f"{', '.join(names) or 'none'}", key=key, override=key)
    raise ScenarioError(f"trigger name {parts[1]!r} is used by functions "
                        f"{', '.join(owners)}; say which: functions.{owners[0]}.{key}",
                        key=key, override=key)


def _apply_override(data: dict, key: str, value: Any) -> None:
    key = _resolve_trigger_shortcut(data, key)
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[part] = copy.deepcopy(value)
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        elif isinstance(node, list):
            if part.isdigit():
                index = int(part)
            else:  # a trigger (or any named entry) by its name
                found = _named_index(node, part)
                if found is None:
                    raise ScenarioError(
                        f"{'.'.join(parts[:depth]) or 'top level'} has no entry named "
                        f"{part!r}; give an index or a name: {_item_names(node)}",
                        key=key, override=key)
                index = found
            if index > len(node) or (index == len(node) and not last):
                raise ScenarioError(f"index {index} is out of range for {'.'.join(parts[:depth])} "
                                    f"(length {len(node)})", key=key, override=key)
            if last:
                if index == len(node):
                    node.append(copy.deepcopy(value))
                else:
                    node[index] = copy.deepcopy(value)
            else:
                node = node[index]
        else:
            raise ScenarioError(f"cannot set {here}: {'.'.join(parts[:depth])} is "
                                f"{describe(node)}, not a mapping", key=key, override=key)



normalise_overrides = _normalise_overrides
apply_override = _apply_override
