"""Connection reuse: a finished stream gives its connection back to the shared client's pool.

Counted where it matters, at the server: ``FakeServer.connections`` is the number of TCP
connections it accepted. The parsers stop at ``[DONE]`` / ``response.completed``; unless the
rest of the body is read, httpx drops the connection and every request pays a new handshake.
"""

from __future__ import annotations

import asyncio

import pytest

from massgen_core.config.schema import BackendConfig
from massgen_core.http import base
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.testing import Response
from massgen_core.testing.collect import ask, collect
from massgen_core.testing.openai import chat_events, chat_stream


class Local(ChatCompletionsBackend):
    name = "local"
    key_required = False


def local(server, **kw):
    return Local(BackendConfig(type="local", model="m", base_url=server.url + "/v1", max_retries=0, **kw))


async def test_twenty_sequential_chat_requests_use_one_connection(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["a", "b"], tool_calls=[("c1", "f", ['{"x"', ": 1}"])]))
    backend = local(server)
    for _ in range(20):
        got = await collect(backend)
        assert got["text"] == "ab" and got["calls"][0].arguments == {"x": 1}
    assert len(server.requests) == 20
    assert server.connections == 1
    assert {r.connection for r in server.requests} == {0}


async def test_a_consumer_that_stops_at_done_still_returns_the_connection(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["a"]))
    backend = local(server)
    for _ in range(5):
        async for chunk in backend.stream(ask()):
            if type(chunk).__name__ == "Done":
                break
    assert server.connections == 1


async def test_concurrent_requests_use_no_more_connections_than_were_in_flight(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["x", "y", "z"], chunk_delay=0.02))
    backend = local(server)
    for _ in range(3):
        await asyncio.gather(*(collect(backend) for _ in range(4)))
    assert len(server.requests) == 12
    assert server.connections == 4


async def test_a_body_left_open_after_done_costs_its_connection_not_the_answer(server, monkeypatch):
    monkeypatch.setattr(base, "DRAIN_TIMEOUT", 0.05)
    events = Response.sse(chat_events(["ok"]))
    # the same events, then the body stays open for far longer than the drain waits
    lingering = Response(status=200, headers=events.headers, chunks=(*events.chunks, b": still here\n\n"),
                         stream=True, chunk_delay=0.5)
    server.add("POST", "/v1/chat/completions", lingering, chat_stream(["next"]))
    backend = local(server)
    assert (await collect(backend))["text"] == "ok"
    assert (await collect(backend))["text"] == "next"
    assert server.connections == 2


async def test_a_body_with_endless_events_after_done_is_not_read_forever(server):
    tail = [{"noise": i} for i in range(base.DRAIN_MAX_EVENTS + 10)]
    server.add("POST", "/v1/chat/completions", Response.sse([*chat_events(["ok"]), *tail]), chat_stream(["b"]))
    backend = local(server)
    assert (await collect(backend))["text"] == "ok"
    assert (await collect(backend))["text"] == "b"
    assert server.connections == 2


@pytest.mark.parametrize("stream", [True, False])
async def test_non_streamed_and_error_answers_keep_the_connection_too(server, stream):
    from massgen_core.testing.openai import chat_completion, error_response

    server.add("POST", "/v1/chat/completions", error_response(400, "bad"),
               chat_stream(["s"]) if stream else chat_completion("s"))
    backend = local(server)
    if not stream:
        backend.build_http_request = lambda request: base.HttpCall(path="/chat/completions", json={}, stream=False)
    with pytest.raises(Exception, match="bad"):
        await collect(backend)
    for _ in range(3):
        assert (await collect(backend))["text"] == "s"
    assert server.connections == 1


class TextOnly(Local):
    """A wire format whose parser ends with the body and yields no ``Done`` (the base reads the rest)."""

    async def parse_events(self, events):
        from massgen_core.backend import TextDelta

        async for event in events:
            if event.data == "[DONE]":
                return
            yield TextDelta(event.data)


async def test_a_parser_that_yields_no_done_still_returns_the_connection(server):
    server.add("POST", "/v1/chat/completions", Response.sse(["one", "[DONE]", {"after": "done"}]))
    backend = TextOnly(BackendConfig(type="local", model="m", base_url=server.url + "/v1", max_retries=0))
    for _ in range(3):
        assert (await collect(backend))["text"] == "one"
    assert server.connections == 1
