"""The ``claude`` backend: Anthropic's Messages API over the core's HTTP layer.

Only the wire format lives here (request body from ``wire``, event parsing
from ``stream``, error classification from ``errors``); keys, pooled clients,
retries, timeouts, cost and the health probe come from
``massgen_core.http.HttpBackend``. It must not open its own clients or retry
on its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from massgen_claude import errors, wire
from massgen_claude.options import ClaudeOptions
from massgen_claude.pricing import PRICES
from massgen_claude.stream import ClaudeStreamParser, StreamProtocolError
from massgen_core.backend import BackendContext, Chunk, Done, Request, ResponseSchema, TextDelta, ToolCallChunk
from massgen_core.http import BackendError, HttpBackend, HttpCall

if TYPE_CHECKING:  # httpx-sse loads only when a stream is read (see massgen_core/http/__init__.py)
    from massgen_core.http.sse import ServerSentEvent


class ClaudeBackend(HttpBackend):
    """Claude through ``POST {base_url}/v1/messages`` with streaming."""

    name: ClassVar[str] = "claude"
    required_keys: ClassVar[tuple[str, ...]] = ("model",)
    also_known_as: ClassVar[tuple[str, ...]] = ("anthropic",)
    description: ClassVar[str] = "Anthropic Claude (Messages API)"
    model_patterns: ClassVar[tuple[str, ...]] = ("claude-*",)
    Options: ClassVar[type | None] = ClaudeOptions
    key_env: ClassVar[tuple[str, ...]] = ("ANTHROPIC_API_KEY",)
    default_base_url: ClassVar[str | None] = "https://api.anthropic.com"
    price_table = PRICES
    health_path: ClassVar[str] = "/v1/models"
    messages_path: ClassVar[str] = "/v1/messages"
    workflow_transports: ClassVar[tuple[str, ...]] = ("tools", "json")  # json: a forced tool
    accepts_parts: ClassVar[frozenset[str]] = frozenset({"image", "pdf", "text"})  # image / document blocks
    accepts_urls: ClassVar[bool] = True
    text_only_models: ClassVar[tuple[str, ...]] = ("claude-2*", "claude-instant*")
    base_url_hint: ClassVar[str] = "Claude's base URL has no /v1 path, e.g. https://api.anthropic.com"

    def __init__(self, config: Any, context: BackendContext | None = None) -> None:
        super().__init__(config, context)
        self.options: ClaudeOptions
        # Thinking blocks that preceded each tool call: the API wants them back with the results.
        self._replay: dict[str, list[dict[str, Any]]] = {}
        self._schema: ResponseSchema | None = None  # the structured reply the current request asked for

    def build_http_request(self, request: Request) -> HttpCall:
        body = wire.build_body(
            request,
            model=self.model or "",
            options=self.options,
            max_tokens=self.config.max_tokens,
            temperature=self.config.temperature,
            replay=self._replay,
            stream=self.config.stream is not False,
        )
        self._schema = request.response_schema
        return HttpCall(
            path=self.messages_path, json=body, headers=wire.beta_headers(self.options), stream=body["stream"]
        )

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return wire.auth_headers(key)

    def map_error(self, status: int | None, body: Any, headers: Mapping[str, str]) -> BackendError:
        return errors.classify(status, body, headers, context=self.error_context)

    async def parse_events(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        parser = ClaudeStreamParser(
            on_error=lambda payload: self.map_error(None, payload, {}),
            return_citations=self.options.return_citations,
        )
        calls: list[str] = []
        try:
            async for event in events:
                for chunk in self._remember(parser, parser.feed(event.event, event.data), calls):
                    yield chunk
            for chunk in self._remember(parser, parser.end_of_stream(), calls):
                yield chunk
        except StreamProtocolError as exc:
            raise self.stream_error(str(exc)) from None

    def parse_body(self, data: Any) -> list[Chunk]:
        """A complete Message (``stream: false``, or a server that ignored ``stream: true``)."""
        if not isinstance(data, Mapping) or data.get("type") == "error":
            raise self.map_error(None, data, {})
        parser = ClaudeStreamParser(
            on_error=lambda payload: self.map_error(None, payload, {}),
            return_citations=self.options.return_citations,
        )
        calls: list[str] = []
        out: list[Chunk] = []
        for name, payload in wire.message_events(data):  # well-formed by construction
            out.extend(self._remember(parser, parser.feed(name, json.dumps(payload)), calls))
        return out

    def _remember(self, parser: ClaudeStreamParser, chunks: list[Chunk], calls: list[str]) -> list[Chunk]:
        """Note tool calls, and at ``Done`` keep this turn's thinking blocks for its first call.

        The forced tool of a structured reply comes back as the reply's JSON text.
        """
        out: list[Chunk] = []
        for chunk in chunks:
            if isinstance(chunk, ToolCallChunk) and self._schema is not None and chunk.call.name == self._schema.name:
                chunk = TextDelta(wire.reply_text(self._schema.schema, chunk.call.arguments, chunk.call.arguments_raw))
            elif isinstance(chunk, ToolCallChunk):
                calls.append(chunk.call.id)
            elif isinstance(chunk, Done) and calls and parser.thinking_blocks:
                self._replay[calls[0]] = list(parser.thinking_blocks)
            out.append(chunk)
        return out
