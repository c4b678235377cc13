"""Claude: the json workflow transport as one forced tool, ``stream: false`` and whole Message answers."""

from __future__ import annotations

import json

import pytest

from massgen_core.backend import Message, Request, ResponseSchema, TextDelta, ToolCallChunk
from massgen_core.http import BackendError
from massgen_core.testing.anthropic import message_events, stream_response
from massgen_core.testing.server import Response

ALTERNATIVES = ResponseSchema(name="workflow_action", schema={"anyOf": [{"type": "object"}, {"type": "object"}]})
OBJECT = ResponseSchema(name="workflow_action", schema={"type": "object", "properties": {"content": {"type": "string"}}})
MESSAGE = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Paris", "citations": [{"url": "https://example.org"}]},
        {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"q": "x"}},
    ],
    "stop_reason": "tool_use", "usage": {"input_tokens": 9, "output_tokens": 4},
}


def _ask(**kw):
    return Request(messages=(Message(role="user", content="Hi"),), **kw)


async def _run(backend, request):
    return [chunk async for chunk in backend.stream(request)]


async def test_a_schema_is_one_forced_tool_whose_input_comes_back_as_the_json_reply(server, make_backend):
    server.messages(
        stream_response(message_events(tool_calls=[("tu_1", "workflow_action", {"reply": {"action": "vote", "agent_id": "agent1"}})])),
        stream_response(message_events(tool_calls=[("tu_2", "workflow_action", {"content": "Paris"})])),
        stream_response(message_events(tool_calls=[("tu_3", "workflow_action", '{"content": ')])),
    )
    first = await _run(make_backend(), _ask(response_schema=ALTERNATIVES))
    second = await _run(make_backend(options={"thinking_budget": 2048}), _ask(response_schema=OBJECT))
    body, thinking = (r.json() for r in server.requests[:2])
    assert body["tool_choice"] == {"type": "tool", "name": "workflow_action"}
    assert body["tools"][-1]["input_schema"] == {"type": "object", "properties": {"reply": dict(ALTERNATIVES.schema)}, "required": ["reply"]}
    assert thinking["tool_choice"] == {"type": "auto"} and thinking["tools"][-1]["input_schema"] == dict(OBJECT.schema)
    texts = ["".join(c.text for c in chunks if isinstance(c, TextDelta)) for chunks in (first, second)]
    assert [json.loads(t) for t in texts] == [{"action": "vote", "agent_id": "agent1"}, {"content": "Paris"}]
    assert not any(isinstance(c, ToolCallChunk) for c in first + second)
    cut = await _run(make_backend(), _ask(response_schema=OBJECT))  # invalid JSON input: the raw text
    assert "".join(c.text for c in cut if isinstance(c, TextDelta)) == '{"content": '


async def test_stream_false_and_a_whole_message_to_a_stream_request_read_the_same(server, make_backend):
    server.messages(Response.json(MESSAGE))
    for backend in (make_backend(stream=False), make_backend()):
        chunks = await _run(backend, _ask())
        assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Paris"
        (call,) = [c.call for c in chunks if isinstance(c, ToolCallChunk)]
        assert (call.name, dict(call.arguments)) == ("lookup", {"q": "x"})
        assert chunks[-1].finish_reason == "tool_use" and chunks[-1].citations == ({"url": "https://example.org"},)
        assert backend._replay["tu_1"][0]["signature"] == "sig"
    assert [r.json()["stream"] for r in server.requests] == [False, True]


async def test_a_whole_error_or_broken_message_raises_typed_errors(server, make_backend):
    server.messages(
        Response.json({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
        Response.json({**MESSAGE, "content": [{"type": "text", "text": "x"}], "stop_reason": None}),
    )
    with pytest.raises(BackendError, match="busy"):
        await _run(make_backend(stream=False), _ask())
    chunks = await _run(make_backend(stream=False), _ask())  # message_stop is always synthesised
    assert chunks[-1].finish_reason is None
