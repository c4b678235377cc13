"""Edge cases of the engine: malformed calls, stubborn backends, nested teams' corners, builder errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, VotingConfig
from massgen_core.errors import MassGenError, UnknownNameError
from massgen_core.hookspecs import hookimpl
from massgen_core.orchestrator import Orchestrator, build_orchestrator
from massgen_core.orchestrator.roles import PRESETS, compose_system_message, resolve_role
from massgen_core.tools import Tool


def test_an_orchestrator_needs_agents(eng):
    strategy = eng.team({"a": [{"answer": "A"}]}).strategy
    with pytest.raises(ValueError, match="at least one agent"):
        Orchestrator([], strategy)


async def test_cancel_and_backend_events_outside_a_session_are_harmless(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"vote": "self"}]})
    assert orch.agent_ids == ["a"]
    orch.cancel()
    orch.backend_event(
        ev.BackendRetry(
            session_id="",
            seq=0,
            ts=0,
            agent_id="a",
            backend="x",
            model=None,
            attempt=1,
            delay_s=0,
            error="e",
        )
    )
    events = await eng.run(orch)
    assert events[-1].ended_by == "consensus"
    orch.backend_event(events[0])  # after the session: dropped, never raises


async def test_malformed_json_arguments_are_rejected_and_reported(engine_manager, eng):
    calls = {"n": 0}

    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        calls["n"] += 1
        names = {t.name for t in request.tools}
        if calls["n"] == 1:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="1", name="new_answer", arguments={"content": "A"})
            )
        elif calls["n"] == 2:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="2", name="vote", arguments=None, arguments_raw="{oops")
            )
        elif calls["n"] == 3:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="3", name="tool_x", arguments=None, arguments_raw="{")
            )
        elif "vote" in names:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="4", name="vote", arguments={"agent_id": "agent1", "reason": ""})
            )
        else:
            yield bk.TextDelta("final")
        yield bk.Done()

    eng.register_backend(engine_manager, "malformed", respond)

    async def tool_x(**_: Any) -> str:
        return "never called"

    class ToolPlugin:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register(
                Tool(name="tool_x", description="x", parameters={"type": "object"}, func=tool_x)
            )

    engine_manager.register(ToolPlugin(), name="tool-x")
    events = await eng.run(
        build_orchestrator(
            eng.config([eng.custom("a", "malformed")], tools=("tool_x",)), manager=engine_manager
        )
    )
    assert "not valid JSON" in eng.of(events, ev.VoteDiscarded)[0].reason
    assert "not valid JSON" in eng.of(events, ev.ToolResult)[0].result
    assert events[-1].winner == "a"


async def test_a_vote_that_ignores_cancellation_is_discarded_as_stale(engine_manager, eng):
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        names = {t.name for t in request.tools}
        if "vote" in names:
            try:
                await asyncio.sleep(0.1)
            except asyncio.CancelledError:  # a badly behaved backend keeps going
                asyncio.current_task().uncancel()
            yield bk.ToolCallChunk(
                bk.ToolCall(id="v", name="vote", arguments={"agent_id": "agent1", "reason": ""})
            )
        elif names:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="n", name="new_answer", arguments={"content": "stubborn"})
            )
        else:
            yield bk.TextDelta("final")
        yield bk.Done()

    eng.register_backend(engine_manager, "stubborn", respond)
    late = eng.agent("late", [{"delay": 0.03, "answer": "late answer"}, {"vote": "best"}])
    config = eng.config([eng.custom("s", "stubborn"), late])
    events = await eng.run(build_orchestrator(config, manager=engine_manager))
    stale = [e for e in eng.of(events, ev.VoteDiscarded) if e.reason.startswith("stale")]
    assert stale and stale[0].voter == "s"
    assert events[-1].ended_by == "consensus"


async def test_presentation_past_the_session_timeout_uses_the_answer_verbatim(engine_manager, eng):
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        names = {t.name for t in request.tools}
        if "vote" in names:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="v", name="vote", arguments={"agent_id": "agent1", "reason": ""})
            )
        elif names:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="n", name="new_answer", arguments={"content": "A"})
            )
        else:
            await asyncio.sleep(30)
        yield bk.Done()

    eng.register_backend(engine_manager, "slowfinal", respond)
    config = eng.config([eng.custom("a", "slowfinal")], timeout=0.2)
    finished = (await eng.run(build_orchestrator(config, manager=engine_manager)))[-1]
    assert finished.final_answer == "A" and "timed out" in finished.error


def test_roles_resolve_config_first_then_presets():
    assert resolve_role("critic") == PRESETS["critic"]
    assert resolve_role("critic", {"critic": "mine"}) == "mine"
    with pytest.raises(UnknownNameError, match="did you mean 'critic'"):
        resolve_role("critc")
    assert compose_system_message(None, "  ") is None
    assert {"researcher", "critic", "analyst", "creative_writer", "fact_checker"} <= set(PRESETS)


def test_missing_strategy_option_is_named(eng):
    with pytest.raises(MassGenError, match="missing option"):
        eng.team({"a": [{"answer": "A"}], "b": [{"answer": "B"}]}, strategy="judge")


def test_an_unknown_model_without_type_cannot_be_built(eng):
    with pytest.raises(MassGenError):
        eng.team([AgentConfig(id="a", backend=BackendConfig(model="mystery-model"))])


async def test_a_nested_team_votes_with_a_ranking_and_closes_its_backends(eng):
    inner = AgentConfig(
        id="team",
        agents=(
            eng.agent("x", [{"answer": "X from the team"}, {"vote": "best"}]),
            eng.agent("y", [{"vote": "best"}]),
        ),
        voting=VotingConfig(strategy="ranked"),
    )
    # solo's first call is cancelled by the team's answer; its second answers, so the team must vote.
    # The delay is long so that the team answers first however loaded the machine is (the
    # cancellation cuts it short: the test does not wait it out).
    outer = eng.agent(
        "solo", [{"delay": 5, "answer": "solo"}, {"answer": "solo answer"}, {"vote": "best"}]
    )
    orch = eng.team([inner, outer], strategy="ranked")
    events = await eng.run(orch)
    team_votes = [e for e in eng.of(events, ev.VoteCast) if e.voter == "team"]
    assert team_votes[-1].ranking == ("team", "solo")
    await orch.aclose()


async def test_a_nested_team_without_an_answer_fails_its_launch(eng):
    inner = AgentConfig(
        id="team",
        agents=(eng.agent("x", [{"fail": "server"}]),),
    )
    outer = eng.agent("solo", [{"answer": "solo answer"}, {"vote": "self"}])
    events = await eng.run(eng.team([inner, outer], max_consecutive_failures=1))
    failed = eng.of(events, ev.AgentFailed)
    assert failed[0].agent_id == "team" and "produced no answer" in failed[0].error
    assert events[-1].winner == "solo"


async def test_a_nested_team_presents_its_answer_when_it_wins(eng):
    inner = AgentConfig(
        id="team", agents=(eng.agent("x", [{"answer": "team says"}, {"vote": "best"}]),)
    )
    events = await eng.run(eng.team([inner]))
    assert events[-1].final_answer == "team says"
    deltas = "".join(e.text for e in eng.of(events, ev.FinalAnswerDelta))
    assert deltas == "team says"


async def test_a_launch_cancelled_before_it_began_is_relaunched_silently(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"vote": "self"}], "b": [{"vote": "best"}]})
    events = await eng.run(orch)
    b_events = [e for e in events if getattr(e, "agent_id", None) == "b"]
    assert isinstance(b_events[0], ev.AgentStarted) and b_events[0].attempt == 1
    assert eng.of(b_events, ev.AgentRestarted) == []


def test_config_loader_accepts_the_shipped_role_presets(engine_manager):
    from massgen_core.config.loader import config_from_dict

    data = {"agents": [{"id": "a", "role": "fact_checker", "backend": {"type": "scripted"}}]}
    assert config_from_dict(data, manager=engine_manager).agents[0].role == "fact_checker"
