"""Wall time of the ``massgen`` command itself: start-up, a zero-delay session, the JSON path.

    uv run python benchmarks/bench_cli.py [--runs R]

Runs the CLI as a user does (a subprocess, a throwaway MASSGEN_HOME, scripted
agents that stream without delay) and prints the median wall time of R runs
for: ``massgen --help``; a three-agent session with the plain display; the
same with ``--json``; the same with recording off (``--no-logs``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """
agents:
  - id: a
    backend: {type: scripted, script: [{answer: "A short answer."}, {vote: best}]}
  - id: b
    backend: {type: scripted, script: [{delay: 0.01, answer: "A longer and better answer."}, {vote: best}]}
  - id: c
    backend: {type: scripted, script: [{delay: 0.02, vote: best}]}
"""


def timed(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "massgen_core", *args], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"massgen {' '.join(args)} failed: {proc.stderr}")
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(CONFIG)
        env = {**os.environ, "MASSGEN_HOME": str(Path(tmp) / "home")}
        cases = {
            "massgen --help": ["--help"],
            "session, plain display": ["--config", str(config), "--no-display", "q"],
            "session, --json": ["--config", str(config), "--json", "q"],
            "session, --no-logs": ["--config", str(config), "--no-display", "--no-logs", "q"],
        }
        print(f"median wall time of {args.runs} runs")
        for name, argv in cases.items():
            print(f"{name:>24}: {timed(argv, env, args.runs):7.0f} ms")


if __name__ == "__main__":
    main()
