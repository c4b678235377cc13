"""The loopback fake server other plugins' tests build on."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from massgen_core.testing import FakeServer, Response, sse_encode, split_uneven
from massgen_core.testing import openai as fake


def test_route_queue_answers_in_order_and_repeats_the_last(server):
    server.add("GET", "/x", Response(status=503), Response.json({"n": 1}))
    with httpx.Client() as c:
        codes = [c.get(server.url + "/x").status_code for _ in range(3)]
    assert codes == [503, 200, 200]


def test_handler_route_sees_the_recorded_request(server):
    server.add("POST", "/echo", lambda req: Response.json({"got": req.json(), "q": req.query.get("a")}))
    with httpx.Client() as c:
        r = c.post(server.url + "/echo?a=1", json={"k": 2}, headers={"X-Thing": "v"})
    assert r.json() == {"got": {"k": 2}, "q": ["1"]}
    assert server.requests[0].header("x-thing") == "v" and server.requests_to("/echo") == server.requests


def test_unrouted_request_is_a_404_with_an_openai_error_body(server):
    with httpx.Client() as c:
        r = c.get(server.url + "/nope")
    assert r.status_code == 404 and "no route" in r.json()["error"]["message"]


def test_chunked_request_bodies_are_read(server):
    server.add("POST", "/up", lambda req: Response.json({"len": len(req.body)}))
    with httpx.Client() as c:
        r = c.post(server.url + "/up", content=iter([b"abc", b"defg"]))
    assert r.json() == {"len": 7}


def test_streamed_pieces_arrive_separately_with_their_delay(server):
    server.add("GET", "/s", Response(chunks=(b"a", b"b", b"c"), stream=True, chunk_delay=0.05))
    with httpx.Client() as c, c.stream("GET", server.url + "/s") as r:
        t0 = time.monotonic()
        pieces = list(r.iter_raw())
        elapsed = time.monotonic() - t0
    assert b"".join(pieces) == b"abc" and elapsed >= 0.09


def test_cut_off_breaks_the_message_midway(server):
    server.add("GET", "/cut", Response(chunks=(b"partial",), cut_off=True))
    with httpx.Client() as c, pytest.raises(httpx.RemoteProtocolError):
        c.get(server.url + "/cut")


def test_hanging_route_never_answers_and_stop_still_returns():
    srv = FakeServer().start()
    srv.add("GET", "/hang", Response(hang=True))
    with httpx.Client(timeout=0.2) as c, pytest.raises(httpx.ReadTimeout):
        c.get(srv.url + "/hang")
    t = threading.Thread(target=srv.stop)
    t.start()
    t.join(5)
    assert not t.is_alive()
    srv.stop()  # stopping twice is harmless


def test_only_loopback_can_be_bound():
    with pytest.raises(ValueError):
        FakeServer(host="0.0.0.0")


def test_add_needs_a_response():
    with pytest.raises(ValueError):
        FakeServer().add("GET", "/x")


def test_sse_encoding_of_every_event_kind():
    body = sse_encode([{"a": 1}, "[DONE]", ("ping", {"b": 2}), b": raw\n\n"], newline="\r\n")
    assert body == b'data: {"a": 1}\r\n\r\ndata: [DONE]\r\n\r\nevent: ping\r\ndata: {"b": 2}\r\n\r\n: raw\n\n'


def test_uneven_split_keeps_every_byte():
    data = bytes(range(200))
    pieces = split_uneven(data, (3, 0, 7))
    assert b"".join(pieces) == data and {len(p) for p in pieces[:3]} == {3, 1, 7}


def test_raw_stream_without_sizes_sends_one_event_per_piece():
    r = Response.raw_stream(b"data: 1\n\ndata: 2\n\n")
    assert r.chunks == (b"data: 1\n\n", b"data: 2\n\n") and r.stream


def test_openai_builders_produce_the_documented_shapes():
    assert fake.error_body(429)["error"]["code"] == "rate_limit_exceeded"
    assert fake.error_body(418, type="teapot", code="x")["error"] == {"message": "fake error 418", "type": "teapot", "param": None, "code": "x"}
    events = fake.chat_events(["a"], reasoning_pieces=["r"], extra={"citations": ["u"]})
    assert events[-1] == "[DONE]" and events[-2]["citations"] == ["u"]
    assert fake.chat_events([], usage=None, done=False)[-1]["choices"][0]["finish_reason"] == "stop"
    body = fake.chat_completion("t", tool_calls=[("c1", "f", "{}")])
    assert b'"tool_calls"' in body.chunks[0]
    events = fake.responses_events(["x"], reasoning_pieces=["why"], status="incomplete")
    assert events[-1][0] == "response.incomplete"
    assert fake.dumps([1]) == "[1]"
    assert fake.responses_stream(["x"], chunk_delay=0.01).chunk_delay == 0.01


def test_openai_server_answers_models():
    srv = fake.openai_server(["m1", "m2"])
    try:
        with httpx.Client() as c:
            ids = [m["id"] for m in c.get(srv.url + fake.MODELS_PATH).json()["data"]]
    finally:
        srv.stop()
    assert ids == ["m1", "m2"]
