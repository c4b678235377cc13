"""Helpers for backend tests: a backend factory, a one-message request and a stream collector.

``backend_maker(cls, ...)`` builds backends of one plugin pointed at a
loopback server. ``collect(backend)`` drains ``backend.stream`` and sums what came out (text,
reasoning, tool calls, the last usage, ``Done``, every chunk), so a
test can compare a backend's result with a recording's expectation in one
line. Only for tests; it adds no behaviour to backends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massgen_core.backend import (
    BackendContext,
    Done,
    Message,
    ReasoningDelta,
    Request,
    TextDelta,
    ToolCallChunk,
    UsageChunk,
)


def backend_maker(cls: Any, *, type: str, model: str, base_url: str, key: str | None) -> Callable[..., Any]:
    """``make(events=None, key=..., **fields)``: a ``cls`` backend at ``base_url``, retrying nothing.

    ``fields`` are ``BackendConfig`` keys (``model``, ``options``, ``base_url``,
    ``max_retries`` ... override the defaults); ``events`` collects what the
    backend emits (retries, fallbacks); ``key=None`` leaves the key unset.
    """
    from massgen_core.config.schema import BackendConfig

    def make(*, events: list[Any] | None = None, key: str | None = key, **fields: Any) -> Any:
        config = BackendConfig(
            type=type,
            model=fields.pop("model", model),
            api_key=key,
            base_url=fields.pop("base_url", base_url),
            max_retries=fields.pop("max_retries", 0),
            retry_initial_delay=fields.pop("retry_initial_delay", 0.0),
            options=fields.pop("options", {}),
            **fields,
        )
        emit = events.append if events is not None else None
        return cls(config, BackendContext(agent_id="agent1", emit=emit))

    return make


def ask(text: str = "hi", **kw: Any) -> Request:
    return Request(messages=(Message(role="user", content=text),), **kw)


async def collect(backend: Any, request: Request | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"text": "", "reasoning": "", "calls": [], "usage": None, "done": None, "chunks": []}
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
    return out
