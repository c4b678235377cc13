"""The claude backend on the shared HTTP layer: kept-alive connections, truncated tool calls, 404 hints."""

from __future__ import annotations

import pytest

from massgen_core.backend import FunctionSpec
from massgen_core.http import NotFoundError, OutputTruncatedError
from massgen_core.testing.anthropic import error_response, message_events, stream_response

TOOL = FunctionSpec(name="lookup", description="Look up", parameters={"type": "object", "properties": {}})


async def test_twenty_sequential_requests_use_one_connection(server, make_backend, collect):
    server.messages(stream_response(message_events(text="Hello", tool_calls=[("t1", "lookup", {"q": 1})])))
    backend = make_backend()
    for _ in range(20):
        await collect(backend)
    assert len(server.requests) == 20 and server.connections == 1


async def test_a_tool_call_cut_off_at_max_tokens_is_an_error_naming_the_limit(server, make_backend, collect, ask):
    server.messages(stream_response(message_events(tool_calls=[("t1", "lookup", '{"q": "unfini')],
                                                   stop_reason="max_tokens")))
    with pytest.raises(OutputTruncatedError) as info:
        await collect(make_backend(max_tokens=64), ask(tools=(TOOL,)))
    assert "max_tokens 64" in str(info.value) and "'max_tokens'" in str(info.value)
    assert "raise max_tokens" in str(info.value) and not info.value.retryable
    assert len(server.requests) == 1


async def test_a_text_answer_cut_off_without_tools_keeps_its_text(server, make_backend, collect):
    server.messages(stream_response(message_events(text="Partial ans", stop_reason="max_tokens")))
    chunks = await collect(make_backend())
    assert chunks[-1].finish_reason == "max_tokens"


async def test_404_hint_describes_claude_base_urls_not_openai_ones(server, make_backend, collect):
    server.messages(error_response(404, "model: claude-nope"))
    with pytest.raises(NotFoundError) as info:
        await collect(make_backend())
    text = str(info.value)
    assert "no /v1 path" in text and "https://api.anthropic.com" in text and "end in /v1" not in text
