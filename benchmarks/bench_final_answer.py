"""Benchmark: recording a long streamed final answer (run: uv run python benchmarks/bench_final_answer.py).

Feeds a recorder (a real SQLite file in a temporary directory) one session
whose final answer streams as 32-character deltas, for answers of 1, 4 and
10 MB, and prints per size the median over several runs of:

- wall time from the first delta to ``close()`` returning (all text on disk);
- the longest single ``recorder(event)`` call: how long the event loop is
  held by recording at worst (the deltas, and SessionFinished);
- the median cost of one final-answer delta.

Each run is a subprocess with a time limit (``--limit``, default 120 s), so a
quadratic recorder shows up as "> limit" rather than hanging the benchmark.
Target (issue 9): linear in the answer's size, 10 MB well under a few seconds,
and no recorder call holding the loop for long.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap

DELTA = 32

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from massgen_core import events as ev
    from massgen_core.store import Store
    from massgen_core.store.recorder import Recorder

    size, delta, db = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    f = ev.EventFactory("bench")
    piece = ("lorem ipsum dolor sit amet, consectetur " * 4)[:delta]
    deltas = [f(ev.FinalAnswerDelta, agent_id="a", text=piece) for _ in range(size // delta)]
    final = piece * (size // delta)
    recorder = Recorder(Store(db))
    recorder(f(ev.SessionStarted, question="long?", agent_ids=("a",)))
    recorder(f(ev.WinnerSelected, winner="a", strategy="majority", tally={"a": 1.0}))
    finished = f(ev.SessionFinished, final_answer=final, winner="a", ended_by="consensus")
    costs = []
    t0 = time.perf_counter()
    for event in deltas:
        c0 = time.perf_counter()
        recorder(event)
        costs.append(time.perf_counter() - c0)
    c0 = time.perf_counter()
    recorder(finished)
    finish = time.perf_counter() - c0
    recorder.close()
    wall = time.perf_counter() - t0
    assert recorder.error is None, recorder.error
    with Store(db) as store:
        (turn,) = store.document(store.latest_id())["turns"]
    assert turn["final_answer"] == final
    costs.sort()
    print(json.dumps({"wall": wall, "max_call": max(max(costs), finish), "finish": finish,
                      "median_delta": costs[len(costs) // 2]}))
    """
)


def one(size: int, limit: float) -> dict[str, float] | None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(size), str(DELTA), f"{tmp}/bench.db"],
                check=True, capture_output=True, text=True, timeout=limit,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return None
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds allowed per run")
    parser.add_argument("--sizes", default="1,4,10", help="answer sizes in MB")
    args = parser.parse_args()
    print(f"{'answer':>7} {'wall s':>9} {'longest call ms':>16} {'SessionFinished ms':>19} {'per delta us':>13}")
    for mb in (int(s) for s in args.sizes.split(",")):
        results = []
        for _ in range(args.runs):
            result = one(mb * 1_000_000, args.limit)
            if result is None:
                break
            results.append(result)
        if len(results) < args.runs:
            print(f"{mb:>5} MB {'> ' + format(args.limit, 'g'):>9}   (did not finish within the limit)")
            continue

        def med(key: str) -> float:
            return statistics.median(r[key] for r in results)

        print(f"{mb:>5} MB {med('wall'):9.2f} {med('max_call') * 1000:16.1f} {med('finish') * 1000:19.1f} "
              f"{med('median_delta') * 1e6:13.2f}")  # fmt: skip
    print(f"(median of {args.runs} runs; {DELTA}-character deltas; recorder defaults: flush every 0.5 s or 4096 chars)")


if __name__ == "__main__":
    main()
