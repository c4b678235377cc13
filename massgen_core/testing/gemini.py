"""A loopback server speaking Gemini's ``streamGenerateContent``, for tests and benchmarks.

Builds ``massgen_core.testing.server.Response`` values in Gemini's wire format:
``alt=sse`` streams with CRLF framing (as Google sends them), the JSON-array
framing used without ``alt=sse``, ``functionCall`` / thought / text parts,
``usageMetadata``, and Google RPC error bodies (``RESOURCE_EXHAUSTED`` with a
``RetryInfo`` delay, ``API_KEY_INVALID``...). Routes are
``POST /v1beta/models/{model}:streamGenerateContent`` and
``GET /v1beta/models``. Built from Google's documented format; it must never
bind anything but 127.0.0.1 or reach the internet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from massgen_core.testing.server import FakeServer, Response, sse_encode

__all__ = [
    "GeminiServer",
    "error_body",
    "error_response",
    "json_array_response",
    "models_response",
    "response_chunks",
    "stream_path",
    "stream_response",
]

MODELS_PATH = "/v1beta/models"

RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def stream_path(model: str) -> str:
    return f"{MODELS_PATH}/{model}:streamGenerateContent"


def error_body(
    status: int,
    message: str | None = None,
    *,
    rpc_status: str | None = None,
    reason: str | None = None,
    retry_delay: str | None = None,
) -> dict[str, Any]:
    details: list[dict[str, Any]] = []
    if reason:
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                        "domain": "googleapis.com"})
    if retry_delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    error: dict[str, Any] = {
        "code": status,
        "message": message or RPC_STATUS.get(status, "UNKNOWN").replace("_", " ").lower(),
        "status": rpc_status or RPC_STATUS.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int,
    message: str | None = None,
    *,
    rpc_status: str | None = None,
    reason: str | None = None,
    retry_delay: str | None = None,
    retry_after: float | str | None = None,
    **kw: Any,
) -> Response:
    """An HTTP error answer with a Google RPC error body."""
    headers = dict(kw.pop("headers", {}))
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    body = error_body(status, message, rpc_status=rpc_status, reason=reason, retry_delay=retry_delay)
    return Response.json(body, status=status, headers=headers, **kw)


def response_chunks(
    *,
    text: str = "",
    text_pieces: int = 3,
    thought: str = "",
    function_calls: Sequence[tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], str]] = (),
    model: str = "gemini-2.5-flash",
    prompt_tokens: int = 10,
    candidates_tokens: int = 20,
    thoughts_tokens: int = 0,
    finish_reason: str = "STOP",
) -> list[dict[str, Any]]:
    """The ``GenerateContentResponse`` objects of one streamed answer.

    Thought first, then text in ``text_pieces`` chunks, then one chunk per
    function call (``(name, args)`` or ``(name, args, id)``); usage grows on
    every chunk and the last chunk carries ``finishReason``.
    """
    parts_list: list[list[dict[str, Any]]] = []
    if thought:
        parts_list.append([{"text": thought, "thought": True}])
    if text:
        size = max(1, -(-len(text) // max(1, text_pieces)))
        parts_list.extend([[{"text": text[i : i + size]}] for i in range(0, len(text), size)])
    for call in function_calls:
        function_call: dict[str, Any] = {"name": call[0], "args": dict(call[1])}
        if len(call) > 2:
            function_call["id"] = call[2]
        parts_list.append([{"functionCall": function_call, "thoughtSignature": "c2lnX2Zha2U="}])
    if not parts_list:
        parts_list.append([{"text": ""}])
    chunks: list[dict[str, Any]] = []
    for n, parts in enumerate(parts_list, start=1):
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        last = n == len(parts_list)
        if last:
            candidate["finishReason"] = finish_reason
        out_tokens = candidates_tokens if last else max(1, candidates_tokens * n // len(parts_list))
        usage: dict[str, Any] = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": out_tokens,
                                 "totalTokenCount": prompt_tokens + out_tokens + thoughts_tokens}
        if thoughts_tokens:
            usage["thoughtsTokenCount"] = thoughts_tokens
        chunks.append({"candidates": [candidate], "usageMetadata": usage, "modelVersion": model,
                       "responseId": f"resp_fake_{n}"})
    return chunks


def stream_response(chunks: Sequence[Any], *, piece_sizes: Sequence[int] | None = None, **kw: Any) -> Response:
    """An ``alt=sse`` answer: ``data:`` lines with CRLF framing, as Google sends them.

    Without ``piece_sizes`` each event is flushed as its own piece.
    """
    body = sse_encode(chunks, newline="\r\n")
    if piece_sizes:
        return Response.raw_stream(body, piece_sizes=piece_sizes, **kw)
    headers = {"content-type": "text/event-stream", **kw.pop("headers", {})}
    pieces = tuple(p + b"\r\n\r\n" for p in body.split(b"\r\n\r\n") if p)
    return Response(status=kw.pop("status", 200), headers=headers, chunks=pieces, stream=True, **kw)


def json_array_response(chunks: Sequence[Any], *, piece_sizes: Sequence[int] = (11, 5, 23), **kw: Any) -> Response:
    """The framing without ``alt=sse``: one JSON array written element by element."""
    body = ("[" + "\n,\r\n".join(json.dumps(c, indent=2) for c in chunks) + "\n]").encode()
    return Response.raw_stream(body, piece_sizes=piece_sizes, content_type="application/json", **kw)


def models_response(models: Sequence[str] = ("gemini-2.5-flash", "gemini-2.5-pro")) -> Response:
    data = [{"name": f"models/{m}", "displayName": m,
             "supportedGenerationMethods": ["generateContent", "streamGenerateContent"]} for m in models]
    return Response.json({"models": data})


class GeminiServer(FakeServer):
    """A ``FakeServer`` with helpers to script Gemini's streaming and model-list endpoints."""

    @property
    def base_url(self) -> str:
        """The host root, as Gemini's ``base_url`` convention wants it (no ``/v1beta``)."""
        return self.url

    def stream(self, model: str, *responses: Any) -> GeminiServer:
        self.add("POST", stream_path(model), *responses)
        return self

    def models(self, response: Response | None = None) -> GeminiServer:
        self.add("GET", MODELS_PATH, response or models_response())
        return self

    def received(self, model: str) -> list[Any]:
        """The JSON bodies of the streaming requests received for ``model``."""
        return [r.json() for r in self.requests_to(stream_path(model))]
