"""What a backend entry needs before a run can send anything: one rule set, two callers.

``config validate`` (``rules``) reports these as located problems; the run
(``massgen_core.backend_factory.create_backend``) refuses with the same words,
so a file passes validation exactly when a run would accept it. A backend
class declares the keys it cannot work without in ``required_keys`` (declared
on its ``Lazy`` registration too, so validating imports no backend module).
Nothing here reads files or prints values beyond a redacted URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from massgen_core.redaction import redact_url

_WHY = {
    "model": "the request would go out with no model",
    "base_url": "the server's OpenAI-style URL, e.g. http://localhost:8000/v1",
}


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a backend's base URL, or None when it can."""
    from urllib.parse import urlsplit

    shown = redact_url(url)
    if url != url.strip() or any(ch.isspace() for ch in url):
        return f"base_url {shown!r} contains spaces; write the URL without them"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"base_url {shown!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not host:
        return f"base_url {shown!r} must be an http:// or https:// URL with a host"
    return None


def requirement_problems(cls: Any, type_name: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, message)`` for every required key missing from ``values``, a max_tokens or temperature
    no provider takes, and a base_url that cannot work."""
    problems: list[tuple[str, str]] = []
    for key in getattr(cls, "required_keys", ()) or ():
        if values.get(key) in (None, ""):
            why = _WHY.get(key)
            problems.append(
                (key, f"backend type {type_name!r} needs {key!r}" + (f" ({why})" if why else ""))
            )
    max_tokens = values.get("max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens < 1:
        problems.append(("max_tokens", f"max_tokens must be at least 1 (got {max_tokens}); every provider refuses less"))
    temperature = values.get("temperature")
    if isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and temperature < 0:
        problems.append(("temperature", f"temperature must not be negative (got {temperature})"))
    url = values.get("base_url")
    if isinstance(url, str) and url:
        problem = base_url_problem(url)
        if problem is not None:
            problems.append(("base_url", problem))
    return problems


__all__ = ["base_url_problem", "requirement_problems"]
