"""The openai backend on the shared HTTP layer: kept-alive connections and answers cut off at the limit."""

from __future__ import annotations

import asyncio

import pytest
from massgen_openai import OpenAIBackend

from massgen_core.backend import BackendContext, FunctionSpec
from massgen_core.config.schema import BackendConfig
from massgen_core.http import OutputTruncatedError, aclose_all
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.collect import ask, collect
from massgen_core.testing.openai import chat_stream, responses_events, responses_stream

TOOL = FunctionSpec(name="lookup", description="Look up", parameters={"type": "object", "properties": {}})


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    await aclose_all()


def make(server, api="responses", **kw):
    config = BackendConfig(type="openai", model="gpt-4o-mini", api_key="sk-test-0123456789abcdef",
                           base_url=server.url + "/v1", max_retries=0, options={"api": api}, **kw)
    return OpenAIBackend(config, BackendContext(agent_id="a"))


@pytest.mark.parametrize("api", ["responses", "chat_completions"])
async def test_twenty_sequential_requests_use_one_connection(server, api):
    server.add("POST", "/v1/responses", responses_stream(["hi"], tool_calls=[("c1", "lookup", ['{"q":', "1}"])]))
    server.add("POST", "/v1/chat/completions", chat_stream(["hi"]))
    backend = make(server, api)
    for _ in range(20):
        assert (await collect(backend))["text"] == "hi"
    assert len(server.requests) == 20 and server.connections == 1


async def test_concurrent_responses_requests_open_one_connection_each_at_most(server):
    server.add("POST", "/v1/responses", responses_stream(["a", "b"], chunk_delay=0.02))
    backend = make(server)
    for _ in range(3):
        await asyncio.gather(*(collect(backend) for _ in range(3)))
    assert len(server.requests) == 9 and server.connections == 3


async def test_a_responses_answer_incomplete_at_max_output_tokens_with_tools_is_an_error(server):
    events = responses_events([], tool_calls=[("c1", "lookup", ['{"q": "unfin'])], status="incomplete")
    name, payload = events[-1]
    payload["response"]["incomplete_details"] = {"reason": "max_output_tokens"}
    server.add("POST", "/v1/responses", Response.sse(events))
    with pytest.raises(OutputTruncatedError, match="max_tokens 50"):
        await collect(make(server, max_tokens=50), ask(tools=(TOOL,)))


async def test_a_chat_answer_with_finish_reason_length_and_tools_is_an_error(server):
    server.add("POST", "/v1/chat/completions",
               chat_stream([], tool_calls=[("c1", "lookup", ['{"q": "unfin'])], finish_reason="length"))
    with pytest.raises(OutputTruncatedError, match="finish reason 'length'"):
        await collect(make(server, "chat_completions"), ask(tools=(TOOL,)))
    assert len(server.requests) == 1  # not retried
