"""Benchmark of ``massgen usage`` and ``massgen stats`` (run: uv run python benchmarks/bench_reports.py).

Fills a temporary store with the 10,000-conversation data set of
bench_store.py (its ``populate``, imported), then times the report commands
as subprocesses against the interpreter's own start-up (``python -c pass``)
and the same reports in-process. Target: < 200 ms beyond interpreter start.
Medians over several runs. Nothing here touches the network or the user's
own store (MASSGEN_HOME points at a temporary directory unless --home).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import _wall, populate  # noqa: E402

COMMANDS = {
    "usage (by model)": ["usage"],
    "usage --by day": ["usage", "--by", "day"],
    "usage --by agent --since 30d": ["usage", "--by", "agent", "--since", "30d"],
    "usage --by conversation": ["usage", "--by", "conversation"],
    "usage --json": ["usage", "--json"],
    "stats": ["stats"],
    "stats --since 30d": ["stats", "--since", "30d"],
    "stats --json": ["stats", "--json"],
}


def bench(runs: int) -> None:
    from massgen_core.store import Store
    from massgen_core.store.reports import Window, stats_report, usage_report

    py = sys.executable
    base = _wall([py, "-c", "pass"], runs)
    cli_start = _wall([py, "-m", "massgen_core", "--version"], runs)
    print(f"interpreter start (python -c pass): {base * 1000:.1f} ms   massgen --version: {cli_start * 1000:.1f} ms"
          f"  (medians of {runs})")  # fmt: skip
    print(f"{'command':<32} {'wall ms':>8} {'beyond interp.':>15} {'in-process ms':>14}")
    with Store() as store:
        for name, args in COMMANDS.items():
            wall = _wall([py, "-m", "massgen_core", *args], runs)
            window = Window(since=time.time() - 30 * 86400) if "--since" in args else Window()
            in_proc = []
            for _ in range(runs):
                t0 = time.perf_counter()
                if args[0] == "usage":
                    usage_report(store.conn, args[2] if "--by" in args else "model", window)
                else:
                    stats_report(store.conn, window)
                in_proc.append(time.perf_counter() - t0)
            print(f"{name:<32} {wall * 1000:8.1f} {(wall - base) * 1000:15.1f} {statistics.median(in_proc) * 1000:14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=10, help="answers per conversation")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--home", type=Path, help="reuse (or fill once) this MASSGEN_HOME instead of a temporary one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        os.environ["MASSGEN_HOME"] = str(home)
        if not (home / "data" / "conversations.db").exists():
            t0 = time.perf_counter()
            populate(args.conversations, args.answers)
            print(f"populated {args.conversations} conversations x {args.answers} answers in {time.perf_counter() - t0:.1f} s")
        bench(args.runs)


if __name__ == "__main__":
    main()
