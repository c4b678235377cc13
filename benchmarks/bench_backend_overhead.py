"""Per-request overhead: our HTTP backend layer vs the official ``openai`` SDK, same loopback server.

The server (a FakeServer in a child process) streams a Chat Completions answer
of N chunks. For each client we measure, per request: time to first chunk,
total time, and client CPU time per streamed chunk. Medians over the runs.

    uv run python benchmarks/bench_backend_overhead.py [--runs 30] [--chunks 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fake_process import ServerProcess  # noqa: E402

CHUNKS = 200


def setup(chunks, server):  # runs in the server process
    from massgen_core.testing.openai import chat_stream

    server.add("POST", "/v1/chat/completions", chat_stream([f"tok{i} " for i in range(chunks)]))


async def ours(base_url: str, runs: int):
    from massgen_core.backend import TextDelta
    from massgen_core.config.schema import BackendConfig
    from massgen_core.http import aclose_all
    from massgen_core.testing.collect import ask
    from massgen_openai_compatible import ChatCompletionBackend

    backend = ChatCompletionBackend(BackendConfig(type="chatcompletion", model="m", base_url=base_url, api_key="sk-x"))
    rows = []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        first, n = None, 0
        async for chunk in backend.stream(ask()):
            if isinstance(chunk, TextDelta):
                n += 1
                if first is None:
                    first = time.perf_counter() - t0
        rows.append((first, time.perf_counter() - t0, (time.process_time() - c0) / max(n, 1)))
    await aclose_all()
    return rows


async def sdk(base_url: str, runs: int):
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-x", max_retries=0)
    rows = []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        first, n = None, 0
        stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                                      stream=True, stream_options={"include_usage": True})
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
                if first is None:
                    first = time.perf_counter() - t0
        rows.append((first, time.perf_counter() - t0, (time.process_time() - c0) / max(n, 1)))
    await client.close()
    return rows


def med(rows, i):
    return statistics.median(r[i] for r in rows)


def main() -> None:
    global CHUNKS
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--chunks", type=int, default=200)
    args = parser.parse_args()
    CHUNKS = args.chunks
    import functools

    with ServerProcess(functools.partial(setup, CHUNKS)) as url:
        base = url + "/v1"
        asyncio.run(ours(base, 3))  # warm-up both
        asyncio.run(sdk(base, 3))
        a, b = [], []
        for _ in range(3):  # interleave to share the machine's noise fairly
            a += asyncio.run(ours(base, args.runs // 3))
            b += asyncio.run(sdk(base, args.runs // 3))
    print(f"{'client':<14}{'ttfc ms':>10}{'total ms':>10}{'cpu us/chunk':>14}   ({len(a)} requests, {CHUNKS} chunks each)")
    for name, rows in (("massgen http", a), ("openai sdk", b)):
        print(f"{name:<14}{med(rows, 0)*1e3:>10.2f}{med(rows, 1)*1e3:>10.2f}{med(rows, 2)*1e6:>14.1f}")


if __name__ == "__main__":
    main()
