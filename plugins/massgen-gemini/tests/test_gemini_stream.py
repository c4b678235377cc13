"""The gemini backend against a loopback streamGenerateContent: text, thoughts, calls, code, broken streams."""

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
from massgen_core.http import ContentFilterError, StreamError
from massgen_core.testing.gemini import json_array_response, response_chunks, stream_response
from massgen_core.testing.server import Response, sse_encode

MODEL = "gemini-2.5-flash"


def _text(chunks: list[Any]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextDelta))


def _candidate(parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0, **extra}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": MODEL,
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7}}


async def test_text_streams_across_chunks_and_ends_with_usage_then_done(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks(text="The capital is Paris.", text_pieces=4)))
    chunks = await collect(make_backend())
    assert _text(chunks) == "The capital is Paris."
    assert [type(c) for c in chunks[-2:]] == [UsageChunk, Done]
    assert sum(isinstance(c, TextDelta) for c in chunks) == 4


async def test_thought_parts_are_reasoning_not_answer_text(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks(thought="Hmm, France.", text="Paris")))
    chunks = await collect(make_backend())
    assert "".join(c.text for c in chunks if isinstance(c, ReasoningDelta)) == "Hmm, France."
    assert _text(chunks) == "Paris"


async def test_function_calls_become_tool_calls_with_object_arguments(server, make_backend, collect):
    calls = [("get_capital", {"country": "France"}, "fc_1"), ("lookup", {"q": {"nested": [1, 2]}})]
    server.stream(MODEL, stream_response(response_chunks(function_calls=calls)))
    got = [c.call for c in await collect(make_backend()) if isinstance(c, ToolCallChunk)]
    assert [(c.name, c.arguments) for c in got] == [("get_capital", {"country": "France"}),
                                                    ("lookup", {"q": {"nested": [1, 2]}})]
    assert got[0].id == "fc_1"
    assert got[1].id.startswith("gemini_call_") and got[1].id != got[0].id


async def test_invented_call_ids_differ_between_requests(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks(function_calls=[("f", {})])))
    backend = make_backend()
    first = [c.call.id for c in await collect(backend) if isinstance(c, ToolCallChunk)]
    second = [c.call.id for c in await collect(backend) if isinstance(c, ToolCallChunk)]
    assert first != second


async def test_function_call_without_args_has_empty_arguments(server, make_backend, collect):
    server.stream(MODEL, stream_response([_candidate([{"functionCall": {"name": "now"}}])]))
    got = [c.call for c in await collect(make_backend()) if isinstance(c, ToolCallChunk)]
    assert got[0].arguments == {}


async def test_usage_comes_from_the_last_chunk_and_thinking_is_billed_as_output(server, make_backend, collect):
    chunks = response_chunks(text="a b c", prompt_tokens=1_000_000, candidates_tokens=500_000,
                             thoughts_tokens=500_000)
    chunks[0]["usageMetadata"]["promptTokenCount"] = 5  # an early chunk's value must not win
    chunks[-1]["usageMetadata"]["cachedContentTokenCount"] = 0
    server.stream(MODEL, stream_response(chunks))
    usage = [c.usage for c in await collect(make_backend()) if isinstance(c, UsageChunk)][-1]
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (1_000_000, 500_000, 500_000)
    assert usage.cost_usd == pytest.approx(0.30 + 2.50)


async def test_code_execution_parts_are_builtin_tool_progress(server, make_backend, collect):
    parts = [
        {"executableCode": {"language": "PYTHON", "code": "print(6*7)"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
        {"executableCode": {"language": "PYTHON", "code": "1/0"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "ZeroDivisionError"}},
        {"text": "It is 42."},
    ]
    server.stream(MODEL, stream_response([_candidate(parts)]))
    chunks = await collect(make_backend(options={"enable_code_execution": True}))
    builtin = [c for c in chunks if isinstance(c, BuiltinToolChunk)]
    assert [(c.tool, c.status) for c in builtin] == [
        ("code_execution", "in_progress"), ("code_execution", "completed"),
        ("code_execution", "in_progress"), ("code_execution", "failed"),
    ]
    assert builtin[0].data["code"] == "print(6*7)" and builtin[1].data["output"] == "42\n"
    assert _text(chunks) == "It is 42."


async def test_grounding_sources_become_citations(server, make_backend, collect):
    grounding = {"groundingChunks": [{"web": {"uri": "https://example.org/a", "title": "A"}},
                                     {"web": {"uri": "https://example.org/a", "title": "A"}},
                                     {"retrievedContext": {}}]}
    server.stream(MODEL, stream_response([_candidate([{"text": "Sourced."}], groundingMetadata=grounding)]))
    done = (await collect(make_backend(options={"enable_web_search": True})))[-1]
    assert done.citations == ({"url": "https://example.org/a", "title": "A"},)


async def test_citations_are_dropped_when_return_citations_is_false(server, make_backend, collect):
    grounding = {"groundingChunks": [{"web": {"uri": "https://example.org/a", "title": "A"}}]}
    server.stream(MODEL, stream_response([_candidate([{"text": "x"}], groundingMetadata=grounding)]))
    done = (await collect(make_backend(options={"return_citations": False})))[-1]
    assert done.citations == ()


async def test_json_array_framing_streams_the_same_answer(server, make_backend, collect):
    chunks = response_chunks(thought="think", text="Hello array", function_calls=[("f", {"a": 1})])
    server.stream(MODEL, json_array_response(chunks))
    got = await collect(make_backend(options={"stream_format": "json_array"}))
    assert _text(got) == "Hello array"
    assert [c.call.arguments for c in got if isinstance(c, ToolCallChunk)] == [{"a": 1}]


async def test_an_answer_with_no_parts_reports_usage_and_done(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks()))
    chunks = await collect(make_backend())
    assert [type(c) for c in chunks] == [UsageChunk, Done]


async def test_blank_data_lines_are_ignored(server, make_backend, collect):
    body = b"data: \r\n\r\n" + sse_encode([_candidate([{"text": "ok"}])], newline="\r\n")
    server.stream(MODEL, Response.raw_stream(body))
    assert _text(await collect(make_backend())) == "ok"


async def test_a_chunk_without_candidates_is_skipped(server, make_backend, collect):
    server.stream(MODEL, stream_response([{"usageMetadata": {"promptTokenCount": 1}}, _candidate([{"text": "ok"}])]))
    assert _text(await collect(make_backend())) == "ok"


async def test_a_stream_cut_off_midway_raises_a_stream_error_after_the_text_so_far(server, make_backend):
    chunks = response_chunks(text="Hello world, more", text_pieces=3)[:-1]
    server.stream(MODEL, stream_response(chunks, cut_off=True))
    seen: list[str] = []
    with pytest.raises(StreamError) as info:
        async for chunk in make_backend().stream(_request()):
            if isinstance(chunk, TextDelta):
                seen.append(chunk.text)
    assert "".join(seen) == "Hello world,"
    assert info.value.output_started


async def test_a_stream_ending_without_finish_reason_is_an_error(server, make_backend, collect):
    server.stream(MODEL, stream_response([_candidate([{"text": "Hi"}], finish=None)]))
    with pytest.raises(StreamError, match="without a finishReason"):
        await collect(make_backend())


async def test_a_malformed_event_raises_a_stream_error(server, make_backend, collect):
    body = sse_encode([_candidate([{"text": "a"}], finish=None)], newline="\r\n") + b"data: {broken\r\n\r\n"
    server.stream(MODEL, Response.raw_stream(body))
    with pytest.raises(StreamError, match="unparseable"):
        await collect(make_backend())


async def test_an_element_that_is_not_an_object_raises_a_stream_error(server, make_backend, collect):
    server.stream(MODEL, stream_response([[1, 2]]))
    with pytest.raises(StreamError, match="not an object"):
        await collect(make_backend())


async def test_a_json_array_with_a_bad_element_raises_a_stream_error(server, make_backend, collect):
    server.stream(MODEL, Response.json([_candidate([{"text": "a"}]), "oops"]))
    with pytest.raises(StreamError, match="not an object"):
        await collect(make_backend(options={"stream_format": "json_array"}))


async def test_a_json_array_cut_off_midway_is_a_stream_error(server, make_backend, collect):
    server.stream(MODEL, Response(chunks=(b'[{"candidates": [',), cut_off=True))
    with pytest.raises(StreamError):
        await collect(make_backend(options={"stream_format": "json_array"}))


async def test_a_slow_first_byte_still_streams_the_answer(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks(text="late"), first_byte_delay=0.3))
    assert _text(await collect(make_backend(timeout=5))) == "late"


async def test_a_safety_block_raises_content_filter(server, make_backend, collect):
    server.stream(MODEL, stream_response([_candidate([], finish="SAFETY")]))
    with pytest.raises(ContentFilterError, match="SAFETY"):
        await collect(make_backend())


async def test_a_blocked_prompt_raises_content_filter(server, make_backend, collect):
    server.stream(MODEL, stream_response([{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}]))
    with pytest.raises(ContentFilterError, match="PROHIBITED_CONTENT"):
        await collect(make_backend())


def _request() -> Any:
    from massgen_core.backend import Message, Request

    return Request(messages=(Message(role="user", content="Hi"),))
