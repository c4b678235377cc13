"""The shared HTTP provider layer every backend plugin builds on.

Subclass ``HttpBackend``, describe the wire format, and get keys, pooled
clients, typed errors, retries with events, cost and health checks for free::

    from massgen_core.backend import Done, TextDelta, UsageChunk
    from massgen_core.http import HttpBackend, HttpCall, Price, event_json, usage_from_openai

    class EchoBackend(HttpBackend):
        name = "echo"
        key_env = ("ECHO_API_KEY",)
        default_base_url = "https://api.echo.example/v1"
        price_table = {"echo-*": Price(input=1.0, output=2.0)}

        def build_http_request(self, request):
            return HttpCall(path="/chat", json={"model": self.model, "stream": True})

        async def parse_events(self, events):
            async for event in events:
                data = event_json(event)
                if "error" in data:
                    raise self.map_error(400, event.data.encode(), {})
                yield TextDelta(data["text"])
            yield UsageChunk(usage_from_openai(data.get("usage")))  # cost added by the base
            yield Done(finish_reason="stop")

The modules: ``errors`` (taxonomy and status mapping), ``retry``, ``pool``,
``sse``, ``keys``, ``pricing``, ``assembly`` (tool-call fragments), ``debug``
(redaction, the ``massgen.http`` log), ``health``, and ``openai_chat`` (the
Chat Completions wire format shared by the OpenAI, Grok and compatible plugins).
This package does not register any backend itself.

Start-up cost: every command loads every installed backend plugin, so the
classes a plugin registers (``HttpBackend`` subclasses, their ``Options``)
must import cheaply. The network libraries (httpx, httpx-sse, backoff,
python-dotenv, asyncio, email) are therefore imported only inside the
functions that send a request, read a stream, wait or parse a header, with
type-only imports under ``TYPE_CHECKING``; ``pool`` and ``sse``, which exist
to wrap httpx, import it at the top and are themselves imported lazily. The
names below resolve on first use for the same reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Every installed backend plugin imports this package when ``massgen`` loads its plugins, which
# also happens for commands that never send a request (``config validate``, ``plugins``). So the
# names below resolve lazily, on first attribute access (PEP 562): importing
# ``massgen_core.http.errors`` must not drag in ``base`` and, through it, httpx.
_EXPORTS = {
    "assembly": ("ToolCallAssembler", "parse_arguments"),
    "base": ("HttpBackend", "HttpCall", "emit_event", "make_event", "parse_options"),
    "errors": (
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
        "error_for_status",
        "error_from_response",
        "parse_openai_error_body",
        "parse_retry_after",
    ),
    "pool": ("aclose_all", "get_client"),
    "pricing": ("FREE", "Price", "PriceTable", "cost_usd", "lookup_price", "usage_from_openai"),
    "retry": ("RetryPolicy", "retry_call", "retry_stream"),
    "sse": ("ServerSentEvent", "aiter_events", "event_json"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from massgen_core.http.assembly import ToolCallAssembler, parse_arguments
    from massgen_core.http.base import HttpBackend, HttpCall, emit_event, make_event, parse_options
    from massgen_core.http.errors import (
        AuthenticationError,
        BackendConnectionError,
        BackendError,
        BackendTimeoutError,
        BadRequestError,
        ContentFilterError,
        ContextLengthError,
        ErrorContext,
        MissingKeyError,
        NotFoundError,
        OutputTruncatedError,
        OverloadedError,
        PermissionDeniedError,
        RateLimitError,
        StreamError,
        error_for_status,
        error_from_response,
        parse_openai_error_body,
        parse_retry_after,
    )
    from massgen_core.http.pool import aclose_all, get_client
    from massgen_core.http.pricing import FREE, Price, PriceTable, cost_usd, lookup_price, usage_from_openai
    from massgen_core.http.retry import RetryPolicy, retry_call, retry_stream
    from massgen_core.http.sse import ServerSentEvent, aiter_events, event_json

__all__ = [
    "FREE",
    "AuthenticationError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BadRequestError",
    "ContentFilterError",
    "ContextLengthError",
    "ErrorContext",
    "HttpBackend",
    "HttpCall",
    "MissingKeyError",
    "NotFoundError",
    "OutputTruncatedError",
    "OverloadedError",
    "PermissionDeniedError",
    "Price",
    "PriceTable",
    "RateLimitError",
    "RetryPolicy",
    "ServerSentEvent",
    "StreamError",
    "ToolCallAssembler",
    "aclose_all",
    "aiter_events",
    "cost_usd",
    "emit_event",
    "error_for_status",
    "error_from_response",
    "event_json",
    "get_client",
    "lookup_price",
    "make_event",
    "parse_arguments",
    "parse_openai_error_body",
    "parse_options",
    "parse_retry_after",
    "retry_call",
    "retry_stream",
    "usage_from_openai",
]
