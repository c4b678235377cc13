"""Cost of reading an answer out of streaming tool-call arguments (massgen_core.partial_json).

    uv run python benchmarks/bench_answer_stream.py [--chars N] [--fragment K] [--runs R]

A ``new_answer`` call whose ``content`` is N characters (prose with quotes,
newlines, non-ASCII and astral characters, sent as ASCII JSON like the
providers do) is split into K-character argument fragments and fed through
``AnswerStream`` as ``ToolCallDelta`` chunks, the way the session reads every
coordination call. It prints the median over R runs of the time per fragment
and per answer character, next to ``json.loads`` of the whole arguments once
(what the session did anyway at the end), so the streaming cost is seen
against the cost that was already paid.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from massgen_core import backend as bk
from massgen_core.orchestrator import workflow
from massgen_core.orchestrator.answer_stream import AnswerStream

PROSE = 'The "capital" of France is Paris — la Ville Lumière \U0001F600.\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=20_000)
    parser.add_argument("--fragment", type=int, default=4)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    content = (PROSE * (args.chars // len(PROSE) + 1))[: args.chars]
    raw = json.dumps({"content": content})
    fragments = [raw[i : i + args.fragment] for i in range(0, len(raw), args.fragment)]
    chunks = [bk.ToolCallDelta("call_1", "new_answer", f) for f in fragments]
    offer = workflow.offer(may_answer=True, labels=[], vote_parameters=None)
    streaming, parsing = [], []
    for _ in range(args.runs):
        reader = AnswerStream(offer)
        t0 = time.perf_counter()
        out = [reader.feed(c) for c in chunks]
        streaming.append(time.perf_counter() - t0)
        assert "".join(out) == content
        t0 = time.perf_counter()
        json.loads(raw)
        parsing.append(time.perf_counter() - t0)
    s, p = statistics.median(streaming), statistics.median(parsing)
    print(f"answer {len(content):,} chars, arguments {len(raw):,} chars in {len(chunks):,} fragments of {args.fragment}")
    print(f"streaming read: {s * 1000:.2f} ms in all, {s / len(chunks) * 1e6:.2f} us per fragment, "
          f"{s / len(content) * 1e9:.0f} ns per answer char (median of {args.runs})")
    print(f"json.loads of the whole arguments once: {p * 1000:.2f} ms")


if __name__ == "__main__":
    main()
