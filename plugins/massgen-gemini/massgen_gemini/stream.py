"""Turning Gemini ``streamGenerateContent`` responses into MassGen chunks.

``GeminiStreamParser`` is fed one ``GenerateContentResponse`` object at a time
(from SSE ``data:`` lines or from the JSON-array framing) and returns the
chunks it completes: text and thought parts as deltas, each ``functionCall``
part as a complete tool call (Gemini sends arguments as an object, never in
fragments), code-execution parts as builtin-tool progress, and usage plus
``Done`` at ``finish()`` from the LAST chunk's ``usageMetadata``. The
JSON-array framing (no ``alt=sse``) feeds the array's elements one by one.
No I/O here.
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
    Usage,
    UsageChunk,
)

# Finish reasons that mean the provider withheld the answer.
BLOCKED_FINISH = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}


class StreamProtocolError(Exception):
    """The stream was not valid Gemini output (unparseable JSON, not an object)."""


@attrs.define
class GeminiStreamParser:
    """Incremental state of one streamGenerateContent response."""

    on_error: Callable[[Mapping[str, Any]], Exception]
    return_citations: bool = True
    model: str | None = None
    finish_reason: str | None = None
    usage_metadata: Mapping[str, Any] = attrs.Factory(dict)
    citations: list[Mapping[str, Any]] = attrs.Factory(list)
    signatures: dict[str, str] = attrs.Factory(dict)  # tool-call id -> thoughtSignature
    calls: int = 0
    chunks_seen: int = 0
    call_id_prefix: str = "gemini_call"

    def feed_data(self, data: str) -> list[Chunk]:
        """Handle one SSE ``data:`` payload."""
        if not data.strip():
            return []
        try:
            payload = json.loads(data)
        except ValueError as exc:
            raise StreamProtocolError(f"unparseable stream event: {data[:120]!r}") from exc
        return self.feed(payload)

    def feed(self, payload: Any) -> list[Chunk]:
        if not isinstance(payload, dict):
            raise StreamProtocolError(f"stream element is not an object: {str(payload)[:120]!r}")
        if "error" in payload:
            raise self.on_error(payload)
        self.chunks_seen += 1
        self.model = payload.get("modelVersion") or self.model
        if payload.get("usageMetadata"):
            self.usage_metadata = payload["usageMetadata"]
        feedback = payload.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            raise self.on_error(
                {"blocked": True, "reason": feedback["blockReason"], "detail": feedback}
            )
        out: list[Chunk] = []
        candidates = payload.get("candidates") or []
        if not candidates:
            return out
        candidate = candidates[0]
        for part in (candidate.get("content") or {}).get("parts") or []:
            out.extend(self._part(part))
        if candidate.get("finishReason"):
            self.finish_reason = str(candidate["finishReason"])
        if self.return_citations:
            self._citations(candidate.get("groundingMetadata") or {})
        return out

    def finish(self) -> list[Chunk]:
        """Usage and ``Done``, once the body has ended; a blocked answer with no output is an error."""
        if self.finish_reason in BLOCKED_FINISH:
            raise self.on_error({"blocked": True, "reason": self.finish_reason, "detail": {}})
        return [UsageChunk(self.usage()), Done(finish_reason=self.finish_reason, model=self.model,
                                               citations=tuple(self.citations))]

    def usage(self) -> Usage:
        meta = self.usage_metadata
        return Usage(
            input_tokens=int(meta.get("promptTokenCount") or 0),
            output_tokens=int(meta.get("candidatesTokenCount") or 0),
            cached_tokens=int(meta.get("cachedContentTokenCount") or 0),
            reasoning_tokens=int(meta.get("thoughtsTokenCount") or 0),
        )

    # -- parts ---------------------------------------------------------------

    def _part(self, part: Mapping[str, Any]) -> list[Chunk]:
        if "functionCall" in part:
            call = part["functionCall"] or {}
            call_id = str(call.get("id") or f"{self.call_id_prefix}_{self.calls}")
            self.calls += 1
            if part.get("thoughtSignature"):
                self.signatures[call_id] = str(part["thoughtSignature"])
            args = call.get("args")
            arguments = args if isinstance(args, dict) else ({} if args is None else None)
            # Gemini sends arguments as an object, so there is no raw string to keep.
            return [ToolCallChunk(ToolCall(id=call_id, name=str(call.get("name", "")), arguments=arguments))]
        if "executableCode" in part:
            code = part["executableCode"] or {}
            return [BuiltinToolChunk(tool="code_execution", status="in_progress",
                                     data={"language": code.get("language"), "code": code.get("code")})]
        if "codeExecutionResult" in part:
            result = part["codeExecutionResult"] or {}
            ok = result.get("outcome") in (None, "OUTCOME_OK")
            return [BuiltinToolChunk(tool="code_execution", status="completed" if ok else "failed",
                                     data={"outcome": result.get("outcome"), "output": result.get("output")})]
        text = part.get("text")
        if not text:
            return []
        if part.get("thought"):
            return [ReasoningDelta(str(text))]
        return [TextDelta(str(text))]

    def _citations(self, grounding: Mapping[str, Any]) -> None:
        for chunk in grounding.get("groundingChunks") or []:
            web = chunk.get("web") if isinstance(chunk, dict) else None
            if not isinstance(web, dict):
                continue
            citation = {"url": web.get("uri"), "title": web.get("title")}
            if citation not in self.citations:
                self.citations.append(citation)
