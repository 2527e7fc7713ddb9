"""YAML loading with line numbers: a safe loader that records where every key is.

The loader is PyYAML's ``SafeLoader`` (no tags that build objects, nothing evaluated) with the
limits of :mod:`lambdasim.scenario.reading` (size, depth, alias bombs, recursive aliases, tags
the safe constructors cannot read); walking its node tree records the line of every mapping
key and sequence item by dotted path (``functions.checkout.triggers.0.arrivals``), so that a
validation error can name the line, and rejects duplicate keys.
"""
from __future__ import annotations

from typing import Any

from lambdasim.scenario.errors import ScenarioError
from lambdasim.scenario.reading import InputLimitError, load_yaml

__all__ = ["load_yaml_with_lines"]


def _load_yaml(text: str, file: str | None) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely, with limits; return the data and the line of every dotted path.

    Raises
    ------
    ScenarioError
        For anything :func:`lambdasim.scenario.reading.load_yaml` refuses, with the file, the
        line and (for a value that cannot be read) the dotted key.
    """
    try:
        return load_yaml(text)
    except InputLimitError as exc:
        raise ScenarioError(exc.message, file=file, key=exc.key, line=exc.line) from None


load_yaml_with_lines = _load_yaml
