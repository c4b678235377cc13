"""hypothesis: function calls and text come out the same however the byte stream is split,
in both framings (SSE with CRLF, and the JSON array)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_core.backend import Message, Request, TextDelta, ToolCallChunk
from massgen_core.http import aclose_all
from massgen_core.testing.gemini import json_array_response, response_chunks, stream_response

MODEL = "gemini-2.5-flash"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
ARGUMENTS = st.dictionaries(st.text(min_size=1, max_size=8), JSON_VALUES, max_size=4)
SIZES = st.lists(st.integers(1, 40), min_size=1, max_size=8)
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _run(backend: Any) -> list[Any]:
    async def go() -> list[Any]:
        try:
            return [c async for c in backend.stream(Request(messages=(Message(role="user", content="Hi"),)))]
        finally:
            await aclose_all()

    return asyncio.run(go())


@SETTINGS
@given(first=ARGUMENTS, second=ARGUMENTS, text=st.text(max_size=30), sizes=SIZES, json_array=st.booleans())
def test_generated_calls_and_text_survive_any_split(server, make_backend, first, second, text, sizes, json_array):
    chunks = response_chunks(text=text, function_calls=[("alpha", first), ("beta", second)])
    if json_array:
        server.stream(MODEL, json_array_response(chunks, piece_sizes=sizes))
    else:
        server.stream(MODEL, stream_response(chunks, piece_sizes=sizes))
    out = _run(make_backend(options={"stream_format": "json_array"} if json_array else {}))
    assert [(c.call.name, c.call.arguments) for c in out if isinstance(c, ToolCallChunk)] == [
        ("alpha", first), ("beta", second)
    ]
    assert "".join(c.text for c in out if isinstance(c, TextDelta)) == text


@SETTINGS
@given(sizes=SIZES)
def test_recorded_function_call_stream_gives_the_same_call_for_every_split(shared_dir: Path, server, make_backend, sizes):
    from massgen_core.testing.server import Response

    body = (shared_dir / "provider-recordings" / "gemini" / "function-call.sse").read_bytes()
    server.stream(MODEL, Response.pieces(body, sizes))
    out = _run(make_backend())
    assert [(c.call.name, c.call.arguments) for c in out if isinstance(c, ToolCallChunk)] == [
        ("get_capital", {"country": "France"})
    ]
