"""The JSON workflow transport, ``stream: false`` and whole-JSON answers on OpenAI-compatible servers."""

from __future__ import annotations

import asyncio

from massgen_openai_compatible.backend import PRESET_BACKENDS, ChatCompletionBackend

from massgen_core.backend import ResponseSchema
from massgen_core.http import aclose_all
from massgen_core.testing.collect import ask, backend_maker, collect
from massgen_core.testing.openai import CHAT_PATH, chat_completion, chat_stream
from massgen_core.testing.server import FakeServer, Response

SCHEMA = ResponseSchema(name="workflow_action", schema={"type": "object", "properties": {"action": {"enum": ["vote"]}}})


def _make(server: FakeServer, cls=ChatCompletionBackend, **kw):
    return backend_maker(cls, type=cls.name, model="m", base_url=server.url + "/v1", key=None)(**kw)


async def test_a_schema_goes_out_as_json_schema_or_for_llamacpp_as_json_object_with_schema():
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, chat_stream(['{"action": "vote"}']))
        out = await collect(_make(server), ask(response_schema=SCHEMA))
        await collect(_make(server, PRESET_BACKENDS["llamacpp"]), ask(response_schema=SCHEMA))
        await collect(_make(server, options={"json_format": "json_object"}), ask(response_schema=SCHEMA))
        await aclose_all()
    first, llama, chosen = (r.json()["response_format"] for r in server.requests)
    assert first == {"type": "json_schema", "json_schema": {"name": "workflow_action", "schema": dict(SCHEMA.schema), "strict": False}}
    assert llama == chosen == {"type": "json_object", "schema": dict(SCHEMA.schema)}
    assert out["text"] == '{"action": "vote"}'
    assert "response_format" not in (await _body_without_schema())


async def _body_without_schema():
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, chat_stream(["x"]))
        await collect(_make(server))
        await aclose_all()
    return server.requests[0].json()


async def test_stream_false_is_a_shared_key_and_reads_one_json_answer():
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, chat_completion("Paris"))
        out = await collect(_make(server, stream=False))
        await aclose_all()
    body = server.requests[0].json()
    assert body["stream"] is False and "stream_options" not in body
    assert server.requests[0].header("accept") == "application/json"
    assert out["text"] == "Paris" and out["usage"].output_tokens == 5


async def test_a_complete_json_body_to_a_stream_request_is_read_as_the_answer():
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, chat_completion("", tool_calls=[("c1", "vote", '{"agent_id": "agent1"}')]))
        events: list = []
        out = await collect(_make(server, events=events), ask())
        await aclose_all()
    assert server.requests[0].json()["stream"] is True  # streamed was asked for
    assert len(server.requests) == 1 and events == []  # no "stream broken", no retries
    assert [(c.name, dict(c.arguments)) for c in out["calls"]] == [("vote", {"agent_id": "agent1"})]
    assert out["done"].finish_reason == "tool_calls"


async def test_llamacpp_sends_one_request_at_a_time_per_server():
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, Response(hang=True), chat_stream(["second"]))
        backends = [_make(server, PRESET_BACKENDS["llamacpp"]) for _ in range(2)]
        first = asyncio.ensure_future(collect(backends[0]))
        while not server.requests:
            await asyncio.sleep(0.01)
        second = asyncio.ensure_future(collect(backends[1]))
        await asyncio.sleep(0.2)
        assert len(server.requests) == 1  # the second waits while the first is in flight
        first.cancel()
        out = await second
        await asyncio.gather(first, return_exceptions=True)
        unlimited = [_make(server, PRESET_BACKENDS["llamacpp"], options={"max_concurrency": 0})]
        assert (await collect(unlimited[0]))["text"] == "second"
        await aclose_all()
    assert out["text"] == "second" and len(server.requests) == 3


async def test_a_coordination_reply_of_text_cut_off_at_max_tokens_keeps_its_text():
    from massgen_core.http import OutputTruncatedError
    from massgen_core.orchestrator import workflow

    offer = workflow.offer(may_answer=True, labels=[], vote_parameters=None)
    tools = tuple(workflow.tool_specs(offer))
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, chat_stream(["Paris is the cap"], finish_reason="length"))
        out = await collect(_make(server), ask(tools=tools, workflow=offer))  # the transports read it
        try:
            await collect(_make(server), ask(tools=tools))  # outside coordination: a cut-off call
        except OutputTruncatedError:
            pass
        else:
            raise AssertionError("expected OutputTruncatedError")
        await aclose_all()
    assert out["text"] == "Paris is the cap" and out["done"].finish_reason == "length"
