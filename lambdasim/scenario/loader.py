"""Scenarios: load a YAML file, apply overrides, normalise, fill defaults, validate, freeze.

A scenario file describes an account, its functions and their traffic (DESIGN.md, "The scenario
file"). This module turns it into a *resolved* config: a plain, JSON-serialisable dict in which
every key is present, every time is seconds as a float, every rate is per second, every
distribution and arrival spec is in canonical form. The model reads only the resolved config,
and every result stores it, so a run can be reproduced from its output.

The pipeline follows Ciw and desmod:

1. Load YAML with a safe loader that records the line of every mapping key and sequence item
   (by dotted path, ``functions.checkout.triggers.0.arrivals``) and rejects duplicate keys.
2. Apply overrides (``--set functions.checkout.memory_mb=2048``) to the raw data by dotted path.
3. Normalise shorthands, fill defaults and validate, all driven by ONE declared table of fields
   (:data:`SCHEMA`); :func:`json_schema` is generated from the same table. The table is this
   module's; the machinery that reads it (:class:`~lambdasim.scenario.fields.Field`, resolution, schema
   generation) is generic and lives in :mod:`lambdasim.scenario.fields`.
4. Cross-field checks (reserved concurrency, warmup < duration, unique trigger names), then
   freeze into a :class:`Scenario`.

Every problem is a :class:`ScenarioError` naming the file, the line, the dotted key and what
was expected, e.g. ``peak.yaml:12: functions.checkout.memory_mb: must be between 128 and
10240, got 99999``. Nothing from a file is ever evaluated as code.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import marshal
import pickle
from pathlib import Path
from typing import Any, Iterable, Mapping


from lambdasim.scenario.fields import Context, check_text, describe, resolve_map
from lambdasim.scenario.units import SpecError
from lambdasim.scenario.checks import _cross_checks
from lambdasim.scenario.errors import ScenarioError
from lambdasim.scenario.format import SCHEMA, _FUNCTION
from lambdasim.scenario.overrides import _apply_override, _normalise_overrides
from lambdasim.scenario.reading import InputLimitError, read_text
from lambdasim.scenario.yaml_lines import _load_yaml

__all__ = ["Scenario", "load_scenario"]


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A loaded, fully resolved scenario.

    Attributes
    ----------
    name : str
        Scenario name (``config["name"]``).
    path : str or None
        The file it was loaded from.
    config : dict
        The resolved config (JSON-serialisable; see DESIGN.md and this module's docstring).
    """

    name: str
    path: str | None
    config: dict
    _raw: Any = dataclasses.field(default=None, repr=False, compare=False)
    _lines: Mapping[str, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    _overrides: tuple = dataclasses.field(default=(), repr=False, compare=False)

    @property
    def seed(self) -> int:
        """Root random seed."""
        return self.config["seed"]

    @property
    def duration_s(self) -> float:
        """Simulated horizon in seconds."""
        return self.config["duration"]

    @property
    def warmup_s(self) -> float:
        """Warm-up in seconds."""
        return self.config["warmup"]

    @property
    def period_s(self) -> float:
        """Metrics period in seconds."""
        return self.config["period"]

    @property
    def functions(self) -> dict:
        """Resolved functions by name."""
        return self.config["functions"]

    def states(self, dotted: str) -> bool:
        """Whether the file or an override states the key ``dotted`` (not a default)."""
        if self._overrides and any(key == dotted or dotted.startswith(key + ".")
                                   for key, _ in self._overrides):
            return True
        node: Any = self._raw
        for part in dotted.split("."):
            # A plain dict (what YAML gives) without the ABC check: asked a few times per
            # function, thousands of functions.
            if not (type(node) is dict or isinstance(node, Mapping)) or part not in node:
                return False
            node = node[part]
        return True

    def warnings(self) -> list[str]:
        """One-line notes about a valid scenario that may not say what its author means.

        ``functions.NAME.reference_mb``: a function whose duration scales with memory
        (``memory_scaling.cpu_bound`` above 0) and that leaves the memory its durations were
        measured at implicit takes it from ``memory_mb`` as written, so editing ``memory_mb``
        keeps the handler time while ``--set`` changes it; stating it makes both agree.
        """
        out = []
        for name, function in self.functions.items():
            if function["memory_scaling"]["cpu_bound"] > 0 and not self.states(
                    f"functions.{name}.reference_mb"):
                key = f"functions.{name}.reference_mb"
                line = self._lines.get(f"functions.{name}.memory_scaling") or self._lines.get(
                    f"functions.{name}")
                where = f"{self.path}:{line}: " if self.path and line else (
                    f"{self.path}: " if self.path else "")
                out.append(
                    f"{where}{key}: not stated; durations are taken as measured at memory_mb as "
                    f"written ({function['reference_mb']} MB) -- state reference_mb so that "
                    f"editing memory_mb and --set give the same answer")
        return out

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> "Scenario":
        """Return a new scenario re-resolved from the raw data plus earlier and new overrides.

        Parameters
        ----------
        overrides : mapping or iterable of str
            ``{"seed": 7}`` or ``["seed=7"]``; later overrides win.
        """
        combined = [*self._overrides, *_normalise_overrides(overrides)]
        return _build(self._raw, self.path, dict(self._lines), combined)


def load_scenario(
    source: str | Path | Mapping[str, Any],
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
) -> Scenario:
    """Load, override, normalise, default and validate a scenario.

    Parameters
    ----------
    source : str, Path or mapping
        Path of a YAML file, or already-parsed data (then errors carry no file or line). A
        resolved config (e.g. ``summary["config"]``) loads to the same config.
    overrides : mapping or iterable of str, optional
        ``{"functions.checkout.memory_mb": 2048}`` or ``["seed=7", ...]`` (``--set`` strings).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With file, dotted key and line where known.
    """
    if isinstance(source, Mapping):
        raw, path, lines = plain_copy(dict(source)), None, {}
    elif isinstance(source, (str, Path)):
        path = str(source)
        file = Path(source)
        try:
            text = read_text(file, what="the scenario file")
        except InputLimitError as exc:
            raise ScenarioError(exc.message, file=path) from None
        except FileNotFoundError:
            raise ScenarioError("file not found", file=path) from None
        except IsADirectoryError:
            raise ScenarioError("is a directory, expected a scenario file", file=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"cannot read the file: {exc}", file=path) from None
        raw, lines = _load_yaml(text, path)
        if raw is None:
            raise ScenarioError("the file is empty; a scenario needs at least duration and functions", file=path)
    else:
        raise TypeError(f"load_scenario expects a path or a mapping, got {type(source).__name__}")
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"the top level must be a mapping of keys such as duration and functions, got {describe(raw)}",
            file=path,
            line=1 if path else None,
        )
    return _build(raw, path, lines, _normalise_overrides(overrides))


def _build(raw: dict, path: str | None, lines: dict[str, int], overrides: list) -> Scenario:
    data = plain_copy(raw)
    for key, value in overrides:
        _apply_override(data, key, value)
    functions = raw.get("functions") if isinstance(raw.get("functions"), Mapping) else {}
    # reference_mb defaults to memory_mb as written in the file (or its default when absent), so
    # an override of memory_mb changes the duration through memory_scaling.
    default_memory = _FUNCTION["memory_mb"].default
    written = {n: f.get("memory_mb", default_memory) for n, f in functions.items() if isinstance(f, Mapping)}
    # Likewise reference_architecture: the architecture as written in the file.
    default_arch = _FUNCTION["architecture"].default
    written_arch = {n: f.get("architecture", default_arch) for n, f in functions.items()
                    if isinstance(f, Mapping)}
    ctx = Context(
        file=path,
        base_dir=Path(path).resolve().parent if path else None,
        default_name=Path(path).stem if path else "scenario",
        written_memory=written,
        written_architecture=written_arch,
    )
    try:
        config = resolve_map(data, SCHEMA, "", ctx)
        _cross_checks(config)
        _check_writable(config)
    except SpecError as exc:
        raise _locate(exc, path, lines, overrides) from None
    config = plain_copy(config)
    return Scenario(config["name"], path, config, plain_copy(raw), dict(lines), tuple(overrides))


def plain_copy(data: Any) -> Any:
    """A deep copy of scenario data (plain dicts, lists, str, numbers, None: a raw or resolved
    configuration).

    Through marshal, which writes exactly these types (about 1.5 x as fast as pickle, many
    times faster than ``copy.deepcopy``, for thousands of functions); through pickle when
    something else is in it (marshal refuses any other type, subclasses included); through
    ``copy.deepcopy`` for what pickle cannot take (an object of the caller's).
    """
    try:
        return marshal.loads(marshal.dumps(data))
    except ValueError:
        pass
    try:
        return pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - whatever pickle refuses, deepcopy may copy
        return copy.deepcopy(data)


def _check_writable(config: Any) -> None:
    """Whatever validates must write: no string that is not valid Unicode (a lone surrogate)
    or holds a NUL, no non-finite number, anywhere in the resolved config (it is written
    into summary.json and report.html).

    Raises
    ------
    SpecError
        Naming the dotted key of the first such value.
    """
    if _writable(config):
        return
    # Something is not: the same walk again, naming the dotted key of the first one.
    stack: list[tuple[Any, str]] = [(config, "")]
    while stack:
        value, key = stack.pop()
        if isinstance(value, str):
            check_text(value, key or None)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise SpecError(f"must be a finite number, got {value}", key or None)
        elif isinstance(value, dict):
            for name, item in value.items():
                sub = f"{key}.{name}" if key else str(name)
                if isinstance(name, str):
                    check_text(name, sub)
                stack.append((item, sub))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, f"{key}.{i}" if key else str(i)) for i, item in enumerate(value))


def _writable(config: Any) -> bool:
    """Whether :func:`_check_writable` would pass ``config``: the same checks without the
    dotted keys (a thousand functions' configs hold a hundred thousand values)."""
    stack: list[Any] = [config]
    try:
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                if not value.isascii() or "\0" in value:
                    check_text(value, None)
            elif isinstance(value, float):
                if not math.isfinite(value):
                    return False
            elif isinstance(value, dict):
                for name in value:
                    if isinstance(name, str) and (not name.isascii() or "\0" in name):
                        check_text(name, None)
                stack.extend(value.values())
            elif isinstance(value, (list, tuple)):
                stack.extend(value)
    except SpecError:
        return False
    return True


def _locate(exc: SpecError, path: str | None, lines: Mapping[str, int], overrides: list) -> ScenarioError:
    """Attach the file and line (or the --set option) to a validation error."""
    key = exc.key
    if key:
        for okey, _ in reversed(overrides):
            if key == okey or key.startswith(okey + "."):
                return ScenarioError(exc.message, file=path, key=key, override=okey)
    line, found = None, ""
    probe = key or ""
    while probe:
        if probe in lines:
            line, found = lines[probe], probe
            break
        probe = probe.rpartition(".")[0]
    if key:
        # A key missing from the file below something an override created (e.g. a new function
        # added with --set) belongs to that override, not to the nearest line of the file.
        depth = found.count(".") + 1 if found else 0
        for okey, _ in reversed(overrides):
            shared = _common_depth(key, okey)
            if shared > depth:
                return ScenarioError(exc.message, file=path, key=key, override=okey)
    return ScenarioError(exc.message, file=path, key=key, line=line)


def _common_depth(a: str, b: str) -> int:
    """Number of leading dotted components shared by two keys."""
    depth = 0
    for x, y in zip(a.split("."), b.split(".")):
        if x != y:
            break
        depth += 1
    return depth
