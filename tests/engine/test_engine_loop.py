"""The loop (PROTOCOL.md §5), bounds, the end of a session (§6–7), multi-turn (§8), cancellation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig
from massgen_core.errors import MassGenError, UnknownNameError
from massgen_core.orchestrator import build_orchestrator


def _answer_then_vote(cost: float = 0.0) -> Callable[[Any, bk.Request], AsyncIterator[Any]]:
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        names = {t.name for t in request.tools}
        yield bk.UsageChunk(bk.Usage(input_tokens=10, output_tokens=5, cost_usd=cost))
        if "vote" in names:
            yield bk.ToolCallChunk(
                bk.ToolCall(id="v", name="vote", arguments={"agent_id": "agent1", "reason": "r"})
            )
        elif names:
            text = f"answer of {self.context.agent_id}"
            yield bk.ToolCallChunk(
                bk.ToolCall(id="n", name="new_answer", arguments={"content": text})
            )
        else:
            yield bk.TextDelta("presented")
        yield bk.Done()

    return respond


# -- the loop ------------------------------------------------------------------


async def test_all_agents_launch_concurrently_with_the_empty_snapshot(eng):
    orch = eng.team(
        {name: [{"delay": 0.02, "answer": f"{name} says"}, {"vote": "best"}] for name in "abc"}
    )
    events = await eng.run(orch)
    first_three = eng.of(events, ev.AgentStarted)[:3]
    assert sorted(e.agent_id for e in first_three) == ["a", "b", "c"]
    assert all(e.labels == {} for e in first_three)


async def test_a_new_answer_clears_votes_and_restarts_the_others(eng):
    orch = eng.team(
        {
            "a": [{"answer": "short"}, {"vote": "best"}],
            "b": [{"vote": "best"}],
            "c": [{"stall": 0.05}, {"answer": "a much longer answer"}, {"vote": "best"}],
        }
    )
    events = await eng.run(orch)
    submitted = eng.of(events, ev.AnswerSubmitted)
    last_answer_seq = submitted[-1].seq
    restarted = [e.agent_id for e in eng.of(events, ev.AgentRestarted) if e.seq > last_answer_seq]
    assert set(restarted) == {"a", "b"}
    counted = [e for e in eng.of(events, ev.VoteCast) if e.seq > last_answer_seq]
    assert {e.voter for e in counted} == {"a", "b", "c"}
    winner = eng.of(events, ev.WinnerSelected)[0]
    assert winner.winner == "c" and winner.tally == {"a": 0, "c": 3}


async def test_an_in_flight_call_is_cancelled_when_the_answers_change(eng):
    orch = eng.team(
        {
            "a": [{"delay": 0.05, "answer": "A"}, {"vote": "self"}],
            "b": [{"stall": 30}, {"vote": "best"}],
        }
    )
    started = time.monotonic()
    events = await eng.run(orch)
    assert time.monotonic() - started < 5
    assert any(
        e.agent_id == "b" and "new answer from a" in e.reason
        for e in eng.of(events, ev.AgentRestarted)
    )
    assert eng.finished(events).ended_by == "consensus"


async def test_an_agent_that_answered_is_relaunched_to_vote(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"vote": "self"}]})
    events = await eng.run(orch)
    assert [e.attempt for e in eng.of(events, ev.AgentStarted)] == [1, 2]
    assert eng.of(events, ev.VoteCast)[0].target_label == "agent1"


async def test_events_carry_one_session_id_and_gap_free_seq(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"vote": "best"}], "b": [{"answer": "B"}, {"vote": "best"}]}
    )
    events = await eng.run(orch, session_id="s-1")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.session_id for e in events} == {"s-1"}
    assert isinstance(events[0], ev.SessionStarted) and events[0].agent_ids == ("a", "b")
    assert len(eng.of(events, ev.SessionFinished)) == 1 and isinstance(
        events[-1], ev.SessionFinished
    )


async def test_text_deltas_stream_each_token(eng):
    orch = eng.team({"a": [{"reasoning": "hm ok", "answer": "one two three"}, {"vote": "self"}]})
    events = await eng.run(orch)
    assert [e.text for e in eng.of(events, ev.TextDelta)][:3] == ["one ", "two ", "three"]
    assert "".join(e.text for e in eng.of(events, ev.ReasoningDelta)) == "hm ok"


# -- bounds ----------------------------------------------------------------------


async def test_session_timeout_ends_with_what_exists(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"stall": 30}], "b": [{"stall": 30}]}, timeout=0.3)
    events = await eng.run(orch)
    finished = eng.finished(events)
    assert (finished.ended_by, finished.final_answer, finished.winner) == ("timeout", "A", "a")
    assert "timeout" in eng.of(events, ev.WinnerSelected)[0].explanation
    assert finished.duration_s < 5


async def test_session_timeout_without_answers_has_no_final_answer(eng):
    orch = eng.team({"a": [{"stall": 30}]}, timeout=0.1)
    finished = eng.finished(await eng.run(orch))
    assert (finished.ended_by, finished.final_answer) == ("timeout", None)
    assert "no agent produced an answer" in finished.error


async def test_per_call_timeout_fails_the_launch(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"vote": "self"}], "b": [{"stall": 30}]},
        per_call=0.05,
        max_consecutive_failures=2,
    )
    events = await eng.run(orch)
    failed = eng.of(events, ev.AgentFailed)
    assert [e.agent_id for e in failed] == ["b"] and "timed out after 0.05s" in failed[0].error
    assert eng.finished(events).ended_by == "consensus"


async def test_consecutive_failures_drop_the_agent_after_restarts(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"vote": "self"}], "b": [{"fail": "rate_limit"}]},
        max_consecutive_failures=3,
        wait_for_retrying_agents=True,
    )
    events = await eng.run(orch)
    b_restarts = [e for e in eng.of(events, ev.AgentRestarted) if e.agent_id == "b"]
    assert len(b_restarts) >= 2 and "rate_limit" in b_restarts[-1].reason
    assert "3 consecutive failed launches" in eng.of(events, ev.AgentFailed)[0].error
    assert eng.finished(events).winner == "a"


async def test_all_agents_failing_ends_the_session_without_an_answer(eng):
    orch = eng.team(
        {"a": [{"fail": "auth"}], "b": [{"fail": "server"}]}, max_consecutive_failures=1
    )
    finished = eng.finished(await eng.run(orch))
    assert (finished.ended_by, finished.final_answer, finished.winner) == (
        "all_agents_failed",
        None,
        None,
    )


async def test_a_failed_agents_answer_can_still_win(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"fail": "server"}]}, max_consecutive_failures=1)
    finished = eng.finished(await eng.run(orch))
    assert (finished.ended_by, finished.final_answer) == ("all_agents_failed", "A")


async def test_cost_budget_ends_coordination(engine_manager, eng):
    eng.register_backend(engine_manager, "costly", _answer_then_vote(cost=0.4))
    config = eng.config([eng.custom("a", "costly"), eng.custom("b", "costly")], max_cost_usd=0.5)
    events = await eng.run(build_orchestrator(config, manager=engine_manager))
    finished = eng.finished(events)
    assert finished.ended_by == "budget" and finished.cost_usd >= 0.5


async def test_answer_cap_ends_coordination_when_agents_insist_on_answering(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"answer": "A2"}], "b": [{"answer": "B"}, {"answer": "B2"}]},
        max_new_answers_per_agent=1,
        max_attempts=1,
    )
    events = await eng.run(orch)
    finished = eng.finished(events)
    assert finished.ended_by == "answer_cap" and finished.winner == "a"


async def test_usage_is_reported_per_request_and_summed(engine_manager, eng):
    eng.register_backend(engine_manager, "priced", _answer_then_vote(cost=0.01))
    config = eng.config([eng.custom("a", "priced")])
    events = await eng.run(build_orchestrator(config, manager=engine_manager))
    usage = eng.of(events, ev.UsageReported)
    assert {(u.backend, u.model) for u in usage} == {("priced", "m-1")}
    finished = eng.finished(events)
    assert finished.usage["input_tokens"] == 10 * len(usage)
    assert finished.cost_usd == pytest.approx(0.01 * len(usage))


# -- the end: decision and presentation ---------------------------------------------


async def test_the_winner_presents_and_the_final_answer_is_exactly_what_it_streamed(eng):
    agent = eng.agent("a", [{"answer": "A"}, {"vote": "self"}], final="Polished \\ **bold** answer")
    events = await eng.run(eng.team([agent]))
    deltas = [e for e in eng.of(events, ev.FinalAnswerDelta)]
    assert {e.agent_id for e in deltas} == {"a"}
    assert (
        "".join(e.text for e in deltas)
        == eng.finished(events).final_answer
        == "Polished \\ **bold** answer"
    )


async def test_without_presentation_the_winners_answer_is_final_verbatim(eng):
    text = "C:\\path and **bold**  "
    orch = eng.team({"a": [{"answer": text}, {"vote": "self"}]}, final_presentation=False)
    events = await eng.run(orch)
    assert eng.finished(events).final_answer == text
    assert len(orch.agents[0].backend.requests) == 2  # no presentation call


async def test_presentation_failure_falls_back_to_the_winners_answer(engine_manager, eng):
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        if not request.tools:
            raise RuntimeError("presentation broke")
        async for chunk in _answer_then_vote()(self, request):
            yield chunk

    eng.register_backend(engine_manager, "nofinal", respond)
    events = await eng.run(
        build_orchestrator(eng.config([eng.custom("a", "nofinal")]), manager=engine_manager)
    )
    finished = eng.finished(events)
    assert finished.final_answer == "answer of a" and "presentation broke" in finished.error


async def test_empty_presentation_falls_back_to_the_winners_answer(eng):
    agent = eng.agent("a", [{"answer": "A"}, {"vote": "self"}], final=" ")
    finished = eng.finished(await eng.run(eng.team([agent])))
    assert finished.final_answer == "A" and "empty" in finished.error


async def test_no_votes_means_the_first_answer_in_config_order_wins(eng):
    orch = eng.team(
        {"b": [{"answer": "B"}, {"stall": 30}], "a": [{"answer": "A"}, {"stall": 30}]}, timeout=0.2
    )
    assert eng.finished(await eng.run(orch)).winner == "b"


# -- one agent, multi-turn, nesting ------------------------------------------------------


async def test_single_agent_answers_directly_when_configured(eng):
    agent = eng.agent("solo", [{"answer": "unused"}], final="Direct answer")
    events = await eng.run(eng.team([agent], single=False))
    finished = eng.finished(events)
    assert (finished.ended_by, finished.final_answer, finished.winner) == (
        "single_agent",
        "Direct answer",
        "solo",
    )
    assert "".join(e.text for e in eng.of(events, ev.FinalAnswerDelta)) == "Direct answer"
    assert eng.of(events, ev.AnswerSubmitted) == []


async def test_single_agent_direct_failure_reports_no_answer(engine_manager, eng):
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        raise RuntimeError("down")
        yield  # pragma: no cover

    eng.register_backend(engine_manager, "down", respond)
    events = await eng.run(
        build_orchestrator(eng.config([eng.custom("a", "down")], single=False), manager=engine_manager)
    )
    assert (
        eng.finished(events).ended_by == "all_agents_failed"
        and "down" in eng.of(events, ev.AgentFailed)[0].error
    )


async def test_single_agent_direct_timeout(engine_manager, eng):
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        await asyncio.sleep(30)
        yield bk.Done()  # pragma: no cover

    eng.register_backend(engine_manager, "slow", respond)
    config = eng.config([eng.custom("a", "slow")], single=False, timeout=0.1)
    finished = eng.finished(await eng.run(build_orchestrator(config, manager=engine_manager)))
    assert (finished.ended_by, finished.final_answer) == ("timeout", None)


async def test_direct_mode_carries_history_as_chat_turns(eng):
    agent = eng.agent("solo", [{"answer": "x"}], final="ok")
    orch = eng.team([agent], single=False)
    await eng.run(orch, "Q2", history=[("Q1", "A1")])
    assert [m.content for m in orch.agents[0].backend.requests[0].messages] == ["Q1", "A1", "Q2"]


async def test_session_started_counts_the_turn(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"vote": "self"}]})
    events = await eng.run(orch, history=[("q", "a"), ("q2", "a2")])
    assert events[0].turn == 3


async def test_a_nested_team_answers_with_its_coordinated_final_answer(eng):
    inner = AgentConfig(
        id="team",
        agents=(
            eng.agent("x", [{"answer": "inner X"}, {"vote": "best"}], final="team final"),
            eng.agent("y", [{"vote": "best"}]),
        ),
    )
    outer_solo = eng.agent("solo", [{"delay": 0.05, "vote": {"for_agent": "team"}}])
    events = await eng.run(eng.team([inner, outer_solo]))
    submitted = eng.of(events, ev.AnswerSubmitted)
    assert [(e.agent_id, e.text) for e in submitted] == [("team", "team final")]
    finished = eng.finished(events)
    assert (finished.winner, finished.final_answer) == ("team", "team final")


# -- configuration and plumbing ------------------------------------------------------------


def test_unknown_strategy_names_a_suggestion_and_the_installed_ones(eng):
    with pytest.raises(UnknownNameError) as info:
        eng.team({"a": [{"answer": "A"}]}, strategy="majorty")
    assert "did you mean 'majority'" in str(info.value) and "ranked" in str(info.value)


def test_strategy_options_are_validated(eng):
    with pytest.raises(MassGenError, match="fraction"):
        eng.team({"a": [{"answer": "A"}]}, strategy="quorum", voting_options={"fraction": 2})
    with pytest.raises(MassGenError, match="takes no options"):
        eng.team({"a": [{"answer": "A"}]}, strategy="majority", voting_options={"x": 1})


def test_duplicate_agent_ids_are_refused(eng):
    with pytest.raises(MassGenError, match="unique"):
        eng.team([eng.agent("a", ["no_tool_call"]), eng.agent("a", ["no_tool_call"])])


def test_backend_params_fill_unset_backend_keys(eng):
    agent = AgentConfig(id="a", backend=BackendConfig(type="scripted", temperature=0.1, options={}))
    orch = eng.team([agent], backend_params={"temperature": 0.9, "max_tokens": 77})
    config = orch.agents[0].backend.config
    assert (config.temperature, config.max_tokens) == (0.1, 77)


def test_backend_type_is_inferred_from_the_model_name(eng):
    agent = AgentConfig(id="a", backend=BackendConfig(model="scripted-9", options={}))
    assert eng.team([agent]).agents[0].backend_type == "scripted"


def test_an_agent_without_backend_is_an_error(eng):
    with pytest.raises(MassGenError, match="no backend"):
        eng.team([AgentConfig(id="a")])


async def test_backend_events_are_stamped_into_the_stream(engine_manager, eng):
    async def respond(self: Any, request: bk.Request) -> AsyncIterator[Any]:
        retry = ev.BackendRetry(
            session_id="",
            seq=0,
            ts=0.0,
            agent_id=self.context.agent_id,
            backend="r",
            model=None,
            attempt=1,
            delay_s=0.0,
            error="429",
        )
        self.context.emit(retry)
        async for chunk in _answer_then_vote()(self, request):
            yield chunk

    seen: list[ev.Event] = []
    eng.register_backend(engine_manager, "retrying", respond)
    orch = build_orchestrator(
        eng.config([eng.custom("a", "retrying")]),
        manager=engine_manager,
        emit_backend_event=seen.append,
    )
    events = await eng.run(orch, session_id="sid")
    retries = eng.of(events, ev.BackendRetry)
    assert retries and all(r.session_id == "sid" for r in retries)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(seen) == len(retries)
    await orch.aclose()


# -- cancellation ---------------------------------------------------------------------------


async def test_aclose_mid_session_leaves_no_task_behind(eng, no_leaks):
    before = set(asyncio.all_tasks())
    orch = eng.team({"a": [{"stall": 30}], "b": [{"stall": 30}]})
    stream = orch.run("Q")
    async for event in stream:
        if isinstance(event, ev.AgentStarted) and event.agent_id == "b":
            break
    await stream.aclose()
    no_leaks(before)


async def test_cancelling_the_consumer_cancels_every_launch(eng, no_leaks):
    before = set(asyncio.all_tasks())
    orch = eng.team({"a": [{"stall": 30}], "b": [{"stall": 30}]})

    async def consume() -> None:
        async for _event in orch.run("Q"):
            pass

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    no_leaks(before)


async def test_cancel_request_finishes_with_ended_by_cancelled(eng, no_leaks):
    before = set(asyncio.all_tasks())
    orch = eng.team({"a": [{"answer": "A"}, {"stall": 30}], "b": [{"stall": 30}]})
    events = []
    async for event in orch.run("Q"):
        events.append(event)
        if isinstance(event, ev.AnswerSubmitted):
            orch.cancel()
    finished = eng.finished(events)
    assert (finished.ended_by, finished.final_answer) == ("cancelled", "A")
    no_leaks(before)
