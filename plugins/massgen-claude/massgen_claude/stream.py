"""Turning Anthropic Messages stream events into MassGen chunks.

``ClaudeStreamParser`` is fed one decoded SSE event at a time (event name and
JSON payload) and returns the chunks it completes: text and thinking deltas as
they come, each ``input_json_delta`` fragment of a tool call as a
``ToolCallDelta`` and the call itself once its fragments are complete,
server-tool progress, and usage plus ``Done`` at ``message_stop``. It performs
no I/O and knows nothing of HTTP; an in-stream ``error`` event is handed to the
``on_error`` callable, which returns the exception to raise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from massgen_core.backend import (
    BuiltinToolChunk,
    Chunk,
    Done,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    ToolCallDelta,
    Usage,
    UsageChunk,
)
from massgen_core.http.assembly import parse_arguments

# Server tools the API runs itself; their blocks are progress, not calls for us to run.
SERVER_TOOL_BLOCKS = {"server_tool_use"}
SERVER_RESULT_BLOCKS = {
    "web_search_tool_result": "web_search",
    "code_execution_tool_result": "code_execution",
    "bash_code_execution_tool_result": "code_execution",
    "text_editor_code_execution_tool_result": "code_execution",
    "web_fetch_tool_result": "web_fetch",
}


class StreamProtocolError(Exception):
    """The stream broke the Messages protocol (unparseable payload, impossible order)."""


@attrs.define
class _Block:
    type: str
    id: str = ""
    name: str = ""
    parts: list[str] = attrs.Factory(list)
    initial: Any = None  # the block as content_block_start gave it (tool results, server tool input)
    closed: bool = False


@attrs.define
class ClaudeStreamParser:
    """Incremental state of one Messages stream; feed events in order."""

    on_error: Callable[[Mapping[str, Any]], Exception]
    return_citations: bool = True
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    stop_reason: str | None = None
    finished: bool = False
    started: bool = False
    citations: list[Mapping[str, Any]] = attrs.Factory(list)
    thinking_blocks: list[dict[str, Any]] = attrs.Factory(list)
    _blocks: dict[int, _Block] = attrs.Factory(dict)

    def feed(self, event: str, data: str) -> list[Chunk]:
        """Handle one SSE event; returns the chunks it completes (often none)."""
        if not data.strip():
            return []
        try:
            payload = json.loads(data)
        except ValueError as exc:
            raise StreamProtocolError(f"unparseable {event or 'message'} event: {data[:120]!r}") from exc
        if not isinstance(payload, dict):
            raise StreamProtocolError(f"{event or 'message'} event is not an object: {data[:120]!r}")
        kind = payload.get("type") or event
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:  # ping and event types newer than this parser
            return []
        result: list[Chunk] = handler(payload)
        return result

    # -- events --------------------------------------------------------------

    def _on_error(self, payload: Mapping[str, Any]) -> list[Chunk]:
        raise self.on_error(payload)

    def _on_message_start(self, payload: Mapping[str, Any]) -> list[Chunk]:
        self.started = True
        message = payload.get("message") or {}
        self.model = message.get("model") or self.model
        self._take_usage(message.get("usage") or {})
        return []

    def _on_content_block_start(self, payload: Mapping[str, Any]) -> list[Chunk]:
        block = payload.get("content_block") or {}
        btype = str(block.get("type", ""))
        current = _Block(type=btype, id=str(block.get("id", "")), name=str(block.get("name", "")), initial=block)
        self._blocks[int(payload.get("index", 0))] = current
        out: list[Chunk] = []
        if btype == "text" and block.get("text"):
            out.append(TextDelta(block["text"]))
        elif btype == "thinking" and block.get("thinking"):
            current.parts.append(block["thinking"])
            out.append(ReasoningDelta(block["thinking"]))
        elif btype in SERVER_TOOL_BLOCKS:
            out.append(BuiltinToolChunk(tool=current.name, status="started", data={"id": current.id}))
        elif btype in SERVER_RESULT_BLOCKS:
            out.append(self._server_result(block))
        return out

    def _on_content_block_delta(self, payload: Mapping[str, Any]) -> list[Chunk]:
        index = int(payload.get("index", 0))
        block = self._blocks.get(index)
        if block is None:
            raise StreamProtocolError(f"content_block_delta for block {index} that never started")
        delta = payload.get("delta") or {}
        dtype = delta.get("type")
        if dtype == "text_delta":
            text = str(delta.get("text", ""))
            return [TextDelta(text)] if text else []
        if dtype == "input_json_delta":
            piece = str(delta.get("partial_json", ""))
            block.parts.append(piece)
            return [ToolCallDelta(block.id, block.name, piece)] if piece and block.type == "tool_use" else []
        if dtype == "thinking_delta":
            text = str(delta.get("thinking", ""))
            block.parts.append(text)
            return [ReasoningDelta(text)] if text else []
        if dtype == "signature_delta":
            block.name = str(delta.get("signature", ""))  # kept for replaying the thinking block
            return []
        if dtype == "citations_delta" and self.return_citations:
            citation = delta.get("citation")
            if isinstance(citation, dict):
                self.citations.append(citation)
        return []

    def _on_content_block_stop(self, payload: Mapping[str, Any]) -> list[Chunk]:
        block = self._blocks.get(int(payload.get("index", 0)))
        if block is None or block.closed:
            return []
        return self._close(block)

    def _on_message_delta(self, payload: Mapping[str, Any]) -> list[Chunk]:
        delta = payload.get("delta") or {}
        if delta.get("stop_reason"):
            self.stop_reason = str(delta["stop_reason"])
        self._take_usage(payload.get("usage") or {})
        return []

    def _on_message_stop(self, payload: Mapping[str, Any]) -> list[Chunk]:
        out: list[Chunk] = []
        # A block left open (max_tokens cut it) still reports what arrived, unparsed if invalid.
        for index in sorted(self._blocks):
            block = self._blocks[index]
            if not block.closed:
                out.extend(self._close(block))
        self.finished = True
        out.append(UsageChunk(self.usage()))
        out.append(
            Done(finish_reason=self.stop_reason, model=self.model, citations=tuple(self.citations))
        )
        return out

    def end_of_stream(self) -> list[Chunk]:
        """Called when the body ends: the final chunks if the message was complete, else raise.

        A body whose last event lacks its terminating blank line loses that event
        in SSE decoding; once ``message_delta`` gave the stop reason, nothing but
        ``message_stop`` can follow, so the message is complete.
        """
        if self.finished:
            return []
        if self.stop_reason is not None:
            return self._on_message_stop({})
        where = "before message_stop" if self.started else "before message_start"
        raise StreamProtocolError(f"the stream ended {where}")

    # -- helpers -------------------------------------------------------------

    def usage(self) -> Usage:
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cached_tokens=self.cache_read_tokens,
        )

    def _take_usage(self, usage: Mapping[str, Any]) -> None:
        # message_delta repeats input_tokens in newer streams; the last value given wins.
        if usage.get("input_tokens") is not None:
            self.input_tokens = int(usage["input_tokens"])
        if usage.get("output_tokens") is not None:
            self.output_tokens = int(usage["output_tokens"])
        if usage.get("cache_read_input_tokens") is not None:
            self.cache_read_tokens = int(usage["cache_read_input_tokens"])

    def _close(self, block: _Block) -> list[Chunk]:
        block.closed = True
        if block.type == "tool_use":
            raw = "".join(block.parts)
            call = ToolCall(id=block.id, name=block.name, arguments=parse_arguments(raw), arguments_raw=raw)
            return [ToolCallChunk(call)]
        if block.type == "thinking":
            self.thinking_blocks.append(
                {"type": "thinking", "thinking": "".join(block.parts), "signature": block.name}
            )
        elif block.type == "redacted_thinking":
            self.thinking_blocks.append(dict(block.initial))
        elif block.type in SERVER_TOOL_BLOCKS:
            raw = "".join(block.parts)
            return [
                BuiltinToolChunk(
                    tool=block.name,
                    status="in_progress",
                    data={"id": block.id, "input": parse_arguments(raw) or {}},
                )
            ]
        return []

    def _server_result(self, block: Mapping[str, Any]) -> BuiltinToolChunk:
        tool = SERVER_RESULT_BLOCKS[str(block.get("type"))]
        content = block.get("content")
        failed = isinstance(content, dict) and str(content.get("type", "")).endswith("_error")
        return BuiltinToolChunk(
            tool=tool,
            status="failed" if failed else "completed",
            data={"id": block.get("tool_use_id"), "content": content},
        )
