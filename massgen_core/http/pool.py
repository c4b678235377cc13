"""One shared ``httpx.AsyncClient`` per base URL (and event loop), closed at shutdown.

Backends never create clients themselves: ``get_client(base_url)`` returns
the shared one, with keep-alive and connection limits, so several agents on
the same provider reuse connections. Clients are bound to the event loop that
made them (httpx connections belong to a loop), hence the per-loop table.
Every https client shares one SSL context, built on first use: loading the CA
bundle costs far more CPU than a loopback request, so it is done once per
process, and never for plain-http origins (local servers).
``aclose_all()`` closes every client of the running loop; call it when a
session ends. Nothing here decides retries or parses responses.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref

from massgen_core import startup
from massgen_core.http._httpx import httpx

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


_tls: ssl.SSLContext | None = None
_no_tls: ssl.SSLContext | None = None


def ssl_context(scheme: str) -> ssl.SSLContext:
    """The shared context for ``scheme``: verifying with the CA bundle for https.

    A plain-http origin never negotiates TLS (no proxies, no redirects), so its
    clients get a context without the CA bundle, which would refuse any
    certificate if it were ever used.
    """
    global _tls, _no_tls
    if scheme == "https":
        if _tls is None:
            _tls = httpx.create_ssl_context(verify=True, trust_env=False)
        return _tls
    if _no_tls is None:
        _no_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return _no_tls


def _key(base_url: str) -> str:
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.host}:{url.port or ''}"


def get_client(base_url: str, limits: httpx.Limits | None = None) -> httpx.AsyncClient:
    """The shared client for ``base_url``'s origin on the running loop (created on first use)."""
    loop = asyncio.get_running_loop()
    table = _clients.setdefault(loop, {})
    key = _key(base_url)
    client = table.get(key)
    if client is None or client.is_closed:
        startup.resume()  # the first request: the CLI's start-up is over (massgen_core.startup)
        from massgen_core.http.aio_backend import transport  # httpcore: needed from the first request on

        # trust_env=False: a proxy from the environment must never swallow loopback or key traffic
        client = httpx.AsyncClient(
            transport=transport(ssl_context(httpx.URL(base_url).scheme), limits or DEFAULT_LIMITS),
            trust_env=False, timeout=None,
        )
        table[key] = client
    return client


def open_clients() -> list[str]:
    """Origins with an open client on the running loop (for tests and diagnostics)."""
    loop = asyncio.get_running_loop()
    return sorted(k for k, c in _clients.get(loop, {}).items() if not c.is_closed)


async def aclose_all() -> None:
    """Close every shared client of the running loop."""
    loop = asyncio.get_running_loop()
    table = _clients.pop(loop, {})
    for client in table.values():
        await client.aclose()


# -- Retry-After gates -------------------------------------------------------------
# A 429's Retry-After applies to the caller, not only to the request that got it: a
# restarted agent or another agent with the same key must not hit the server sooner.
_gates: dict[tuple[str, str], float] = {}


def _gate_key(base_url: str, key_id: str) -> tuple[str, str]:
    return (_key(base_url), key_id)


def hold_until(base_url: str, key_id: str, seconds: float) -> None:
    """Hold new requests to ``base_url`` with this key for ``seconds`` (from a Retry-After)."""
    import time

    until = time.monotonic() + seconds
    gate = _gate_key(base_url, key_id)
    _gates[gate] = max(_gates.get(gate, 0.0), until)


async def wait_for_gate(base_url: str, key_id: str, max_wait: float | None = None) -> float | None:
    """Sleep until a Retry-After hold on ``base_url`` has passed.

    Returns None after waiting (or when there was no hold); when the hold lasts
    longer than ``max_wait`` seconds it returns the remaining seconds at once,
    without waiting, so the caller can fail over instead.
    """
    import time

    gate = _gate_key(base_url, key_id)
    until = _gates.get(gate)
    if until is None:
        return None
    delay = until - time.monotonic()
    if delay <= 0:
        _gates.pop(gate, None)
        return None
    if max_wait is not None and delay > max_wait:
        return delay
    await asyncio.sleep(delay)
    return None
