"""A structured access log for ``massgen serve --access-log``: one JSON object per request on stderr.

Each line has the time (ISO 8601, UTC), method, path (the query string left
out: it may carry search text), matched route, status, duration in
milliseconds, response bytes and the client address. Values a client sent are
JSON-escaped, so a hostile path cannot forge a line or reach the terminal.
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def access_log(app: ASGIApp, stream: IO[str] | None = None) -> ASGIApp:
    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        facts: dict[str, Any] = {"status": 500, "bytes": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                facts["status"] = message["status"]
            elif message["type"] == "http.response.body":
                facts["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None)
            client = scope.get("client")
            line = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": facts["status"],
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "bytes": facts["bytes"],
                "client": f"{client[0]}:{client[1]}" if client else None,
            }
            out = stream or sys.stderr
            out.write(json.dumps(line) + "\n")  # ASCII-escaped: nothing raw reaches the terminal
            out.flush()

    return logged


__all__ = ["access_log"]
