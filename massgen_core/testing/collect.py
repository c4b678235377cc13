"""Helpers for backend tests: a one-message request and a stream collector.

``collect(backend)`` drains ``backend.stream`` and sums what came out (text,
reasoning, tool calls, the last usage, ``Done``, every chunk, restarts), so a
test can compare a backend's result with a recording's expectation in one
line. Only for tests; it adds no behaviour to backends.
"""

from __future__ import annotations

from typing import Any

from massgen_core.backend import Done, Message, ReasoningDelta, Request, TextDelta, ToolCallChunk, UsageChunk


def ask(text: str = "hi", **kw: Any) -> Request:
    return Request(messages=(Message(role="user", content=text),), **kw)


async def collect(backend: Any, request: Request | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"text": "", "reasoning": "", "calls": [], "usage": None, "done": None, "chunks": [],
                           "restarts": 0}
    async for chunk in backend.stream(request or ask()):
        out["chunks"].append(chunk)
        if isinstance(chunk, TextDelta):
            out["text"] += chunk.text
        elif isinstance(chunk, ReasoningDelta):
            out["reasoning"] += chunk.text
        elif isinstance(chunk, ToolCallChunk):
            out["calls"].append(chunk.call)
        elif isinstance(chunk, UsageChunk):
            out["usage"] = chunk.usage
        elif isinstance(chunk, Done):
            out["done"] = chunk
        elif type(chunk).__name__ == "StreamRestart":
            out["restarts"] += 1
            out["text"] = out["reasoning"] = ""
            out["calls"] = []
    return out
