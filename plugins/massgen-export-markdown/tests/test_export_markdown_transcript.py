"""The markdown exporter: a readable transcript with collapsible answers."""

from __future__ import annotations

import pytest
from massgen_export_markdown import MarkdownExporter


def _doc(**turn_overrides):
    turn = {
        "turn": 1, "session_id": "s", "question": "Which | is better?\nExplain.", "agent_ids": ["alice", "bob"],
        "strategy": "majority", "started_at": 0.0, "finished_at": 1.0, "ended_by": "consensus", "error": None,
        "final_answer": "**Bob** wins.", "winner": "bob", "tally": {"bob": 2.0}, "reasons": {}, "explanation": "2 of 2 votes",
        "usage": {}, "cost_usd": 0.002, "duration_s": 1.0,
        "answers": [
            {"agent_id": "alice", "label": "agent1", "revision": 1, "text": "First draft", "ts": 0.1},
            {"agent_id": "bob", "label": "agent2", "revision": 1, "text": "Better", "ts": 0.2},
            {"agent_id": "bob", "label": None, "revision": 2, "text": "Best", "ts": 0.3},
        ],
        "votes": [
            {"voter": "alice", "target": "bob", "target_label": "agent2", "reason": "a | b\nnewline", "ranking": [], "discarded": False, "discard_reason": None, "ts": 0.4},
            {"voter": "bob", "target": "bob", "target_label": None, "reason": "mine", "ranking": [], "discarded": False, "discard_reason": None, "ts": 0.5},
            {"voter": "carol", "target": "alice", "target_label": "agent1", "reason": "stale", "ranking": [], "discarded": True, "discard_reason": "old", "ts": 0.6},
        ],
        "requests": [{"agent_id": "alice", "backend": "openai", "model": "gpt-4o-mini", "input_tokens": 5, "output_tokens": 7,
                      "cached_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.002, "latency_s": 1.25, "ttft_s": None,
                      "retries": 0, "status": "ok", "ts": 0.7}],
        "events": [],
    }  # fmt: skip
    turn.update(turn_overrides)
    return {
        "format": "massgen-conversation", "version": 1,
        "conversation": {"id": "abc123", "title": "Which is better?", "config": None, "started_at": 0.0,
                         "finished_at": 1.0, "ended_by": "consensus", "cost_usd": 0.002},
        "turns": [turn],
    }  # fmt: skip


def test_the_transcript_starts_with_the_title_and_conversation_facts():
    md = MarkdownExporter().export(_doc())
    assert md.startswith("# Which is better?\n")
    assert "Conversation `abc123` · started 1970-01-01 00:00:00 UTC · consensus · cost $0.002000" in md


def test_question_is_quoted_and_final_answer_kept_as_markdown_with_winner():
    md = MarkdownExporter().export(_doc())
    assert "> Which | is better?\n> Explain." in md
    assert "**Final answer** (winner: `bob`, ended by consensus)\n\n**Bob** wins." in md


def test_vote_table_escapes_pipes_and_newlines_and_leaves_out_discarded_votes():
    md = MarkdownExporter().export(_doc())
    assert "| voter | voted for | reason |" in md
    assert "| alice | bob (agent2) | a \\| b newline |" in md
    assert "| bob | bob | mine |" in md
    assert "carol" not in md
    assert "| bob | 2 |" in md and "*2 of 2 votes*" in md


def test_each_agents_answers_are_in_a_collapsible_section():
    md = MarkdownExporter().export(_doc())
    assert "<details>\n<summary>alice: 1 answer</summary>\n\n#### Revision 1 as agent1\n\nFirst draft\n\n</details>" in md
    assert "<summary>bob: 2 answers</summary>" in md and "#### Revision 2\n\nBest" in md


def test_usage_and_cost_are_tabulated():
    md = MarkdownExporter().export(_doc())
    assert "| alice | openai | gpt-4o-mini | 5 | 7 | 0.002000 | 1.25 | ok |" in md
    assert "Turn cost: $0.002000" in md


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"final_answer": None, "winner": None, "ended_by": None}, "**Final answer** (ended by unfinished)\n\n*(no final answer recorded)*"),
        ({"error": "all agents failed"}, "**Error:** all agents failed"),
        ({"votes": [], "tally": None, "requests": [], "answers": [], "explanation": ""}, "*(no final answer" ),
    ],
)
def test_unfinished_failed_and_empty_turns_still_render(overrides, expected):
    doc = _doc(**overrides)
    if expected.startswith("*(no final"):
        doc["turns"][0]["final_answer"] = None
    md = MarkdownExporter().export(doc)
    assert expected in md


def test_the_plugin_registers_the_markdown_format(installed_plugins):
    assert installed_plugins.exporters.get("markdown").extension == "md"


def test_votes_cleared_by_a_later_answer_or_replaced_are_marked_superseded():
    votes = [
        {"voter": "alice", "target": "alice", "target_label": "agent1", "reason": "only one", "ranking": [], "discarded": False, "discard_reason": None, "ts": 0.15},
        {"voter": "alice", "target": "bob", "target_label": "agent2", "reason": "better", "ranking": [], "discarded": False, "discard_reason": None, "ts": 0.4},
        {"voter": "bob", "target": "bob", "target_label": "agent2", "reason": "mine", "ranking": [], "discarded": False, "discard_reason": None, "ts": 0.5},
    ]  # fmt: skip
    md = MarkdownExporter().export(_doc(votes=votes))
    assert "| voter | voted for | reason | counted |" in md
    assert "| alice | alice (agent1) | only one | superseded |" in md
    assert "| alice | bob (agent2) | better | yes |" in md
    assert "| bob | bob (agent2) | mine | yes |" in md
