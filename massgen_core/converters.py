"""attrs converters for plugins' ``Options`` classes.

Python functions rather than the builtins (``converter=tuple``): attrs reads a
converter's signature, and for a builtin that means tokenizing its text
signature, which compiles the tokenizer's regular expressions, ~2 ms on every
``massgen`` start. This module imports nothing.
"""

from __future__ import annotations

from typing import Any


def as_tuple(value: Any) -> tuple[Any, ...]:
    """A list (or any iterable) from a config file as a tuple."""
    return tuple(value)


def as_float(value: Any) -> float:
    """A number from a config file as a float."""
    return float(value)


def optional_int(value: Any) -> int | None:
    """``None`` stays ``None``; anything else becomes an int."""
    return None if value is None else int(value)


__all__ = ["as_float", "as_tuple", "optional_int"]
