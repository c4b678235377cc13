"""Cost of the displays per event: a synthetic session with many text deltas.

    uv run python benchmarks/bench_display.py [--deltas N] [--runs R]

Feeds the same recorded stream (3 agents x N text deltas plus the coordination
events) through each display, writing to null streams, and prints the median
events per second over R runs. The live view runs with its refresh thread on
(8 refreshes a second, as in a terminal); because a session's events arrive
far faster here than in real life, the cost of one frame (render a view with
full tails, 3 and 50 agents) is measured separately.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

from rich.console import Console

from massgen_core import events as ev
from massgen_core.display.json_result import JsonDisplay
from massgen_core.display.live import LiveDisplay
from massgen_core.display.plain import PlainDisplay


def stream(deltas: int) -> list[ev.Event]:
    f = ev.EventFactory("bench")
    ids = ("a", "b", "c")
    out = [f(ev.SessionStarted, question="q", agent_ids=ids)]
    out += [f(ev.AgentStarted, agent_id=i) for i in ids]
    for n in range(deltas):
        for i in ids:
            out.append(f(ev.TextDelta, agent_id=i, text=f"token{n} "))
    for i in ids:
        out.append(f(ev.AnswerSubmitted, agent_id=i, label="agent1", text="answer " + i, revision=1))
    out += [f(ev.VoteCast, voter=i, target="a", target_label="agent1", reason="best") for i in ids]
    out.append(f(ev.WinnerSelected, winner="a", strategy="majority", tally={"a": 3}))
    out += [f(ev.FinalAnswerDelta, agent_id="a", text=f"w{n} ") for n in range(deltas)]
    out.append(f(ev.SessionFinished, final_answer="answer a", winner="a", ended_by="consensus"))
    return out


def null() -> io.TextIOWrapper:
    return open(os.devnull, "w")  # noqa: SIM115 - closed by the caller


def run_once(kind: str, events: list[ev.Event]) -> float:
    out, err = null(), null()
    try:
        if kind == "plain":
            display = PlainDisplay(stdout=out, stderr=err, verbosity=1)
        elif kind == "json":
            display = JsonDisplay(stdout=out, progress=PlainDisplay(stdout=out, stderr=err, print_answer=False))
        else:
            console = Console(file=err, width=120, force_terminal=True)
            display = LiveDisplay(stdout=out, stderr=err, console=console, answer_console=Console(file=out))
        start = time.perf_counter()
        display.start()
        for event in events:
            display.handle(event)
        display.stop()
        display.finish(events[-1])  # type: ignore[arg-type]
        return len(events) / (time.perf_counter() - start)
    finally:
        out.close()
        err.close()


def frame_ms(agents: int, runs: int) -> float:
    f = ev.EventFactory("bench")
    ids = tuple(f"agent{i}" for i in range(agents))
    with null() as sink:
        console = Console(file=sink, width=160, force_terminal=True)
        display = LiveDisplay(stdout=sink, stderr=sink, console=console, answer_console=console)
        display.handle(f(ev.SessionStarted, question="q", agent_ids=ids))
        for n in range(2000):
            for i in ids:
                display.handle(f(ev.TextDelta, agent_id=i, text=f"token{n} "))
        times = []
        for _ in range(runs * 5):
            start = time.perf_counter()
            console.print(display.render())
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deltas", type=int, default=20000, help="text deltas per agent")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    events = stream(args.deltas)
    print(f"{len(events)} events per session, median of {args.runs} runs")
    for kind in ("plain", "json", "live"):
        rates = [run_once(kind, events) for _ in range(args.runs)]
        print(f"{kind:>5}: {statistics.median(rates):>12,.0f} events/s")
    for agents in (3, 50):
        print(f"live frame, {agents} agents: {frame_ms(agents, args.runs):.1f} ms")


if __name__ == "__main__":
    main()
