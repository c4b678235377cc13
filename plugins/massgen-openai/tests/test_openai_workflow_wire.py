"""The Responses API: structured output for the json workflow transport, ``stream: false`` and whole answers."""

from __future__ import annotations

import pytest
from massgen_openai import OpenAIBackend

from massgen_core.backend import BackendContext, ResponseSchema
from massgen_core.config.schema import BackendConfig
from massgen_core.http import aclose_all
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.collect import ask, collect
from massgen_core.testing.openai import responses_stream

SCHEMA = ResponseSchema(name="workflow_action", schema={"anyOf": [{"type": "object"}]})
RESPONSE = {
    "id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4o",
    "output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]},
        {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": "Paris"}, {"type": "refusal", "refusal": "no"}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "vote", "arguments": '{"agent_id": "agent1"}'},
    ],
    "usage": {"input_tokens": 12, "output_tokens": 3},
}


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def _backend(server, **kw):
    options = {"text": {"verbosity": "low"}, **kw.pop("options", {})}
    return OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", api_key="sk-test-0123456789", base_url=server.url + "/v1",
                                       max_retries=0, options=options, **kw), BackendContext(agent_id="a"))


async def test_a_schema_becomes_text_format_beside_the_verbosity(server):
    server.add("POST", "/v1/responses", responses_stream(['{"action": "vote"}']))
    out = await collect(_backend(server), ask(response_schema=SCHEMA))
    await aclose_all()
    text = server.requests[0].json()["text"]
    assert text == {"verbosity": "low", "format": {"type": "json_schema", "name": "workflow_action",
                                                    "schema": dict(SCHEMA.schema), "strict": False}}
    assert out["text"] == '{"action": "vote"}'


async def test_stream_false_and_a_whole_response_object_to_a_stream_request_read_the_same(server):
    server.add("POST", "/v1/responses", Response.json(RESPONSE))
    server.add("POST", "/v1/chat/completions", Response.json(RESPONSE))
    whole = await collect(_backend(server, stream=False))
    streamed_ask = await collect(_backend(server))
    chat = await collect(_backend(server, stream=False, options={"api": "chat_completions"}), ask())
    await aclose_all()
    assert [r.json()["stream"] for r in server.requests[:2]] == [False, True]
    for out in (whole, streamed_ask):
        assert (out["text"], out["reasoning"]) == ("Paris", "thinking")
        assert [(c.id, c.name, dict(c.arguments)) for c in out["calls"]] == [("call_1", "vote", {"agent_id": "agent1"})]
        assert out["usage"].input_tokens == 12 and out["done"].finish_reason == "completed"
    assert chat["text"] == ""  # a Responses body on the chat path carries no chat choices
    assert server.requests[2].path == "/v1/chat/completions"


async def test_a_failed_or_erroneous_whole_response_raises_a_typed_error(server):
    from massgen_core.http import BackendError

    server.add("POST", "/v1/responses", Response.json({**RESPONSE, "status": "failed", "error": {"code": "server_error", "message": "boom"}}),
               Response.json({"error": {"message": "bad", "type": "invalid_request_error"}}), Response.json([1]))
    for expected in ("boom", "bad", "not a JSON object"):
        with pytest.raises(BackendError, match=expected):
            await collect(_backend(server, stream=False))
    await aclose_all()
