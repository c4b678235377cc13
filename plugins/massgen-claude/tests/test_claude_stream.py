"""The claude backend against a loopback Messages API: streaming, tools, thinking, server tools, broken streams."""

from __future__ import annotations

from typing import Any

import pytest

from massgen_core.backend import (
    BuiltinToolChunk,
    Done,
    ReasoningDelta,
    TextDelta,
    ToolCallChunk,
    UsageChunk,
)
from massgen_core.http import StreamError
from massgen_core.testing.anthropic import message_events, stream_response
from massgen_core.testing.server import Response, sse_encode


def _text(chunks: list[Any]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextDelta))


async def test_text_deltas_stream_in_order_and_end_with_usage_then_done(server, make_backend, collect):
    server.messages(stream_response(message_events(text="Hello there, world", text_pieces=6)))
    chunks = await collect(make_backend())
    assert [type(c) for c in chunks[-2:]] == [UsageChunk, Done]
    assert sum(isinstance(c, TextDelta) for c in chunks) == 6
    assert _text(chunks) == "Hello there, world"


async def test_tool_input_in_many_fragments_becomes_one_call_with_parsed_arguments(server, make_backend, collect):
    args = {"city": "Édimbourg", "days": [1, 2, 3], "opts": {"units": "metric"}}
    events = message_events(tool_calls=[("toolu_1", "forecast", args)], json_fragment_size=2)
    server.messages(stream_response(events, piece_sizes=(5, 3, 7)))
    calls = [c.call for c in await collect(make_backend()) if isinstance(c, ToolCallChunk)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [("toolu_1", "forecast", args)]


async def test_empty_tool_input_becomes_an_empty_object(server, make_backend, collect):
    server.messages(stream_response(message_events(tool_calls=[("toolu_1", "ping", "")])))
    calls = [c.call for c in await collect(make_backend()) if isinstance(c, ToolCallChunk)]
    assert calls[0].arguments == {}


async def test_invalid_tool_json_gives_no_arguments_but_keeps_the_raw_text(server, make_backend, collect):
    server.messages(stream_response(message_events(tool_calls=[("toolu_1", "f", '{"a": [1,')])))
    calls = [c.call for c in await collect(make_backend()) if isinstance(c, ToolCallChunk)]
    assert (calls[0].arguments, calls[0].arguments_raw) == (None, '{"a": [1,')


async def test_usage_reports_input_output_and_cache_reads_with_cost(server, make_backend, collect):
    events = message_events(text="ok", input_tokens=1_000_000, output_tokens=1_000_000,
                            cache_read_input_tokens=0)
    server.messages(stream_response(events))
    usage = [c.usage for c in await collect(make_backend(model="claude-sonnet-4-20250514"))
             if isinstance(c, UsageChunk)][-1]
    assert (usage.input_tokens, usage.output_tokens) == (1_000_000, 1_000_000)
    assert usage.cost_usd == pytest.approx(3.0 + 15.0)


async def test_cached_input_is_reported_and_billed_at_the_cache_read_rate(server, make_backend, collect):
    events = message_events(text="ok", input_tokens=1_000_000, output_tokens=0,
                            cache_read_input_tokens=1_000_000)
    server.messages(stream_response(events))
    usage = [c.usage for c in await collect(make_backend(model="claude-haiku-4-5")) if isinstance(c, UsageChunk)][-1]
    assert usage.cached_tokens == 1_000_000
    assert usage.cost_usd == pytest.approx(0.1)


async def test_price_override_in_config_replaces_the_table(server, make_backend, collect):
    events = message_events(text="ok", input_tokens=2_000_000, output_tokens=0)
    server.messages(stream_response(events))
    backend = make_backend(input_price_per_mtok=0.5)
    usage = [c.usage for c in await collect(backend) if isinstance(c, UsageChunk)][-1]
    assert usage.cost_usd == pytest.approx(1.0)


async def test_thinking_is_reasoning_not_answer_text(server, make_backend, collect):
    server.messages(stream_response(message_events(thinking="Let me think.", text="42")))
    chunks = await collect(make_backend(options={"thinking_budget": 2048}))
    assert "".join(c.text for c in chunks if isinstance(c, ReasoningDelta)) == "Let me think."
    assert _text(chunks) == "42"


async def test_stop_reason_and_model_are_reported_in_done(server, make_backend, collect):
    server.messages(stream_response(message_events(text="cut", stop_reason="max_tokens", model="claude-x")))
    done = (await collect(make_backend()))[-1]
    assert (done.finish_reason, done.model) == ("max_tokens", "claude-x")


def _server_tool_events() -> list[Any]:
    start, *rest = message_events(text="", stop=False)
    blocks = [
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
            "type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
            "type": "input_json_delta", "partial_json": '{"query": "pelicans"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
            "type": "web_search_tool_result", "tool_use_id": "srvtoolu_1",
            "content": [{"type": "web_search_result", "url": "https://example.org/p", "title": "P"}]}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("content_block_start", {"type": "content_block_start", "index": 2, "content_block": {
            "type": "code_execution_tool_result", "tool_use_id": "srvtoolu_2",
            "content": {"type": "code_execution_tool_result_error", "error_code": "unavailable"}}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 2}),
        ("content_block_start", {"type": "content_block_start", "index": 3, "content_block": {
            "type": "text", "text": "Pelicans "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 3, "delta": {
            "type": "citations_delta", "citation": {"type": "web_search_result_location",
                                                    "url": "https://example.org/p", "cited_text": "big"}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 3, "delta": {
            "type": "text_delta", "text": "are big."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 3}),
    ]
    return [start, *blocks, *rest[1:], ("message_stop", {"type": "message_stop"})]


async def test_server_tools_are_reported_as_builtin_tool_progress(server, make_backend, collect):
    server.messages(stream_response(_server_tool_events()))
    chunks = await collect(make_backend(options={"enable_web_search": True}))
    builtin = [(c.tool, c.status) for c in chunks if isinstance(c, BuiltinToolChunk)]
    assert builtin == [
        ("web_search", "started"),
        ("web_search", "in_progress"),
        ("web_search", "completed"),
        ("code_execution", "failed"),
    ]
    progress = [c for c in chunks if isinstance(c, BuiltinToolChunk)][1]
    assert progress.data["input"] == {"query": "pelicans"}
    assert not any(isinstance(c, ToolCallChunk) for c in chunks)
    assert _text(chunks) == "Pelicans are big."


async def test_citations_are_kept_with_the_answer(server, make_backend, collect):
    server.messages(stream_response(_server_tool_events()))
    done = (await collect(make_backend(options={"enable_web_search": True})))[-1]
    assert [c["url"] for c in done.citations] == ["https://example.org/p"]


async def test_citations_are_dropped_when_return_citations_is_false(server, make_backend, collect):
    server.messages(stream_response(_server_tool_events()))
    done = (await collect(make_backend(options={"return_citations": False})))[-1]
    assert done.citations == ()


async def test_a_stream_cut_off_midway_raises_a_stream_error_after_the_text_so_far(server, make_backend):
    events = message_events(text="Hello world", stop=False)[:-1]  # no message_delta, no message_stop
    server.messages(stream_response(events, cut_off=True))
    seen: list[str] = []
    with pytest.raises(StreamError) as info:
        async for chunk in make_backend().stream(_request()):
            if isinstance(chunk, TextDelta):
                seen.append(chunk.text)
    assert "".join(seen) == "Hello world"
    assert info.value.output_started


async def test_a_stream_that_ends_cleanly_without_message_stop_is_an_error(server, make_backend, collect):
    server.messages(stream_response(message_events(text="Hi", stop=False)[:-1]))
    with pytest.raises(StreamError, match="before message_stop"):
        await collect(make_backend())


async def test_an_empty_stream_is_an_error(server, make_backend, collect):
    server.messages(stream_response([]))
    with pytest.raises(StreamError, match="before message_start"):
        await collect(make_backend())


async def test_a_malformed_event_raises_a_stream_error(server, make_backend, collect):
    events = message_events(text="Hi")
    body = sse_encode(events[:2]) + b"event: content_block_delta\ndata: {not json\n\n" + sse_encode(events[2:])
    server.messages(Response.raw_stream(body))
    with pytest.raises(StreamError, match="unparseable"):
        await collect(make_backend())


async def test_an_event_that_is_not_an_object_raises_a_stream_error(server, make_backend, collect):
    server.messages(stream_response([("message_start", [1, 2])]))
    with pytest.raises(StreamError, match="not an object"):
        await collect(make_backend())


async def test_a_delta_for_a_block_that_never_started_raises_a_stream_error(server, make_backend, collect):
    events = message_events(text="Hi")
    del events[2]  # the content_block_start of the text block
    server.messages(stream_response(events))
    with pytest.raises(StreamError, match="never started"):
        await collect(make_backend())


async def test_a_slow_first_byte_still_streams_the_answer(server, make_backend, collect):
    server.messages(stream_response(message_events(text="late but fine"), first_byte_delay=0.3))
    assert _text(await collect(make_backend(timeout=5))) == "late but fine"


async def test_unknown_events_and_blank_data_are_ignored(server, make_backend, collect):
    events = message_events(text="Hi")
    body = sse_encode(events[:1]) + b"event: future_thing\ndata: {\"type\": \"future_thing\"}\n\n"
    body += b"event: ping\ndata: \n\n" + sse_encode(events[1:])
    server.messages(Response.raw_stream(body))
    assert _text(await collect(make_backend())) == "Hi"


def _request() -> Any:
    from massgen_core.backend import Message, Request

    return Request(messages=(Message(role="user", content="Hi"),))
