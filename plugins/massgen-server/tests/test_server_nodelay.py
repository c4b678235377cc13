"""Responses are not held back by Nagle's algorithm: accepted connections get TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket

from massgen_server.serving import no_delay


async def accepted_nodelay(fix: bool) -> int:
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if fix:
                no_delay(transport)
            sock = transport.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as massgen serve binds it
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    reader, writer = await asyncio.open_connection(*listener.getsockname())
    try:
        return await asyncio.wait_for(seen, 5)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_asyncio_leaves_nagle_on_for_accepted_connections_and_no_delay_turns_it_off():
    assert await accepted_nodelay(fix=False) == 0  # why the fix exists (and a sign if asyncio changes)
    assert await accepted_nodelay(fix=True) != 0
