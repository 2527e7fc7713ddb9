"""Reading untrusted input with limits: file size, decompression, YAML and JSON.

Every file lambdasim reads (scenarios, traces, SAM and CloudFormation templates, REPORT logs)
comes from a user and may be hostile or simply absurd: a multi-gigabyte line, a gzip bomb, a
YAML alias bomb ("billion laughs"), a recursive alias, nesting thousands of levels deep, a
tag that the safe constructors cannot read (``!!int abc``, ``!!timestamp nope``), an impossible
date, an integer of 5,000 digits. This module is the boundary where all of that is refused,
before any other code sees the data, with a :class:`InputLimitError` that names the line where
one is known. Nothing here evaluates anything: YAML is read with :class:`yaml.SafeLoader`
semantics (or a subclass the caller passes, such as the CloudFormation loader).

Limits (module constants, documented in the README):

* :data:`MAX_YAML_BYTES` (64 MiB) for a YAML or JSON document read whole;
* :data:`MAX_DEPTH` (64) levels of nested lists and mappings;
* :data:`MAX_ALIAS_NODES` (1,000,000) nodes once aliases are expanded, and at most
  :data:`MAX_ALIAS_RATIO` times the nodes actually written, so an alias may be reused but not
  multiplied into a bomb; an alias inside its own anchor (a recursive structure) is refused;
* :data:`MAX_LOG_BYTES` (256 MiB) of decompressed text per log file, and lines of at most
  :data:`MAX_LINE_BYTES` (1 MiB), checked while reading in chunks (:func:`read_bytes`), so a
  bomb is stopped after reading at most the limit.

Loaders record the line of every dotted path (``functions.checkout.memory_mb`` -> 12) without
expanding aliases: a path below an alias takes the line of the alias.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any, Iterator

import yaml

__all__ = [
    "InputLimitError",
    "MAX_YAML_BYTES",
    "MAX_DEPTH",
    "MAX_ALIAS_NODES",
    "MAX_ALIAS_RATIO",
    "MAX_LOG_BYTES",
    "MAX_LINE_BYTES",
    "read_text",
    "read_bytes",
    "load_yaml",
    "load_json",
    "shorten",
    "one_line",
]

MAX_YAML_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 1_000_000
MAX_ALIAS_RATIO = 10
MAX_LOG_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
_CHUNK = 1 << 20


class InputLimitError(OSError):
    """Input that cannot be read safely: too large, too deep, a bomb, or malformed.

    An :class:`OSError` (the file cannot be read), so code that already reports a file it
    cannot read reports these too.

    Attributes
    ----------
    message : str
        What is wrong, one line.
    line : int or None
        1-based line in the file, when known.
    key : str or None
        Dotted path of the value, when known.
    """

    def __init__(self, message: str, line: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.key = key


# ======================================================================================
# Messages
# ======================================================================================
def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x00``, ``\\ud800``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shorten(text: str, limit: int = 80) -> str:
    """One line of at most about ``limit`` characters: the start, an ellipsis, the length."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text):,} characters)"


# ======================================================================================
# Files
# ======================================================================================
def _open(path: Path):
    """Open a file for reading bytes, transparently gunzipped when it starts like gzip."""
    raw = open(path, "rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
    except BaseException:
        raw.close()
        raise
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


def read_bytes(path: str | Path, max_bytes: int = MAX_LOG_BYTES, *, what: str = "file",
               max_line: int | None = MAX_LINE_BYTES) -> bytes:
    """The bytes of a file (gunzipped when compressed), at most ``max_bytes`` of them.

    A plain file larger than the limit is refused before reading; decompression streams in
    1 MiB chunks, so a gzip bomb costs at most ``max_bytes`` of memory before it is refused.
    With ``max_line``, a line longer than that (a 1 GiB line) is refused as soon as it passes
    the limit.

    Raises
    ------
    OSError
        When the file cannot be read.
    InputLimitError
        When the (decompressed) content exceeds ``max_bytes``, a line exceeds ``max_line``, or
        the gzip data is corrupt.
    """
    stream, raw = _open(Path(path))
    compressed = stream is not raw
    parts: list[bytes] = []
    total = 0
    run = 0  # bytes since the last line end; a line within one chunk is shorter than a chunk
    try:
        if not compressed and os.fstat(raw.fileno()).st_size > max_bytes:
            raise InputLimitError(f"{what} size exceeds the limit of {_mib(max_bytes)}; split it into "
                                  "smaller files")
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                size = "decompressed size" if compressed else "size"
                raise InputLimitError(
                    f"{what} {size} exceeds the limit of {_mib(max_bytes)}; split it into smaller files")
            if max_line is not None:
                first = chunk.find(b"\n")
                run += len(chunk) if first < 0 else first
                if run > max_line:
                    line = b"".join(parts).count(b"\n") + 1
                    raise InputLimitError(f"a line longer than {_mib(max_line)}; is this a text file?",
                                          line=line)
                if first >= 0:
                    run = len(chunk) - chunk.rfind(b"\n") - 1
            parts.append(chunk)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputLimitError(f"corrupt gzip data: {exc}") from None
    finally:
        stream.close()
        raw.close()
    return b"".join(parts)


def read_text(path: str | Path, max_bytes: int = MAX_YAML_BYTES, *, encoding: str = "utf-8",
              what: str = "file") -> str:
    """A text file decoded with ``encoding``, refused when larger than ``max_bytes``.

    Raises
    ------
    OSError, UnicodeDecodeError
        When the file cannot be read or decoded.
    InputLimitError
        When it is larger than ``max_bytes``.
    """
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputLimitError(f"{what} is larger than the limit of {_mib(max_bytes)}")
    return data.decode(encoding)


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


# ======================================================================================
# YAML
# ======================================================================================
class _BadNode(Exception):
    """A scalar the safe constructors cannot read (``!!int abc``, a date 2025-13-45)."""

    def __init__(self, node: yaml.Node, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.node = node
        self.exc = exc


class LimitedLoaderMixin:
    """Mixed into a :class:`yaml.SafeLoader` subclass: depth and recursion checks while
    composing, and constructor errors tied to their node."""

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        depth = getattr(self, "_depth", 0)
        open_anchors = self.__dict__.setdefault("_open_anchors", set())
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in open_anchors:
                raise InputLimitError(
                    f"recursive alias *{shorten(event.anchor, 40)} (an anchor used inside itself)",
                    line=event.start_mark.line + 1)
            return super().compose_node(parent, index)
        event = self.peek_event()
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if collection and depth >= MAX_DEPTH:
            raise InputLimitError(f"nested deeper than {MAX_DEPTH} levels",
                                  line=event.start_mark.line + 1)
        anchor = event.anchor if collection else None
        if anchor is not None:
            open_anchors.add(anchor)
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth
            if anchor is not None:
                open_anchors.discard(anchor)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError) as exc:
            raise _BadNode(node, exc) from None


class LimitedSafeLoader(LimitedLoaderMixin, yaml.SafeLoader):
    """:class:`yaml.SafeLoader` with :class:`LimitedLoaderMixin`'s checks."""


def _walk(root: yaml.Node) -> tuple[dict[str, int], dict[int, str], list[tuple[str, int, str]]]:
    """Lines by dotted path, paths by node id and duplicate keys, without expanding aliases.

    Also enforces the expanded-size limits. Iterative, so no recursion whatever the depth.
    """
    lines: dict[str, int] = {}
    paths: dict[int, str] = {}
    duplicates: list[tuple[str, int, str]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        paths[id(node)] = path
        if isinstance(node, yaml.MappingNode):
            names: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    stack.append((value_node, path))
                    continue
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
                line = key_node.start_mark.line + 1
                child = f"{path}.{name}" if path else str(name)
                if name in names:
                    duplicates.append((child, line, f"duplicate key {shorten(str(name), 60)!r} "
                                                    f"(first defined on line {names[name]})"))
                names[name] = line
                lines.setdefault(child, line)
                paths.setdefault(id(key_node), child)
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{path}.{index}" if path else str(index)
                lines.setdefault(child, item.start_mark.line + 1)
                stack.append((item, child))
    _check_expansion(root, len(seen))
    return lines, paths, duplicates


def _check_expansion(root: yaml.Node, distinct: int) -> None:
    """Refuse alias bombs: count nodes as if aliases were expanded, memoised per node."""
    size: dict[int, int] = {}
    limit = min(MAX_ALIAS_NODES, max(10_000, MAX_ALIAS_RATIO * distinct))
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in size:
            continue
        children: list[yaml.Node]
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            size[id(node)] = 1
            continue
        if ready:
            total = 1 + sum(size[id(c)] for c in children)
            size[id(node)] = total
            if total > limit:
                raise InputLimitError(
                    f"aliases expand to more than {limit:,} values (an alias bomb?); "
                    "write the values out or reuse fewer aliases",
                    line=node.start_mark.line + 1)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)


def _yaml_error_line(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark else None


def _tag_name(tag: str | None) -> str:
    if not tag:
        return "value"
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:"):]
    return tag


def load_yaml(text: str, loader_class: type = LimitedSafeLoader,
              max_bytes: int = MAX_YAML_BYTES) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document with limits; return the data and the line of every dotted path.

    Parameters
    ----------
    text : str
        The document.
    loader_class : type
        A :class:`yaml.SafeLoader` subclass that includes :class:`LimitedLoaderMixin`.
    max_bytes : int
        Longest accepted text, in characters.

    Returns
    -------
    tuple
        ``(data, lines)``; ``data`` is None for an empty document.

    Raises
    ------
    InputLimitError
        For a syntax error, a duplicate key, a value the safe constructors refuse, nesting
        deeper than :data:`MAX_DEPTH`, a recursive alias or an alias bomb; ``line`` and
        ``key`` say where when known.
    """
    if not issubclass(loader_class, LimitedLoaderMixin):
        raise TypeError("load_yaml needs a loader class that includes LimitedLoaderMixin")
    if len(text) > max_bytes:
        raise InputLimitError(f"larger than the limit of {_mib(max_bytes)}")
    loader = None
    paths: dict[int, str] = {}
    try:
        loader = loader_class(text)
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines, paths, duplicates = _walk(node)
        if duplicates:
            key, line, message = min(duplicates, key=lambda d: d[1])
            raise InputLimitError(message, line=line, key=key)
        data = loader.construct_document(node)
    except _BadNode as bad:
        node = bad.node
        value = node.value if isinstance(node, yaml.ScalarNode) else ""
        reason = str(bad.exc)
        if "Exceeds the limit" in reason:
            reason = "an integer with more than 4,300 digits"
        elif isinstance(bad.exc, AttributeError) or not reason:
            reason = "not in the form this tag needs"
        if node.tag == "tag:yaml.org,2002:timestamp" and "must be" in reason:
            reason = f"an impossible date ({reason})"
        raise InputLimitError(
            f"cannot read {shorten(repr(value), 60)} as {_tag_name(node.tag)}: {shorten(reason, 100)}",
            line=node.start_mark.line + 1, key=paths.get(id(node)) or None) from None
    except yaml.MarkedYAMLError as exc:
        what = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        # A tag the loader refuses is not a syntax error: say what it is.
        kind = "YAML tag refused" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise InputLimitError(f"{kind}: {shorten(what, 160)}", line=_yaml_error_line(exc)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        char = exc.character
        shown = f"#x{ord(char):04x}" if isinstance(char, str) else f"#x{char:02x}"
        raise InputLimitError(f"YAML syntax error: unacceptable character {shown} ({exc.reason})",
                              line=line) from None
    except yaml.YAMLError as exc:
        raise InputLimitError(f"YAML syntax error: {shorten(str(exc), 160)}") from None
    except RecursionError:  # a safety net: MAX_DEPTH keeps the composer far from the limit
        raise InputLimitError(f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


# ======================================================================================
# JSON
# ======================================================================================
def _reject_constant(name: str) -> Any:
    raise InputLimitError(f"{name} is not valid JSON")


def load_json(text: str, *, allow_nan: bool = False, max_depth: int = MAX_DEPTH,
              max_bytes: int = MAX_LOG_BYTES) -> Any:
    """Parse JSON with limits on size, depth and numbers.

    Parameters
    ----------
    text : str
        The document.
    allow_nan : bool
        Accept the non-standard ``NaN``, ``Infinity`` and ``-Infinity`` (read as floats).
    max_depth : int
        Deepest nesting of arrays and objects accepted.
    max_bytes : int
        Longest accepted text, in characters.

    Raises
    ------
    InputLimitError
        For a syntax error (with its line), nesting deeper than ``max_depth``, an integer of
        more than 4,300 digits, a number too large for a float, or (unless ``allow_nan``) a
        non-finite constant.
    """
    if len(text) > max_bytes:
        raise InputLimitError(f"larger than the limit of {_mib(max_bytes)}")
    try:
        data = json.loads(text, parse_constant=None if allow_nan else _reject_constant,
                          parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InputLimitError(f"JSON syntax error: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise InputLimitError(f"JSON nested deeper than {max_depth} levels") from None
    except InputLimitError:
        raise
    except ValueError as exc:  # the int digit limit
        reason = "an integer with more than 4,300 digits" if "digits" in str(exc) else shorten(str(exc))
        raise InputLimitError(f"JSON number refused: {reason}") from None
    _check_depth(data, max_depth)
    return data


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputLimitError(f"JSON number {shorten(text, 40)} is too large for a float")
    return value


def _check_depth(data: Any, max_depth: int) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            raise InputLimitError(f"JSON nested deeper than {max_depth} levels")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
