"""Structured concurrency on the error path: a session that raises leaves no task running (issue 3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.config import load_text_with_warnings
from massgen_core.hookspecs import hookimpl
from massgen_core.orchestrator import build_orchestrator
from massgen_core.voting import Decision, Vote, VotingStrategy


class ExplodingStrategy(VotingStrategy):
    """A buggy strategy plugin: it raises as soon as it has a vote to look at."""

    name: ClassVar[str] = "exploding"

    def consensus_reached(self, votes: Mapping[str, Vote], active: Sequence[str]) -> bool:
        if votes:
            raise RuntimeError("strategy bug")
        return False

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        raise AssertionError("never reached")


class ExplodingPlugin:
    @hookimpl
    def register_voting_strategies(self, register: Any) -> None:
        register(ExplodingStrategy)


async def test_a_strategy_error_propagates_and_cancels_every_launch(audit_manager):
    audit_manager.register(ExplodingPlugin(), name="exploding")
    text = """
agents:
  - id: a
    backend: {type: scripted, model: scripted-1, script: [{answer: A}, {vote: self}]}
  - id: b
    backend: {type: scripted, model: scripted-1, script: [{stall: 30}]}
voting: {strategy: exploding}
"""
    config, _ = load_text_with_warnings(text, "boom.yaml", manager=audit_manager)
    orch = build_orchestrator(config, manager=audit_manager)
    before = set(asyncio.all_tasks())
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="strategy bug"):
        async for _event in orch.run("Q"):
            pass
    assert time.monotonic() - started < 5
    leftover = [
        t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()
    ]
    assert leftover == []


class SteadyBackend(bk.Backend):
    """Streams a chunk every 20 ms for about 120 ms: never idle, but longer than its HTTP timeout."""

    name: ClassVar[str] = "steady"

    def stream(self, request: bk.Request) -> Any:
        return self._stream(request)

    async def _stream(self, request: bk.Request) -> Any:
        names = {tool.name for tool in request.tools}
        for _ in range(6):
            await asyncio.sleep(0.02)
            yield bk.TextDelta(".")
        if "vote" in names:
            call = bk.ToolCall(id="v", name="vote", arguments={"agent_id": "agent1", "reason": ""})
            yield bk.ToolCallChunk(call)
        elif names:
            call = bk.ToolCall(id="n", name="new_answer", arguments={"content": "steady answer"})
            yield bk.ToolCallChunk(call)
        yield bk.Done()


class SteadyPlugin:
    @hookimpl
    def register_backends(self, register: Any) -> None:
        register(SteadyBackend)


async def test_a_backends_http_timeout_is_not_a_deadline_for_the_whole_call(audit_manager):
    audit_manager.register(SteadyPlugin(), name="steady")
    text = """
agents:
  - id: a
    backend: {type: steady, model: m, timeout: 0.05}
orchestrator: {final_presentation: false, max_consecutive_failures: 1}
"""
    config, _ = load_text_with_warnings(text, "steady.yaml", manager=audit_manager)
    orch = build_orchestrator(config, manager=audit_manager)
    events = [event async for event in orch.run("Q")]
    assert [e for e in events if isinstance(e, ev.AgentFailed)] == []
    assert (events[-1].ended_by, events[-1].final_answer) == ("consensus", "steady answer")
