"""Benchmark of the conversation store (run: uv run python benchmarks/bench_store.py [--backend both]).

For each backend (``--backend sqlite``, ``postgresql`` or ``both``; PostgreSQL is a
throw-away loopback server started here, massgen_core.testing.postgres):

1. Fills a temporary store with 10,000 conversations (~100,000 answers), then
   times ``massgen conversations search`` and ``massgen conversations list``
   with filters as subprocesses, against the interpreter's own start-up
   (``python -c pass``) and ``massgen --version`` (CLI start-up); also the
   same queries in-process. Target: < 100 ms beyond interpreter start.
2. Runs a scripted session (3 agents, no delays, realistic text sizes) in
   process with and without the recorder and compares CPU time. Target: < 5 %.

   Also the wall time of one session in process, with and without recording.
   For PostgreSQL the process CPU is the client's: the server's own is not in it.

Medians over several runs are printed. Nothing here touches the network or
the user's own store (MASSGEN_HOME points at a temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [f"w{i}" for i in range(6000)] + ["database", "consensus", "paris", "capital", "voting", "agent", "answer"]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def populate(conversations: int, answers_per: int, seed: int = 7) -> None:
    from massgen_core.store import Store
    from massgen_core.store.document import FORMAT, VERSION

    rng = random.Random(seed)
    backends = [("openai", "gpt-4o-mini"), ("claude", "claude-3-5-haiku"), ("gemini", "gemini-2.0-flash"), ("grok", "grok-3")]
    now = time.time()
    store = Store()
    for n in range(conversations):
        started = now - rng.uniform(0, 365 * 86400)
        agents = rng.sample(["alice", "bob", "carol", "dave", "erin"], 3)
        backend, model = rng.choice(backends)
        answers = [
            {"agent_id": rng.choice(agents), "label": "agent1", "revision": i + 1, "text": _text(rng, 60), "ts": started + i}
            for i in range(answers_per)
        ]
        requests = [
            {"agent_id": a, "backend": backend, "model": model, "input_tokens": 500, "output_tokens": 200, "cached_tokens": 0,
             "reasoning_tokens": 0, "cost_usd": rng.uniform(0, 0.05), "latency_s": 1.0, "ttft_s": 0.2, "retries": 0,
             "status": "ok", "ts": started}
            for a in agents
        ]  # fmt: skip
        cost = sum(r["cost_usd"] for r in requests)
        winner = rng.choice(agents)
        turn = {
            "turn": 1, "session_id": f"s{n}", "question": _text(rng, 12), "agent_ids": agents, "strategy": "majority",
            "started_at": started, "finished_at": started + 30, "ended_by": "consensus", "error": None,
            "final_answer": _text(rng, 80), "winner": winner, "tally": {winner: 3.0}, "reasons": {}, "explanation": "",
            "usage": {}, "cost_usd": cost, "duration_s": 30.0, "answers": answers,
            "votes": [{"voter": a, "target": winner, "target_label": "agent1", "reason": _text(rng, 6), "ranking": [],
                       "discarded": False, "discard_reason": None, "ts": started + 20} for a in agents],
            "requests": requests, "events": [],
        }  # fmt: skip
        doc = {"format": FORMAT, "version": VERSION, "turns": [turn], "conversation": {
            "id": f"{rng.getrandbits(128):032x}", "title": turn["question"][:80], "config": None, "started_at": started,
            "finished_at": started + 30, "ended_by": "consensus", "cost_usd": cost}}  # fmt: skip
        store.import_document(doc)
    store.conn.execute("PRAGMA optimize" if store.url is None else "ANALYZE")
    store.close()


def _wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_queries(runs: int) -> None:
    from massgen_core.store import Filters, Store
    from massgen_core.store.query import parse_plain

    py = sys.executable
    base = _wall([py, "-c", "pass"], runs)
    cli_start = _wall([py, "-m", "massgen_core", "--version"], runs)
    print(f"interpreter start (python -c pass): {base * 1000:7.1f} ms   massgen --version: {cli_start * 1000:7.1f} ms")
    day = 86400
    commands = {
        "search common word": ["conversations", "search", "database"],
        "search rare word": ["conversations", "search", "w4242"],
        "search phrase": ["conversations", "search", '"paris capital"'],
        "search prefix (--fts)": ["conversations", "search", "--fts", "w424*"],
        "search + filters": ["conversations", "search", "consensus", "--backend", "claude", "--min-cost", "0.05", "--since", "90d"],
        "list (default)": ["conversations", "list"],
        "list --backend --since": ["conversations", "list", "--backend", "openai", "--since", "30d"],
        "list --model --min-cost": ["conversations", "list", "--model", "grok-3", "--min-cost", "0.1"],
        "list --agent --winner": ["conversations", "list", "--agent", "alice", "--winner", "bob"],
        "list --unfinished": ["conversations", "list", "--unfinished"],
    }
    print(f"{'command':<28} {'wall ms':>8} {'beyond interp.':>15} {'beyond CLI start':>17} {'in-process ms':>14}")
    with Store() as store:
        for name, args in commands.items():
            wall = _wall([py, "-m", "massgen_core", *args], runs)
            in_proc = []
            for _ in range(runs):
                t0 = time.perf_counter()
                if args[1] == "search":
                    filters = Filters(backend="claude", min_cost=0.05, since=time.time() - 90 * day) if "--backend" in args else Filters()
                    store.search(args[3] if args[2] == "--fts" else parse_plain(args[2]), filters)
                else:
                    kw: dict = {}
                    if "--backend" in args:
                        kw = {"backend": "openai", "since": time.time() - 30 * day}
                    elif "--model" in args:
                        kw = {"model": "grok-3", "min_cost": 0.1}
                    elif "--agent" in args:
                        kw = {"agent": "alice", "winner": "bob"}
                    elif "--unfinished" in args:
                        kw = {"unfinished": True}
                    store.list_conversations(Filters(**kw))
                in_proc.append(time.perf_counter() - t0)
            print(f"{name:<28} {wall * 1000:8.1f} {(wall - base) * 1000:15.1f} {(wall - cli_start) * 1000:17.1f} "
                  f"{statistics.median(in_proc) * 1000:14.2f}")  # fmt: skip


SESSION_CONFIG = """
agents:
{agents}
"""
AGENT = """  - id: {name}
    backend:
      type: scripted
      model: bench
      script:
        - answer: "{answer}"
        - vote: best
      final: "{final}"
"""


def bench_recording(runs: int) -> None:
    from massgen_core import config as cfg
    from massgen_core.orchestrator import build_orchestrator
    from massgen_core.plugins import get_plugin_manager
    from massgen_core.store import Store
    from massgen_core.store.recorder import Recorder

    rng = random.Random(3)
    agents = "".join(AGENT.format(name=n, answer=_text(rng, 300), final=_text(rng, 400)) for n in ("alice", "bob", "carol"))
    path = Path(tempfile.mkdtemp()) / "bench.yaml"
    path.write_text(SESSION_CONFIG.format(agents=agents), encoding="utf-8")
    config, _ = cfg.load_config_with_warnings(path)
    manager = get_plugin_manager()

    async def one(consumer) -> int:
        orchestrator = build_orchestrator(config, manager=manager)
        count = 0
        stream = orchestrator.run("Benchmark question?", history=[], session_id=f"{rng.getrandbits(64):x}")
        async for event in stream:
            count += 1
            if consumer is not None:
                consumer(event)
        return count

    walls: dict[bool, list[float]] = {False: [], True: []}

    def cpu(record: bool) -> tuple[float, int]:
        recorder = Recorder(Store(), config=config) if record else None
        t0, w0 = time.process_time(), time.perf_counter()
        count = asyncio.run(one(recorder))
        spent = time.process_time() - t0
        if recorder is not None:
            recorder.close()
        walls[record].append(time.perf_counter() - w0)
        return spent, count

    # Whole runs as a user starts them: process CPU (user + sys) of `massgen` with and without --no-logs.
    def run_cpu(no_logs: bool) -> float:
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cmd = [sys.executable, "-m", "massgen_core", "--config", str(path), "--no-display", "Benchmark question?"]
        subprocess.run(cmd + (["--no-logs"] if no_logs else []), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    run_cpu(True), run_cpu(False)
    off, on = [], []
    for _ in range(runs):
        off.append(run_cpu(True))
        on.append(run_cpu(False))
    p, r = statistics.median(off), statistics.median(on)
    print(f"massgen run, process CPU: --no-logs {p * 1000:.1f} ms, recording {r * 1000:.1f} ms, "
          f"overhead {(r - p) / p * 100:+.1f}%  (median of {runs})")  # fmt: skip

    cpu(False), cpu(True)  # warm up imports and caches
    walls[False].clear(), walls[True].clear()
    plain, recorded = [], []
    for _ in range(runs):
        plain.append(cpu(False)[0])
        recorded.append(cpu(True)[0])
    events = cpu(False)[1]
    p, r = statistics.median(plain), statistics.median(recorded)
    print(f"in-process session CPU ({events} events, scripted backend, no display): no recording {p * 1000:.2f} ms, "
          f"recording {r * 1000:.2f} ms, overhead {(r - p) / p * 100:+.1f}% = {(r - p) * 1000:.2f} ms  (median of {runs})")  # fmt: skip
    p, r = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"in-process session wall (to close()): no recording {p * 1000:.2f} ms, recording {r * 1000:.2f} ms, "
          f"+{(r - p) * 1000:.2f} ms per session  (median of {runs})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=10, help="answers per conversation")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument("--skip-recording", action="store_true")
    parser.add_argument("--home", type=Path, help="reuse (or fill once) this MASSGEN_HOME instead of a temporary one")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # child processes may write .pyc, as an installed CLI does
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        print(f"== {backend} ==", flush=True)
        if backend == "postgresql":
            from massgen_core.testing.postgres import PostgresServer

            server = PostgresServer.start()
            try:
                os.environ["MASSGEN_DATABASE_URL"] = server.create_database("bench")
                run(args, filled=False)
            finally:
                os.environ.pop("MASSGEN_DATABASE_URL")
                server.stop()
        else:
            run(args, filled=None)


def run(args: argparse.Namespace, filled: bool | None) -> None:
    """The benchmark on one store; ``filled`` None: the SQLite file says whether it is filled already."""
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        os.environ["MASSGEN_HOME"] = str(home)
        if not args.skip_queries:
            if not (filled or (filled is None and (home / "data" / "conversations.db").exists())):
                t0 = time.perf_counter()
                populate(args.conversations, args.answers)
                print(f"populated {args.conversations} conversations x {args.answers} answers in {time.perf_counter() - t0:.1f} s", flush=True)
            bench_queries(args.runs)
        if not args.skip_recording:
            os.environ["MASSGEN_HOME"] = tmp
            bench_recording(args.runs * 3)  # on PostgreSQL: into the same, filled database


if __name__ == "__main__":
    main()
