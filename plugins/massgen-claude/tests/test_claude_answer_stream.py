"""Claude's input_json_delta fragments stream as ToolCallDelta chunks, so an answer shows while it is written."""

from __future__ import annotations

import asyncio
import json

from massgen_core import backend as bk
from massgen_core.orchestrator import workflow
from massgen_core.orchestrator.answer_stream import AnswerStream
from massgen_core.testing.anthropic import message_events, stream_response
from massgen_core.testing.server import Gate

ANSWER = 'Bonjour — "Paris" \U0001F600\nfin'


async def test_tool_input_fragments_come_as_deltas_before_the_call(server, make_backend, collect):
    args = {"content": ANSWER}
    server.messages(stream_response(message_events(tool_calls=[("toolu_9", "new_answer", args)], json_fragment_size=4)))
    chunks = await collect(make_backend())
    deltas = [c for c in chunks if isinstance(c, bk.ToolCallDelta)]
    call_at = next(i for i, c in enumerate(chunks) if isinstance(c, bk.ToolCallChunk))
    assert len(deltas) > 3 and all(chunks.index(d) < call_at for d in deltas)
    assert {(d.id, d.name) for d in deltas} == {("toolu_9", "new_answer")}
    assert "".join(d.arguments for d in deltas) == json.dumps(args) == chunks[call_at].call.arguments_raw


async def test_a_server_tool_input_is_not_a_tool_call_delta(server, make_backend, collect):
    from .test_claude_stream import _server_tool_events

    server.messages(stream_response(_server_tool_events()))
    chunks = await collect(make_backend())
    assert any(isinstance(c, bk.BuiltinToolChunk) for c in chunks)  # the server tool's input did arrive
    assert not any(isinstance(c, bk.ToolCallDelta) for c in chunks)


async def test_the_answer_is_readable_while_the_server_still_holds_the_rest(server, make_backend, ask):
    gate = Gate(at=0)
    response = stream_response(message_events(tool_calls=[("toolu_1", "new_answer", {"content": ANSWER})], json_fragment_size=3))
    server.messages(response.held(Gate(at=len(response.chunks) // 2, reached=gate.reached, release=gate.release)))
    offer = workflow.offer(may_answer=True, labels=[], vote_parameters=None)
    reader, seen = AnswerStream(offer), []

    async def consume() -> None:
        async for chunk in make_backend().stream(ask()):
            seen.append(reader.feed(chunk))

    task = asyncio.create_task(consume())
    try:
        for _ in range(6000):  # up to a minute for the client to read what was sent
            if gate.reached.is_set() and "".join(seen):
                break
            await asyncio.sleep(0.01)
        partial = "".join(seen)
    finally:
        gate.release.set()
    await task
    assert partial and ANSWER.startswith(partial) and partial != ANSWER
    assert "".join(seen) == ANSWER


async def test_a_structured_reply_through_the_forced_tool_streams_its_content_once(server, make_backend, ask):
    offer = workflow.offer(may_answer=True, labels=["agent1"], vote_parameters={"type": "object", "properties": {
        "agent_id": {"type": "string", "enum": ["agent1"]}, "reason": {"type": "string"}}, "required": ["agent_id"]},
        transport=workflow.JSON)
    reply = {"action": "new_answer", "content": ANSWER}
    server.messages(stream_response(message_events(tool_calls=[("toolu_2", workflow.SCHEMA_NAME, reply)], json_fragment_size=5)))
    request = ask(response_schema=workflow.response_schema(offer), workflow=offer)
    reader, pieces, text = AnswerStream(offer), [], []
    async for chunk in make_backend().stream(request):
        pieces.append(reader.feed(chunk))
        if isinstance(chunk, bk.TextDelta):
            text.append(chunk.text)
    assert len([p for p in pieces if p]) > 2
    assert "".join(pieces) == ANSWER  # the reply's JSON text at the end does not repeat it
    assert json.loads("".join(text)) == reply
