"""What agents see (PROTOCOL.md §2, §3, §7, §8): labels, prompt sections, history, presentation."""

from __future__ import annotations

import datetime as dt

from massgen_core.orchestrator import prompts


def test_labels_follow_sorted_real_ids_not_config_order():
    assert prompts.assign_labels(["zed", "amy", "max"]) == {
        "agent1": "amy",
        "agent2": "max",
        "agent3": "zed",
    }


def test_labels_cover_only_agents_with_answers():
    assert prompts.assign_labels([]) == {}


def test_system_prompt_keeps_the_agents_own_system_message_first():
    text = prompts.system_prompt("You are a pirate.", has_history=False)
    assert text.startswith("You are a pirate.\n\n")
    assert "`vote`" in text and "`new_answer`" in text


def test_system_prompt_includes_the_current_date_and_time():
    now = dt.datetime(2026, 3, 4, 5, 6, 7)
    assert "2026-03-04 05:06:07" in prompts.system_prompt(None, has_history=False, now=now)


def test_system_prompt_mentions_the_conversation_only_with_history():
    assert prompts.CONVERSATION_NOTE in prompts.system_prompt(None, has_history=True)
    assert prompts.CONVERSATION_NOTE not in prompts.system_prompt(None, has_history=False)


def test_overridden_instructions_without_a_time_slot_still_get_the_time():
    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    text = prompts.system_prompt(None, has_history=False, instructions="Be brief.", now=now)
    assert text.startswith("Be brief.") and "2026-01-02 03:04:05" in text


def test_user_prompt_without_answers_says_none_are_available():
    text = prompts.user_prompt("Why?", {}, {}, ["a", "b"])
    assert text == (
        "<ORIGINAL MESSAGE> Why? <END OF ORIGINAL MESSAGE>\n\n"
        "<CURRENT ANSWERS from the agents>\n(no answers available yet)\n<END OF CURRENT ANSWERS>"
    )


def test_user_prompt_lists_answers_in_config_order_under_their_labels():
    answers = {"zed": "Z answer", "amy": "A answer"}
    labels = prompts.assign_labels(list(answers))
    text = prompts.user_prompt("Q", answers, labels, ["zed", "amy"])
    assert text.endswith(
        "<CURRENT ANSWERS from the agents>\n"
        "<agent2> Z answer <end of agent2>\n"
        "<agent1> A answer <end of agent1>\n"
        "<END OF CURRENT ANSWERS>"
    )
    assert "zed" not in text and "amy" not in text


def test_user_prompt_starts_with_the_conversation_history():
    text = prompts.user_prompt("Q2", {}, {}, ["a"], history=[("Q1", "A1")])
    assert text.startswith(
        "<CONVERSATION_HISTORY>\nUser: Q1\nAssistant: A1\n<END OF CONVERSATION_HISTORY>\n\n<ORIGINAL MESSAGE> Q2"
    )


def test_presentation_shows_real_ids_votes_and_marks_the_winners_own_answer():
    system, user = prompts.presentation_messages(
        system_message="Own system.",
        winner="bob",
        question="Q",
        answers={"alice": "A", "bob": "B"},
        reasons={"alice": "complete"},
        votes_for={"alice": "bob"},
        tally={"alice": 0, "bob": 1},
    )
    assert system.content.startswith("Own system.\n\n") and "selected" in system.content
    assert "alice voted for bob: complete" in user.content
    assert "<bob (your answer)> B <end of bob>" in user.content
    assert "<alice> A <end of alice>" in user.content
    assert "Tally: alice=0, bob=1" in user.content


def test_presentation_without_votes_says_so():
    _system, user = prompts.presentation_messages(
        system_message=None,
        winner="a",
        question="Q",
        answers={"a": "x"},
        reasons={},
        votes_for={},
        tally={"a": 0.5},
        history=[("old", "reply")],
    )
    assert "(no votes were cast)" in user.content and "a=0.50" in user.content
    assert user.content.startswith("<CONVERSATION_HISTORY>")


def test_direct_messages_replay_history_as_chat_turns():
    messages = prompts.direct_messages("sys", "now?", [("q1", "a1")])
    assert [(m.role, m.content) for m in messages] == [
        ("system", "sys"),
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "now?"),
    ]
    assert [m.role for m in prompts.direct_messages(None, "q")] == ["user"]


async def test_first_launch_prompt_has_no_vote_tool_and_the_empty_snapshot(eng):
    orch = eng.team({"a": [{"answer": "A1"}, {"vote": "best"}], "b": [{"vote": "best"}]})
    await eng.run(orch, "Question?")
    first = orch.agents[0].backend.requests[0]
    assert [t.name for t in first.tools] == ["new_answer"]
    assert first.messages[0].role == "system" and first.messages[1].role == "user"
    assert prompts.NO_ANSWERS in first.messages[1].content


async def test_relaunch_prompt_offers_only_labels_with_answers(eng):
    orch = eng.team(
        {"a": [{"answer": "A1"}, {"vote": "best"}], "b": [{"delay": 0.05, "vote": "best"}]}
    )
    await eng.run(orch)
    later = orch.agents[0].backend.requests[1]
    vote_tool = next(t for t in later.tools if t.name == "vote")
    assert vote_tool.parameters["properties"]["agent_id"]["enum"] == ["agent1"]
    assert "<agent1> A1 <end of agent1>" in later.messages[1].content


async def test_history_reaches_every_coordination_prompt(eng):
    orch = eng.team({"a": [{"answer": "A1"}, {"vote": "best"}], "b": [{"vote": "best"}]})
    await eng.run(orch, "Q2", history=[("Q1", "A0")])
    coordination = [r for r in orch.agents[0].backend.requests if r.tools]
    assert coordination
    for request in coordination:
        assert request.messages[1].content.startswith(
            "<CONVERSATION_HISTORY>\nUser: Q1\nAssistant: A0"
        )
        assert prompts.CONVERSATION_NOTE in request.messages[0].content


async def test_role_preset_is_prepended_to_the_system_message(eng):
    agent = eng.agent(
        "a", [{"answer": "x"}, {"vote": "self"}], role="critic", system_message="Mine."
    )
    orch = eng.team([agent], roles={"critic": "Custom critic text."})
    await eng.run(orch)
    system = orch.agents[0].backend.requests[0].messages[0].content
    assert system.startswith("Custom critic text.\n\nMine.\n\n")
