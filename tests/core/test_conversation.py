"""``Team.conversation()``: turns that follow each other share one engine, one recording and the history."""

from __future__ import annotations

import asyncio

import pytest

from massgen_core import Conversation, Team
from massgen_core import events as ev
from massgen_core.errors import MassGenError
from massgen_core.store import Store, default_path


def scripted(*steps: dict, per_turn: bool = False, **backend: object) -> dict:
    return {
        "agents": [
            {"id": "a", "backend": {"type": "scripted", "model": "s-a", "per_turn": per_turn, "script": list(steps), **backend}},
        ],
        "orchestrator": {"max_attempts": 1},
    }


TWO_QUESTIONS = scripted({"answer": "first answer to {question}"}, {"vote": "self"},
                         {"answer": "second answer to {question}"}, {"vote": "self"})


async def answers_of(conversation: Conversation, question: str) -> list[ev.Event]:
    return [event async for event in conversation.stream(question)]


async def test_turns_share_one_engine_so_a_script_carries_on_from_question_to_question():
    async with Team.from_config(TWO_QUESTIONS, record=False) as team:
        async with team.conversation() as conversation:
            await answers_of(conversation, "q1")
            await answers_of(conversation, "q2")
        # Team.ask builds an engine per turn, so there the script starts over
        again = await team.ask("q3")
    assert conversation.history == [("q1", "first answer to q1"), ("q2", "second answer to q2")]
    assert again.final_answer == "first answer to q3"


async def test_every_turn_is_recorded_under_one_conversation_and_new_starts_another():
    async with Team.from_config(scripted({"answer": "A to {question}"}, {"vote": "self"}, per_turn=True)) as team:
        conversation = team.conversation()
        try:
            first_id = conversation.conversation_id
            await answers_of(conversation, "q1")
            await answers_of(conversation, "q2")
            conversation.new()
            await answers_of(conversation, "q3")
        finally:
            await conversation.aclose()
    assert conversation.recorder is None  # closed
    assert conversation.history == [("q3", "A to q3")]
    assert conversation.conversation_id not in (None, first_id)
    with Store(read_only=True) as store:
        assert store.history(first_id) == [("q1", "A to q1"), ("q2", "A to q2")]
        assert store.history(conversation.conversation_id) == [("q3", "A to q3")]


async def test_new_without_recording_forgets_the_history_only():
    async with Team.from_config(scripted({"answer": "A"}, {"vote": "self"}, per_turn=True), record=False) as team:
        async with team.conversation(history=[("earlier", "E")]) as conversation:
            await answers_of(conversation, "q")
            assert conversation.history == [("earlier", "E"), ("q", "A")]
            conversation.new()
            assert conversation.history == [] and conversation.conversation_id is None


async def test_a_continued_conversation_is_appended_to_and_its_budget_counts_what_it_spent():
    config = scripted({"answer": "A to {question}"}, {"vote": "self"}, per_turn=True)
    async with Team.from_config(config) as team:
        result = await team.ask("q1")
        with Store() as store:
            store.conn.execute("UPDATE conversations SET cost_usd = 0.25 WHERE id = ?", (result.conversation_id,))
            store.conn.commit()
            history = store.history(result.conversation_id)
        async with team.conversation(history=history, conversation_id=result.conversation_id) as conversation:
            assert conversation.orchestrator.conversation_cost_usd == 0.25
            await answers_of(conversation, "q2")
    with Store(read_only=True) as store:
        assert store.history(result.conversation_id) == [("q1", "A to q1"), ("q2", "A to q2")]


async def test_interrupt_asks_the_turn_to_stop_and_keeps_it_out_of_the_history():
    config = scripted({"delay": 30, "answer": "never"}, {"vote": "self"})
    async with Team.from_config(config, record=False) as team:
        async with team.conversation() as conversation:
            conversation.interrupt()  # between turns: nothing to stop
            seen = []
            async for event in conversation.stream("q"):
                seen.append(event)
                if isinstance(event, ev.AgentStarted):
                    assert conversation.running
                    conversation.interrupt()
            assert not conversation.running
    assert conversation.interrupted
    assert isinstance(seen[-1], ev.SessionFinished) and seen[-1].ended_by == "cancelled"
    assert conversation.history == []


async def test_a_conversation_runs_one_turn_at_a_time():
    config = scripted({"delay": 30, "answer": "never"}, {"vote": "self"})
    async with Team.from_config(config, record=False) as team:
        async with team.conversation() as conversation:
            events = conversation.stream("q")
            await anext(events)
            with pytest.raises(RuntimeError, match="one turn at a time"):
                await anext(conversation.stream("again"))
            await events.aclose()


async def test_a_cancel_that_is_not_an_interrupt_propagates():
    config = scripted({"delay": 30, "answer": "never"}, {"vote": "self"})
    started = asyncio.Event()
    async with Team.from_config(config, record=False) as team:
        async with team.conversation() as conversation:

            async def consume() -> None:
                async for _ in conversation.stream("q"):
                    started.set()

            task = asyncio.create_task(consume())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not conversation.interrupted and not conversation.running


def test_a_missing_key_is_refused_by_preflight_before_any_recording(_isolated_home):
    team = Team.from_config({"agents": [{"id": "g", "backend": {"type": "openai", "model": "gpt-4o-mini"}}]})
    with pytest.raises(MassGenError, match="OPENAI_API_KEY"):
        team.conversation()
    assert not default_path().exists()


def _offline_teams() -> list:
    """Every bundled config and built-in preset whose agents are all scripted (they run with no key)."""
    from ruamel.yaml import YAML

    from massgen_core import configs
    from massgen_core.presets import entries

    paths = [*configs.bundled_configs().values(), *(e.path for e in entries("preset") if e.builtin)]
    offline = []
    for path in paths:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        agents = data.get("agents") or [data.get("agent")]
        if all(agent["backend"]["type"] == "scripted" for agent in agents):
            offline.append(pytest.param(path, id=f"{path.parent.name}/{path.name}"))
    return offline


@pytest.mark.parametrize("path", _offline_teams())
async def test_every_offline_demo_answers_a_second_and_third_question(path):
    async with Team.from_config(path, record=False) as team:
        async with team.conversation() as conversation:
            for question in ("one?", "two?", "three?"):
                events = await answers_of(conversation, question)
                assert events[-1].final_answer, (question, events[-1].error)
    assert [q for q, _ in conversation.history] == ["one?", "two?", "three?"]
