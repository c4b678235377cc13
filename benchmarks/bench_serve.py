"""What the OpenAI-compatible endpoint adds over the engine: requests/s and p50/p99 latency.

    uv run python benchmarks/bench_serve.py                  # 1, 8 and 32 concurrent clients
    uv run python benchmarks/bench_serve.py --requests 100

Two scripted agents with no delays (no network, no model: all of it is MassGen's work):
- engine: ``Team.ask`` in this process, at the given concurrency;
- endpoint: ``POST /v1/chat/completions`` (non-streaming) to a real ``massgen serve`` subprocess
  (uvicorn, the Guard, the metrics and access-log middleware off, recording off), from an httpx
  client at the same concurrency over keep-alive connections.
It reports, per concurrency, requests/s and the p50/p99 latency of each, and the endpoint's added
p50/p99 (endpoint minus engine), medians of --runs runs. Not a test: nothing here asserts.
PYTHONDONTWRITEBYTECODE is unset for the server so its imports are compiled once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CONFIG = """
agents:
  - id: a1
    backend: {type: scripted, model: s-1, per_turn: true, script: [{answer: "A1 on {question}"}, {vote: best}]}
  - id: a2
    backend: {type: scripted, model: s-2, per_turn: true, script: [{answer: "A2 on {question}, longer"}, {vote: best}]}
"""


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(n: int, concurrency: int, one) -> tuple[float, list[float]]:
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def task(i: int) -> None:
        async with slots:
            t0 = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(task(i) for i in range(n)))
    return n / (time.perf_counter() - t0), latencies


async def engine(config: Path, n: int, concurrency: int) -> tuple[float, list[float]]:
    from massgen_core.team import Team

    team = Team.from_config(config, record=False)

    async def one(i: int) -> None:
        result = await team.ask(f"question {i}?")
        assert result.final_answer

    try:
        return await drive(n, concurrency, one)
    finally:
        await team.aclose()


async def endpoint(url: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def one(i: int) -> None:
            r = await client.post("/v1/chat/completions", json={
                "model": "bench", "messages": [{"role": "user", "content": f"question {i}?"}]})
            assert r.status_code == 200, r.text

        await one(-1)  # warm: imports and first-call work happen before the clock starts
        return await drive(n, concurrency, one)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "MASSGEN_API_TOKEN")}
        env["MASSGEN_HOME"] = tmp
        server = subprocess.Popen([sys.executable, "-m", "massgen_core", "serve", "--config", str(config), "--port",
                                   "0", "--no-logs", "--max-sessions", "64"],
                                  env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            port = re.search(r"127\.0\.0\.1:(\d+)", server.stderr.readline())[1]
            url = f"http://127.0.0.1:{port}"
            asyncio.run(engine(config, 5, 1))  # warm this process too
            print(f"{'clients':>7} | {'engine req/s':>12} {'p50 ms':>7} {'p99 ms':>7} | {'endpoint req/s':>14} "
                  f"{'p50 ms':>7} {'p99 ms':>7} | {'added p50':>9} {'added p99':>9}")
            for concurrency in (1, 8, 32):
                rows = []
                for _ in range(args.runs):
                    e_rate, e_lat = asyncio.run(engine(config, args.requests, concurrency))
                    s_rate, s_lat = asyncio.run(endpoint(url, args.requests, concurrency))
                    rows.append((e_rate, quantile(e_lat, .5), quantile(e_lat, .99),
                                 s_rate, quantile(s_lat, .5), quantile(s_lat, .99)))
                m = [statistics.median(r[i] for r in rows) for i in range(6)]
                print(f"{concurrency:>7} | {m[0]:>12.1f} {m[1] * 1e3:>7.1f} {m[2] * 1e3:>7.1f} | {m[3]:>14.1f} "
                      f"{m[4] * 1e3:>7.1f} {m[5] * 1e3:>7.1f} | {(m[4] - m[1]) * 1e3:>9.1f} {(m[5] - m[2]) * 1e3:>9.1f}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
