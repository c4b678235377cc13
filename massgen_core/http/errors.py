"""The typed errors every provider backend raises, and mapping from HTTP answers to them.

One class per kind of failure a user can act on. Every message names the
agent, backend type, model and base URL, quotes the provider's own message,
and says what to do. Nothing here may ever put an API key in a message:
provider text and the base URL go through ``massgen_core.redaction`` first.

``error_for_status`` maps (status, provider code/type/message) to a class
using OpenAI-style conventions; Anthropic and Gemini plugins call it with
their own body fields (their bodies carry the same kinds of information).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import attrs

from massgen_core.errors import MassGenError
from massgen_core.redaction import redact_text, redact_url

__all__ = [
    "AuthenticationError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BadRequestError",
    "ContentFilterError",
    "ContextLengthError",
    "ErrorContext",
    "MissingKeyError",
    "NotFoundError",
    "OutputTruncatedError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamError",
    "UnsupportedContentError",
    "error_for_status",
    "error_from_response",
    "parse_openai_error_body",
    "parse_retry_after",
]


@attrs.frozen(kw_only=True)
class ErrorContext:
    """Who was calling what: the facts every error message names."""

    agent_id: str = "?"
    backend: str = "?"
    model: str | None = None
    base_url: str | None = None
    key_env: tuple[str, ...] = ()
    base_url_hint: str | None = None  # what a right base_url looks like for this provider (404 hints)


class BackendError(MassGenError):
    """A provider call failed; ``retryable`` says whether trying again can help."""

    retryable = False
    # A fatal error cannot go away by relaunching the agent (no key, a refused key, a
    # model that does not exist): the orchestrator drops the agent at once.
    fatal = False
    summary = "request failed"

    def __init__(
        self,
        provider_message: str | None = None,
        *,
        context: ErrorContext | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        self.context = context or ErrorContext()
        self.agent_id = self.context.agent_id
        self.backend = self.context.backend
        self.model = self.context.model
        self.base_url = redact_url(self.context.base_url) if self.context.base_url else None
        self.status = status
        self.code = code
        self.provider_message = redact_text(provider_message) if provider_message else None
        self.retry_after = retry_after
        self.output_started = False  # set by the retry layer when output had streamed
        self.attempts = 1
        self.hint = hint or self.default_hint()
        super().__init__(self._format())

    def default_hint(self) -> str:
        return "try again later"

    def _format(self) -> str:
        c = self.context
        where = f"agent {c.agent_id}: {c.backend} backend (model {c.model or '?'}, {self.base_url or 'default URL'})"
        status = f" [HTTP {self.status}]" if self.status else ""
        said = f": {self.provider_message}" if self.provider_message else ""
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{where}: {self.summary}{status}{said}{tries}; {self.hint}"

    def __str__(self) -> str:
        return self._format()


class AuthenticationError(BackendError):
    fatal = True
    summary = "authentication failed"

    def default_hint(self) -> str:
        if self.context.key_env:
            return f"check the API key (set {' or '.join(self.context.key_env)}, or api_key in the config)"
        return "check the API key (api_key in the config)"


class MissingKeyError(AuthenticationError):
    """No key anywhere; raised before any request is sent."""

    summary = "no API key"

    def default_hint(self) -> str:
        names = " or ".join(self.context.key_env) or "the provider's key variable"
        return f"set {names} in the environment or a .env file, or api_key in the config"


class PermissionDeniedError(BackendError):
    fatal = True
    summary = "permission denied"

    def default_hint(self) -> str:
        return "the key is valid but may not use this model or feature; check the account's access"


class NotFoundError(BackendError):
    fatal = True
    summary = "not found"

    def default_hint(self) -> str:
        shape = f" ({self.context.base_url_hint})" if self.context.base_url_hint else ""
        return f"check the model name and base_url{shape}"


class RateLimitError(BackendError):
    retryable = True
    summary = "rate limited"

    def default_hint(self) -> str:
        wait = f"the server asked to wait {self.retry_after:g} s; " if self.retry_after else ""
        return wait + "lower concurrency, raise max_retries, or check the account's quota"


class OverloadedError(BackendError):
    retryable = True
    summary = "server overloaded or failing"

    def default_hint(self) -> str:
        return "the provider is having trouble; try again later, raise max_retries, or configure a fallback"


class BackendTimeoutError(BackendError):
    retryable = True
    summary = "timed out"

    def default_hint(self) -> str:
        return "raise timeout in the backend config, or check that the server is responsive"


class BackendConnectionError(BackendError):
    retryable = True
    summary = "cannot connect"

    def default_hint(self) -> str:
        return "check base_url and that the server is running and reachable"


class BadRequestError(BackendError):
    # The same request gets the same refusal: relaunching the agent only repeats it.
    fatal = True
    summary = "bad request"

    def default_hint(self) -> str:
        return "check the backend options (a parameter this model does not accept?)"


class ContextLengthError(BadRequestError):
    summary = "context length exceeded"

    def default_hint(self) -> str:
        return "shorten the conversation or lower max_tokens"


class ContentFilterError(BadRequestError):
    summary = "blocked by the provider's content filter"

    @property
    def fatal(self) -> bool:  # type: ignore[override]
        """A refused request (an HTTP answer) is final; a blocked answer (mid-stream) may differ next time."""
        return self.status is not None

    def default_hint(self) -> str:
        return "rephrase the question; the provider refused it"


class UnsupportedContentError(BadRequestError):
    """The question carries a part (an image, a PDF) this backend or model cannot take; raised before sending."""

    summary = "cannot take this attachment"

    def default_hint(self) -> str:
        return "give this agent a model that takes it, or ask without the attachment"


class OutputTruncatedError(BackendError):
    """The answer stopped at the output token limit where a complete one was needed (a tool call)."""

    summary = "answer cut off"

    def default_hint(self) -> str:
        return "raise max_tokens in the backend config (or ask for a shorter answer)"


class StreamError(BackendError):
    """The stream was malformed or ended before it was complete."""

    retryable = True
    summary = "stream broken"

    def default_hint(self) -> str:
        return "the connection or the server broke the response; try again, raise max_retries, or configure a fallback"


# -- mapping ---------------------------------------------------------------

_CONTEXT_MARKERS = ("context_length", "context length", "maximum context", "too many tokens", "prompt is too long")
_FILTER_MARKERS = ("content_filter", "content_policy", "safety", "content management policy")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # lazily: see massgen_core/http/__init__.py

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_openai_error_body(body: bytes | str | Mapping[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) from an OpenAI-style ``{"error": {...}}`` body, or the raw text."""
    if body is None:
        return None, None, None
    data: Any = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            text = text.strip()
            return (text[:500] or None), None, None
    if isinstance(data, list) and data:  # some servers wrap the error in a list
        data = data[0]
    if not isinstance(data, Mapping):
        return str(data)[:500], None, None
    err = data.get("error", data)
    if isinstance(err, str):
        return err, None, None
    if not isinstance(err, Mapping):
        return str(err)[:500], None, None
    message = err.get("message") or data.get("message")
    etype = err.get("type") or err.get("status")
    code = err.get("code")
    return (
        str(message) if message is not None else None,
        str(etype) if etype is not None else None,
        str(code) if code is not None else None,
    )


def error_for_status(status: int | None, etype: str | None, code: str | None, message: str | None) -> type[BackendError]:
    """The error class for an HTTP status and the provider's error type/code/message."""
    blob = " ".join(x for x in (etype, code, message) if x).lower()
    if any(m in blob for m in _CONTEXT_MARKERS):
        return ContextLengthError
    if any(m in blob for m in _FILTER_MARKERS):
        return ContentFilterError
    if "rate_limit" in blob or "resource_exhausted" in blob:
        return RateLimitError
    if "overloaded" in blob:
        return OverloadedError
    if status is None:
        if "auth" in blob or "api key" in blob:
            return AuthenticationError
        if "invalid" in blob:
            return BadRequestError
        if "server_error" in blob or "internal" in blob:
            return OverloadedError
        return StreamError
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 408:
        return BackendTimeoutError
    if status == 429:
        return RateLimitError
    if status >= 500 or status == 409:
        return OverloadedError
    if 400 <= status < 500:
        return BadRequestError
    return StreamError


def error_from_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    context: ErrorContext | None = None,
) -> BackendError:
    """A typed error for an HTTP error answer with an OpenAI-style body."""
    message, etype, code = parse_openai_error_body(body)
    cls = error_for_status(status, etype, code, message)
    retry_after = parse_retry_after((headers or {}).get("retry-after"))
    return cls(message, context=context, status=status, retry_after=retry_after, code=code or etype)
