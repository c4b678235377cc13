"""httpcore's network backend on plain asyncio streams, so a request never loads anyio.

httpx's default transport asks httpcore for its ``AutoBackend``, which on
asyncio runs every connection through anyio: anyio's socket, stream, TLS and
task modules are imported at the first connect, some 25 ms of a session's
start-up CPU (benchmarks/bench_cli.py) for what ``asyncio.open_connection``
and ``StreamWriter.start_tls`` already do. :class:`AsyncioBackend` implements
httpcore's ``AsyncNetworkBackend`` / ``AsyncNetworkStream`` interfaces on
them; massgen_core.http.pool gives every shared client a transport whose
connection pool uses it (:func:`transport`).

The backend alone is not enough: httpcore's pool and connections also take
their locks, events and cancellation shields from anyio on asyncio (its
``_synchronization`` module calls ``anyio.Event()``, which loads anyio's whole
asyncio backend). :func:`transport` therefore hands that module
:data:`PRIMITIVES`, the same names on asyncio's own lock, event and semaphore
and a sync ``fail_after`` built like ``asyncio.timeout``. The one thing asyncio
cannot give is a cancellation shield; httpcore shields only the closing of
connections, and on this backend closing never waits (``aclose`` aborts or
closes the transport without an await), so there is no point at which a
cancellation could land: the shield is an empty context manager. httpcore
itself is imported without anyio (massgen_core.http._httpcore).

The contract is httpcore's: timeouts raise ``ConnectTimeout`` / ``ReadTimeout``
/ ``WriteTimeout`` (httpx maps them to its own), socket and TLS failures
``ConnectError`` / ``ReadError`` / ``WriteError``, a read at end of stream
returns ``b""``, and ``get_extra_info("is_readable")`` tells the pool that an
idle keep-alive connection was closed by the server. The transport reads the
socket on its own, so that answer comes from the stream's reader (end of
stream, or an error), not from polling the socket.
"""

from __future__ import annotations

import asyncio
import ssl
import typing
from collections.abc import Iterable

from massgen_core.http._httpcore import httpcore
from massgen_core.http._httpx import httpx

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

_CONNECT_ERRORS: dict[type[Exception], type[Exception]] = {
    TimeoutError: httpcore.ConnectTimeout,  # first: TimeoutError is an OSError
    OSError: httpcore.ConnectError,  # ssl.SSLError included
}
_READ_ERRORS: dict[type[Exception], type[Exception]] = {TimeoutError: httpcore.ReadTimeout, OSError: httpcore.ReadError}
_WRITE_ERRORS: dict[type[Exception], type[Exception]] = {
    TimeoutError: httpcore.WriteTimeout,
    OSError: httpcore.WriteError,
}


def _mapped(error: Exception, table: dict[type[Exception], type[Exception]]) -> Exception:
    """httpcore's exception for ``error`` (the first matching row), else ``error`` itself."""
    for raised, mapped in table.items():
        if isinstance(error, raised):
            return mapped(error)
    return error


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: an asyncio reader/writer pair (plain or, after :meth:`start_tls`, TLS)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool = False) -> None:
        self._reader = reader
        self._writer = writer
        self._tls = tls

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except Exception as error:
            raise _mapped(error, _READ_ERRORS) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except Exception as error:
            raise _mapped(error, _WRITE_ERRORS) from error

    async def aclose(self) -> None:
        # Like httpcore's anyio streams: no TLS close_notify round trip, which a
        # server that has stopped answering would hold open for half a minute.
        if self._tls:
            self._writer.transport.abort()
        else:
            self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except Exception as error:
            self._writer.transport.abort()
            raise _mapped(error, _CONNECT_ERRORS) from error
        return AsyncioStream(self._reader, self._writer, tls=True)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            reader = self._reader
            return (
                reader.at_eof()
                or reader.exception() is not None
                or self._writer.transport.is_closing()
            )
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens :class:`AsyncioStream` connections with ``asyncio.open_connection`` and friends."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = None if local_address is None else (local_address, 0)
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except Exception as error:
            raise _mapped(error, _CONNECT_ERRORS) from error
        return _with_options(AsyncioStream(reader, writer), writer, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except Exception as error:
            raise _mapped(error, _CONNECT_ERRORS) from error
        return _with_options(AsyncioStream(reader, writer), writer, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _with_options(
    stream: AsyncioStream, writer: asyncio.StreamWriter, options: Iterable[SocketOption] | None
) -> AsyncioStream:
    sock = writer.get_extra_info("socket")
    for option in options or ():
        sock.setsockopt(*option)
    return stream


class _FailAfter:
    """``with fail_after(delay):`` inside a task: cancel it after ``delay`` seconds, raise TimeoutError.

    The synchronous twin of ``asyncio.timeout`` (httpcore enters it with a plain
    ``with``): a timer cancels the task; on the way out, a CancelledError that
    timer caused becomes TimeoutError, while any other cancellation goes on.
    """

    def __init__(self, delay: float | None) -> None:
        self._delay = delay
        self._handle: asyncio.TimerHandle | None = None
        self._fired = False

    def __enter__(self) -> _FailAfter:
        if self._delay is not None:
            task = asyncio.current_task()
            assert task is not None, "fail_after runs inside a task"
            self._task, self._cancelling = task, task.cancelling()
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._fire)
        return self

    def _fire(self) -> None:
        self._fired = True
        self._task.cancel()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._fired and self._task.uncancel() <= self._cancelling and kind is asyncio.CancelledError:
            raise TimeoutError from error


class _NoShield:
    """``CancelScope(shield=True)``: nothing to shield, see the module docstring."""

    def __init__(self, shield: bool = False) -> None:
        self.shield = shield

    def __enter__(self) -> _NoShield:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


def _semaphore(initial_value: int, max_value: int | None = None) -> asyncio.Semaphore:
    return asyncio.BoundedSemaphore(initial_value)


class PRIMITIVES:
    """What httpcore's ``_synchronization`` asks of ``anyio``, on asyncio's own primitives."""

    Lock = asyncio.Lock
    Event = asyncio.Event
    Semaphore = staticmethod(_semaphore)
    CancelScope = _NoShield
    fail_after = _FailAfter


def supported() -> bool:
    """Whether the installed httpcore is the 1.x this backend and its primitives were written against.

    The primitives replace a module attribute of httpcore's (``_synchronization.anyio``); with any
    other httpcore, MassGen keeps httpx's default pool (anyio included) rather than guess.
    """
    from httpcore import _synchronization

    return httpcore.__version__.split(".")[0] == "1" and hasattr(_synchronization, "anyio")


def use_asyncio_primitives() -> None:
    """Point httpcore's asyncio locks, events and shields at :class:`PRIMITIVES` (process-wide)."""
    from httpcore import _synchronization

    _synchronization.anyio = PRIMITIVES  # type: ignore[attr-defined,assignment]


def transport(ssl_context: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's HTTP/1.1 transport with ``limits``, its connection pool on :class:`AsyncioBackend`.

    httpx builds the pool itself and takes no network backend, so the pool it
    made (with the same settings, still unused) is replaced by one that has
    ours; everything else (request and response mapping, exception mapping)
    stays httpx's.
    """
    made = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits, trust_env=False)
    if not supported():  # another httpcore than the one this was written against: httpx's own pool
        return made
    use_asyncio_primitives()
    made._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=AsyncioBackend(),
    )
    return made
