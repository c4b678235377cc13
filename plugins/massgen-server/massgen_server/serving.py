"""How ``massgen serve`` runs its app under uvicorn: the one place the server's uvicorn settings are made.

uvicorn closes idle keep-alive connections but waits forever for a request's
headers, so a client that connects and sends them a byte at a time (slowloris)
holds a socket open indefinitely. ``timed_protocol`` is uvicorn's h11 protocol
with a deadline for each request's header block: when it passes, the client
gets a 408 and the connection is closed. Body deadlines are the Guard's.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def _timeout_response() -> bytes:
    body = json.dumps({"error": {"type": "request_timeout", "message": "the request headers did not arrive in time"}})
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return (head + body).encode()


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers take longer than ``header_timeout_s``."""

    header_timeout_s: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        no_delay(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None  # armed only while the headers are incomplete; connection_lost disarms it
        if not self.transport.is_closing():  # pragma: no branch - uvicorn may be closing it this very moment
            self.transport.write(_timeout_response())
            self.transport.close()


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off for a TCP connection.

    asyncio sets TCP_NODELAY only on sockets made with ``proto=IPPROTO_TCP``; the
    ones a listening socket accepts have proto 0, so without this every response
    written as two sends (head, then body) waits ~40 ms for the client's delayed ACK.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def timed_protocol(header_timeout_s: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class uvicorn builds per connection, with this header deadline."""
    return type("TimedH11Protocol", (HeaderTimeoutProtocol,), {"header_timeout_s": header_timeout_s})


def uvicorn_options(header_timeout_s: float) -> dict[str, Any]:
    """The uvicorn settings ``massgen serve`` and its tests run the app with (``uvicorn.run`` / ``uvicorn.Config``)."""
    return {"http": timed_protocol(header_timeout_s), "log_level": "warning", "lifespan": "on"}
