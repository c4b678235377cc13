"""What ``massgen batch`` costs per question beyond the model, and how much memory it holds.

    uv run python benchmarks/bench_batch.py               # 1,000 questions, 3 runs each
    uv run python benchmarks/bench_batch.py --questions 200 --runs 1

Runs the batch engine (``massgen_core.batch.run_batch`` on a ``Team``, results
written and fsynced line by line, recording off) in a fresh subprocess per run:
1. scripted: 3 scripted agents with no delays (answer, vote, present: no network at all), so
   everything measured is MassGen's own work per question;
2. loopback: 3 agents on a Chat Completions server on 127.0.0.1 (this repository's FakeServer,
   in its own process) that answers every call at once, so the figure adds the HTTP client,
   SSE parsing and the pool.
For each it reports the median over runs of wall and CPU time per question and the peak RSS of
the batch process (ru_maxrss), at concurrency 8. Peak RSS that stays flat as --questions grows is
the "bounded memory" claim; compare --questions 200 with 1000. Not a test: nothing here asserts.
Bytecode: the runs import modules compiled on first import (PYTHONDONTWRITEBYTECODE is unset here).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
from massgen_core.batch import read_items, run_batch
from massgen_core.team import Team

config, questions, out, concurrency = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

async def main():
    team = Team.from_config(config, record=False)
    t0, c0 = time.perf_counter(), time.process_time()
    progress = await run_batch(team, read_items(questions), out, concurrency=concurrency)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    await team.aclose()
    return progress, wall, cpu

progress, wall, cpu = asyncio.run(main())
print(json.dumps({"done": progress.done, "failed": progress.failed, "wall": wall, "cpu": cpu,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

SERVER = r"""
import json, sys, time
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.openai import chat_events

def handle(request):
    body = request.json()
    tools = {t["function"]["name"]: t["function"] for t in body.get("tools", [])}
    if not tools:
        return Response.sse(chat_events(["The answer is 4."], usage=(200, 10)))
    labels = tools.get("vote", {}).get("parameters", {}).get("properties", {}).get("agent_id", {}).get("enum")
    if labels:
        call = ("c", "vote", [json.dumps({"agent_id": labels[0], "reason": "fine"})])
    else:
        call = ("c", "new_answer", [json.dumps({"content": "The answer is 4."})])
    return Response.sse(chat_events([], tool_calls=[call], usage=(200, 10)))

with FakeServer() as server:
    server.add("POST", "/v1/chat/completions", handle)
    print(server.url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


def scripted_config(path: Path) -> Path:
    agents = "\n".join(textwrap.indent(textwrap.dedent(f"""\
        - id: agent{i}
          backend:
            type: scripted
            model: scripted-1
            per_turn: true
            script: [{{answer: "Answer {i} to: {{question}}"}}, {{vote: best}}]
        """), "  ") for i in range(1, 4))
    path.write_text("agents:\n" + agents)
    return path


def loopback_config(path: Path, url: str) -> Path:
    agents = "\n".join(textwrap.indent(textwrap.dedent(f"""\
        - id: agent{i}
          backend: {{type: chatcompletion, model: bench-1, base_url: "{url}/v1", max_retries: 0}}
        """), "  ") for i in range(1, 4))
    path.write_text("agents:\n" + agents)
    return path


def run_once(config: Path, questions: Path, workdir: Path, concurrency: int) -> dict:
    out = workdir / "out.jsonl"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["MASSGEN_HOME"] = str(workdir / "home")
    done = subprocess.run([sys.executable, "-c", CHILD, str(config), str(questions), str(out), str(concurrency)],
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, runs: list[dict], n: int) -> None:
    wall = statistics.median(r["wall"] for r in runs) / n * 1000
    cpu = statistics.median(r["cpu"] for r in runs) / n * 1000
    rss = statistics.median(r["rss_kb"] for r in runs) / 1024
    failed = max(r["failed"] for r in runs)
    print(f"{name:<10} {n} questions: {wall:6.2f} ms wall/question, {cpu:6.2f} ms CPU/question, "
          f"peak RSS {rss:6.1f} MiB, failures {failed}  (median of {len(runs)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        questions = work / "questions.jsonl"
        with questions.open("w") as handle:
            for i in range(args.questions):
                handle.write(json.dumps({"id": i, "question": f"What is {i} + 2? (question {i})"}) + "\n")
        scripted = scripted_config(work / "scripted.yaml")
        report("scripted", [run_once(scripted, questions, work, args.concurrency) for _ in range(args.runs)],
               args.questions)
        server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            url = server.stdout.readline().strip()
            loopback = loopback_config(work / "loopback.yaml", url)
            report("loopback", [run_once(loopback, questions, work, args.concurrency) for _ in range(args.runs)],
                   args.questions)
        finally:
            server.stdin.close()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
