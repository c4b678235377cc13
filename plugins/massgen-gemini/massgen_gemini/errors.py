"""Mapping Gemini error answers onto the core's error taxonomy.

Gemini errors are Google RPC statuses: ``{"error": {"code": 429, "message":
"...", "status": "RESOURCE_EXHAUSTED", "details": [...]}}``. An invalid key is
a 400 with reason ``API_KEY_INVALID``, and a rate limit may say how long to
wait in a ``RetryInfo`` detail rather than a header. This module only
classifies; it must not put a key in any message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from massgen_core.http.errors import (
    AuthenticationError,
    BackendError,
    ContentFilterError,
    ContextLengthError,
    ErrorContext,
    OverloadedError,
    PermissionDeniedError,
    error_for_status,
    parse_openai_error_body,
    parse_retry_after,
)

_STATUS_CLASSES: dict[str, type[BackendError]] = {
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "UNAVAILABLE": OverloadedError,
    "INTERNAL": OverloadedError,
}
_CONTEXT_PHRASES = ("exceeds the maximum number of tokens", "input token count")


def _as_mapping(body: bytes | str | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        data: Any = body
    else:
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return {}
    if isinstance(data, list) and data:
        data = data[0]
    return data if isinstance(data, Mapping) else {}


def _details(error: Mapping[str, Any]) -> tuple[set[str], float | None]:
    """The ErrorInfo reasons and the RetryInfo delay (seconds) in a Google RPC error."""
    reasons: set[str] = set()
    delay: float | None = None
    for detail in error.get("details") or []:
        if not isinstance(detail, Mapping):
            continue
        if detail.get("reason"):
            reasons.add(str(detail["reason"]))
        retry = detail.get("retryDelay")
        if isinstance(retry, str) and retry.endswith("s"):
            try:
                delay = float(retry[:-1])
            except ValueError:
                pass
    return reasons, delay


def classify(
    status: int | None,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    context: ErrorContext | None = None,
) -> BackendError:
    """The typed error for an HTTP error answer (``status``) or an in-stream error (``status`` None)."""
    data = _as_mapping(body)
    if data.get("blocked"):
        return ContentFilterError(
            f"the answer was blocked ({data.get('reason')})", context=context, status=status,
            code=str(data.get("reason")),
        )
    message, rpc_status, code = parse_openai_error_body(body)
    raw_error = data.get("error")
    error: Mapping[str, Any] = raw_error if isinstance(raw_error, Mapping) else {}
    reasons, delay = _details(error)
    if status is None and isinstance(error.get("code"), int):
        status = int(error["code"])
    text = (message or "").lower()
    cls: type[BackendError]
    if reasons & {"API_KEY_INVALID", "API_KEY_EXPIRED"} or "api key not valid" in text:
        cls = AuthenticationError
    elif any(p in text for p in _CONTEXT_PHRASES):
        cls = ContextLengthError
    elif rpc_status in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[rpc_status]
    else:
        cls = error_for_status(status, rpc_status, code, message)
    retry_after = parse_retry_after((headers or {}).get("retry-after"))
    if retry_after is None:
        retry_after = delay
    return cls(message, context=context, status=status, retry_after=retry_after, code=rpc_status)
