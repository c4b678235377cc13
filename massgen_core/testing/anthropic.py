"""A loopback server speaking Anthropic's Messages API, for tests and benchmarks.

Builds ``massgen_core.testing.server.Response`` values in Anthropic's wire
format (streamed ``message_start`` ... ``message_stop`` events, tool input in
``input_json_delta`` fragments, thinking blocks, usage, and real error bodies
such as ``overloaded_error``) and routes them at ``POST /v1/messages`` and
``GET /v1/models``. Everything here is built from Anthropic's documented
format; it must never bind anything but 127.0.0.1 or reach the internet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from massgen_core.testing.server import FakeServer, Response, sse_encode

__all__ = [
    "MESSAGES_PATH",
    "MODELS_PATH",
    "AnthropicServer",
    "error_body",
    "error_response",
    "message_events",
    "models_response",
    "stream_response",
]

MESSAGES_PATH = "/v1/messages"
MODELS_PATH = "/v1/models"

# Status -> Anthropic error type, as the API documents them.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str | None = None, error_type: str | None = None) -> dict[str, Any]:
    etype = error_type or ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": etype, "message": message or etype.replace("_", " ")}}


def error_response(
    status: int,
    message: str | None = None,
    *,
    error_type: str | None = None,
    retry_after: float | str | None = None,
    **kw: Any,
) -> Response:
    """An HTTP error answer with Anthropic's error body (and Retry-After when given)."""
    headers = dict(kw.pop("headers", {}))
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    headers.setdefault("request-id", "req_fake")
    return Response.json(error_body(status, message, error_type), status=status, headers=headers, **kw)


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def message_events(
    *,
    text: str = "",
    text_pieces: int = 5,
    thinking: str = "",
    tool_calls: Sequence[tuple[str, str, Mapping[str, Any] | str]] = (),
    json_fragment_size: int = 3,
    model: str = "claude-sonnet-4-20250514",
    input_tokens: int = 10,
    output_tokens: int = 20,
    cache_read_input_tokens: int = 0,
    stop_reason: str | None = None,
    stop: bool = True,
    ping: bool = True,
) -> list[tuple[str, dict[str, Any]]]:
    """The events of one streamed message: optional thinking, text, then tool_use blocks.

    ``tool_calls`` are ``(id, name, input)``; a str input is sent verbatim
    (to script invalid JSON), a mapping is JSON-encoded and sent in
    ``json_fragment_size``-character ``input_json_delta`` fragments.
    """
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": input_tokens,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": cache_read_input_tokens,
                        "output_tokens": 1,
                    },
                },
            },
        )
    ]
    if ping:
        events.append(("ping", {"type": "ping"}))
    index = 0
    if thinking:
        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                               "content_block": {"type": "thinking", "thinking": ""}}))
        for piece in _fragments(thinking, max(1, len(thinking) // 3)):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "thinking_delta", "thinking": piece}}))
        events.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                               "delta": {"type": "signature_delta", "signature": "sig_fake"}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    if text:
        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                               "content_block": {"type": "text", "text": ""}}))
        size = max(1, -(-len(text) // max(1, text_pieces)))
        for piece in _fragments(text, size):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "text_delta", "text": piece}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for call_id, name, arguments in tool_calls:
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                               "content_block": {"type": "tool_use", "id": call_id,
                                                                 "name": name, "input": {}}}))
        for piece in [""] + _fragments(raw, json_fragment_size):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "input_json_delta", "partial_json": piece}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    reason = stop_reason or ("tool_use" if tool_calls else "end_turn")
    events.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": reason, "stop_sequence": None},
                                     "usage": {"output_tokens": output_tokens}}))
    if stop:
        events.append(("message_stop", {"type": "message_stop"}))
    return events


def stream_response(events: Iterable[Any], *, piece_sizes: Sequence[int] | None = None, **kw: Any) -> Response:
    """A streamed ``text/event-stream`` answer carrying ``events`` (see ``sse_encode``)."""
    headers = {"request-id": "req_fake", **kw.pop("headers", {})}
    return Response.raw_stream(sse_encode(events), piece_sizes=piece_sizes, headers=headers, **kw)


def models_response(models: Sequence[str] = ("claude-sonnet-4-20250514", "claude-haiku-4-5-20251001")) -> Response:
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-05-14T00:00:00Z"} for m in models]
    return Response.json({"data": data, "has_more": False, "first_id": models[0] if models else None,
                          "last_id": models[-1] if models else None})


class AnthropicServer(FakeServer):
    """A ``FakeServer`` with helpers to script the Messages and Models endpoints."""

    @property
    def base_url(self) -> str:
        """The host root, as Anthropic's ``base_url`` convention wants it (no ``/v1``)."""
        return self.url

    def messages(self, *responses: Any) -> AnthropicServer:
        self.add("POST", MESSAGES_PATH, *responses)
        return self

    def models(self, response: Response | None = None) -> AnthropicServer:
        self.add("GET", MODELS_PATH, response or models_response())
        return self

    def received(self) -> list[Any]:
        """The JSON bodies of the Messages requests received so far."""
        return [r.json() for r in self.requests_to(MESSAGES_PATH)]
