"""Whatever scripted agents do, a session ends within its bounds with a decision the strategy justifies."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_core import events as ev
from massgen_core.orchestrator import ENDED_BY
from massgen_core.voting import Vote

TIMEOUT = 0.4

_answer = st.sampled_from(["Paris", "Paris.", "It is Paris", "Lyon", "Paris, France"]).map(
    lambda t: {"answer": t}
)
_vote = st.sampled_from(["best", "first", "last", "self", "agent1", "agent2"]).map(
    lambda target: {"vote": {"for": target, "reason": f"pick {target}"}}
)
_bad = st.sampled_from(
    [
        {"invalid_vote": True},
        {"no_tool_call": True, "text": "forgot"},
        {"fail": "rate_limit"},
        {"stall": 0.02},
        {"stall": 5},
        {"calls": [{"name": "vote", "arguments": {"agent_id": "agent1", "reason": "x"}}] * 2},
        {
            "calls": [
                {"name": "vote", "arguments": {"agent_id": "agent1", "reason": "x"}},
                {"name": "new_answer", "arguments": {"content": "both"}},
            ]
        },
    ]
)
_step = st.one_of(_answer, _vote, _vote, _bad).flatmap(
    lambda step: st.sampled_from([0.0, 0.0, 0.01]).map(
        lambda delay: {**step, "delay": delay} if delay else step
    )
)
_script = st.lists(_step, min_size=1, max_size=6)
_team = st.lists(_script, min_size=1, max_size=4)
_strategy = st.sampled_from(["majority", "weighted", "quorum", "ranked"])


def _replay_votes(events: list[ev.Event]) -> tuple[dict[str, Vote], dict[str, str]]:
    """Votes that count and current answers, rebuilt from the event stream alone."""
    votes: dict[str, Vote] = {}
    answers: dict[str, str] = {}
    for event in events:
        if isinstance(event, ev.AnswerSubmitted):
            answers[event.agent_id] = event.text
            votes.clear()
        elif isinstance(event, ev.VoteCast):
            votes[event.voter] = Vote(
                voter=event.voter,
                target=event.target,
                reason=event.reason,
                ranking=tuple(event.ranking),
            )
        elif isinstance(event, ev.AgentFailed):
            votes.pop(event.agent_id, None)
        elif isinstance(event, ev.WinnerSelected):
            break
    return votes, answers


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scripts=_team,
    strategy=_strategy,
    weights=st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=4, max_size=4),
)
async def test_any_behaviour_ends_within_bounds_with_a_justified_winner(
    eng, scripts, strategy, weights
):
    before = set(asyncio.all_tasks())
    ids = [f"ag{i}" for i in range(len(scripts))]
    agents = [
        eng.agent(agent_id, script, weight=weights[i])
        for i, (agent_id, script) in enumerate(zip(ids, scripts, strict=False))
    ]
    orch = eng.team(
        agents,
        strategy=strategy,
        timeout=TIMEOUT,
        per_call=0.2,
        max_attempts=2,
        max_new_answers_per_agent=2,
        max_consecutive_failures=2,
    )
    started = time.monotonic()
    events = await eng.run(orch)
    elapsed = time.monotonic() - started

    assert elapsed < TIMEOUT + 1.0
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    finished = eng.of(events, ev.SessionFinished)
    assert len(finished) == 1 and events[-1] is finished[0]
    assert finished[0].ended_by in ENDED_BY

    votes, answers = _replay_votes(events)
    ordered = {agent_id: answers[agent_id] for agent_id in ids if agent_id in answers}
    selected = eng.of(events, ev.WinnerSelected)
    if not ordered:
        assert selected == [] and finished[0].final_answer is None
    else:
        assert len(selected) == 1
        decision = orch.strategy.decide(votes, ordered)
        expected = decision.winner if decision.winner in ordered else next(iter(ordered))
        assert selected[0].winner == finished[0].winner == expected
        assert set(selected[0].reasons) <= set(votes)
        assert finished[0].final_answer is not None
    if finished[0].ended_by == "consensus":
        active = set(ids) - {e.agent_id for e in eng.of(events, ev.AgentFailed)}
        assert (
            orch.strategy.consensus_reached(
                votes, [v for v in orch.strategy.voters() if v in active]
            )
            or not active
        )

    leftover = [
        t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()
    ]
    assert leftover == []


def _labels_at_vote(events: list[ev.Event]) -> list[tuple[dict[str, str], Any]]:
    started: dict[str, dict[str, str]] = {}
    pairs = []
    for event in events:
        if isinstance(event, ev.AgentStarted):
            started[event.agent_id] = dict(event.labels)
        elif isinstance(event, ev.VoteCast):
            pairs.append((started[event.voter], event))
    return pairs


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scripts=st.lists(
        st.lists(st.one_of(_answer, _vote), min_size=1, max_size=4), min_size=2, max_size=4
    )
)
async def test_every_counted_vote_maps_its_label_through_the_voters_snapshot(eng, scripts):
    ids = [f"ag{i}" for i in range(len(scripts))]
    orch = eng.team(dict(zip(ids, scripts, strict=False)), timeout=TIMEOUT, max_new_answers_per_agent=2)
    events = await eng.run(orch)
    for labels, vote in _labels_at_vote(events):
        assert labels[vote.target_label] == vote.target
        assert sorted(labels.values()) == [labels[f"agent{i}"] for i in range(1, len(labels) + 1)]
