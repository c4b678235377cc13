"""``${VAR}`` references in config values: the one dialect every config file uses.

``${VAR}`` is the variable (an error, located, when it is not set),
``${VAR:-default}`` the default when it is unset or empty, ``${VAR-default}``
only when unset, ``$${VAR}`` the literal text. A string that was interpolated
is remembered by its key path so the checker may read it as the number or
boolean its field needs. The plugins' sections (``sections``) use the same.
"""

from __future__ import annotations

import re
from typing import Any

from massgen_core.config.checker import Checker, KeyPath

UNSET = "environment variable"  # how a problem about an unset variable starts (see ``is_unset``)
_REFERENCE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def interpolate_data(checker: Checker, value: Any, path: KeyPath) -> Any:
    if isinstance(value, dict):
        return {k: interpolate_data(checker, v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate_data(checker, v, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name, op, default = match.groups()
        if escaped:  # $${VAR} is the literal text ${VAR}
            return match.group(0)[1:]
        current = checker.environ.get(name)
        if op == ":-" and not current:
            return default
        if op == "-" and current is None:
            return default
        if current is None:
            checker.add(
                path,
                f"{UNSET} {name} is not set (referenced as ${{{name}}}); "
                f"set it, put it in a .env file, or write ${{{name}:-default}}",
            )
            return ""
        return current

    checker.interpolated.add(path)
    return _REFERENCE.sub(replace, value)


def is_unset(message: str) -> bool:
    """Whether a problem's message is about a variable not set where it was checked."""
    return message.startswith(UNSET + " ") and " is not set (referenced as ${" in message


__all__ = ["UNSET", "interpolate_data", "is_unset"]
