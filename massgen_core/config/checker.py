"""Checking parsed config data against the schema's annotations, reporting located problems.

``Checker`` walks one document's data: it checks values against the attrs
classes' annotations (scalars, unions, literals, mappings, lists, nested attrs
classes), converts interpolated strings to the scalars their fields need,
and records every problem with the position of the key or value it concerns.
It knows nothing of the config's rules (those are in ``rules``).
"""

from __future__ import annotations

import collections.abc
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union

import attrs

from massgen_core.config.document import Document
from massgen_core.config.problems import ConfigProblem, Severity
from massgen_core.errors import did_you_mean
from massgen_core.redaction import REDACTED, is_secret_name, redact

if TYPE_CHECKING:
    from massgen_core.plugins import PluginManager

KeyPath = tuple[str | int, ...]

INVALID = object()


# -- small helpers ---------------------------------------------------------


def format_key_path(path: Iterable[str | int]) -> str:
    """``("agents", 1, "backend", "type")`` -> ``agents[1].backend.type``."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def type_name_of(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if attrs.has(tp) or origin in (dict, collections.abc.Mapping):
        return "a mapping"
    if origin in (list, tuple, collections.abc.Sequence):
        return "a list"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


_HINTS: dict[type, dict[str, Any]] = {}
_ORIGINS: dict[Any, Any] = {}


def _origin(tp: Any) -> Any:
    """``typing.get_origin``, cached: a 200-agent config asks about the same few types thousands of times."""
    try:
        return _ORIGINS[tp]
    except KeyError:
        origin = _ORIGINS[tp] = typing.get_origin(tp)
        return origin
    except TypeError:  # an unhashable annotation
        return typing.get_origin(tp)


def field_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved type of an attrs class (Any where a plugin's hints do not resolve)."""
    hints = _HINTS.get(cls)
    if hints is None:
        try:
            resolved = typing.get_type_hints(cls)
        except Exception:  # a plugin's annotations may name types only imported for checking
            resolved = {}
        # a field with a converter declares what it becomes, not what users may write
        hints = {
            f.name: Any if f.converter is not None else resolved.get(f.name, Any)
            for f in attrs.fields(cls)
        }
        _HINTS[cls] = hints
    return hints


# -- the checker ------------------------------------------------------------


class Checker:
    """Walks one document's data, cleaning it and collecting located problems."""

    def __init__(self, doc: Document, manager: PluginManager, environ: Mapping[str, str]) -> None:
        self.doc = doc
        self.manager = manager
        self.environ = environ
        self.problems: list[ConfigProblem] = []
        self.interpolated: set[KeyPath] = set()
        self.ids: dict[str, KeyPath] = {}
        self.roles: dict[str, str] = {}
        self.option_defaults: dict[str, Any] = {}
        self.option_defaults_used: set[str] = set()
        self.team_voting: dict[str, KeyPath] = {}  # team id -> where its own voting section is
        # A plugin's section (``sections``): required fields must be given, and a key written
        # with no value (``hooks:``) means its default.
        self.strict = False

    # reporting
    def add(
        self,
        path: KeyPath,
        message: str,
        *,
        at_key: bool = False,
        severity: Severity = "error",
        suggestion: str | None = None,
    ) -> None:
        line, col = self.doc.where(path, at_key=at_key)
        self.problems.append(
            ConfigProblem(
                file=self.doc.file,
                line=line,
                col=col,
                key_path=format_key_path(path),
                message=message,
                severity=severity,
                suggestion=suggestion,
            )
        )

    def unknown_key(self, path: KeyPath, key: Any, known: Iterable[str], where: str = "") -> None:
        known = list(known)
        hint = did_you_mean(key, known) if isinstance(key, str) else None
        self.add((*path, key), f"unknown key {key!r}{where}", at_key=True, suggestion=hint)

    def mapping(self, value: Any, path: KeyPath, what: str) -> dict[str, Any] | None:
        """``value`` as a dict with string keys, or None (reported) when it is not one."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"{what} must be a mapping, got {type_name_of(value)}")
            return None
        bad = [k for k in value if not isinstance(k, str)]
        for key in bad:
            self.add(
                (*path, key), f"keys must be strings, got {type_name_of(key)} {key!r}", at_key=True
            )
        return {k: v for k, v in value.items() if isinstance(k, str)}

    # generic type checking against annotations
    def check(self, value: Any, tp: Any, path: KeyPath) -> Any:
        """``value`` checked (and, for interpolated strings, converted) against ``tp``; INVALID if reported."""
        origin = _origin(tp)
        if tp is Any or tp is object:
            return value
        if origin in (Union, types.UnionType):
            args = typing.get_args(tp)
            if value is None and type(None) in args:
                return None
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                return self.check(value, options[0], path)
            for option in options:
                if self._fits(value, option):
                    return self.check(value, option, path)
            self.add(path, f"expected {_describe(tp)}, got {type_name_of(value)}")
            return INVALID
        if origin is Literal:
            choices = typing.get_args(tp)
            if any(type(value) is type(c) and value == c for c in choices):
                return value
            hint = (
                did_you_mean(value, [str(c) for c in choices]) if isinstance(value, str) else None
            )
            self.add(
                path,
                f"{value!r} is not one of " + ", ".join(repr(c) for c in choices),
                suggestion=hint,
            )
            return INVALID
        if tp in (bool, int, float, str):
            return self._scalar(value, tp, path)
        if isinstance(tp, type) and attrs.has(tp):
            data = self.mapping(value, path, "this")
            return INVALID if data is None else self.check_attrs(data, tp, path)
        if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
            data = self.mapping(value, path, "this")
            if data is None:
                return INVALID
            args = typing.get_args(tp)
            value_type = args[1] if len(args) == 2 else Any
            result = {k: self.check(v, value_type, (*path, k)) for k, v in data.items()}
            return INVALID if any(v is INVALID for v in result.values()) else result
        if origin in (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence):
            if not isinstance(value, list):
                self.add(path, f"expected a list, got {type_name_of(value)}")
                return INVALID
            args = typing.get_args(tp)
            item_type = args[0] if args else Any
            items = [self.check(v, item_type, (*path, i)) for i, v in enumerate(value)]
            return INVALID if any(v is INVALID for v in items) else items
        return value  # a type we do not model: the plugin's own validators judge it

    def _fits(self, value: Any, tp: Any) -> bool:
        origin = _origin(tp)
        if tp is bool:
            return isinstance(value, bool)
        if tp is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if tp is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if tp is str:
            return isinstance(value, str)
        if origin is Literal:
            return value in typing.get_args(tp)
        if (isinstance(tp, type) and attrs.has(tp)) or origin in (dict, collections.abc.Mapping):
            return isinstance(value, dict)
        if origin in (list, tuple, collections.abc.Sequence):
            return isinstance(value, list)
        return True

    def _scalar(self, value: Any, tp: type, path: KeyPath) -> Any:
        if isinstance(value, str) and tp is not str and path in self.interpolated:
            converted = _convert(value, tp)
            if converted is not INVALID:
                return converted
        if tp is bool and isinstance(value, bool):
            return value
        if tp is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if tp is str and isinstance(value, str):
            return value
        shown = REDACTED if path and isinstance(path[-1], str) and is_secret_name(path[-1]) else repr(redact(value) if isinstance(value, str | Mapping | list) else value)
        self.add(path, f"expected {_describe(tp)}, got {type_name_of(value)} {shown}")
        return INVALID

    def check_attrs(
        self,
        data: dict[str, Any],
        cls: type,
        path: KeyPath,
        *,
        skip: Iterable[str] = (),
        also_known: Iterable[str] = (),
        where: str = "",
    ) -> Any:
        """Check a mapping against an attrs class's fields; unknown keys get a did-you-mean."""
        fields = field_types(cls)
        skip = set(skip)
        known = [name for name in fields if name not in skip]
        result: dict[str, Any] = {}
        ok = True
        if self.strict:
            defaults = {f.name: f.default for f in attrs.fields(cls)}
            data = {k: v for k, v in data.items() if not (v is None and defaults.get(k, attrs.NOTHING) is not attrs.NOTHING)}
            for name, default in defaults.items():
                if default is attrs.NOTHING and name not in data and name not in skip:
                    self.add(path, f"needs {name!r}")
                    ok = False
        for key, value in data.items():
            if key in skip:
                continue
            if key not in fields:
                self.unknown_key(path, key, [*known, *also_known], where)
                ok = False
                continue
            checked = self.check(value, fields[key], (*path, key))
            if checked is INVALID:
                ok = False
            else:
                result[key] = checked
                if self.strict and not self.validate_field(cls, key, checked, (*path, key)):
                    ok = False
        return result if ok else INVALID

    def validate_field(self, cls: type, name: str, value: Any, path: KeyPath) -> bool:
        """Run a scalar field's own attrs validator now, so one bad value hides no other."""
        field = attrs.fields_dict(cls)[name]
        if field.validator is None or field.converter is not None or isinstance(value, dict | list):
            return True  # containers are judged when cattrs builds the object
        try:
            field.validator(None, field, value)
        except Exception as exc:  # the plugin's validator objects: a located problem
            self.add(path, field_message(name, str(exc) or type(exc).__name__))
            return False
        return True

    def choice(self, value: Any, choices: Iterable[str], path: KeyPath, what: str) -> Any:
        choices = list(choices)
        if value in choices:
            return value
        hint = did_you_mean(value, choices) if isinstance(value, str) else None
        self.add(
            path,
            f"unknown {what} {value!r}; expected one of: " + ", ".join(choices),
            suggestion=hint,
        )
        return INVALID


def field_message(name: str, message: str) -> str:
    """An attrs validator's message without the ``'name'`` it starts with (the key path says it)."""
    prefix = f"'{name}'"
    return message[len(prefix) :].lstrip(" :") or message if message.startswith(prefix) else message


def _convert(text: str, tp: type) -> Any:
    """An interpolated string read as the scalar its field needs (``${TEMP:-0.7}`` -> 0.7)."""
    stripped = text.strip()
    try:
        if tp is bool and stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
        if tp is int:
            return int(stripped)
        if tp is float:
            number = float(stripped)
            return number if math.isfinite(number) else INVALID
    except ValueError:
        pass
    return INVALID


__all__ = ["INVALID", "Checker", "KeyPath", "field_message", "field_types", "format_key_path", "type_name_of"]
