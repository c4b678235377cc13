"""Checked config data into the schema's attrs objects, without cattrs.

A run structures a config that the rules have already validated; doing that
with the cattrs converter costs its import and its per-process code generation
on every start-up (issue 17). This module walks ``attrs.fields`` of the schema
classes instead, converting as cattrs does (``float`` fields get ``float(x)``,
lists become tuples, mappings become dicts with ``str`` keys). A field type it
does not know is handed to the cattrs converter, so the result is always what
cattrs would build; tests/config/test_structure.py compares the two.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

Build = Callable[[Any], Any]

_PRIMITIVES: dict[Any, Build] = {str: str, int: int, float: float, bool: bool}
_PLANS: dict[type, list[tuple[str, Build]]] = {}


def structure(data: Mapping[str, Any], cls: type) -> Any:
    """``cls`` built from ``data`` (checked data: its keys are ``cls``'s fields)."""
    return _builder(cls)(data)


def _builder(hint: Any) -> Build:
    """A function turning a value of type ``hint`` as the checker left it into the schema's value."""
    if hint is Any:
        return _same
    if hint in _PRIMITIVES:
        return _PRIMITIVES[hint]
    if isinstance(hint, type) and attrs.has(hint):
        return lambda value: _build_attrs(hint, value)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _builder(next(arg for arg in args if arg is not type(None)))
        return lambda value: None if value is None else inner(value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _builder(args[0])
        return lambda value: tuple(item(v) for v in value)
    if origin in (Mapping, dict) and args and args[0] is str:
        value_of = _builder(args[1])
        return lambda value: {str(k): value_of(v) for k, v in value.items()}
    return lambda value: _by_cattrs(value, hint)


def _build_attrs(cls: type, data: Mapping[str, Any]) -> Any:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        plan = _PLANS[cls] = [(field.name, _builder(hints[field.name])) for field in attrs.fields(cls)]
    extra = set(data).difference(name for name, _ in plan)
    if extra:  # as cattrs' forbid_extra_keys
        raise ValueError(f"{cls.__name__}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
    return cls(**{name: build(data[name]) for name, build in plan if name in data})


def _same(value: Any) -> Any:
    return value


def _by_cattrs(value: Any, hint: Any) -> Any:
    from massgen_core.config.rules import converter

    return converter().structure(value, hint)


__all__ = ["structure"]
