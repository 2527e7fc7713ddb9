"""Declarative fields: one table drives normalisation, defaults, validation and the JSON Schema.

A configuration format is described once, as data: a table mapping each key to a
:class:`Field` that states its kind (integer, time, enum, distribution, nested map, list,
user-named entries, tagged variant, ...), its default, its bounds and a line of documentation.
Everything else is derived from that table, so the four can never disagree:

* **normalisation** — shorthands become canonical values (``"250ms"`` → ``0.25`` seconds,
  ``"5/s"`` → a rate, a bare time → a constant distribution, an enum list → declared order);
* **defaults** — absent keys take the declared default, or a :class:`Computed` default derived
  from already-resolved siblings and the :class:`Context` (e.g. ``reference_mb`` from
  ``memory_mb``); keys marked :data:`REQUIRED` must be present;
* **validation** — every value is checked against its kind and bounds, and unknown keys are
  rejected with a "did you mean" hint; errors are :class:`~lambdasim.scenario.units.SpecError` naming the
  dotted key (``functions.checkout.memory_mb``), which the caller turns into a file and line;
* **the JSON Schema** — :func:`schema_for` renders the same table as draft 2020-12.

:func:`resolve_map` resolves raw data against a table and returns a plain, JSON-serialisable
dict in which every declared key is present, in declared order, so resolving a resolved config
again gives the same config. This module holds no table of its own: the scenario table, its
field-specific checks and computed defaults and its cross-field rules live in
:mod:`lambdasim.scenario` (the only lambdasim-specific parts here are the ``dist`` and
``arrivals`` kinds and the few :class:`Context` attributes those computed defaults read).
Nothing is ever evaluated as code; distributions and arrival processes come from the whitelist
registries of :mod:`lambdasim.scenario.distributions` and :mod:`lambdasim.scenario.arrivals`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import difflib
import math
import pickle
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import arrivals as _arrivals
from . import distributions as _distributions
from lambdasim.scenario.reading import shorten
from lambdasim.scenario.units import (DURATION_PATTERN, RATE_PATTERN, SpecError, parse_duration,
                                      parse_number, parse_rate)

__all__ = ["REQUIRED", "Computed", "Field", "Context", "resolve_map", "describe", "schema_for"]

# ======================================================================================
# Fields
# ======================================================================================
#: Marker default of a key that must be given.
REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Computed:
    """A default computed from already-resolved sibling values and the load context."""

    fn: Callable[[dict, "Context"], Any]
    doc: str


@dataclasses.dataclass(frozen=True)
class Field:
    """One key of a declared table: its kind, default, bounds and documentation.

    ``kind`` is one of ``int``, ``float``, ``time``, ``rate`` (per second), ``str``, ``bool``, ``enum``, ``date``,
    ``dist``, ``arrivals``, ``map`` (fixed keys in ``fields``), ``named`` (user-chosen names
    matching ``pattern`` mapping to ``item``), ``list`` (of ``item``) and ``variant`` (a map
    whose ``discriminator`` key selects one of ``variants``).

    ``default`` is a value (resolved like a written one), a :class:`Computed` default, or
    :data:`REQUIRED`. ``check`` runs on the resolved value and raises
    :class:`~lambdasim.scenario.units.SpecError` to reject it. ``unsupported`` lists discriminator values
    of a ``variant`` that are known but not modelled yet; ``label`` names the variant in errors.
    """

    kind: str
    default: Any = REQUIRED
    doc: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple = ()
    fields: Mapping[str, "Field"] | None = None
    item: "Field | None" = None
    pattern: str | None = None
    nullable: bool = False
    unique: bool = False
    discriminator: str | None = None
    variants: Mapping[str, Mapping[str, "Field"]] | None = None
    unsupported: tuple = ()
    check: Callable[[Any, str, "Context"], None] | None = None
    label: str = ""
    #: For a ``map``: the name of one of its ``fields``; a raw value that is not a mapping is
    #: taken as that key's value (``provisioned_concurrency: 50`` means ``{capacity: 50}``).
    shorthand: str | None = None


@dataclasses.dataclass
class Context:
    """State shared by one resolution: the source, and where in the table it has got to.

    ``base_dir`` is the folder relative files (empirical distributions) are read from;
    ``default_name``, ``written_memory`` and ``written_architecture`` feed computed defaults. Resolution sets
    ``function`` to the entry being resolved inside a ``named`` field and ``index`` to the
    position inside a ``list``, so that computed defaults can use them.
    """

    file: str | None
    base_dir: Path | None
    default_name: str
    written_memory: dict[str, Any]
    function: str | None = None
    written_architecture: dict[str, Any] | None = None
    index: int | None = None


# ======================================================================================
# Resolution driven by the table
# ======================================================================================
def describe(value: Any) -> str:
    """Describe a raw value for an error message: ``'abc' (a string)``, ``a mapping``, ``null``."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"{shorten(repr(value))} (a string)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{shorten(repr(value))} (a {type(value).__name__})"


def check_text(text: str, key: str | None) -> None:
    """Refuse text that cannot be written: a lone surrogate (``"\\ud800"`` is valid YAML but
    not UTF-8) or a NUL character.

    Raises
    ------
    SpecError
    """
    if text.isascii() and "\0" not in text:  # the common case, at C speed
        return
    if "\0" in text:
        raise SpecError(f"must not contain a NUL character, got {shorten(repr(text))}", key)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SpecError(f"is not valid Unicode text (a lone surrogate such as \\ud800), got "
                        f"{shorten(repr(text))}", key) from None


def _range_message(field: Field, shown: Any) -> str | None:
    lo, hi = field.minimum, field.maximum
    if lo is not None and hi is not None:
        return f"must be between {lo:g} and {hi:g}, got {shown}"
    if lo is not None:
        return f"must be {'>' if field.exclusive_minimum else '>='} {lo:g}, got {shown}"
    return f"must be <= {hi:g}, got {shown}"


def _check_range(value: float, field: Field, key: str, raw: Any) -> None:
    lo, hi = field.minimum, field.maximum
    bad = (lo is not None and (value <= lo if field.exclusive_minimum else value < lo)) or (
        hi is not None and value > hi
    )
    if bad:
        shown = shorten(raw) if isinstance(raw, str) else f"{value:g}"
        raise SpecError(_range_message(field, shown), key)


def _resolve(raw: Any, field: Field, key: str, ctx: Context) -> Any:
    """Resolve one raw value against its field (default already substituted)."""
    kind = field.kind
    if raw is None and field.nullable:
        return None
    if raw is None and kind in ("map", "variant"):
        raw = {}
    if field.shorthand is not None and not isinstance(raw, Mapping):
        raw = {field.shorthand: raw}
    if kind == "int":
        if isinstance(raw, bool) or raw is None or isinstance(raw, (Mapping, list)):
            raise SpecError(f"expected an integer, got {describe(raw)}", key)
        number = parse_number(raw, key, "an integer")
        if number != math.floor(number):
            raise SpecError(f"expected an integer, got {describe(raw)}", key)
        _check_range(number, field, key, raw)
        value: Any = int(number)
    elif kind == "float":
        value = parse_number(raw, key, "a number")
        _check_range(value, field, key, raw)
    elif kind == "time":
        value = parse_duration(raw, key)
        _check_range(value, field, key, raw)
    elif kind == "rate":
        value = parse_rate(raw, key)
        _check_range(value, field, key, raw)
    elif kind == "bool":
        if not isinstance(raw, bool):
            raise SpecError(f"expected true or false, got {describe(raw)}", key)
        value = raw
    elif kind == "str":
        if not isinstance(raw, str):
            raise SpecError(f"expected a string, got {describe(raw)}", key)
        check_text(raw, key)
        value = raw
    elif kind == "enum":
        if not isinstance(raw, str) or raw not in field.choices:
            close = difflib.get_close_matches(str(raw), field.choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(
                f"expected one of {', '.join(field.choices)}, got {describe(raw)}{hint}", key
            )
        value = raw
    elif kind == "date":
        value = _resolve_date(raw, key)
    elif kind == "dist":
        value = _finite_dist(_distributions.parse_distribution(raw, key, ctx.base_dir), key)
    elif kind == "arrivals":
        value = _arrivals.resolve_arrivals(raw, key, ctx.base_dir)
    elif kind == "map":
        value = resolve_map(raw, field.fields or {}, key, ctx)
    elif kind == "variant":
        value = _resolve_variant(raw, field, key, ctx)
    elif kind == "list":
        if not isinstance(raw, (list, tuple)):
            raise SpecError(f"expected a list, got {describe(raw)}", key)
        value = []
        outer = ctx.index
        for index, item in enumerate(raw):
            ctx.index = index
            value.append(_resolve(item, field.item, f"{key}.{index}", ctx))
        ctx.index = outer
        if field.unique and len(set(map(repr, value))) != len(value):
            raise SpecError(f"contains duplicates: {value!r}", key)
        if field.item.kind == "enum":  # canonical order, for byte-identical configs
            value.sort(key=field.item.choices.index)
    elif kind == "named":
        value = _resolve_named(raw, field, key, ctx)
    else:  # pragma: no cover - a bug in the table
        raise AssertionError(f"unknown field kind {kind!r}")
    if field.check is not None:
        field.check(value, key, ctx)
    return value


def _finite_dist(resolved: dict, key: str | None) -> dict:
    """``resolved``, unless its times overflow a float (a lognormal median of 1e-320 s).

    Closed-form mean and variance only (no SciPy: validating needs none); the truncated normal
    and the empirical distribution are bounded by their finite parameters."""
    try:
        figures = [v for v in resolved.values() if isinstance(v, float)]
        if resolved["dist"] not in ("empirical", "normal"):
            dist = _distributions.make_distribution(resolved)
            figures += [float(dist.mean()), float(dist.var())]
    except (ArithmeticError, ValueError):
        figures = [math.inf]
    if all(math.isfinite(f) for f in figures):
        return resolved
    raise SpecError(f"the {resolved['dist']} distribution's times overflow (parameters, mean or "
                    f"variance not finite); use parameters of a realistic scale", key)


def _resolve_date(raw: Any, key: str) -> str:
    if isinstance(raw, _dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, _dt.date):
        return raw.isoformat()
    if isinstance(raw, str):
        try:
            return _dt.date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise SpecError(f"expected an ISO date such as 2025-08-01, got {describe(raw)}", key)


def _unknown_key(name: Any, known: Iterable[str], key: str) -> SpecError:
    known = list(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(known)})"
    return SpecError(f"unknown key {str(name)!r}{hint}", f"{key}.{name}" if key else str(name))


def resolve_map(raw: Any, fields: Mapping[str, Field], key: str, ctx: Context) -> dict:
    """Resolve a raw mapping against a table of fields.

    Parameters
    ----------
    raw : Any
        The data as written (after overrides); anything but a mapping is rejected.
    fields : mapping of str to Field
        The declared table.
    key : str
        Dotted key of ``raw`` (``""`` at the top level); errors name ``key.child``.
    ctx : Context
        Resolution context, passed to computed defaults and checks.

    Returns
    -------
    dict
        Every declared key, in declared order, normalised and defaulted. Computed defaults are
        evaluated last, so they see every written or plainly defaulted sibling.

    Raises
    ------
    SpecError
        Unknown or missing keys, or a value that fails its kind, bounds or check.
    """
    if not isinstance(raw, Mapping):
        raise SpecError(f"expected a mapping, got {describe(raw)}", key or None)
    for name in raw:
        if name not in fields:
            raise _unknown_key(name, fields, key)
    out: dict[str, Any] = {}
    computed = []
    for name, field in fields.items():
        sub = f"{key}.{name}" if key else name
        if name in raw:
            out[name] = _resolve(raw[name], field, sub, ctx)
        elif isinstance(field.default, Computed):
            computed.append(name)
            out[name] = None  # placeholder keeps the declared key order
        elif field.default is REQUIRED:
            raise SpecError(f"missing required key {name!r}", sub)
        else:
            out[name] = _resolve(copy.deepcopy(field.default), field, sub, ctx)
    for name in computed:
        field = fields[name]
        sub = f"{key}.{name}" if key else name
        out[name] = _resolve(field.default.fn(out, ctx), field, sub, ctx)
    return out


def _resolve_variant(raw: Any, field: Field, key: str, ctx: Context) -> dict:
    if not isinstance(raw, Mapping):
        raise SpecError(f"expected a mapping, got {describe(raw)}", key)
    disc = field.discriminator
    names = list(field.variants)
    dkey = f"{key}.{disc}"
    if disc in raw:
        choice = raw[disc]
    elif isinstance(field.default, Mapping) and len(names) > 0 and field.default is not REQUIRED:
        choice = names[0]  # shorthand: the first variant is the default (token-bucket)
    else:
        raise SpecError(f"missing required key {disc!r} (one of: {', '.join(names)})", dkey)
    if choice in field.unsupported:
        raise SpecError(
            f"{field.label} {disc} {choice!r} is not supported by this version of lambdasim yet "
            f"(supported: {', '.join(names)})",
            dkey,
        )
    if not isinstance(choice, str) or choice not in field.variants:
        valid = [*names, *field.unsupported]
        close = difflib.get_close_matches(str(choice), valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"unknown {field.label} {disc} {choice!r}{hint} (valid: {', '.join(valid)})", dkey
        )
    body = {k: v for k, v in raw.items() if k != disc}
    resolved = resolve_map(body, field.variants[choice], key, ctx)
    return {disc: choice, **resolved}


def _resolve_named(raw: Any, field: Field, key: str, ctx: Context) -> dict:
    if not isinstance(raw, Mapping):
        raise SpecError(f"expected a mapping of names, got {describe(raw)}", key)
    if not raw and field.default is REQUIRED:
        raise SpecError("at least one entry is required", key)
    out = {}
    # Entries written alike resolve alike (a thousand functions from one template): each
    # body is resolved once and the others get copies of it. What resolution reads besides
    # the body is in the key (the list index, the memory and architecture as written for
    # that name, Context); errors come from the first of them, before anything is reused.
    resolved: dict[bytes, bytes] = {}
    for name, body in raw.items():
        sub = f"{key}.{name}"
        if not isinstance(name, str) or not re.fullmatch(field.pattern, name):
            raise SpecError(
                f"invalid name {str(name)!r}: use 1-64 letters, digits, hyphens or underscores",
                sub,
            )
        ctx.function = name
        alike = _entry_key(body, ctx)
        if alike is not None and alike in resolved:
            out[name] = pickle.loads(resolved[alike])
            continue
        out[name] = _resolve(body, field.item, sub, ctx)
        if alike is not None:
            try:
                resolved[alike] = pickle.dumps(out[name], pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - not plain data: resolved each time
                pass
    ctx.function = None
    return out


def _entry_key(body: Any, ctx: Context) -> bytes | None:
    """What the resolution of a named entry depends on, as bytes (equal bytes: the same
    types, values, order and sharing), or None when it cannot be pickled."""
    written_memory = ctx.written_memory or {}
    written_architecture = ctx.written_architecture or {}
    try:
        return pickle.dumps((body, ctx.index, written_memory.get(ctx.function, _ABSENT),
                             written_architecture.get(ctx.function, _ABSENT)),
                            pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - anything unpicklable is resolved each time
        return None


#: Stands for a name missing from Context.written_memory / written_architecture.
_ABSENT = "<absent>"



# ======================================================================================
# JSON Schema, generated from a table
# ======================================================================================
_TIME = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION_PATTERN}]}
_RATE = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": RATE_PATTERN}]}


def _dist_schema() -> dict:
    options: list[dict] = [_TIME]
    for name, cls in _distributions.REGISTRY.items():
        props: dict[str, Any] = {"dist": {"const": name}}
        for param in cls.parameters():
            if name == "empirical":
                props[param] = {"type": "array", "items": _TIME} if param == "values" else {"type": "string"}
            elif param in cls.times:
                props[param] = _TIME
            else:
                props[param] = {"type": "number"}
        options.append({"type": "object", "properties": props, "required": ["dist"], "additionalProperties": False})
    return {"anyOf": options}


def _trace_schema() -> dict:
    def nullable(schema: dict) -> dict:
        return {"anyOf": [schema, {"type": "null"}]}

    return {
        "process": {"const": "trace"},
        "file": nullable({"type": "string"}),
        "format": {"enum": ["timestamps", "counts", "azure"]},
        "column": nullable({"type": "string"}),
        "time_column": nullable({"type": "string"}),
        "interval": nullable(_TIME),
        "spread": nullable({"enum": ["poisson", "even"]}),
        "function": nullable({"type": "string"}),
        "rank": nullable({"type": "integer", "minimum": 1}),
        "origin": nullable({"type": ["string", "number"]}),
        "time_scale": {"type": "number", "exclusiveMinimum": 0},
        "rate_scale": {"type": "number", "exclusiveMinimum": 0},
        "times": nullable({"type": "array", "items": {"type": "number"}, "minItems": 1}),
        "counts": nullable({"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1}),
        "source": nullable({"type": "string"}),
    }


def _arrival_schema() -> dict:
    window = {"start": _TIME, "end": {"anyOf": [_TIME, {"type": "null"}]}}
    point = {
        "type": "array",
        "prefixItems": [_TIME, _RATE, {"enum": ["ramp", "linear", "step"]}],
        "minItems": 2,
        "maxItems": 3,
    }
    specs = [
        {"process": {"const": "poisson"}, "rate": {"anyOf": [_RATE, {"type": "array", "items": point, "minItems": 1}]},
         "interpolation": {"enum": ["step", "linear"]}},
        {"process": {"const": "constant"}, "rate": _RATE},
        {"process": {"const": "burst"}, "count": {"type": "integer", "minimum": 0}, "at": _TIME, "spread": _TIME},
        {"process": {"const": "diurnal"}, "mean": _RATE, "amplitude": _RATE, "period": _TIME, "peak": _TIME},
        {"process": {"const": "mmpp"},
         "states": {"type": "array", "minItems": 2, "items": {
             "type": "object", "properties": {"rate": _RATE, "mean_sojourn": _TIME},
             "required": ["rate", "mean_sojourn"], "additionalProperties": False}},
         "transitions": {"anyOf": [{"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                                   {"type": "null"}]},
         "initial": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}},
        _trace_schema(),
    ]
    one = {"oneOf": [
        {"type": "object", "properties": {**s, **window}, "required": ["process"], "additionalProperties": False}
        for s in specs
    ]}
    return {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]}


def _field_schema(field: Field) -> dict:
    kind = field.kind
    if kind in ("int", "float"):
        out: dict[str, Any] = {"type": "integer" if kind == "int" else "number"}
        if field.minimum is not None:
            out["exclusiveMinimum" if field.exclusive_minimum else "minimum"] = field.minimum
        if field.maximum is not None:
            out["maximum"] = field.maximum
    elif kind == "time":
        out = copy.deepcopy(_TIME)
        if field.maximum is not None:
            out["anyOf"][0]["maximum"] = field.maximum
    elif kind == "rate":
        out = copy.deepcopy(_RATE)
    elif kind == "str":
        out = {"type": "string"}
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "enum":
        out = {"enum": list(field.choices)}
    elif kind == "date":
        out = {"type": "string", "format": "date"}
    elif kind == "dist":
        out = _dist_schema()
    elif kind == "arrivals":
        out = _arrival_schema()
    elif kind == "map":
        out = _object_schema(field.fields or {})
        if field.shorthand is not None:
            short = _field_schema(field.fields[field.shorthand])
            short.pop("default", None)
            out = {"anyOf": [short, out]}
    elif kind == "variant":
        options = []
        for i, (name, fields) in enumerate(field.variants.items()):
            sub = _object_schema(fields)
            sub["properties"] = {field.discriminator: {"const": name}, **sub["properties"]}
            if i > 0 or field.default is REQUIRED:
                sub["required"] = [field.discriminator, *sub.get("required", [])]
            options.append(sub)
        out = {"oneOf": options}
    elif kind == "list":
        out = {"type": "array", "items": _field_schema(field.item)}
        if field.unique:
            out["uniqueItems"] = True
    elif kind == "named":
        out = {"type": "object", "patternProperties": {field.pattern: _field_schema(field.item)},
               "additionalProperties": False}
        if field.default is REQUIRED:
            out["minProperties"] = 1
    else:  # pragma: no cover
        raise AssertionError(kind)
    if field.nullable:
        out = {"anyOf": [out, {"type": "null"}]}
    if field.doc:
        out["description"] = field.doc
    default = field.default
    if isinstance(default, Computed):
        out["description"] = f"{field.doc} (default: {default.doc})".strip()
    elif default is not REQUIRED and kind not in ("map", "variant"):
        out["default"] = copy.deepcopy(default)
    return out


def _object_schema(fields: Mapping[str, Field]) -> dict:
    out: dict[str, Any] = {
        "type": "object",
        "properties": {name: _field_schema(f) for name, f in fields.items()},
        "additionalProperties": False,
    }
    required = [name for name, f in fields.items() if f.default is REQUIRED]
    if required:
        out["required"] = required
    return out


def schema_for(table: Mapping[str, Field]) -> dict:
    """JSON Schema (draft 2020-12) of an object described by a table of fields.

    Parameters
    ----------
    table : mapping of str to Field
        The declared table.

    Returns
    -------
    dict
        ``{"type": "object", "properties": ..., "additionalProperties": false, "required": ...}``
        with each field's bounds, choices, description and (non-computed) default; computed
        defaults are described in prose.
    """
    return _object_schema(table)
