"""Tool-call assembly gives the same calls however the stream is split (hypothesis)."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_core.config.schema import BackendConfig
from massgen_core.http import ToolCallAssembler, parse_arguments
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_events, responses_events

ARGS = st.dictionaries(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
    st.one_of(st.integers(), st.text(max_size=12), st.booleans(), st.none(), st.lists(st.integers(), max_size=3)),
    max_size=4,
)


def cuts(text: str, points: list[int]) -> list[str]:
    bounds = sorted({p % (len(text) + 1) for p in points} | {0, len(text)})
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


class Chat(ChatCompletionsBackend):
    name = "chat"
    key_required = False


@pytest.fixture(scope="module")
def shared_server():
    with FakeServer() as srv:
        yield srv


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(ARGS, min_size=1, max_size=3),
    arg_cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
    byte_sizes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=6),
)
def test_chat_tool_calls_are_the_same_however_the_stream_is_split(shared_server, calls, arg_cuts, byte_sizes):
    specs = [(f"call_{i}", f"fn_{i}", cuts(json.dumps(a), arg_cuts)) for i, a in enumerate(calls)]
    data = b"".join(Response.sse(chat_events([], tool_calls=specs)).chunks)
    shared_server.add("POST", "/v1/chat/completions", Response.pieces(data, sizes=byte_sizes))

    async def run():
        from massgen_core.http import aclose_all

        backend = Chat(BackendConfig(type="chat", model="m", base_url=shared_server.url + "/v1", max_retries=0))
        try:
            return await collect(backend)
        finally:
            await aclose_all()

    got = asyncio.run(run())
    assert [(c.id, c.name, c.arguments) for c in got["calls"]] == [
        (f"call_{i}", f"fn_{i}", a) for i, a in enumerate(calls)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(ARGS, min_size=1, max_size=3), arg_cuts=st.lists(st.integers(0, 400), max_size=6),
       byte_sizes=st.lists(st.integers(1, 50), min_size=1, max_size=6))
def test_responses_tool_calls_are_the_same_however_the_stream_is_split(shared_server, calls, arg_cuts, byte_sizes):
    from massgen_openai import OpenAIBackend

    specs = [(f"call_{i}", f"fn_{i}", cuts(json.dumps(a), arg_cuts)) for i, a in enumerate(calls)]
    data = b"".join(Response.sse(responses_events([], tool_calls=specs)).chunks)
    shared_server.add("POST", "/v1/responses", Response.pieces(data, sizes=byte_sizes))

    async def run():
        from massgen_core.http import aclose_all

        backend = OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", api_key="k" * 10,
                                              base_url=shared_server.url + "/v1", max_retries=0))
        try:
            return await collect(backend)
        finally:
            await aclose_all()

    got = asyncio.run(run())
    assert [(c.id, c.name, c.arguments) for c in got["calls"]] == [
        (f"call_{i}", f"fn_{i}", a) for i, a in enumerate(calls)
    ]


@given(calls=st.lists(ARGS, min_size=1, max_size=4), points=st.lists(st.integers(0, 300), max_size=10),
       order_seed=st.randoms())
def test_assembler_collects_interleaved_fragments_by_key(calls, points, order_seed):
    asm = ToolCallAssembler()
    fragments = []
    for i, args in enumerate(calls):
        asm.add(i, id=f"id{i}", name=f"n{i}")
        fragments.append([(i, piece) for piece in cuts(json.dumps(args), points)])
    # interleave keys while keeping each key's own order
    queues = [list(f) for f in fragments]
    while any(queues):
        q = order_seed.choice([q for q in queues if q])
        key, piece = q.pop(0)
        asm.add(key, arguments=piece)
    assert [c.arguments for c in asm.calls()] == calls


def test_invalid_or_empty_arguments():
    assert parse_arguments("") == {} and parse_arguments("{bad") is None and parse_arguments("[1]") is None
    asm = ToolCallAssembler()
    assert not asm
    asm.add(3, arguments='{"a": ')
    call = asm.calls()[0]
    assert call.arguments is None and call.arguments_raw == '{"a": ' and call.id == "call_3" and asm
