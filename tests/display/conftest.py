"""Recorded event streams, built by hand with EventFactory, for the display tests."""

from __future__ import annotations

import itertools

import pytest

from massgen_core import events as ev
from massgen_core.backend import Usage

QUESTION = "What is the capital of France?"
FINAL = "# Paris\n\nParis is the **capital** of France."


def _factory() -> ev.EventFactory:
    clock = itertools.count(1000.0, 0.5)
    return ev.EventFactory("sess-1", clock=lambda: next(clock))


def coordinated_session() -> list[ev.Event]:
    """a answers, b improves it, everyone restarts and votes for b, b presents."""
    f = _factory()
    out = [f(ev.SessionStarted, question=QUESTION, agent_ids=("a", "b", "c"), strategy="majority")]
    out += [f(ev.AgentStarted, agent_id=x) for x in ("a", "b", "c")]
    out += [f(ev.ReasoningDelta, agent_id="a", text="The user asks about France.")]
    out += [f(ev.TextDelta, agent_id="a", text=t) for t in ("Par", "is", ".")]
    out += [f(ev.UsageReported, agent_id="a", backend="scripted", model="s1", usage=Usage(input_tokens=100, output_tokens=20, cost_usd=0.001))]
    out += [f(ev.AnswerSubmitted, agent_id="a", label="agent1", text="Paris.", revision=1)]
    out += [f(ev.AgentRestarted, agent_id=x, reason="new answer from a") for x in ("b", "c")]
    out += [f(ev.AgentStarted, agent_id=x, attempt=1, labels={"agent1": "a"}) for x in ("b", "c")]
    out += [f(ev.TextDelta, agent_id="b", text="Paris is the capital and largest city of France.")]
    out += [f(ev.ToolCalled, agent_id="b", call_id="t1", name="python", arguments={"code": "print(1)"})]
    out += [f(ev.ToolResult, agent_id="b", call_id="t1", name="python", result="1")]
    out += [f(ev.UsageReported, agent_id="b", backend="scripted", model="s1", usage=Usage(input_tokens=150, output_tokens=30, cost_usd=0.002))]
    out += [f(ev.AnswerSubmitted, agent_id="b", label="agent2", text="Paris is the capital and largest city of France.", revision=1)]
    out += [f(ev.AgentRestarted, agent_id=x, reason="new answer from b") for x in ("a", "c")]
    out += [f(ev.AgentStarted, agent_id=x, labels={"agent1": "a", "agent2": "b"}) for x in ("a", "c")]
    out += [f(ev.AnswerRejected, agent_id="c", reason="no workflow tool call")]
    out += [f(ev.BackendRetry, agent_id="c", backend="scripted", model="s1", attempt=2, delay_s=0.5, error="rate limited")]
    out += [f(ev.VoteCast, voter="a", target="b", target_label="agent2", reason="more complete")]
    out += [f(ev.VoteCast, voter="c", target="b", target_label="agent2", reason="detailed and correct")]
    out += [f(ev.VoteCast, voter="b", target="b", target_label="agent2", reason="mine covers it")]
    out += [
        f(
            ev.WinnerSelected,
            winner="b",
            strategy="majority",
            tally={"b": 3},
            reasons={"a": "more complete", "b": "mine covers it", "c": "detailed and correct"},
            explanation="b has 3 of 3 votes",
        )
    ]
    out += [f(ev.FinalAnswerDelta, agent_id="b", text=FINAL[:10]), f(ev.FinalAnswerDelta, agent_id="b", text=FINAL[10:])]
    out += [
        f(
            ev.SessionFinished,
            final_answer=FINAL,
            winner="b",
            ended_by="consensus",
            usage={"input_tokens": 250, "output_tokens": 50},
            cost_usd=0.003,
            duration_s=4.25,
        )
    ]
    return out


def failed_session() -> list[ev.Event]:
    """Both agents fail; no answer."""
    f = _factory()
    out = [f(ev.SessionStarted, question=QUESTION, agent_ids=("a", "b"))]
    out += [f(ev.AgentStarted, agent_id=x) for x in ("a", "b")]
    out += [f(ev.BackendFallback, agent_id="a", from_backend="openai", to_backend="claude", error="overloaded")]
    out += [f(ev.AgentFailed, agent_id=x, error="authentication failed: set OPENAI_API_KEY") for x in ("a", "b")]
    out += [f(ev.SessionFinished, final_answer=None, winner=None, ended_by="all_agents_failed", error="every agent failed", duration_s=1.0)]
    return out


@pytest.fixture
def coordinated() -> list[ev.Event]:
    return coordinated_session()


@pytest.fixture
def failed() -> list[ev.Event]:
    return failed_session()
