"""Enforcement within one launch (PROTOCOL.md §4): each rule, tool results, registered tools."""

from __future__ import annotations

from typing import Any

from massgen_core import events as ev
from massgen_core.hookspecs import hookimpl
from massgen_core.tools import Tool

VOTE_A1 = {"name": "vote", "arguments": {"agent_id": "agent1", "reason": "r"}}


def _tool_messages(request: Any) -> list[Any]:
    return [m for m in request.messages if m.role == "tool"]


async def test_two_votes_in_one_response_are_rejected_and_each_gets_a_tool_result(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"calls": [VOTE_A1, VOTE_A1]}, {"vote": "self"}]})
    events = await eng.run(orch)
    discarded = eng.of(events, ev.VoteDiscarded)
    assert len(discarded) == 1 and "only one `vote`" in discarded[0].reason
    retry = orch.agents[0].backend.requests[2]
    assert len(_tool_messages(retry)) == 2
    assert all("only one `vote`" in m.content for m in _tool_messages(retry))
    assert eng.finished(events).winner == "a"


async def test_vote_and_new_answer_together_are_rejected(eng):
    both = {"calls": [VOTE_A1, {"name": "new_answer", "arguments": {"content": "B"}}]}
    orch = eng.team({"a": [{"answer": "A"}, both, {"vote": "self"}]})
    events = await eng.run(orch)
    rejected = eng.of(events, ev.AnswerRejected)
    assert len(rejected) == 1 and "both" in rejected[0].reason
    assert [e.text for e in eng.of(events, ev.AnswerSubmitted)] == ["A"]


async def test_two_new_answers_in_one_response_are_rejected(eng):
    two = {"calls": [{"name": "new_answer", "arguments": {"content": "B"}}] * 2}
    orch = eng.team({"a": [two, {"answer": "A"}, {"vote": "self"}]})
    events = await eng.run(orch)
    assert "only one `new_answer`" in eng.of(events, ev.AnswerRejected)[0].reason


async def test_vote_when_no_answers_exist_is_rejected(eng):
    orch = eng.team({"a": [{"vote": "first"}, {"answer": "A"}, {"vote": "self"}]})
    events = await eng.run(orch)
    assert "no answers exist" in eng.of(events, ev.VoteDiscarded)[0].reason
    assert eng.finished(events).final_answer is not None


async def test_vote_for_a_label_outside_the_snapshot_is_rejected(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"invalid_vote": "agent7"}, {"vote": "self"}]})
    events = await eng.run(orch)
    discarded = eng.of(events, ev.VoteDiscarded)[0]
    assert (
        "agent7" in discarded.reason and "agent1" in discarded.reason and discarded.target is None
    )
    assert eng.of(events, ev.VoteCast)[0].target == "a"


async def test_duplicate_answer_after_trimming_is_rejected(eng):
    orch = eng.team({"a": [{"answer": "Paris"}, {"answer": "  Paris \n"}, {"vote": "self"}]})
    events = await eng.run(orch)
    assert "duplicates" in eng.of(events, ev.AnswerRejected)[0].reason
    assert len(eng.of(events, ev.AnswerSubmitted)) == 1


async def test_empty_answer_is_rejected(eng):
    empty = {"calls": [{"name": "new_answer", "arguments": {"content": "  "}}]}
    orch = eng.team({"a": [empty, {"answer": "A"}, {"vote": "self"}]})
    events = await eng.run(orch)
    assert "non-empty" in eng.of(events, ev.AnswerRejected)[0].reason


async def test_answer_beyond_the_cap_is_rejected_with_advice_to_vote(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"answer": "B"}, {"vote": "self"}]}, max_new_answers_per_agent=1
    )
    events = await eng.run(orch)
    rejected = eng.of(events, ev.AnswerRejected)[0]
    assert "maximum of 1" in rejected.reason and "`vote`" in rejected.reason
    assert eng.finished(events).final_answer == "A"


async def test_no_tool_call_when_a_vote_is_possible_gets_a_reminder_as_a_user_message(eng):
    orch = eng.team(
        {"a": [{"answer": "A"}, {"no_tool_call": True, "text": "hmm"}, {"vote": "self"}]},
        workflow="tools",
    )
    events = await eng.run(orch)
    assert "no workflow tool call" in eng.of(events, ev.AnswerRejected)[0].reason
    assert eng.of(events, ev.WorkflowFallback) == []  # workflow: tools never falls back
    retry = orch.agents[0].backend.requests[2]
    assert retry.messages[-2].role == "assistant" and retry.messages[-2].content == "hmm"
    assert retry.messages[-1].role == "user" and "`vote`" in retry.messages[-1].content
    assert eng.finished(events).final_answer == "A"


async def test_a_plain_text_reply_is_the_answer_when_only_new_answer_is_possible(eng):
    orch = eng.team({"a": [{"no_tool_call": True, "text": "Paris"}, {"vote": "self"}]}, workflow="tools")
    events = await eng.run(orch)
    assert [e.text for e in eng.of(events, ev.AnswerSubmitted)] == ["Paris"]
    assert eng.of(events, ev.AnswerRejected) == []
    assert eng.finished(events).ended_by == "consensus"


async def test_launch_fails_after_the_last_attempt_with_a_clear_reason(eng):
    script = [{"no_tool_call": True}, {"no_tool_call": True}, {"answer": "A"}, {"vote": "self"}]
    orch = eng.team({"a": script}, max_attempts=2)
    events = await eng.run(orch)
    restarted = eng.of(events, ev.AgentRestarted)[0]
    assert "after 2 attempts" in restarted.reason
    assert eng.finished(events).winner == "a"


def _tool_plugin(tool: Tool) -> object:
    class Plugin:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register(tool)

    return Plugin()


async def _echo(text: str) -> str:
    return f"echo: {text}"


async def _broken(**_: Any) -> str:
    raise RuntimeError("tool exploded")


async def test_registered_tools_are_executed_and_the_model_continues(eng):
    tool = Tool(name="echo", description="Echo", parameters={"type": "object"}, func=_echo)
    eng.manager.register(_tool_plugin(tool), name="echo-tool")
    call = {"calls": [{"name": "echo", "arguments": {"text": "hi"}}]}
    orch = eng.team({"a": [call, {"answer": "A"}, {"vote": "self"}]}, tools=("echo",))
    events = await eng.run(orch)
    assert [t.name for t in orch.agents[0].backend.requests[0].tools] == ["new_answer", "echo"]
    result = eng.of(events, ev.ToolResult)[0]
    assert (result.name, result.result, result.is_error) == ("echo", "echo: hi", False)
    follow_up = orch.agents[0].backend.requests[1]
    assert _tool_messages(follow_up)[0].content == "echo: hi"
    assert eng.of(events, ev.AnswerRejected) == []


async def test_failing_and_unknown_tools_return_errors_to_the_model(eng):
    tool = Tool(name="boom", description="Breaks", parameters={"type": "object"}, func=_broken)
    eng.manager.register(_tool_plugin(tool), name="boom-tool")
    calls = {"calls": [{"name": "boom", "arguments": {}}, {"name": "nope", "arguments": {}}]}
    orch = eng.team({"a": [calls, {"answer": "A"}, {"vote": "self"}]}, tools=("boom",))
    events = await eng.run(orch)
    results = eng.of(events, ev.ToolResult)
    assert [r.is_error for r in results] == [True, True]
    assert "tool exploded" in results[0].result and "unknown tool 'nope'" in results[1].result


async def test_endless_tool_calls_fail_the_launch(eng):
    tool = Tool(name="echo", description="Echo", parameters={"type": "object"}, func=_echo)
    eng.manager.register(_tool_plugin(tool), name="echo-tool")
    loop = {"calls": [{"name": "echo", "arguments": {"text": "again"}}]}
    orch = eng.team({"a": [loop]}, max_consecutive_failures=1, tools=("echo",))
    events = await eng.run(orch)
    assert "rounds of tool calls" in eng.of(events, ev.AgentFailed)[0].error
    assert eng.finished(events).ended_by == "all_agents_failed"
