"""The ``gemini`` backend: Google's Gemini API over the core's HTTP layer.

Streams with ``POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse``
(or the JSON-array framing when ``stream_format: json_array``); the wire
format lives in ``wire`` and ``stream``, error classification in ``errors``.
Keys, pooled clients, retries, timeouts and the health probe come from
``massgen_core.http.HttpBackend``; it must not open clients or retry itself.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from massgen_core.backend import BackendContext, Chunk, Request, Usage
from massgen_core.http import BackendError, HttpBackend, HttpCall
from massgen_gemini import errors, wire
from massgen_gemini.options import GeminiOptions
from massgen_gemini.pricing import PRICES
from massgen_gemini.stream import GeminiStreamParser, StreamProtocolError

if TYPE_CHECKING:  # httpx-sse loads only when a stream is read (see massgen_core/http/__init__.py)
    from massgen_core.http.sse import ServerSentEvent


class GeminiBackend(HttpBackend):
    """Gemini through ``streamGenerateContent`` with native function calling."""

    name: ClassVar[str] = "gemini"
    required_keys: ClassVar[tuple[str, ...]] = ("model",)
    also_known_as: ClassVar[tuple[str, ...]] = ("google",)
    description: ClassVar[str] = "Google Gemini (streamGenerateContent)"
    model_patterns: ClassVar[tuple[str, ...]] = ("gemini-*",)
    Options: ClassVar[type | None] = GeminiOptions
    key_env: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com"
    price_table = PRICES
    health_path: ClassVar[str] = "/v1beta/models"
    workflow_transports: ClassVar[tuple[str, ...]] = ("tools", "json")  # json: responseSchema
    accepts_parts: ClassVar[frozenset[str]] = frozenset({"image", "pdf", "text"})  # inline_data / file_data
    accepts_urls: ClassVar[bool] = True
    base_url_hint: ClassVar[str] = (
        "Gemini's base URL has no version path, e.g. https://generativelanguage.googleapis.com"
    )

    def __init__(self, config: Any, context: BackendContext | None = None) -> None:
        super().__init__(config, context)
        self.options: GeminiOptions
        self._signatures: dict[str, str] = {}  # thoughtSignature per tool-call id, for replay
        self._requests = itertools.count()  # keeps invented call ids unique across turns

    @property
    def model_id(self) -> str:
        return (self.model or "").removeprefix("models/")

    def build_http_request(self, request: Request) -> HttpCall:
        body = wire.build_body(
            request,
            options=self.options,
            model=self.model_id,
            max_tokens=self.config.max_tokens,
            temperature=self.config.temperature,
            signatures=self._signatures,
        )
        if self.config.stream is False:  # one complete answer
            return HttpCall(path=f"/v1beta/models/{self.model_id}:generateContent", json=body, stream=False)
        path = f"/v1beta/models/{self.model_id}:streamGenerateContent"
        if self.options.stream_format == "json_array":
            return HttpCall(path=path, json=body, stream=False)
        return HttpCall(path=path, json=body, params={"alt": "sse"})

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return wire.auth_headers(key)

    def map_error(self, status: int | None, body: Any, headers: Mapping[str, str]) -> BackendError:
        return errors.classify(status, body, headers, context=self.error_context)

    def parse_models(self, data: Any) -> tuple[str, ...]:
        return tuple(name.removeprefix("models/") for name in super().parse_models(data))

    def priced(self, usage: Usage) -> Usage:
        # Gemini bills thinking tokens as output, but candidatesTokenCount leaves them out.
        billed = attrs.evolve(usage, output_tokens=usage.output_tokens + usage.reasoning_tokens)
        return attrs.evolve(usage, cost_usd=super().priced(billed).cost_usd)

    def _parser(self) -> GeminiStreamParser:
        return GeminiStreamParser(
            on_error=lambda payload: self.map_error(None, payload, {}),
            return_citations=self.options.return_citations,
            call_id_prefix=f"{wire.CALL_ID_PREFIX}_{next(self._requests)}",
        )

    async def parse_events(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        parser = self._parser()
        try:
            async for event in events:
                for chunk in parser.feed_data(event.data):
                    yield chunk
        except StreamProtocolError as exc:
            raise self.stream_error(str(exc)) from None
        for chunk in self._finish(parser):
            yield chunk

    def parse_body(self, data: Any) -> list[Chunk]:
        """A complete answer, or the JSON-array framing (every element one streamed response)."""
        parser = self._parser()
        chunks: list[Chunk] = []
        try:
            for item in data if isinstance(data, list) else [data]:
                chunks.extend(parser.feed(item))
        except StreamProtocolError as exc:
            raise self.stream_error(str(exc)) from None
        return chunks + self._finish(parser)

    def _finish(self, parser: GeminiStreamParser) -> list[Chunk]:
        if parser.finish_reason is None:
            # Gemini has no end event: a body without finishReason was cut off.
            raise self.stream_error(f"the stream ended without a finishReason after {parser.chunks_seen} chunk(s)")
        self._signatures.update(parser.signatures)
        return parser.finish()
