"""The {{ cookiecutter.registered_name|tojson }} backend: an offline model that echoes the question back.

It needs no key and no network, yet takes part in a MassGen session like a
real provider: it streams its text token by token, reports usage, and ends
each coordination call with a workflow tool call (it votes for the first
answer offered, or else submits its echo as a new answer). Replace
``_reply`` and ``stream`` with calls to your provider. It must not block the
event loop: real backends do their I/O with httpx.AsyncClient.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from massgen_core.backend import (
    Backend,
    Chunk,
    Done,
    FunctionSpec,
    HealthResult,
    Message,
    Request,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)

# The coordination prompt wraps the user's question in these markers
# (PROTOCOL.md section 3); outside a session the whole message is echoed.
_QUESTION = re.compile(r"<ORIGINAL MESSAGE>\s*(.*?)\s*<END OF ORIGINAL MESSAGE>", re.DOTALL)
_TOKEN = re.compile(r"\s*\S+|\s+")


def _tokens(text: str) -> list[str]:
    """Split ``text`` into word-sized pieces that join back to exactly ``text``."""
    return _TOKEN.findall(text)


def _reply(messages: Sequence[Message]) -> str:
    """The echo: the question of the last user message (or that whole message)."""
    for message in reversed(messages):
        if message.role == "user":
            found = _QUESTION.search(message.content)
            return found.group(1) if found else message.content
    return ""


def _vote_labels(tool: FunctionSpec) -> list[str]:
    properties: dict[str, Any] = dict(tool.parameters.get("properties", {}))
    return list(properties.get("agent_id", {}).get("enum", []))


class EchoBackend(Backend):
    """Streams the question back; votes for the first offered answer, else answers with the echo."""

    name: ClassVar[str] = {{ cookiecutter.registered_name|tojson }}
    description: ClassVar[str] = "Echoes the question back (offline example backend)"
    # `--model NAME` or `--model NAME-anything` selects this backend.
    model_patterns: ClassVar[tuple[str, ...]] = (
        {{ cookiecutter.registered_name|tojson }},
        {{ (cookiecutter.registered_name ~ "-*")|tojson }},
    )
    key_env: ClassVar[tuple[str, ...]] = ()  # e.g. ("MYPROVIDER_API_KEY",) for a real provider
    token_delay_s: ClassVar[float] = 0.0  # raise it to watch the stream in a live display

    _call_ids = itertools.count(1)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:  # type: ignore[override]
        text = _reply(request.messages)
        pieces = _tokens(text)
        for piece in pieces:
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            yield TextDelta(piece)
        call = self._workflow_call(request.tools, text)
        if call is not None:
            yield ToolCallChunk(call)
        input_tokens = sum(len(_tokens(m.content)) for m in request.messages)
        yield UsageChunk(Usage(input_tokens=input_tokens, output_tokens=len(pieces)))
        yield Done(finish_reason="tool_calls" if call else "stop", model=self.config.model)

    def _workflow_call(self, tools: Sequence[FunctionSpec], text: str) -> ToolCall | None:
        """The workflow tool call ending a coordination response; None outside coordination."""
        offered = {tool.name: tool for tool in tools}
        call_id = f"call_{next(self._call_ids)}"
        if "vote" in offered:
            labels = _vote_labels(offered["vote"])
            if labels:
                arguments = {"agent_id": labels[0], "reason": "the first answer already says it"}
                return ToolCall(id=call_id, name="vote", arguments=arguments)
        if "new_answer" in offered:
            return ToolCall(id=call_id, name="new_answer", arguments={"content": text})
        return None

    async def health_check(self) -> HealthResult:
        return HealthResult(ok=True, latency_s=0.0, models=({{ cookiecutter.registered_name|tojson }},))
