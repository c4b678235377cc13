"""The {{ cookiecutter.registered_name|tojson }} backend: an offline model that echoes the question back.

It needs no key and no network, yet takes part in a MassGen session like a
real provider: it streams its text token by token, reports usage, and ends
each coordination call with a workflow tool call (it votes for the first
answer offered, or else submits its echo as a new answer). What a launch
offers (the question, the labels it may vote for) comes from MassGen's
``current_launch`` context, never from parsing the prompt or the tools; a
real provider just sends the messages and tools it is given. Replace
``_reply`` and ``stream`` with calls to your provider. It must not block the
event loop: real backends do their I/O with httpx.AsyncClient.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from massgen_core.backend import (
    Backend,
    Chunk,
    Done,
    HealthResult,
    Message,
    Request,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from massgen_core.orchestrator import LaunchContext, current_launch
from massgen_core.orchestrator.workflow import vote_arguments

_TOKEN = re.compile(r"\s*\S+|\s+")


def _tokens(text: str) -> list[str]:
    """Split ``text`` into word-sized pieces that join back to exactly ``text``."""
    return _TOKEN.findall(text)


def _reply(messages: Sequence[Message], launch: LaunchContext | None) -> str:
    """The echo: the launch's question, or outside a session the last user message."""
    if launch is not None:
        return launch.question
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


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
        launch = current_launch.get()
        text = _reply(request.messages, launch)
        pieces = _tokens(text)
        for piece in pieces:
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            yield TextDelta(piece)
        call = self._workflow_call(request, launch, text)
        if call is not None:
            yield ToolCallChunk(call)
        input_tokens = sum(len(_tokens(m.content)) for m in request.messages)
        yield UsageChunk(Usage(input_tokens=input_tokens, output_tokens=len(pieces)))
        yield Done(finish_reason="tool_calls" if call else "stop", model=self.config.model)

    def _workflow_call(self, request: Request, launch: LaunchContext | None, text: str) -> ToolCall | None:
        """The workflow tool call ending a coordination response; None outside coordination."""
        offer = request.workflow  # None: a call without workflow actions (e.g. the final presentation)
        if offer is None or launch is None:
            return None
        call_id = f"call_{next(self._call_ids)}"
        if launch.vote_parameters is not None and launch.labels:
            # The arguments in the shape the voting strategy asked for (a label, a ranking...).
            labels = list(launch.labels)  # offered in order: agent1 first
            arguments = vote_arguments(offer, labels, "the first answer already says it")
            return ToolCall(id=call_id, name="vote", arguments=arguments)
        if launch.may_answer:
            return ToolCall(id=call_id, name="new_answer", arguments={"content": text})
        return None

    async def health_check(self) -> HealthResult:
        return HealthResult(ok=True, latency_s=0.0, models=({{ cookiecutter.registered_name|tojson }},))
