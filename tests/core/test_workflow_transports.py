"""The workflow transports as pure functions: schemas, instructions and lenient reading of replies."""

from __future__ import annotations

import pytest

from massgen_core.backend import ToolCall
from massgen_core.orchestrator import workflow
from massgen_core.voting import VotingStrategy

PLAIN = VotingStrategy([]).vote_parameters(["agent1", "agent2"])
RANKED = {
    "type": "object",
    "properties": {
        "ranking": {"type": "array", "items": {"type": "string", "enum": ["agent1", "agent2"]}},
        "reason": {"type": "string"},
    },
    "required": ["ranking", "reason"],
}


def _offer(transport="text", vote=PLAIN, labels=("agent1", "agent2"), may_answer=True):
    return workflow.offer(may_answer=may_answer, labels=labels, vote_parameters=vote, transport=transport)


def _read(text, **kw):
    return [(c.name, dict(c.arguments)) for c in workflow.read(_offer(**kw), text, [])]


def test_the_json_schema_is_one_object_per_possible_action():
    only = workflow.action_schema(_offer(labels=()))
    assert only["properties"]["action"]["enum"] == ["new_answer"] and only["required"] == ["action", "content"]
    both = workflow.action_schema(_offer())
    vote = both["anyOf"][1]
    assert vote["properties"]["agent_id"]["enum"] == ["agent1", "agent2"]
    assert vote["required"] == ["action", "agent_id", "reason"] and vote["additionalProperties"] is False
    judge = workflow.action_schema(_offer(may_answer=False))
    assert judge["properties"]["action"]["enum"] == ["vote"]
    assert workflow.response_schema(_offer("tools")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("VOTE: agent2 - clearer", {"agent_id": "agent2", "reason": "clearer"}),
        ("I think so.\n**Vote:** Agent 1 because it is right", {"agent_id": "agent1", "reason": "it is right"}),
        ("I vote for agent2, it is complete.", {"agent_id": "agent2", "reason": "it is complete."}),
        ("Both fine.\nvote: agent1", {"agent_id": "agent1", "reason": "Both fine."}),
        ("VOTE: the first one", {"agent_id": None, "reason": "the first one"}),
    ],
)
def test_a_marked_vote_line_is_read_leniently(text, expected):
    assert _read(text) == [("vote", expected)]


def test_text_without_a_vote_line_is_a_new_answer_and_a_ranking_lists_labels_in_order():
    assert _read("ANSWER: Paris is the capital.") == [("new_answer", {"content": "Paris is the capital."})]
    assert _read("Votes are counted at night.") == [("new_answer", {"content": "Votes are counted at night."})]
    assert _read("VOTE: agent2 > agent1 - both good", vote=RANKED) == [
        ("vote", {"ranking": ["agent2", "agent1"], "reason": "both good"})
    ]
    assert _read("Paris", may_answer=False) == []  # a judge's plain text is no action
    assert _read("   ") == []


def test_json_replies_are_read_through_fences_and_surrounding_text():
    assert _read('```json\n{"action": "vote", "agent_id": "agent1", "reason": "ok"}\n```', transport="json") == [
        ("vote", {"agent_id": "agent1", "reason": "ok"})
    ]
    assert _read('Sure! {"content": "Paris"} done', transport="json") == [("new_answer", {"content": "Paris"})]
    assert _read('{"agent_id": "agent2"} {', transport="json") == [("vote", {"agent_id": "agent2"})]
    assert _read("not json {", transport="json") == []
    assert _read("[1, 2]", transport="json") == []
    assert _read("{}", transport="json") == []


def test_when_only_new_answer_is_possible_plain_text_is_the_answer_on_every_transport():
    for transport in workflow.TRANSPORTS:
        assert _read("Paris.", transport=transport, labels=()) == [("new_answer", {"content": "Paris."})]
    tools = _offer("tools", labels=())
    action = workflow.read(tools, "Paris.", [])
    assert workflow.answered_in_text(tools, action)
    call = ToolCall(id="c1", name="new_answer", arguments={"content": "Paris."})
    assert not workflow.answered_in_text(tools, workflow.read(tools, "", [call]))


def test_reply_formats_are_built_from_the_vote_schema():
    assert "VOTE: <label> > <label> - <short reason>" in workflow.reply_format(_offer(vote=RANKED))
    assert workflow.reply_format(_offer(labels=())).startswith("Reply with your complete answer")
    judge_json = workflow.reply_format(_offer("json", may_answer=False))
    assert '"agent_id": "<one of agent1, agent2>"' in judge_json and "new_answer" not in judge_json
    assert '"ranking": ["<label>", "..."]' in workflow.reply_format(_offer("json", vote=RANKED))
    assert workflow.instructions(_offer("tools"), "custom") == "custom"
    assert workflow.instructions(_offer("json"), "custom").startswith("custom\n\nReply with exactly one JSON")
    assert workflow.reminder(_offer("tools")).startswith("You did not call a workflow tool")
    assert workflow.vote_arguments(_offer(vote={"properties": {"score": {"type": "number"}}}), ["agent1"], "r") == {}


def test_a_choice_starts_from_what_the_backend_carries_and_falls_back_in_order():
    choice = workflow.Choice(supported=("tools", "json"))
    assert choice.current == "tools"
    assert (choice.fall_back(), choice.fall_back(), choice.fall_back()) == ("json", "text", None)
    assert workflow.Choice(supported=("tools",)).fall_back() == "text"  # json skipped: not carried
    assert workflow.Choice(supported=()).current == "text"
    assert workflow.Choice(supported=("tools",), current="text").current == "text"  # as remembered
    fixed = workflow.Choice(mode="json", supported=("tools",))
    assert (fixed.current, fixed.fall_back()) == ("json", None)
    with pytest.raises(ValueError, match="unknown workflow 'xml'"):
        workflow.Choice(mode="xml")
