"""Gemini: the json workflow transport as ``responseSchema``, ``stream: false`` and whole answers."""

from __future__ import annotations

from massgen_core.backend import Message, Request, ResponseSchema, TextDelta
from massgen_core.testing.gemini import response_chunks
from massgen_core.testing.server import Response

MODEL = "gemini-2.5-flash"
SCHEMA = ResponseSchema(
    name="workflow_action",
    schema={"anyOf": [{"type": "object", "properties": {"action": {"type": "string", "enum": ["vote"]}},
                       "additionalProperties": False}]},
)


def _ask(**kw):
    return Request(messages=(Message(role="user", content="Hi"),), **kw)


async def _text(backend, request):
    return "".join([c.text async for c in backend.stream(request) if isinstance(c, TextDelta)])


async def test_a_schema_becomes_response_schema_in_the_openapi_subset(server, make_backend):
    server.stream(MODEL, Response.sse(response_chunks(text='{"action": "vote"}')))
    assert await _text(make_backend(), _ask(response_schema=SCHEMA)) == '{"action": "vote"}'
    generation = server.requests[0].json()["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseSchema"] == {"anyOf": [{"type": "object", "properties": {"action": {"type": "string", "enum": ["vote"]}}}]}


async def test_stream_false_asks_generate_content_and_a_whole_object_to_a_stream_request_is_read(server, make_backend):
    (whole,) = response_chunks(text="Paris", text_pieces=1)
    server.add("POST", f"/v1beta/models/{MODEL}:generateContent", Response.json(whole))
    server.stream(MODEL, Response.json(whole))
    assert await _text(make_backend(stream=False), _ask()) == "Paris"
    assert await _text(make_backend(), _ask()) == "Paris"
    assert [r.path.rsplit(":", 1)[-1] for r in server.requests] == ["generateContent", "streamGenerateContent"]
