"""Reliability: a 3-agent session against a server failing 30% with 503 and some 429 + Retry-After.

Every request to the loopback server fails with 503 (30%), or with 429 and
``Retry-After: 0.2`` (10%), or is answered by a cooperative fake agent. The
script runs several sessions in-process and reports: whether each completed,
how many failures the server sent vs how many BackendRetry events the session
showed, and the shortest gap between a 429 and that agent's next request
(must be >= the Retry-After).

    uv run python benchmarks/bench_flaky_server.py [--sessions 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import threading
import time

RETRY_AFTER = 0.2


def flaky(rng: random.Random, log: list, lock: threading.Lock):
    from massgen_core.testing.openai import coordination_handler, error_response

    good = coordination_handler("chat")

    def handler(request):
        model = request.json().get("model")
        roll = rng.random()
        with lock:
            if roll < 0.30:
                log.append((model, time.monotonic(), 503))
                return error_response(503, "The server is overloaded")
            if roll < 0.40:
                log.append((model, time.monotonic(), 429))
                return error_response(429, "Rate limit reached", retry_after=str(RETRY_AFTER))
            log.append((model, time.monotonic(), 200))
        return good(request)

    return handler


async def session(url: str) -> tuple[list, object]:
    from massgen_core.config import config_from_dict
    from massgen_core.http import aclose_all
    from massgen_core.orchestrator.builder import build_orchestrator

    agents = [{"id": f"agent{i}", "backend": {"type": "chatcompletion", "model": f"m{i}", "base_url": url + "/v1",
                                             "max_retries": 8, "retry_initial_delay": 0.05, "retry_max_delay": 0.5}}
              for i in range(1, 4)]
    orch = build_orchestrator(config_from_dict({"agents": agents}))
    events = [e async for e in orch.run("What is 6 x 7?")]
    await orch.aclose()
    await aclose_all()
    return events, events[-1]


def main() -> None:
    from massgen_core.events import BackendRetry
    from massgen_core.testing import FakeServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    durations = []
    for n in range(args.sessions):
        log: list = []
        with FakeServer() as server:
            server.add("POST", "/v1/chat/completions", flaky(rng, log, threading.Lock()))
            t0 = time.perf_counter()
            events, finished = asyncio.run(session(server.url))
            durations.append(time.perf_counter() - t0)
        retries = [e for e in events if isinstance(e, BackendRetry)]
        failures = sum(1 for _, _, s in log if s != 200)
        gaps = []
        for i, (model, t, status) in enumerate(log):
            if status == 429:
                nxt = next((t2 for m2, t2, _ in log[i + 1 :] if m2 == model), None)
                if nxt is not None:
                    gaps.append(nxt - t)
        min_delay_429 = min((e.delay_s for e in retries if "rate limited" in e.error), default=None)
        print(f"session {n + 1}: ended_by={finished.ended_by} final={finished.final_answer!r} requests={len(log)} "
              f"failures={failures} retry_events={len(retries)} "
              f"min_429_gap={min(gaps) if gaps else float('nan'):.3f}s min_429_delay={min_delay_429 or float('nan'):.3f}s "
              f"(retry-after {RETRY_AFTER}s) {durations[-1]:.2f}s")
    print(f"median session time {statistics.median(durations):.2f}s over {len(durations)} sessions")


if __name__ == "__main__":
    main()
