"""Fixtures for the conversation store tests: hand-built event streams and a CLI runner."""

from __future__ import annotations

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


def session_events(
    session_id: str = "sess-1",
    *,
    question: str = "What is the capital of France?",
    answers: Sequence[tuple[str, str]] = (("alice", "Paris."), ("bob", "Paris is the capital of France.")),
    winner: str | None = "bob",
    final: str | None = "Paris is the capital of France.",
    backend: str = "openai",
    model: str = "gpt-4o-mini",
    cost: float = 0.001,
    start: float = 1_750_000_000.0,
    finish: bool = True,
) -> list[ev.Event]:
    """A plausible session: answers, votes for the winner, usage per request, final answer."""
    clock = iter(start + i for i in range(10_000))
    f = ev.EventFactory(session_id, clock=lambda: next(clock))
    agents = tuple(dict.fromkeys(a for a, _ in answers)) or ("alice",)
    out: list[ev.Event] = [f(ev.SessionStarted, question=question, agent_ids=agents)]
    revisions: dict[str, int] = {}
    for agent, text in answers:
        out.append(f(ev.AgentStarted, agent_id=agent))
        out.append(f(ev.TextDelta, agent_id=agent, text=text))
        revisions[agent] = revisions.get(agent, 0) + 1
        label = f"agent{agents.index(agent) + 1}"
        out.append(f(ev.AnswerSubmitted, agent_id=agent, label=label, text=text, revision=revisions[agent]))
        out.append(f(ev.UsageReported, agent_id=agent, backend=backend, model=model, latency_s=0.5, ttft_s=0.1, usage=Usage(input_tokens=10, output_tokens=len(text.split()), cost_usd=cost)))  # fmt: skip
    if winner is not None:
        for voter in agents:
            out.append(f(ev.VoteCast, voter=voter, target=winner, target_label="agent2", reason=f"{voter} likes {winner}"))
        out.append(f(ev.WinnerSelected, winner=winner, strategy="majority", tally={winner: float(len(agents))}))
    if final is not None:
        for word in final.split(" "):
            out.append(f(ev.FinalAnswerDelta, agent_id=winner or agents[0], text=word + " "))
    if finish:
        out.append(f(ev.SessionFinished, final_answer=final, winner=winner, ended_by="consensus",
                     usage={"input_tokens": 10 * len(answers)}, cost_usd=0.0, duration_s=3.0))  # fmt: skip
    return out


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "conversations.db"


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture
def record(db_path: Path) -> Callable[..., str]:
    """Record one session into the test database; returns the conversation id."""

    def run(events: Sequence[ev.Event] | None = None, *, config: Any = None, conversation_id: str | None = None, **kw: Any) -> str:
        recorder = Recorder(Store(db_path), config=config, conversation_id=conversation_id)
        for event in events if events is not None else session_events(**kw):
            recorder(event)
        recorder.close()
        return recorder.conversation_id

    return run


@pytest.fixture
def massgen(_isolated_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the CLI as a subprocess with the test's MASSGEN_HOME."""

    def run(*args: str, input: str | None = None, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MASSGEN_HOME": str(_isolated_home), "PYTHONIOENCODING": "utf-8"}
        proc = subprocess.run(
            [sys.executable, "-m", "massgen_core", *args],
            capture_output=True, text=True, encoding="utf-8", env=env, input=input, timeout=60, cwd=cwd, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"massgen {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def home_store(_isolated_home: Path):
    """The store the CLI uses (inside MASSGEN_HOME)."""
    s = Store()
    yield s
    s.close()


def home_record(events: Sequence[ev.Event], **kw: Any) -> str:
    recorder = Recorder(Store(), **kw)
    for event in events:
        recorder(event)
    recorder.close()
    return recorder.conversation_id


@pytest.fixture
def record_home() -> Callable[..., str]:
    """Record into the store the CLI uses; returns the conversation id."""

    def run(events: Sequence[ev.Event] | None = None, **kw: Any) -> str:
        extra = {k: kw.pop(k) for k in ("config", "conversation_id") if k in kw}
        return home_record(events if events is not None else session_events(**kw), **extra)

    return run


@pytest.fixture
def make_events() -> Callable[..., list[ev.Event]]:
    """``session_events`` as a fixture (test modules cannot import conftest under importlib mode)."""
    return session_events
