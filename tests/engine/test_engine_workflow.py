"""Workflow actions over the three transports, negotiated per model with automatic fallback.

The scripted backend writes each scripted action the way the request's
transport asks (tool calls, one JSON object, or a marked line), so these
tests drive the real session through every transport and every fallback.
"""

from __future__ import annotations

from massgen_core import events as ev
from massgen_core.orchestrator import workflow

ANSWER_THEN_VOTE = [{"answer": "Paris"}, {"vote": {"for": "first", "reason": "right"}}]


def _fallbacks(eng, events):
    return [(e.agent_id, e.from_transport, e.to_transport) for e in eng.of(events, ev.WorkflowFallback)]


async def test_the_json_transport_sends_the_strategy_schema_and_reads_the_reply(eng):
    orch = eng.team({"a": ANSWER_THEN_VOTE, "b": [{"delay": 0.05, "vote": "first"}]}, workflow="json")
    events = await eng.run(orch)
    assert eng.finished(events).ended_by == "consensus"
    assert {v.voter: v.target for v in eng.of(events, ev.VoteCast)} == {"a": "a", "b": "a"}
    voting = [r for r in orch.agents[0].backend.requests if r.workflow and r.workflow.can_vote][0]
    assert voting.tools == () and voting.response_schema.name == workflow.SCHEMA_NAME
    vote_choice = voting.response_schema.schema["anyOf"][1]
    assert vote_choice["properties"]["agent_id"]["enum"] == ["agent1"]
    assert "Reply with exactly one JSON object" in voting.messages[0].content


async def test_the_text_transport_reads_answers_and_marked_vote_lines(eng):
    orch = eng.team({"a": ANSWER_THEN_VOTE, "b": [{"delay": 0.05, "vote": "first"}]}, workflow="text")
    events = await eng.run(orch)
    assert [e.text for e in eng.of(events, ev.AnswerSubmitted)] == ["Paris"]
    assert [v.reason for v in eng.of(events, ev.VoteCast) if v.voter == "a"] == ["right"]
    request = orch.agents[0].backend.requests[-2]
    assert request.tools == () and request.response_schema is None
    assert "VOTE: <label> - <short reason>" in request.messages[0].content


async def test_a_ranked_strategy_gets_a_ranking_over_json_and_text(eng):
    for transport in ("json", "text"):
        orch = eng.team(
            {"a": [{"answer": "A"}, {"vote": "self"}], "b": [{"delay": 0.05, "answer": "B"}, {"vote": "first"}]},
            strategy="ranked", workflow=transport,
        )
        events = await eng.run(orch)
        rankings = {v.voter: v.ranking for v in eng.of(events, ev.VoteCast)}
        assert rankings == {"a": ("a", "b"), "b": ("a", "b")}, transport


async def test_auto_falls_back_tools_json_text_and_remembers_it_across_turns(eng):
    silent = {"no_tool_call": True}
    script = [{"answer": "A"}, silent, silent, {"vote": "self"}, {"vote": "self"}]
    orch = eng.team({"a": script})
    events = await eng.run(orch)
    assert _fallbacks(eng, events) == [("a", "tools", "json"), ("a", "json", "text")]
    assert eng.finished(events).ended_by == "consensus"
    requests = orch.agents[0].backend.requests
    before = len(requests)
    later = await eng.run(orch, history=[("q", "A")])
    assert _fallbacks(eng, later) == []
    turn2 = [r for r in list(requests)[before:] if r.workflow]
    assert turn2 and all(r.workflow.transport == "text" and r.tools == () for r in turn2)


async def test_a_plain_text_answer_to_offered_tools_moves_every_agent_on_that_model_to_json(eng):
    orch = eng.team(
        {"a": [{"no_tool_call": True, "text": "Paris"}, {"vote": "self"}], "b": [{"delay": 0.05, "vote": "first"}]}
    )
    events = await eng.run(orch)
    assert _fallbacks(eng, events) == [("a", "tools", "json")]
    assert eng.of(events, ev.AnswerRejected) == []
    b_votes = [r for r in orch.agents[1].backend.requests if r.workflow and r.workflow.can_vote]
    assert b_votes and all(r.workflow.transport == "json" for r in b_votes)  # learnt from a
    assert eng.finished(events).ended_by == "consensus"


async def test_an_explicit_transport_never_falls_back(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"no_tool_call": True}]}, workflow="json", max_attempts=2,
                    max_consecutive_failures=1)
    events = await eng.run(orch)
    assert _fallbacks(eng, events) == []
    assert eng.of(events, ev.AgentFailed) and eng.finished(events).final_answer == "A"


async def test_an_invalid_json_vote_is_fed_back_with_the_format(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"invalid_vote": "agent7"}, {"vote": "self"}]}, workflow="json")
    events = await eng.run(orch)
    assert "agent7" in eng.of(events, ev.VoteDiscarded)[0].reason
    retry = orch.agents[0].backend.requests[2]
    assert retry.messages[-1].role == "user" and "Invalid agent_id 'agent7'" in retry.messages[-1].content
    assert "Reply with exactly one JSON object" in retry.messages[-1].content


async def test_a_judge_on_the_text_transport_only_votes(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"vote": "self"}], "j": [{"delay": 0.05, "vote": "first"}]},
        strategy="judge", voting_options={"judge": "j"}, workflow="text",
    )
    events = await eng.run(orch)
    judge_requests = [r for r in orch.agents[1].backend.requests if r.workflow]
    assert judge_requests and all(not r.workflow.may_answer for r in judge_requests)
    assert eng.finished(events).winner == "a"
