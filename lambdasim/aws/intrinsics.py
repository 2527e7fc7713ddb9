"""What a template's intrinsic functions say, as far as the template itself says it.

A template's values may be intrinsic functions
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
lambdasim deploys nothing, so it resolves only what the template determines on its own:

* ``Ref`` of a parameter with a ``Default`` (the value a deployment without overrides gets);
* ``Fn::FindInMap`` whose keys resolve;
* conditions (``Conditions``: ``Fn::Equals``, ``Fn::And``, ``Fn::Or``, ``Fn::Not`` and
  ``Condition`` references) over such values, and ``Fn::If`` on them, including
  ``Ref: AWS::NoValue`` (the property is then absent, as CloudFormation removes it);
* ``Fn::Join`` and ``Fn::Select`` over resolved values, ``Fn::Sub`` without variables.

Anything else (pseudo parameters such as ``AWS::Region``, attributes of resources, imports) is
*unresolved*: the caller keeps lambdasim's default and says so. A condition that refers to
itself, directly or through others, is unresolved, never an endless loop, and so is any value
nested deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UNRESOLVED", "NO_VALUE", "MAX_DEPTH", "Resolver"]

#: Depth beyond which a value is not resolved (a template nests a few levels; more is hostile).
MAX_DEPTH = 50


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The value cannot be known from the template.
UNRESOLVED = _Marker("UNRESOLVED")
#: ``Ref: AWS::NoValue``: the property is absent.
NO_VALUE = _Marker("NO_VALUE")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _single(raw: Any) -> tuple[str, Any] | None:
    if isinstance(raw, dict) and len(raw) == 1:
        ((key, value),) = raw.items()
        if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
            return key, value
    return None


class Resolver:
    """Resolves the values of one template (see the module).

    Parameters
    ----------
    template : dict
        The template as :func:`lambdasim.aws.cfn.load_template` returns it.
    """

    def __init__(self, template: dict) -> None:
        def mapping(key: str) -> dict:
            value = template.get(key)
            return value if isinstance(value, dict) else {}

        self.params = mapping("Parameters")
        self.mappings = mapping("Mappings")
        self.conditions = mapping("Conditions")
        self._known: dict[str, Any] = {}

    # -- conditions ------------------------------------------------------------------------
    def condition(self, name: Any, _seen: frozenset = frozenset()) -> Any:
        """True or False for a named condition, or UNRESOLVED."""
        if not isinstance(name, str) or name not in self.conditions or name in _seen:
            return UNRESOLVED
        if name not in self._known:
            self._known[name] = self._truth(self.conditions[name], _seen | {name}, 0)
        return self._known[name]

    def _truth(self, raw: Any, seen: frozenset, depth: int) -> Any:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        form = _single(raw)
        if form is None or depth > MAX_DEPTH:
            return UNRESOLVED
        key, args = form
        if key == "Condition":
            return self.condition(args, seen)
        if key == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
            left, right = (self._value(a, seen, depth + 1) for a in args)
            if UNRESOLVED in (left, right) or NO_VALUE in (left, right):
                return UNRESOLVED
            # CloudFormation compares strings: a YAML true is the string "true"
            return _text(left) == _text(right)
        if key == "Fn::Not" and isinstance(args, list) and len(args) == 1:
            inner = self._truth(args[0], seen, depth + 1)
            return UNRESOLVED if inner is UNRESOLVED else not inner
        if key in ("Fn::And", "Fn::Or") and isinstance(args, list) and args:
            values = [self._truth(a, seen, depth + 1) for a in args]
            decided = [v for v in values if v is not UNRESOLVED]
            if key == "Fn::And":
                if False in decided:
                    return False
                return True if len(decided) == len(values) else UNRESOLVED
            if True in decided:
                return True
            return False if len(decided) == len(values) else UNRESOLVED
        return UNRESOLVED

    # -- values ----------------------------------------------------------------------------
    def value(self, raw: Any) -> Any:
        """A literal, the value an intrinsic resolves to, NO_VALUE, or UNRESOLVED. Lists and
        maps are resolved inside (``Fn::If`` branches chosen, NO_VALUE entries removed)."""
        return self._value(raw, frozenset(), 0)

    def _value(self, raw: Any, seen: frozenset, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return UNRESOLVED
        form = _single(raw)
        if form is None:
            if isinstance(raw, dict):
                out = {}
                for k, v in raw.items():
                    resolved = self._value(v, seen, depth + 1)
                    if resolved is not NO_VALUE:
                        out[k] = resolved if resolved is not UNRESOLVED else v
                return out
            if isinstance(raw, list):
                items = [self._value(v, seen, depth + 1) for v in raw]
                return [v if v is not UNRESOLVED else r for v, r in zip(items, raw) if v is not NO_VALUE]
            return raw
        key, args = form
        if key == "Ref":
            if args == "AWS::NoValue":
                return NO_VALUE
            param = self.params.get(args) if isinstance(args, str) else None
            if isinstance(param, dict) and "Default" in param:
                default = param["Default"]
                if isinstance(default, str) and param.get("Type") in ("Number",):
                    try:
                        return float(default) if "." in default else int(default)
                    except ValueError:
                        return default
                return default
            return UNRESOLVED
        if key == "Fn::If" and isinstance(args, list) and len(args) == 3:
            truth = self.condition(args[0], seen)
            if truth is UNRESOLVED:
                return UNRESOLVED
            return self._value(args[1] if truth else args[2], seen, depth + 1)
        if key == "Fn::FindInMap" and isinstance(args, list) and len(args) in (3, 4):
            keys = [self._value(k, seen, depth + 1) for k in args[:3]]
            if all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in keys):
                table = self.mappings.get(str(keys[0]))
                row = table.get(str(keys[1])) if isinstance(table, dict) else None
                if isinstance(row, dict) and str(keys[2]) in row:
                    return self._value(row[str(keys[2])], seen, depth + 1)
            if len(args) == 4 and isinstance(args[3], dict) and "DefaultValue" in args[3]:
                return self._value(args[3]["DefaultValue"], seen, depth + 1)
            return UNRESOLVED
        if key == "Fn::Join" and isinstance(args, list) and len(args) == 2 and isinstance(args[0], str):
            parts = self._value(args[1], seen, depth + 1)
            if isinstance(parts, list) and all(isinstance(p, (str, int, float)) and not isinstance(p, bool)
                                               for p in parts):
                return args[0].join(str(p) for p in parts)
            return UNRESOLVED
        if key == "Fn::Select" and isinstance(args, list) and len(args) == 2:
            index, items = (self._value(a, seen, depth + 1) for a in args)
            try:
                position = int(index)
            except (TypeError, ValueError):
                return UNRESOLVED
            if isinstance(items, list) and 0 <= position < len(items):
                return items[position]
            return UNRESOLVED
        if key == "Fn::Sub" and isinstance(args, str) and "${" not in args:
            return args
        return UNRESOLVED
