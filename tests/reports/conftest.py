"""Fixtures for the usage/statistics reports: sessions recorded by the real recorder, and the CLI as a subprocess."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from massgen_core import events as ev
from massgen_core.backend import Usage
from massgen_core.store import Store
from massgen_core.store.recorder import Recorder

_USAGE_KEYS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens", "cost_usd")


def utc(day: int, hour: int = 10) -> float:
    """A November 2026 time, UTC (the subprocesses run with TZ=UTC)."""
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.timezone.utc).timestamp()


def build_session(session_id: str, start: float, agents: Sequence[str], steps: Sequence[tuple[Any, ...]]) -> list[ev.Event]:
    """Events of one turn, one second apart from ``start``.

    Steps: ("answer", agent, text) · ("request", agent, backend, model, {usage fields}) ·
    ("vote", voter, target) · ("discard", voter, target) · ("winner", agent) ·
    ("finish", ended_by, winner, duration_s). Without "finish" the turn stays unfinished.
    """
    clock = iter(start + i for i in range(10_000))
    f = ev.EventFactory(session_id, clock=lambda: next(clock))
    out: list[ev.Event] = [f(ev.SessionStarted, question=f"Question of {session_id}?", agent_ids=tuple(agents))]
    revisions: dict[str, int] = {}
    for step in steps:
        kind = step[0]
        if kind == "answer":
            agent, text = step[1], step[2]
            revisions[agent] = revisions.get(agent, 0) + 1
            out.append(f(ev.AgentStarted, agent_id=agent))
            out.append(f(ev.AnswerSubmitted, agent_id=agent, label=f"agent{agents.index(agent) + 1}", text=text,
                         revision=revisions[agent]))  # fmt: skip
        elif kind == "request":
            fields = dict(step[4])
            usage = Usage(**{k: fields.pop(k) for k in _USAGE_KEYS if k in fields})
            out.append(f(ev.UsageReported, agent_id=step[1], backend=step[2], model=step[3], usage=usage, **fields))
        elif kind == "vote":
            out.append(f(ev.VoteCast, voter=step[1], target=step[2], target_label="agent1", reason="because"))
        elif kind == "discard":
            out.append(f(ev.VoteDiscarded, voter=step[1], target=step[2], reason="stale snapshot"))
        elif kind == "winner":
            out.append(f(ev.WinnerSelected, winner=step[1], strategy="majority", tally={step[1]: 1.0}))
        elif kind == "finish":
            out.append(f(ev.SessionFinished, final_answer="Final.", winner=step[2], ended_by=step[1], duration_s=step[3]))
        else:  # pragma: no cover - a typo in a test
            raise ValueError(kind)
    return out


def record(events: Sequence[ev.Event], conversation_id: str | None = None) -> str:
    """Record a turn with the real recorder into the store the CLI uses; returns the conversation id."""
    recorder = Recorder(Store(), conversation_id=conversation_id)
    for event in events:
        recorder(event)
    recorder.close()
    return recorder.conversation_id


@pytest.fixture
def three_turns() -> dict[str, str]:
    """Two conversations, three turns on 1, 2 and 3 November 2026 (UTC); the expected figures are in the tests.

    1 Nov (conversation A, alice/bob/carol): alice answers first, bob answers, alice's early vote for
    herself is superseded by her vote for bob, carol's second vote is discarded; bob wins by consensus
    in 10 s. Requests: alice openai/gpt-4o, bob claude/claude-x (1 retry), carol openai/gpt-4o failed.
    2 Nov (conversation B, alice/bob): alice answers, both vote for her, timeout after 20 s.
    3 Nov (conversation B again): alice answers, one claude request, never finishes.
    """
    a = record(build_session("s-a", utc(1), ["alice", "bob", "carol"], [
        ("answer", "alice", "Paris."),
        ("request", "alice", "openai", "gpt-4o", dict(input_tokens=100, output_tokens=20, cached_tokens=10,
                                                     reasoning_tokens=5, cost_usd=0.01, latency_s=1.0, ttft_s=0.2)),
        ("vote", "alice", "alice"),
        ("answer", "bob", "Paris is the capital of France."),
        ("request", "bob", "claude", "claude-x", dict(input_tokens=200, output_tokens=40, cost_usd=0.02,
                                                     latency_s=2.0, ttft_s=0.4, retries=1)),
        ("request", "carol", "openai", "gpt-4o", dict(input_tokens=50, latency_s=3.0, status="error")),
        ("vote", "alice", "bob"),
        ("vote", "bob", "bob"),
        ("vote", "carol", "bob"),
        ("discard", "carol", "alice"),
        ("winner", "bob"),
        ("finish", "consensus", "bob", 10.0),
    ]))  # fmt: skip
    b_events = build_session("s-b", utc(2), ["alice", "bob"], [
        ("answer", "alice", "Lyon? No, Paris."),
        ("request", "alice", "openai", "gpt-4o", dict(input_tokens=10, output_tokens=5, cost_usd=0.005,
                                                     latency_s=0.5, ttft_s=0.1)),
        ("vote", "alice", "alice"),
        ("vote", "bob", "alice"),
        ("winner", "alice"),
        ("finish", "timeout", "alice", 20.0),
    ])  # fmt: skip
    b = record(b_events)
    record(build_session("s-c", utc(3), ["alice", "bob"], [
        ("answer", "alice", "Still Paris."),
        ("request", "alice", "claude", "claude-x", dict(input_tokens=1, output_tokens=1, cost_usd=0.001)),
    ]), conversation_id=b)  # fmt: skip
    return {"a": a, "b": b}


@pytest.fixture
def massgen(_isolated_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the CLI as a subprocess with the test's MASSGEN_HOME, in UTC."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MASSGEN_HOME": str(_isolated_home), "PYTHONIOENCODING": "utf-8", "TZ": "UTC"}
        env.pop("COLUMNS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "massgen_core", *args],
            capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"massgen {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def massgen_json(massgen: Callable[..., subprocess.CompletedProcess[str]]) -> Callable[..., Any]:
    """Run a report command with --json and parse its one JSON object."""

    def run(*args: str) -> Any:
        return json.loads(massgen(*args, "--json").stdout)

    return run
