"""The asyncio network backend under httpx: TLS, timeouts, errors, reuse, and no anyio.

Every test talks to a real server on 127.0.0.1 through ``massgen_core.http.aio_backend``
(the shared pool's transport, or the backend itself): a TLS server with a self-signed
certificate made by the ``openssl`` command in a tmp dir, servers that never answer or
never read, a Unix socket. Timeouts are small and only ever expected to fire; nothing
measures how long anything took.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpcore
import pytest

from massgen_core.http import aio_backend, pool
from massgen_core.http._httpx import httpx

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Loopback:
    """An asyncio server on 127.0.0.1 that runs ``handler`` per connection and counts them."""

    def __init__(self, handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the test ended with the handler still waiting
        finally:
            writer.close()

    async def start(self, tls: ssl.SSLContext | None = None) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


async def answer_each_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep-alive HTTP/1.1: answer every request (no body) on the connection until it closes."""
    while True:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(ANSWER)
        await writer.drain()


async def answer_once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one request as keep-alive, then close the connection (an idle timeout on the server)."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(ANSWER)
    await writer.drain()


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1 << 16)
    await asyncio.Event().wait()


async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.Event().wait()


@pytest.fixture
async def loopback() -> AsyncIterator[Callable[..., Awaitable[tuple[Loopback, int]]]]:
    started: list[Loopback] = []

    async def start(handler: Callable[..., Awaitable[None]], tls: ssl.SSLContext | None = None) -> tuple[Loopback, int]:
        server = Loopback(handler)
        started.append(server)
        return server, await server.start(tls)

    yield start
    for server in started:
        await server.stop()


def tls_server(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certificate[0]))
    return context


def client(context: ssl.SSLContext, **limits: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=aio_backend.transport(context, httpx.Limits(**limits)), trust_env=False, timeout=5.0
    )


async def test_the_shared_pool_speaks_tls_through_start_tls_and_reuses_the_connection(certificate, loopback):
    server, port = await loopback(answer_each_request, tls_server(certificate))
    async with client(trusting(certificate)) as http:
        responses = [await http.get(f"https://localhost:{port}/x") for _ in range(5)]
        assert isinstance(http._transport._pool._network_backend, aio_backend.AsyncioBackend)
    assert [r.text for r in responses] == ["ok"] * 5
    assert server.connections == 1  # one TCP connection, one handshake, five requests


async def test_a_certificate_the_client_does_not_trust_is_a_connect_error(certificate, loopback):
    server, port = await loopback(answer_each_request, tls_server(certificate))
    async with client(pool.ssl_context("https")) as http:  # the CA bundle: a self-signed certificate fails
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"https://localhost:{port}/")


async def test_a_server_that_never_starts_the_handshake_is_a_connect_timeout(certificate, loopback):
    server, port = await loopback(never_answer)  # plain TCP: the ClientHello is never answered
    async with client(trusting(certificate)) as http:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get(f"https://localhost:{port}/", timeout=httpx.Timeout(5.0, connect=0.2))


async def test_a_server_that_never_answers_is_a_read_timeout(loopback):
    server, port = await loopback(never_answer)
    async with client(pool.ssl_context("http")) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"http://127.0.0.1:{port}/", timeout=httpx.Timeout(5.0, read=0.2))


async def test_a_server_that_never_reads_is_a_write_timeout(loopback):
    server, port = await loopback(never_read)
    body = b"x" * (64 << 20)  # far more than both sockets' buffers hold
    async with client(pool.ssl_context("http")) as http:
        with pytest.raises(httpx.WriteTimeout):
            await http.post(f"http://127.0.0.1:{port}/", content=body, timeout=httpx.Timeout(5.0, write=0.2))


async def test_a_closed_port_is_a_connect_error():
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client(pool.ssl_context("http")) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_connect_that_cannot_finish_in_time_is_a_connect_timeout():
    backend = aio_backend.AsyncioBackend()
    with pytest.raises(httpcore.ConnectTimeout):
        await backend.connect_tcp("127.0.0.1", 9, timeout=0)  # the deadline has passed before the connect returns


async def test_a_keep_alive_connection_the_server_closed_is_noticed_and_replaced(loopback):
    server, port = await loopback(answer_once_then_close)
    async with client(pool.ssl_context("http")) as http:
        first = await http.get(f"http://127.0.0.1:{port}/")
        for _ in range(50):  # let the server's close reach the client's reader
            connection = http._transport._pool.connections[0]
            if connection.has_expired():
                break
            await asyncio.sleep(0.01)
        second = await http.get(f"http://127.0.0.1:{port}/")
    assert first.text == second.text == "ok"
    assert server.connections == 2


async def test_a_full_pool_makes_the_next_request_wait_and_then_a_pool_timeout(loopback):
    server, port = await loopback(never_answer)
    async with client(pool.ssl_context("http"), max_connections=1) as http:
        hanging = asyncio.ensure_future(http.get(f"http://127.0.0.1:{port}/"))
        while server.connections == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(f"http://127.0.0.1:{port}/", timeout=httpx.Timeout(5.0, pool=0.2))
        hanging.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging


async def test_the_stream_reports_addresses_socket_tls_and_readability(certificate, loopback):
    server, port = await loopback(answer_once_then_close, tls_server(certificate))
    backend = aio_backend.AsyncioBackend()
    plain = await backend.connect_tcp("127.0.0.1", port, timeout=5, socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])
    assert plain.get_extra_info("server_addr") == ("127.0.0.1", port)
    assert plain.get_extra_info("client_addr")[0] == "127.0.0.1"
    assert plain.get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert plain.get_extra_info("ssl_object") is None and plain.get_extra_info("no such thing") is None
    stream = await plain.start_tls(trusting(certificate), server_hostname="localhost", timeout=5)
    assert stream.get_extra_info("ssl_object").version().startswith("TLS")
    assert stream.get_extra_info("is_readable") is False  # idle and open
    await stream.write(b"")  # nothing to send: nothing happens
    await stream.write(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n", timeout=5)
    received = b""
    while not received.endswith(b"ok"):
        received += await stream.read(1 << 16, timeout=5)
    assert received == ANSWER
    assert await stream.read(1 << 16, timeout=5) == b""  # the server closed: end of stream
    assert stream.get_extra_info("is_readable") is True
    await stream.aclose()


async def test_a_start_tls_that_fails_otherwise_passes_the_error_on_and_drops_the_connection(certificate, loopback):
    server, port = await loopback(answer_each_request, tls_server(certificate))
    plain = await aio_backend.AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
    with pytest.raises(TypeError, match="SSLContext"):  # not a network failure: passed on as it is
        await plain.start_tls(object(), server_hostname="localhost", timeout=5)  # type: ignore[arg-type]
    assert plain.get_extra_info("is_readable") is True  # aborted: the pool would never reuse it


async def test_a_reset_connection_is_a_read_error(loopback):
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = RST
        writer.transport.abort()

    server, port = await loopback(reset)
    stream = await aio_backend.AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
    await stream.write(b"x", timeout=5)
    with pytest.raises(httpcore.ReadError):
        while await stream.read(1024, timeout=5):
            pass
        await stream.read(1024, timeout=5)  # pragma: no cover  (the reset arrives as an error, not as end of stream)
    assert stream.get_extra_info("is_readable") is True
    await stream.aclose()


async def test_a_unix_socket_connection_carries_bytes_both_ways(tmp_path: Path):
    path = str(tmp_path / "s")

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.readexactly(4)).upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(echo, path)
    backend = aio_backend.AsyncioBackend()
    try:
        stream = await backend.connect_unix_socket(path, timeout=5)
        await stream.write(b"ping", timeout=5)
        assert await stream.read(4, timeout=5) == b"PING"
        await stream.aclose()
        with pytest.raises(httpcore.ConnectError):
            await backend.connect_unix_socket(str(tmp_path / "nobody"), timeout=5)
    finally:
        server.close()
    await backend.sleep(0)


async def test_fail_after_turns_its_own_deadline_into_timeout_error_and_lets_other_cancellations_through():
    with pytest.raises(TimeoutError):
        with aio_backend.PRIMITIVES.fail_after(0.05):
            await asyncio.Event().wait()
    with aio_backend.PRIMITIVES.fail_after(None):  # no deadline
        await asyncio.sleep(0)
    with aio_backend.PRIMITIVES.fail_after(5):  # finished in time: the timer is cancelled
        await asyncio.sleep(0)

    async def waits() -> None:
        with aio_backend.PRIMITIVES.fail_after(5):
            await asyncio.Event().wait()

    task = asyncio.ensure_future(waits())
    await asyncio.sleep(0)
    task.cancel()  # someone else's cancellation: not a timeout
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_primitives_are_asyncio_s_own():
    semaphore = aio_backend.PRIMITIVES.Semaphore(initial_value=1, max_value=1)
    await semaphore.acquire()
    assert semaphore.locked()
    semaphore.release()
    with pytest.raises(ValueError):
        semaphore.release()  # bounded, like anyio's max_value
    with aio_backend.PRIMITIVES.CancelScope(shield=True) as scope:
        assert scope.shield
    assert isinstance(aio_backend.PRIMITIVES.Lock(), asyncio.Lock)
    assert isinstance(aio_backend.PRIMITIVES.Event(), asyncio.Event)


def test_a_request_through_the_shared_pool_loads_no_anyio(tmp_path: Path):
    code = (
        "import asyncio, sys\n"
        "from massgen_core.http import pool\n"
        "from massgen_core.testing.server import FakeServer, Response\n"
        "async def main(url):\n"
        "    r = await pool.get_client(url).get(url + '/x')\n"
        "    await pool.aclose_all()\n"
        "    return r.text\n"
        "with FakeServer() as s:\n"
        "    s.add('GET', '/x', Response.json({'a': 1}))\n"
        "    text = asyncio.run(main(s.url))\n"
        "print(text, sorted(m for m in sys.modules if m.split('.')[0] in ('anyio', 'trio')))\n"
        "import anyio, httpcore\n"  # afterwards anyio imports as usual, and httpcore's anyio backend is real
        "print(anyio.__name__, type(httpcore.AnyIOBackend()).__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ['{"a":', "1}", "[]", "anyio", "httpcore._backends.anyio"]


def test_another_httpcore_keeps_httpx_s_own_pool(monkeypatch):
    """The primitives swap a module attribute of httpcore 1.x: with another httpcore nothing is swapped."""
    from httpcore import _synchronization

    context = ssl.create_default_context()
    ours = aio_backend.transport(context, httpx.Limits(max_connections=4))
    assert isinstance(ours._pool._network_backend, aio_backend.AsyncioBackend)
    monkeypatch.setattr(httpcore, "__version__", "2.0.0")
    monkeypatch.setattr(_synchronization, "anyio", None)  # what the swap would have replaced
    theirs = aio_backend.transport(context, httpx.Limits(max_connections=4))
    assert not isinstance(getattr(theirs._pool, "_network_backend", None), aio_backend.AsyncioBackend)
    assert _synchronization.anyio is None  # left alone
