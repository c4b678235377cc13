"""Gemini sends a function call's arguments whole: the answer then arrives in one piece with the call."""

from __future__ import annotations

from massgen_core import backend as bk
from massgen_core.orchestrator import workflow
from massgen_core.orchestrator.answer_stream import AnswerStream
from massgen_core.testing.gemini import response_chunks, stream_response

from .conftest import MODEL

ANSWER = "Rome, \"the Eternal City\" \U0001F3DB"


async def test_a_whole_new_answer_call_gives_its_content_at_once(server, make_backend, collect):
    server.stream(MODEL, stream_response(response_chunks(text="Let me answer.", function_calls=[("new_answer", {"content": ANSWER})])))
    chunks = await collect(make_backend())
    assert not any(isinstance(c, bk.ToolCallDelta) for c in chunks)
    reader = AnswerStream(workflow.offer(may_answer=True, labels=[], vote_parameters=None))
    pieces = [p for p in (reader.feed(c) for c in chunks) if p]
    assert pieces == [ANSWER]  # the text before the call is not the answer
