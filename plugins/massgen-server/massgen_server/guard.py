"""The checks every request to ``massgen serve`` passes before any endpoint sees it.

``Guard`` is ASGI middleware shared by every route (the sessions API and any
endpoint added later): it refuses a ``Host`` that is not the address the
connection arrived on, ``localhost`` or an allowed name (DNS rebinding), a
browser request from a foreign ``Origin`` (cross-site requests), a body that
is not declared ``application/json`` (a form or ``text/plain`` post that a web
page may send without a preflight), and a body that does not arrive within
the body timeout (slow senders). It never reads a body itself and never
answers for the endpoints; header read timeouts live in ``serving``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Iterable

import attrs
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Names that always mean this machine: a page cannot make a browser send them
# for a name it controls, so they are safe Host values on a loopback server.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Fetch metadata a browser adds even where it sends no Origin (e.g. <script src>).
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})


class BodyTimeout(Exception):
    """The request body did not arrive within the body timeout."""


@attrs.frozen
class Policy:
    """Which Host names and browser origins a server accepts, and how long a body may take."""

    allow_hosts: frozenset[str] = frozenset()
    allow_origins: frozenset[str] = frozenset()
    body_timeout_s: float = 30.0

    @classmethod
    def build(cls, allow_hosts: Iterable[str] = (), allow_origins: Iterable[str] = (), body_timeout_s: float = 30.0) -> Policy:
        return cls(
            allow_hosts=frozenset(normal_host(h) for h in allow_hosts),
            allow_origins=frozenset(o.strip().rstrip("/").lower() for o in allow_origins),
            body_timeout_s=body_timeout_s,
        )


def normal_host(host: str) -> str:
    """The host name of a Host header value (``[::1]:8765`` -> ``::1``), lower case, without a trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_loopback_address(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_refusal(host: str | None, server: tuple[str, int | None] | None, policy: Policy) -> str | None:
    """Why this Host header is refused, or None when it names this server."""
    if not host:
        return "the request has no Host header"
    name = normal_host(host)
    bound = server[0].lower() if server else None
    if name in policy.allow_hosts or name == bound:
        return None
    if name in LOOPBACK_NAMES and bound is not None and is_loopback_address(bound):
        return None
    return (
        f"Host {host!r} is not this server's address; a page on another site may be reaching it through "
        "DNS rebinding (name an expected host with --allow-host)"
    )


def origin_refusal(origin: str | None, fetch_site: str | None, scheme: str, host: str, policy: Policy) -> str | None:
    """Why a browser request from ``origin`` is refused, or None when it is this server's own or an allowed one."""
    if origin is None:
        if fetch_site in FOREIGN_FETCH_SITES:
            return f"a {fetch_site} browser request without an Origin is refused"
        return None  # not a browser's cross-origin request: curl, SDKs, scripts
    normal = origin.strip().rstrip("/").lower()
    if normal in policy.allow_origins or normal == f"{scheme}://{host.strip().lower()}":
        return None
    return f"requests from the web page origin {origin!r} are refused (allow it with --allow-origin)"


def media_type_refusal(method: str, content_type: str | None) -> str | None:
    if method not in BODY_METHODS:
        return None
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type == "application/json":
        return None
    shown = repr(content_type) if content_type else "none"
    return f"the body must be sent with Content-Type: application/json (got {shown})"


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return _header(scope, b"transfer-encoding") is not None or (length is not None and length.strip() != "0")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class Guard:
    """ASGI middleware: Host, Origin and Content-Type checks, and a deadline for the request body."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        refusal = host_refusal(host, scope.get("server"), self.policy)
        if refusal is not None:
            await self._refuse(scope, receive, send, 421, "misdirected_request", refusal)
            return
        assert host is not None
        refusal = origin_refusal(
            _header(scope, b"origin"), _header(scope, b"sec-fetch-site"), scope.get("scheme", "http"), host, self.policy
        )
        if refusal is not None:
            await self._refuse(scope, receive, send, 403, "forbidden_origin", refusal)
            return
        refusal = media_type_refusal(scope["method"], _header(scope, b"content-type"))
        if refusal is not None:
            await self._refuse(scope, receive, send, 415, "unsupported_media_type", refusal)
            return
        await self._call_with_body_deadline(scope, receive, send)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, kind: str, message: str, close: bool = False
    ) -> None:
        """Answer the error in the API's shape, and log it: a refused request is something the user may want to see."""
        print(f"massgen: refused {scope['method']} {scope['path']!r} ({status}): {message}", file=sys.stderr, flush=True)
        # A body nobody will read could otherwise trickle in for ever on the kept-alive connection.
        headers = {"connection": "close"} if close or _has_body(scope) else None
        response = JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=headers)
        await response(scope, receive, send)

    async def _call_with_body_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.policy.body_timeout_s
        body_done = not _has_body(scope)
        started = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not body_done:  # answered without reading the body (e.g. 401): close, or it may trickle for ever
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except BodyTimeout:
            if started:  # pragma: no cover - endpoints read the whole body before they answer
                raise
            message = f"the request body did not arrive within {self.policy.body_timeout_s:g} s"
            await self._refuse(scope, receive, send, 408, "request_timeout", message, close=True)
