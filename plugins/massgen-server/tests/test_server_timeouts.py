"""Slow clients over raw sockets: headers and bodies that never finish get a 408 and a closed connection.

Each test drips bytes into a real server with small deadlines and waits, at
most WAIT_S, for the server to end the connection; on a server without the
deadlines the socket stays open and the wait runs out.
"""

from __future__ import annotations

import socket
import time

from massgen_server.testing import WAIT_S

DEADLINES = {"header_timeout_s": 0.5, "body_timeout_s": 0.5}


def until_closed(port: int, first: bytes, drip: bytes = b"") -> bytes:
    """Send ``first``, then ``drip`` every 0.1 s, until the server closes the connection; what it sent back."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as sock:
        sock.sendall(first)
        sock.settimeout(0.1)
        received = b""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if drip:
                    sock.sendall(drip)
                continue
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk
    raise AssertionError(f"the server kept a slow connection open for {WAIT_S} s (it sent {received!r})")


def test_headers_sent_a_line_at_a_time_get_408_and_a_closed_connection(serve):
    served = serve(**DEADLINES)
    received = until_closed(served.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", drip=b"X-Slow: 1\r\n")
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b'"request_timeout"' in received
    assert served.client.get("/health").json() == {"ok": True}  # the server itself is fine


def test_a_connection_that_sends_nothing_is_closed(serve):
    served = serve(**DEADLINES)
    assert until_closed(served.port, b"").startswith(b"HTTP/1.1 408 ")


def test_a_kept_alive_connection_whose_next_request_stalls_is_closed(serve):
    served = serve(header_timeout_s=0.5)
    first = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    received = until_closed(served.port, first + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", drip=b"X-Slow: 1\r\n")
    assert received.startswith(b"HTTP/1.1 200 ")  # the first request was answered
    assert received.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 408 " in received


def test_a_body_that_stops_arriving_gets_408_and_no_session(serve, capfd):
    served = serve(**DEADLINES)
    head = (
        b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{\"question\": \""
    )
    received = until_closed(served.port, head, drip=b"q")
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in received.lower()
    assert b"did not arrive within 0.5 s" in received
    assert "(408): the request body did not arrive" in capfd.readouterr().err
    assert served.client.get("/v1/conversations").json() == {"conversations": []}


def test_requests_within_the_deadlines_are_served(serve):
    served = serve(**DEADLINES)
    received = until_closed(
        served.port,
        b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 17\r\nConnection: close\r\n\r\n{\"question\": \"q\"}",
    )
    assert received.startswith(b"HTTP/1.1 200 ")
    assert b'"winner": "a2"' in received


SLOW_BODY = b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"q"


def test_a_request_answered_before_its_body_arrives_closes_the_connection(serve):
    served = serve(token="s3cret", header_timeout_s=0.5, body_timeout_s=60.0)
    received = until_closed(served.port, b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + SLOW_BODY, drip=b"q")
    assert received.startswith(b"HTTP/1.1 401 ")  # the endpoint never reads the body of an unauthorized request
    assert b"connection: close" in received.lower()


def test_a_refused_request_with_a_body_closes_the_connection(serve):
    served = serve(header_timeout_s=0.5, body_timeout_s=60.0)
    received = until_closed(served.port, b"POST /v1/sessions HTTP/1.1\r\nHost: rebind.test\r\n" + SLOW_BODY, drip=b"q")
    assert received.startswith(b"HTTP/1.1 421 ")
    assert b"connection: close" in received.lower()
