"""Accounting (issue 11, items 5, 6, 7, 10): served vs recorded, budgets as caps, a hanging agent, TTFB.

Every scenario runs in-process against loopback servers that bill usage
(massgen_core.testing.billing) and prints medians over ``--runs`` runs:

* restarts: a 3-agent session where two agents are cancelled mid-answer by
  the first answer: requests the server served vs usage rows the session
  reported, and what the server billed vs the cost recorded;
* budget: the same team with ``max_cost_usd`` below what a session costs: what
  the server billed vs the cap;
* hanging: a good agent and one whose server never answers, with
  ``timeout: 2``: when the good agent voted and when the session ended
  (``--compare`` adds one run with ``wait_for_retrying_agents: true``, the old
  behaviour of waiting for the hanging agent's retries and relaunches);
* metrics: median time to first byte and output tokens/s of the
  coordination requests (tool calls only), which had no TTFT before.

    uv run python benchmarks/bench_accounting.py [--runs 5] [--compare]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from typing import Any

LONG = "Paris is the capital of France. " * 60


async def run_session(agents: list[dict[str, Any]], **sections: Any) -> list[Any]:
    from massgen_core.config import config_from_dict
    from massgen_core.http import aclose_all
    from massgen_core.orchestrator.builder import build_orchestrator

    orch = build_orchestrator(config_from_dict({"agents": agents, **sections}))
    events = [e async for e in orch.run("What is the capital of France?")]
    await orch.aclose()
    await aclose_all()
    return events


def restarts() -> dict[str, float]:
    from massgen_core import events as ev
    from massgen_core.testing.billing import Biller, agent_entry, posts, route
    from massgen_core.testing.openai import openai_server

    server = openai_server()
    try:
        billers = {"a": Biller(), "b": Biller(delay=0.3), "c": Biller(delay=0.3)}
        agents = [agent_entry(name, route(server, name, b)) for name, b in billers.items()]
        events = asyncio.run(run_session(agents))
        usage = [e for e in events if isinstance(e, ev.UsageReported)]
        return {
            "served": posts(server), "recorded": len(usage), "estimated": sum(getattr(u, "estimated", False) for u in usage),
            "billed_usd": sum(b.usd for b in billers.values()), "recorded_usd": sum(u.usage.cost_usd for u in usage),
        }  # fmt: skip
    finally:
        server.stop()


def budget(cap: float) -> dict[str, float]:
    from massgen_core.testing.billing import Biller, agent_entry, route
    from massgen_core.testing.openai import openai_server

    server = openai_server()
    try:
        billers = {name: Biller(LONG, delay=0.02) for name in ("a", "b", "c")}
        agents = [agent_entry(name, route(server, name, b), max_tokens=600) for name, b in billers.items()]
        events = asyncio.run(run_session(agents, orchestrator={"max_cost_usd": cap}))
        return {"billed_usd": sum(b.usd for b in billers.values()), "budget_stop": events[-1].ended_by == "budget"}
    finally:
        server.stop()


def hanging(wait: bool) -> dict[str, float]:
    from massgen_core import events as ev
    from massgen_core.testing.billing import Biller, agent_entry, route
    from massgen_core.testing.openai import openai_server
    from massgen_core.testing.server import Response

    server = openai_server()
    try:
        agents = [agent_entry("good", route(server, "good", Biller())),
                  agent_entry("bad", route(server, "bad", Response(hang=True)), timeout=2)]  # fmt: skip
        # Without the key on the old code, which knows no such option and always waited.
        events = asyncio.run(run_session(agents, **({"orchestrator": {"wait_for_retrying_agents": True}} if wait else {})))
        start = events[0].ts
        voted = next(e.ts for e in events if isinstance(e, ev.VoteCast) and e.voter == "good")
        return {"good_voted_s": voted - start, "session_s": events[-1].duration_s, "ended_by": events[-1].ended_by}
    finally:
        server.stop()


def metrics() -> dict[str, float]:
    from massgen_core import events as ev
    from massgen_core.testing.billing import Biller, agent_entry, route
    from massgen_core.testing.openai import openai_server

    server = openai_server()
    try:
        agents = [agent_entry(name, route(server, name, Biller(delay=0.01))) for name in ("a", "b")]
        events = asyncio.run(run_session(agents, orchestrator={"final_presentation": False}))
        usage = [e for e in events if isinstance(e, ev.UsageReported)]
        return {
            "requests": len(usage),
            "with_ttft": sum(u.ttft_s is not None for u in usage),
            "with_ttfb": sum(getattr(u, "ttfb_s", None) is not None for u in usage),
            "median_ttfb_s": _median([getattr(u, "ttfb_s", None) for u in usage]),
            "median_tokens_per_s": _median([getattr(u, "tokens_per_s", None) for u in usage]),
        }
    finally:
        server.stop()


def _median(values: list[float | None]) -> float:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else float("nan")  # nan: never measured (the old code)


def medians(rows: list[dict[str, Any]]) -> str:
    keys = rows[0].keys()
    parts = []
    for key in keys:
        values = [row[key] for row in rows]
        if isinstance(values[0], str):
            parts.append(f"{key}={'/'.join(sorted(set(values)))}")
        else:
            parts.append(f"{key}={statistics.median(float(v) for v in values):.4g}")
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="also one hanging run that waits for the retries")
    args = parser.parse_args()
    print(f"restarts (3 agents, 2 cancelled mid-answer), median of {args.runs}:")
    print("  " + medians([restarts() for _ in range(args.runs)]))
    print(f"budget max_cost_usd=0.02 (a full session costs ~$0.03), median of {args.runs}:")
    print("  " + medians([budget(0.02) for _ in range(args.runs)]))
    print(f"hanging agent, timeout: 2, median of {args.runs}:")
    print("  " + medians([hanging(wait=False) for _ in range(args.runs)]))
    if args.compare:
        print("hanging agent, timeout: 2, wait_for_retrying_agents: true (the old behaviour), one run:")
        print("  " + medians([hanging(wait=True)]))
    print(f"metrics of tool-call-only coordination requests, median of {args.runs}:")
    print("  " + medians([metrics() for _ in range(args.runs)]))


if __name__ == "__main__":
    main()
