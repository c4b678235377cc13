"""The gemini backend on the shared HTTP layer: kept-alive connections, truncated calls, 404 hints."""

from __future__ import annotations

import pytest

from massgen_core.backend import FunctionSpec
from massgen_core.http import NotFoundError, OutputTruncatedError
from massgen_core.testing.gemini import error_response, response_chunks, stream_response

MODEL = "gemini-2.5-flash"  # the conftest backend's model

TOOL = FunctionSpec(name="lookup", description="Look up", parameters={"type": "object", "properties": {}})


async def test_twenty_sequential_requests_use_one_connection(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks(text="Hello")))
    backend = make_backend()
    for _ in range(20):
        await collect(backend)
    assert len(server.requests) == 20 and server.connections == 1


async def test_an_answer_offered_tools_cut_off_at_max_tokens_is_an_error(server, make_backend, collect, ask):
    server.stream(MODEL, stream_response(response_chunks(text="I will call look", finish_reason="MAX_TOKENS")))
    with pytest.raises(OutputTruncatedError, match="the model's default output limit"):
        await collect(make_backend(), ask(tools=(TOOL,)))


async def test_404_hint_describes_gemini_base_urls_not_openai_ones(server, make_backend, collect):
    server.stream(MODEL, error_response(404, "no such model"))
    with pytest.raises(NotFoundError) as info:
        await collect(make_backend())
    text = str(info.value)
    assert "no version path" in text and "generativelanguage.googleapis.com" in text and "end in /v1" not in text
