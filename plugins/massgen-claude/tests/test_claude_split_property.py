"""hypothesis: tool-call assembly gives the same calls however the byte stream is split."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_core.backend import Message, Request, TextDelta, ToolCallChunk
from massgen_core.http import aclose_all
from massgen_core.testing.anthropic import message_events
from massgen_core.testing.server import Response, sse_encode

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
ARGUMENTS = st.dictionaries(st.text(min_size=1, max_size=8), JSON_VALUES, max_size=4)
SIZES = st.lists(st.integers(1, 40), min_size=1, max_size=8)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _run(backend: Any) -> list[Any]:
    async def go() -> list[Any]:
        try:
            request = Request(messages=(Message(role="user", content="Hi"),))
            return [c async for c in backend.stream(request)]
        finally:
            await aclose_all()

    return asyncio.run(go())


def _calls(chunks: list[Any]) -> list[tuple[str, str, Any]]:
    return [(c.call.id, c.call.name, c.call.arguments) for c in chunks if isinstance(c, ToolCallChunk)]


@SETTINGS
@given(first=ARGUMENTS, second=ARGUMENTS, fragment=st.integers(1, 9), sizes=SIZES)
def test_generated_tool_calls_survive_any_split(server, make_backend, first, second, fragment, sizes):
    events = message_events(text="Let me call.", tool_calls=[("toolu_1", "alpha", first), ("toolu_2", "beta", second)],
                            json_fragment_size=fragment)
    server.messages(Response.pieces(sse_encode(events), sizes))
    chunks = _run(make_backend())
    assert _calls(chunks) == [("toolu_1", "alpha", first), ("toolu_2", "beta", second)]
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Let me call."


@SETTINGS
@given(sizes=SIZES)
def test_recorded_tool_stream_gives_the_same_calls_for_every_split(shared_dir: Path, server, make_backend, sizes):
    folder = shared_dir / "provider-recordings" / "anthropic"
    for name, expected in [
        ("text-tool-use", [("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", {"location": "Paris"})]),
        ("tool-use-truncated-max-tokens", [("toolu_01EKqbqmZrGRXy18eN7m9kvY", "make_file", None)]),
    ]:
        server.messages(Response.pieces((folder / f"{name}.sse").read_bytes(), sizes))
        assert _calls(_run(make_backend())) == expected
