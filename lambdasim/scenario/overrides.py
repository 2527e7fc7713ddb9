"""Overrides: ``--set KEY=VALUE`` and ``overrides={...}`` applied to the raw data by dotted path.

Values are parsed as YAML scalars or flow collections with the safe loader; a trigger may be
addressed by its index. Overrides apply before normalisation, so an overridden value is
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


def _apply_override(data: dict, key: str, value: Any) -> None:
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
            if not part.isdigit():
                raise ScenarioError(f"{'.'.join(parts[:depth]) or 'top level'} is a list; "
                                    f"expected a numeric index, got {part!r}", key=key, override=key)
            index = int(part)
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
