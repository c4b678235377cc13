"""Edge cases of the Messages stream parser, fed event by event (no HTTP)."""

from __future__ import annotations

import json
from typing import Any

from massgen_claude.stream import ClaudeStreamParser

from massgen_core.backend import Done, ReasoningDelta, TextDelta, ToolCallChunk


def _parser() -> ClaudeStreamParser:
    return ClaudeStreamParser(on_error=lambda payload: RuntimeError(json.dumps(payload)))


def _feed(parser: ClaudeStreamParser, *events: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for event in events:
        out.extend(parser.feed(event["type"], json.dumps(event)))
    return out


def test_text_and_thinking_carried_by_the_block_start_are_emitted():
    out = _feed(_parser(),
                {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "hm"}},
                {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": "Hi"}})
    assert out == [ReasoningDelta("hm"), TextDelta("Hi")]


def test_redacted_thinking_is_kept_for_replay_but_not_shown():
    parser = _parser()
    block = {"type": "redacted_thinking", "data": "opaque"}
    out = _feed(parser, {"type": "content_block_start", "index": 0, "content_block": block},
                {"type": "content_block_stop", "index": 0})
    assert out == [] and parser.thinking_blocks == [block]


def test_a_second_stop_for_the_same_block_emits_nothing_more():
    parser = _parser()
    out = _feed(parser,
                {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "f"}},
                {"type": "content_block_stop", "index": 0},
                {"type": "content_block_stop", "index": 0},
                {"type": "content_block_stop", "index": 7})
    assert [type(c) for c in out] == [ToolCallChunk]


def test_empty_deltas_and_malformed_citations_are_ignored():
    parser = _parser()
    out = _feed(parser,
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ""}},
                {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": ""}},
                {"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta", "citation": "x"}},
                {"type": "message_delta", "delta": {}, "usage": {}},
                {"type": "message_stop"})
    assert [type(c).__name__ for c in out] == ["UsageChunk", "Done"]
    assert parser.citations == [] and isinstance(out[-1], Done) and out[-1].finish_reason is None


def test_end_of_stream_after_message_stop_adds_nothing():
    parser = _parser()
    _feed(parser, {"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 1}}},
          {"type": "message_stop"})
    assert parser.end_of_stream() == []
