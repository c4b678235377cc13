"""Benchmarks of the coordination engine with scripted agents (no network, no model).

    uv run python benchmarks/bench_engine.py            # full run
    uv run python benchmarks/bench_engine.py --quick    # fewer repetitions

Measures, printing medians over several runs:
1. events/second through the orchestrator to a null consumer (text deltas dominate);
2. CPU time per coordinated session with 3, 10 and 50 agents (no delays);
3. wall time with a fixed latency L per model call: it must track rounds x L, not agents x L;
4. peak RSS of a 200-turn multi-turn session (history carried between turns).
Not a test: nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
from typing import Any

import massgen_scripted
import massgen_voting_majority

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config, OrchestratorConfig
from massgen_core.orchestrator import build_orchestrator
from massgen_core.plugins import PluginManager


def _manager() -> PluginManager:
    manager = PluginManager()
    manager.register(massgen_scripted, name="massgen-scripted")
    manager.register(massgen_voting_majority, name="massgen-voting-majority")
    return manager


def _config(
    n: int, script: list[Any], *, final: str | None = None, presentation: bool = True
) -> Config:
    options: dict[str, Any] = {"script": script}
    if final is not None:
        options["final"] = final
    agents = tuple(
        AgentConfig(
            id=f"agent_{i:02d}",
            backend=BackendConfig(type="scripted", model="bench", options=options),
        )
        for i in range(n)
    )
    return Config(agents=agents, orchestrator=OrchestratorConfig(final_presentation=presentation))


async def _drain(
    orch: Any, question: str = "Q", history: Any = ()
) -> tuple[int, ev.SessionFinished]:
    count = 0
    last: Any = None
    async for event in orch.run(question, history=history):
        count += 1
        last = event
    return count, last


def bench_events_per_second(manager: PluginManager, runs: int) -> float:
    answer = " ".join(f"word{i}" for i in range(3000))
    config = _config(3, [{"answer": answer}, {"vote": "best"}], final=answer)
    rates = []
    for _ in range(runs):
        orch = build_orchestrator(config, manager=manager)
        started = time.perf_counter()
        count, _last = asyncio.run(_drain(orch))
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def bench_cpu_per_session(manager: PluginManager, n: int, runs: int) -> float:
    config = _config(n, [{"answer": "An answer of a few words {question}"}, {"vote": "best"}])
    times = []
    for i in range(runs):
        orch = build_orchestrator(config, manager=manager)
        started = time.process_time()
        asyncio.run(_drain(orch, f"question {i}"))
        times.append(time.process_time() - started)
    return statistics.median(times)


def bench_latency(manager: PluginManager, n: int, latency: float, runs: int) -> tuple[float, int]:
    script = [{"delay": latency, "answer": "Answer {question}"}, {"delay": latency, "vote": "best"}]
    walls = []
    launches = 0
    for _ in range(runs):
        orch = build_orchestrator(_config(n, script, presentation=False), manager=manager)

        async def go(orch: Any = orch) -> int:
            starts = 0
            async for event in orch.run("Q"):
                starts += isinstance(event, ev.AgentStarted)
            return starts

        started = time.perf_counter()
        launches = asyncio.run(go())
        walls.append(time.perf_counter() - started)
    return statistics.median(walls), launches


def bench_multiturn_rss(manager: PluginManager, turns: int) -> tuple[float, float]:
    config = _config(3, [{"answer": "Answer to {question} " + "x" * 200}, {"vote": "best"}])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    async def conversation() -> None:
        orch = build_orchestrator(config, manager=manager)
        history: list[tuple[str, str]] = []
        for turn in range(turns):
            question = f"turn {turn}"
            _count, finished = await _drain(orch, question, history)
            history.append((question, finished.final_answer or ""))

    asyncio.run(conversation())
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    manager = _manager()

    print(
        f"events/s to a null consumer (3 agents, ~3000-token answers): {bench_events_per_second(manager, runs):,.0f}"
    )
    for n in (3, 10, 50):
        print(
            f"CPU time per session, {n:2d} agents: {bench_cpu_per_session(manager, n, runs) * 1000:8.1f} ms"
        )
    latency = 0.1
    for n in (3, 10, 50):
        wall, launches = bench_latency(manager, n, latency, max(3, runs // 2))
        print(
            f"latency L={latency:.2f}s, {n:2d} agents: wall {wall:.3f}s = {wall / latency:.2f} x L "
            f"(agents x L would be {n} x L; {launches} launches)"
        )
    turns = 200
    before, after = bench_multiturn_rss(manager, turns)
    print(
        f"peak RSS: {before:.1f} MB before, {after:.1f} MB after a {turns}-turn session (3 agents)"
    )


if __name__ == "__main__":
    main()
