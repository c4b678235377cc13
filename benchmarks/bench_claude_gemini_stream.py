"""Per-request overhead of the claude and gemini backends against loopback servers.

For each backend, streams a long answer (500 text deltas, then a tool call
whose arguments arrive in 200 fragments for Claude / one object for Gemini)
from a local fake server, and reports medians over several runs of: time to
first chunk, total time per request, and CPU time per streamed chunk.
Run: ``uv run python benchmarks/bench_claude_gemini_stream.py [runs]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

from massgen_core.backend import BackendContext, Message, Request
from massgen_core.config.schema import BackendConfig
from massgen_core.http import aclose_all
from massgen_core.testing.anthropic import AnthropicServer, message_events, stream_response
from massgen_core.testing.gemini import GeminiServer, response_chunks
from massgen_core.testing.gemini import stream_response as gemini_stream

TEXT = "word " * 500
ARGS = {"content": "x" * 600, "items": list(range(50))}
REQUEST = Request(messages=(Message(role="user", content="Hi"),))


async def _one(backend: Any) -> tuple[float, float, float, int]:
    t0, c0 = time.perf_counter(), time.process_time()
    first = None
    n = 0
    async for _chunk in backend.stream(REQUEST):
        if first is None:
            first = time.perf_counter() - t0
        n += 1
    return first or 0.0, time.perf_counter() - t0, time.process_time() - c0, n


async def _measure(make: Any, runs: int) -> dict[str, float]:
    backend = make()
    await _one(backend)  # warm the pooled connection
    ttft, total, cpu = [], [], []
    for _ in range(runs):
        a, b, c, n = await _one(backend)
        ttft.append(a)
        total.append(b)
        cpu.append(c / n)
    await aclose_all()
    return {"ttft_ms": statistics.median(ttft) * 1e3, "total_ms": statistics.median(total) * 1e3,
            "cpu_us_per_chunk": statistics.median(cpu) * 1e6, "chunks": n}


def main(runs: int = 9) -> None:
    with AnthropicServer() as claude, GeminiServer() as gemini:
        claude.messages(stream_response(message_events(text=TEXT, text_pieces=500,
                                                       tool_calls=[("toolu_1", "new_answer", ARGS)],
                                                       json_fragment_size=4)))
        gemini.stream("gemini-2.5-flash", gemini_stream(response_chunks(text=TEXT, text_pieces=500,
                                                                        function_calls=[("new_answer", ARGS)])))

        def make_claude() -> Any:
            from massgen_claude import ClaudeBackend

            return ClaudeBackend(BackendConfig(type="claude", model="claude-sonnet-4-20250514", api_key="sk-ant-bench",
                                               base_url=claude.base_url), BackendContext())

        def make_gemini() -> Any:
            from massgen_gemini import GeminiBackend

            return GeminiBackend(BackendConfig(type="gemini", model="gemini-2.5-flash", api_key="AIza-bench",
                                               base_url=gemini.base_url), BackendContext())

        for name, make in (("claude", make_claude), ("gemini", make_gemini)):
            result = asyncio.run(_measure(make, runs))
            print(f"{name:7s} runs={runs} chunks={result['chunks']:.0f} ttft={result['ttft_ms']:.2f} ms "
                  f"total={result['total_ms']:.2f} ms cpu/chunk={result['cpu_us_per_chunk']:.1f} us")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
