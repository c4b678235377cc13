"""The cost of ``massgen serve``'s Guard (Host, Origin, Content-Type, body deadline) per request.

Calls a trivial ASGI app directly and through the Guard, in process, for a GET
and for a JSON POST with a browser's headers, and reports the median cost per
request over several runs (for scale: a loopback round trip to ``massgen
serve`` with curl takes a few milliseconds).

    uv run python benchmarks/bench_serve_guard.py [--runs 5] [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from massgen_server.guard import Guard, Policy

GET = [(b"host", b"127.0.0.1:8765"), (b"user-agent", b"bench")]
POST = [
    (b"host", b"127.0.0.1:8765"),
    (b"origin", b"http://127.0.0.1:8765"),
    (b"sec-fetch-site", b"same-origin"),
    (b"content-type", b"application/json"),
    (b"content-length", b"17"),
]


async def inner(scope: Any, receive: Any, send: Any) -> None:
    if scope["method"] == "POST":
        await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def per_call_us(app: Any, method: str, headers: list[tuple[bytes, bytes]], calls: int) -> float:
    scope = {"type": "http", "method": method, "path": "/v1/x", "scheme": "http", "headers": headers, "server": ("127.0.0.1", 8765)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b'{"question": "q"}', "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    start = time.perf_counter()
    for _ in range(calls):
        await app(scope, receive, send)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    guard = Guard(inner, Policy.build())
    for label, method, headers in (("GET", "GET", GET), ("JSON POST from a same-origin page", "POST", POST)):
        bare = statistics.median(asyncio.run(per_call_us(inner, method, headers, args.calls)) for _ in range(args.runs))
        guarded = statistics.median(asyncio.run(per_call_us(guard, method, headers, args.calls)) for _ in range(args.runs))
        print(f"{label}: bare app {bare:.2f} us, through the Guard {guarded:.2f} us, Guard cost {guarded - bare:.2f} us per request")


if __name__ == "__main__":
    main()
