"""Helpers for the CLI tests: a replaying orchestrator and a subprocess runner."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, Config, UIConfig


class ReplayOrchestrator:
    """Stands in for the orchestrator at its seam: replays a recorded stream, restamped per session."""

    def __init__(self, answers: Sequence[str | None]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, list[tuple[str, str]], str]] = []

    async def run(self, question: str, *, history: list[tuple[str, str]], session_id: str) -> AsyncIterator[ev.Event]:
        self.calls.append((question, list(history), session_id))
        answer = self.answers[min(len(self.calls) - 1, len(self.answers) - 1)]
        f = ev.EventFactory(session_id)
        yield f(ev.SessionStarted, question=question, agent_ids=("a", "b"), turn=len(history) + 1)
        yield f(ev.AgentStarted, agent_id="a")
        if answer is None:
            yield f(ev.AgentFailed, agent_id="a", error="boom")
            yield f(ev.SessionFinished, final_answer=None, winner=None, ended_by="all_agents_failed", error="every agent failed")
            return
        yield f(ev.TextDelta, agent_id="a", text=answer)
        yield f(ev.AnswerSubmitted, agent_id="a", label="agent1", text=answer, revision=1)
        yield f(ev.VoteCast, voter="b", target="a", target_label="agent1", reason="good")
        yield f(ev.WinnerSelected, winner="a", strategy="majority", tally={"a": 1})
        yield f(ev.SessionFinished, final_answer=answer, winner="a", ended_by="consensus", duration_s=0.1)


def demo_config(**ui: object) -> Config:
    return Config(agents=(AgentConfig(id="a"), AgentConfig(id="b")), ui=UIConfig(**ui), source="test.yaml")  # type: ignore[arg-type]


@pytest.fixture
def streams() -> tuple[io.StringIO, io.StringIO]:
    return io.StringIO(), io.StringIO()


REPO = Path(__file__).resolve().parents[2]


def run_cli(
    args: Sequence[str],
    home: Path,
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``massgen ARGS`` as a user runs it: a subprocess with an isolated MASSGEN_HOME."""
    full_env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    full_env.update({"MASSGEN_HOME": str(home), "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"})
    full_env.pop("MASSGEN_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or home,
        timeout=timeout,
    )


@pytest.fixture
def replay() -> type[ReplayOrchestrator]:
    return ReplayOrchestrator


@pytest.fixture
def make_config():
    return demo_config


@pytest.fixture
def cli(_isolated_home: Path):
    """Run ``massgen ARGS`` in a subprocess with this test's MASSGEN_HOME."""

    def run(args: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return run_cli(args, _isolated_home, **kwargs)  # type: ignore[arg-type]

    return run
