"""Ctrl-C during the final presentation: seconds from SIGINT to session_finished and to the CLI's exit.

A one-agent session on a real OpenAI-compatible backend against a loopback
server that answers and votes at once and streams the presentation slowly
(200 pieces, 0.2 s apart). SIGINT is sent once the store holds the first
presentation text. Prints medians over ``--runs`` runs (default 5), and how
the turn was stored. Exit time includes closing connections and interpreter
shutdown, so it is noisy on a shared machine; the first figure is the engine's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from massgen_core.testing.openai import CHAT_PATH, chat_events, coordination_handler
from massgen_core.testing.server import FakeServer, Response

PIECES = [f"word{i} " for i in range(200)]


def _handler():
    coordinate = coordination_handler(answer="The short answer.")

    def handler(request):
        if request.json().get("tools"):
            return coordinate(request)
        return Response.sse(chat_events(PIECES, model="fake-model"), chunk_delay=0.2)

    return handler


def _turn(db: Path):
    if not db.exists():
        return None
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT ended_by, final_answer FROM turns ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def one_run(url: str) -> tuple[float | None, float, int, str | None]:
    """(seconds to session_finished or None, seconds to exit, exit code, stored ended_by)."""
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "slow.yaml"
        config.write_text(
            "agents:\n  - id: solo\n    backend:\n      type: chatcompletion\n      model: fake-model\n"
            f"      base_url: {url}/v1\n      api_key: sk-bench\n"
        )
        env = {**os.environ, "MASSGEN_HOME": home}
        proc = subprocess.Popen(
            [sys.executable, "-m", "massgen_core", "--jsonl", "--config", str(config), "Explain."],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
        )  # fmt: skip
        db = Path(home) / "data" / "conversations.db"
        while not ((turn := _turn(db)) and turn[1]):
            time.sleep(0.02)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        exited = time.time() - sent
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        finished = [e["ts"] - sent for e in events if e["type"] == "session_finished"]
        return (finished[0] if finished else None), exited, proc.returncode, (_turn(db) or (None,))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with FakeServer() as server:
        server.add("POST", CHAT_PATH, _handler())
        results = [one_run(server.url) for _ in range(args.runs)]
    to_finish = [r[0] for r in results if r[0] is not None]
    to_exit = [r[1] for r in results]
    if to_finish:
        print(f"SIGINT -> session_finished: median {statistics.median(to_finish):.3f} s over {len(to_finish)} runs")
    else:
        print("SIGINT -> session_finished: never (no run ended with session_finished)")
    print(f"SIGINT -> exit: median {statistics.median(to_exit):.3f} s over {len(to_exit)} runs "
          f"(min {min(to_exit):.3f}, max {max(to_exit):.3f})")
    print("exit codes:", sorted({r[2] for r in results}), "stored ended_by:", sorted({str(r[3]) for r in results}))

if __name__ == "__main__":
    main()
