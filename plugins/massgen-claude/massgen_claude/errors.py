"""Mapping Anthropic error answers onto the core's error taxonomy.

Anthropic error bodies look like ``{"type": "error", "error": {"type":
"overloaded_error", "message": "Overloaded"}}``, both as HTTP error bodies and
as in-stream ``event: error`` payloads. This module only classifies them; it
builds no requests and must not put a key in any message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from massgen_core.http.errors import (
    BackendError,
    ContextLengthError,
    ErrorContext,
    OverloadedError,
    error_for_status,
    parse_openai_error_body,
    parse_retry_after,
)

# Anthropic's own phrasings of "the prompt does not fit" that the generic markers miss.
_CONTEXT_PHRASES = ("exceed context limit", "prompt is too long", "input is too long")


def classify(
    status: int | None,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    context: ErrorContext | None = None,
) -> BackendError:
    """The typed error for an HTTP error answer (``status``) or an in-stream error (``status`` None)."""
    message, etype, code = parse_openai_error_body(body)
    text = (message or "").lower()
    cls: type[BackendError]
    if status == 413 or etype == "request_too_large" or any(p in text for p in _CONTEXT_PHRASES):
        cls = ContextLengthError
    elif status == 529 or etype == "overloaded_error":
        cls = OverloadedError
    elif status is None and etype == "api_error":
        cls = OverloadedError  # Anthropic's "internal error" mid-stream: transient server trouble
    else:
        cls = error_for_status(status, etype, code, message)
    retry_after = parse_retry_after((headers or {}).get("retry-after"))
    return cls(message, context=context, status=status, retry_after=retry_after, code=etype or code)
