"""AnswerStream: which chunks carry the answer on each transport, and how a complete call closes it."""

from __future__ import annotations

import json

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.orchestrator import workflow
from massgen_core.orchestrator.answer_stream import AnswerStream

VOTE = {"type": "object", "properties": {"agent_id": {"type": "string", "enum": ["agent1"]}}, "required": ["agent_id"]}


def _offer(transport: str = workflow.TOOLS, *, may_answer: bool = True) -> bk.WorkflowOffer:
    return workflow.offer(may_answer=may_answer, labels=["agent1"], vote_parameters=VOTE, transport=transport)


def _feed(stream: AnswerStream, chunks: list[bk.Chunk]) -> list[str]:
    return [stream.feed(c) for c in chunks]


def test_tools_only_the_new_answer_fragments_and_the_rest_at_completion() -> None:
    stream = AnswerStream(_offer())
    raw = json.dumps({"content": "abcdef"})
    out = _feed(stream, [
        bk.TextDelta("I will answer."),
        bk.ToolCallDelta("c1", "vote", '{"agent_id": "agent1"'),
        bk.ToolCallDelta("c2", "new_answer", raw[:-5]),
        bk.UsageChunk(bk.Usage()),
        bk.ToolCallChunk(bk.ToolCall(id="c2", name="new_answer", arguments={"content": "abcdef"}, arguments_raw=raw)),
        bk.ToolCallChunk(bk.ToolCall(id="c1", name="vote", arguments={"agent_id": "agent1"})),
    ])
    assert out == ["", "", "abc", "", "def", ""]


def test_a_complete_call_that_disagrees_with_what_streamed_adds_nothing() -> None:
    stream = AnswerStream(_offer())
    assert stream.feed(bk.ToolCallDelta("c", "new_answer", '{"content": "draft')) == "draft"
    assert stream.feed(bk.ToolCallChunk(bk.ToolCall(id="c", name="new_answer", arguments={"content": "other"}))) == ""
    bad = bk.ToolCallChunk(bk.ToolCall(id="d", name="new_answer", arguments=None, arguments_raw="{oops"))
    assert stream.feed(bad) == ""


def test_json_reads_the_content_of_the_text_reply() -> None:
    stream = AnswerStream(_offer(workflow.JSON))
    out = _feed(stream, [bk.TextDelta('{"action": "new_answer", "con'), bk.TextDelta('tent": "x\\ny"}')])
    assert out == ["", "x\ny"]
    vote = AnswerStream(_offer(workflow.JSON))
    assert _feed(vote, [bk.TextDelta('{"action": "vote", "agent_id": "agent1"}')]) == [""]


def test_json_through_a_structured_output_tool_ignores_the_text_that_repeats_it() -> None:
    stream = AnswerStream(_offer(workflow.JSON))
    out = _feed(stream, [
        bk.ToolCallDelta("t", workflow.SCHEMA_NAME, '{"action": "new_answer", "content": "ab'),
        bk.ToolCallDelta("t", "some_tool", '{"content": "not this'),
        bk.ToolCallDelta("t", workflow.SCHEMA_NAME, 'c"}'),
        bk.TextDelta('{"action": "new_answer", "content": "abc"}'),
        bk.ToolCallChunk(bk.ToolCall(id="t", name="new_answer", arguments={"content": "abc"})),
    ])
    assert out == ["ab", "", "c", "", ""]


def test_text_is_the_answer_only_when_the_launch_may_answer() -> None:
    assert AnswerStream(_offer(workflow.TEXT)).feed(bk.TextDelta("Paris")) == "Paris"
    assert AnswerStream(_offer(workflow.TEXT, may_answer=False)).feed(bk.TextDelta("VOTE: agent1")) == ""
    assert AnswerStream(_offer(may_answer=False)).feed(bk.ToolCallDelta("c", "new_answer", '{"content": "x"}')) == ""


def test_the_panel_forgets_what_a_restarted_request_had_streamed() -> None:
    from massgen_core.display.state import SessionView

    f = ev.EventFactory("s")
    view = SessionView()
    for event in (
        f(ev.AgentStarted, agent_id="a"),
        f(ev.AnswerDelta, agent_id="a", text="first try"),
        f(ev.BackendRetry, agent_id="a", backend="openai", model="m", attempt=1, delay_s=0.5, error="reset", restart=False),
    ):
        view.apply(event)
    assert view.agents["a"].text_tail(100) == "first try"  # a retry before output changes nothing
    view.apply(f(ev.BackendRetry, agent_id="a", backend="openai", model="m", attempt=2, delay_s=0.5, error="reset", restart=True))
    assert view.agents["a"].text_tail(100) == ""
    view.apply(f(ev.AnswerDelta, agent_id="a", text="second"))
    assert view.agents["a"].text_tail(100) == "second"
