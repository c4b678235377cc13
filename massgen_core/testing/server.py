"""A scripted loopback HTTP/1.1 server for testing provider backends.

Every plugin's tests point a backend's ``base_url`` at one of these instead of
the internet, and no test replaces httpx's transport. The server runs its own
asyncio loop in a daemon thread, so it serves sync tests, async tests and CLI
subprocesses alike. It must never bind anything but 127.0.0.1.

Usage::

    from massgen_core.testing.server import FakeServer, Response

    with FakeServer() as server:
        server.add("POST", "/v1/chat/completions", Response.sse([{"a": 1}, "[DONE]"]))
        server.add("GET", "/v1/models", Response.json({"data": []}))
        url = server.url + "/v1"                 # http://127.0.0.1:PORT/v1
        ...                                      # run the backend against url
        assert server.requests[0].json()["model"] == "gpt-4o"

A route holds a queue of responses: each request takes the next one and the
last one repeats, so ``server.add(path, Response(status=503), Response.json(ok))``
scripts "fail once, then succeed". A route can instead be a callable
``handler(request) -> Response`` for anything dynamic. ``Response`` scripts the
status, headers, the body in ``chunks`` (sent with chunked encoding when
``stream`` is true), ``chunk_delay`` between pieces, ``first_byte_delay`` before
the status line (a slow first byte), ``hang`` (never answer), and ``cut_off``
(drop the connection after the chunks, mid-message). ``Response.pieces`` splits
recorded bytes into small uneven pieces to exercise incremental parsers.
``Gate`` holds a streamed body open mid-way (``Response.held``): the server
sends the pieces before ``Gate.at``, sets ``gate.reached`` and sends the rest
only once the test sets ``gate.release``, so a test can look at what a
client shows while the answer is still arriving, synchronised on the server
rather than on sleeps. Unrouted requests get 404 with an OpenAI-style error body.

``server.connections`` counts the TCP connections the server accepted, and
each ``RecordedRequest.connection`` says which one carried it: a client that
reuses its connections sends 20 sequential requests over one.
"""

from __future__ import annotations

import asyncio
import json as _json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import attrs

__all__ = ["FakeServer", "Gate", "RecordedRequest", "Response", "sse_encode", "split_uneven"]


@attrs.frozen(eq=False)
class Gate:
    """Where a streamed response waits: before piece ``at``, until ``release`` is set."""

    at: int
    reached: threading.Event = attrs.Factory(threading.Event)
    release: threading.Event = attrs.Factory(threading.Event)


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the server received, as it arrived."""

    method: str
    path: str  # without the query string
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    received_at: float
    connection: int  # index of the TCP connection it came on (keep-alive checks)

    def json(self) -> Any:
        return _json.loads(self.body or b"null")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def split_uneven(data: bytes, sizes: Sequence[int] = (13, 7, 29, 3, 61, 1, 17)) -> list[bytes]:
    """Cut ``data`` into pieces cycling through ``sizes`` (uneven, so events straddle pieces)."""
    pieces: list[bytes] = []
    i = k = 0
    while i < len(data):
        size = max(1, sizes[k % len(sizes)])
        pieces.append(data[i : i + size])
        i += size
        k += 1
    return pieces


def sse_encode(events: Iterable[Any], *, newline: str = "\n") -> bytes:
    """Encode events as an SSE body.

    Each event is a dict/list (sent as ``data: <json>``), a str (sent as
    ``data: <str>``, e.g. ``"[DONE]"``), a ``(event_name, payload)`` tuple
    (``event:`` line + ``data:`` line), or bytes (written verbatim, for
    comments and malformed lines).
    """
    out: list[bytes] = []
    for event in events:
        if isinstance(event, bytes):
            out.append(event)
            continue
        name: str | None = None
        if isinstance(event, tuple):
            name, event = event
        data = event if isinstance(event, str) else _json.dumps(event)
        block = (f"event: {name}{newline}" if name else "") + f"data: {data}{newline}{newline}"
        out.append(block.encode())
    return b"".join(out)


@attrs.frozen(kw_only=True)
class Response:
    """One scripted answer."""

    status: int = 200
    headers: Mapping[str, str] = attrs.Factory(dict)
    chunks: tuple[bytes, ...] = ()
    stream: bool = False  # chunked transfer encoding, pieces flushed one by one
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    hang: bool = False  # accept the request, never answer
    cut_off: bool = False  # close the connection after the chunks, message incomplete
    gate: Gate | None = None  # hold the body before a piece until the test releases it

    @classmethod
    def json(cls, obj: Any, status: int = 200, **kw: Any) -> Response:
        headers = {"content-type": "application/json", **kw.pop("headers", {})}
        return cls(status=status, headers=headers, chunks=(_json.dumps(obj).encode(),), **kw)

    @classmethod
    def sse(
        cls,
        events: Iterable[Any],
        *,
        newline: str = "\n",
        piece_sizes: Sequence[int] | None = None,
        **kw: Any,
    ) -> Response:
        """A streamed ``text/event-stream`` response of ``events`` (see ``sse_encode``)."""
        return cls.raw_stream(sse_encode(events, newline=newline), piece_sizes=piece_sizes, **kw)

    @classmethod
    def raw_stream(
        cls,
        data: bytes,
        *,
        piece_sizes: Sequence[int] | None = None,
        content_type: str = "text/event-stream",
        **kw: Any,
    ) -> Response:
        """Stream recorded bytes, one event block per piece or in uneven ``piece_sizes`` pieces."""
        headers = {"content-type": content_type, **kw.pop("headers", {})}
        if piece_sizes:
            pieces = split_uneven(data, piece_sizes)
        else:
            pieces = [p + b"\n\n" for p in data.split(b"\n\n") if p] or [data]
        return cls(status=kw.pop("status", 200), headers=headers, chunks=tuple(pieces), stream=True, **kw)

    def held(self, gate: Gate) -> Response:
        """This response, held at ``gate``."""
        return attrs.evolve(self, gate=gate)

    @classmethod
    def pieces(cls, data: bytes, sizes: Sequence[int] = (13, 7, 29, 3, 61, 1, 17), **kw: Any) -> Response:
        return cls.raw_stream(data, piece_sizes=sizes, **kw)


Handler = Callable[[RecordedRequest], Response]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}


class _Route:
    def __init__(self, responses: Sequence[Response] | Handler) -> None:
        self.handler: Handler | None = responses if callable(responses) else None
        self.queue: list[Response] = [] if callable(responses) else list(responses)
        self.lock = threading.Lock()

    def next(self, request: RecordedRequest) -> Response:
        if self.handler is not None:
            return self.handler(request)
        with self.lock:
            return self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]


class FakeServer:
    """A loopback HTTP/1.1 server with keep-alive, scripted routes and a request log."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("FakeServer only binds loopback addresses")
        self.host, self._port = host, port
        self.requests: list[RecordedRequest] = []
        self.connections = 0  # TCP connections accepted so far (keep-alive checks)
        self._routes: dict[tuple[str, str], _Route] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()

    # -- scripting ---------------------------------------------------------

    def add(self, method: str, path: str, *responses: Response | Handler) -> FakeServer:
        """Route ``method path`` to a queue of responses (the last repeats) or one handler."""
        if len(responses) == 1 and callable(responses[0]) and not isinstance(responses[0], Response):
            route = _Route(responses[0])
        else:
            if not responses:
                raise ValueError("add() needs at least one response")
            route = _Route([r for r in responses if isinstance(r, Response)])
        self._routes[(method.upper(), path.rstrip("/") or "/")] = route
        return self

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="FakeServer", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):  # pragma: no cover - the loop failed to start
            raise RuntimeError("FakeServer did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        fut.result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, self.host, self._port)
            self._port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        loop.run_until_complete(serve())
        loop.run_forever()
        loop.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
            task.cancel()
        await asyncio.sleep(0)

    # -- serving -------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = self.connections
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                request = await self._read_request(reader, conn)
                if request is None:
                    break
                self.requests.append(request)
                route = self._routes.get((request.method, request.path.rstrip("/") or "/"))
                if route is None:
                    response = Response.json(
                        {"error": {"message": f"no route for {request.method} {request.path}",
                                   "type": "invalid_request_error", "code": "not_found"}},
                        status=404,
                    )
                else:
                    response = route.next(request)
                keep = await self._write_response(writer, response)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader, conn: int) -> RecordedRequest | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        split = urlsplit(target)
        return RecordedRequest(
            method=method.upper(),
            path=split.path,
            query=parse_qs(split.query),
            headers=headers,
            body=body,
            received_at=time.monotonic(),
            connection=conn,
        )

    async def _write_response(self, writer: asyncio.StreamWriter, response: Response) -> bool:
        if response.hang:
            await asyncio.Event().wait()  # until the server stops or the client leaves
        if response.first_byte_delay:
            await asyncio.sleep(response.first_byte_delay)
        reason = _REASONS.get(response.status, "Status")
        head = [f"HTTP/1.1 {response.status} {reason}"]
        names = {k.lower() for k in response.headers}
        head += [f"{k}: {v}" for k, v in response.headers.items()]
        if response.stream:
            head.append("transfer-encoding: chunked")
        elif "content-length" not in names:
            length = sum(len(c) for c in response.chunks)
            if response.cut_off:
                length += 1024  # promise more than we send
            head.append(f"content-length: {length}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        for i, chunk in enumerate(response.chunks):
            if i and response.chunk_delay:
                await asyncio.sleep(response.chunk_delay)
            if response.gate is not None and i == response.gate.at:
                response.gate.reached.set()
                while not response.gate.release.is_set():  # the test looks at the client meanwhile
                    await asyncio.sleep(0.005)
            if not chunk:
                continue
            if response.stream:
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            else:
                writer.write(chunk)
            await writer.drain()
        if response.cut_off:
            return False
        if response.stream:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return True
