"""The coordination state (massgen_core.orchestrator.coordination) under arbitrary launch outcomes.

A hypothesis stateful machine plays the driver: it launches whatever the
state says, and each running launch answers, votes for a label of the
snapshot it started from, fails, runs out of answers, or is cancelled, in any
interleaving, with bounds hit at any time. Whatever happens, a vote always
targets a current answer, the caps hold, a voter is never relaunched, and the
turn ends exactly once.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from massgen_core.orchestrator.coordination import (
    ENDED_BY,
    AnswerProblem,
    Coordination,
    EndedBy,
    Outcome,
    Snapshot,
)
from massgen_core.voting import AgentInfo, Vote
from massgen_voting_judge.strategy import JudgeOptions, JudgeStrategy
from massgen_voting_majority import MajorityStrategy

IDS = ("a", "b", "c")
TEXTS = ("Paris", " Paris ", "Lyon", "Nice", "Paris, France")
CAP = 2


class CoordinationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.coordination: Coordination | None = None
        self.snapshots: dict[str, Snapshot] = {}  # running launches and what they started from
        self.now = 0.0
        self.accepted = 0
        self.cast_on: dict[str, int] = {}  # voter -> snapshot version of its counted vote
        self.ended: EndedBy | None = None

    @rule(judge=st.booleans(), failures=st.integers(1, 3), retry_bound=st.sampled_from([None, 5.0]))
    @precondition(lambda self: self.coordination is None)
    def start(self, judge: bool, failures: int, retry_bound: float | None) -> None:
        agents = [AgentInfo(id=i) for i in IDS]
        strategy = JudgeStrategy(agents, JudgeOptions(judge="c")) if judge else MajorityStrategy(agents)
        self.coordination = Coordination(
            IDS, strategy, max_new_answers_per_agent=CAP, max_consecutive_failures=failures,
            agent_retry_timeout=retry_bound,
        )

    def _started(self) -> bool:
        return self.coordination is not None and self.ended is None

    @rule()
    @precondition(_started)
    def schedule(self) -> None:
        c = self.coordination
        assert c is not None
        running_before = {a for a, r in c.records.items() if r.running}
        for launch in c.to_launch():
            assert launch.agent_id not in running_before, "an agent runs two launches at once"
            assert launch.agent_id not in c.votes, "a voter is relaunched while its vote stands"
            assert c.records[launch.agent_id].active
            self.snapshots[launch.agent_id] = c.snapshot()
            c.announce(launch.agent_id)

    @rule(data=st.data())
    @precondition(lambda self: self._started() and self.snapshots)
    def answer(self, data: st.DataObject) -> None:
        c = self.coordination
        assert c is not None
        agent = data.draw(st.sampled_from(sorted(self.snapshots)))
        text = data.draw(st.sampled_from(TEXTS))
        if not c.strategy.may_answer(agent):
            return
        problem = c.answer_problem(agent, text)
        if problem is AnswerProblem.CAPPED:
            assert c.records[agent].answers_given >= CAP
            self._finish(agent, Outcome.CAPPED)
            return
        if problem is AnswerProblem.DUPLICATE:
            assert text.strip() in {t.strip() for t in c.answers.values()}
            return
        before = c.version
        accepted = c.accept_answer(agent, text)
        self.accepted += 1
        assert c.version == before + 1 and c.votes == {}
        assert c.snapshot().labels[accepted.label] == agent
        assert agent not in accepted.restarted
        for other in accepted.restarted:
            if other in self.snapshots:  # the driver cancels the now-stale launch
                self._finish(other, Outcome.RESTART, "the answers changed")
        self._finish(agent, Outcome.ANSWERED)

    @rule(data=st.data())
    @precondition(lambda self: self._started() and any(s.labels for s in self.snapshots.values()))
    def vote(self, data: st.DataObject) -> None:
        c = self.coordination
        assert c is not None
        agent = data.draw(st.sampled_from(sorted(a for a, s in self.snapshots.items() if s.labels)))
        snapshot = self.snapshots[agent]
        label = data.draw(st.sampled_from(sorted(snapshot.labels)))
        vote = Vote(voter=agent, target=snapshot.labels[label], reason="best")
        counted = c.accept_vote(agent, vote, snapshot.version)
        assert counted == (snapshot.version == c.version)
        if counted:
            self.cast_on[agent] = snapshot.version
        self._finish(agent, Outcome.VOTED if counted else Outcome.STALE)

    @rule(data=st.data(), outcome=st.sampled_from([Outcome.FAILED, Outcome.FATAL, Outcome.RESTART]))
    @precondition(lambda self: self._started() and self.snapshots)
    def break_launch(self, data: st.DataObject, outcome: Outcome) -> None:
        agent = data.draw(st.sampled_from(sorted(self.snapshots)))
        self._finish(agent, outcome, "boom")

    @rule(data=st.data(), later=st.floats(0, 4))
    @precondition(lambda self: self._started())
    def retry(self, data: st.DataObject, later: float) -> None:
        c = self.coordination
        assert c is not None
        self.now += later
        agent = data.draw(st.sampled_from(IDS))
        assert c.mark_retrying(agent, "rate limited", self.now) == c.records[agent].active
        if c.retry_due is not None and self.now >= c.retry_due:
            for dropped in c.give_up_overdue(self.now):
                assert not c.records[dropped].active
                if dropped in self.snapshots:
                    self._finish(dropped, Outcome.RESTART)

    @rule()
    @precondition(lambda self: self._started() and len(self.coordination.records) < 5)
    def join(self) -> None:
        """A team with ``scale`` adds an agent mid-turn."""
        c = self.coordination
        assert c is not None
        agent_id = f"n{len(c.records)}"
        c.add_agent(agent_id)
        c.strategy.agents.append(AgentInfo(id=agent_id))
        assert c.records[agent_id].active and not c.records[agent_id].running

    @rule(reason=st.sampled_from([EndedBy.TIMEOUT, EndedBy.BUDGET, EndedBy.CANCELLED]))
    @precondition(_started)
    def stop(self, reason: EndedBy) -> None:
        c = self.coordination
        assert c is not None
        first = c.stop_reason
        c.stop(reason)
        assert c.stop_reason == (first or reason)
        assert c.to_launch() == []

    @rule()
    @precondition(_started)
    def settle(self) -> None:
        """What the driver does after every report: launch what is due, then ask whether it is over."""
        self.schedule()
        c = self.coordination
        assert c is not None
        reason = c.settled()
        c.take_dropped()
        if reason is None:
            return
        if reason is EndedBy.CONSENSUS:
            needed = c.needed_voters()
            assert c.answers and all(v in c.votes for v in needed) or c.left_out
        if reason is EndedBy.ALL_AGENTS_FAILED and not c.active():
            assert c.failures
        c.stopped_all()
        self.snapshots.clear()
        self.ended = c.end(reason)

    @rule(reason=st.sampled_from(list(EndedBy)))
    @precondition(lambda self: self.ended is not None)
    def after_the_end(self, reason: EndedBy) -> None:
        c = self.coordination
        assert c is not None
        with pytest.raises(RuntimeError):
            c.end(reason)
        assert c.to_launch() == []
        assert c.ended_by is self.ended

    def _finish(self, agent: str, outcome: Outcome, detail: str = "") -> None:
        c = self.coordination
        assert c is not None
        self.snapshots.pop(agent, None)
        if outcome is Outcome.RESTART and detail:
            c.records[agent].restart_reason = detail
        c.finish(agent, outcome, detail, now=self.now)
        for dropped in c.take_dropped():
            assert not c.records[dropped.agent_id].active
            assert c.failures[dropped.agent_id] == dropped.error

    # -- what always holds ---------------------------------------------------------

    @invariant()
    def votes_target_current_answers(self) -> None:
        c = self.coordination
        if c is None:
            return
        for voter, vote in c.votes.items():
            assert vote.target in c.answers, f"{voter} votes for {vote.target}, which has no answer"
            assert self.cast_on[voter] == c.version, f"{voter}'s vote was cast on an older snapshot"
            assert c.records[voter].active, "a dropped agent's vote still stands"

    @invariant()
    def caps_and_versions_hold(self) -> None:
        c = self.coordination
        if c is None:
            return
        assert c.version == self.accepted
        assert all(r.answers_given <= CAP for r in c.records.values())
        trimmed = [t.strip() for t in c.answers.values()]
        assert len(trimmed) == len(set(trimmed)), "two recorded answers are the same text"
        assert all(r.failures <= c.max_consecutive_failures for r in c.records.values())
        for agent_id, record in c.records.items():
            if record.failures >= c.max_consecutive_failures:
                assert not record.active, f"{agent_id} failed too often and is still in"

    @invariant()
    def ended_once_with_a_wire_string(self) -> None:
        c = self.coordination
        if c is None or self.ended is None:
            return
        assert c.ended_by is self.ended and self.ended.value in ENDED_BY


TestCoordinationMachine = CoordinationMachine.TestCase
TestCoordinationMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_ended_by_values_are_the_wire_strings() -> None:
    assert ENDED_BY == (
        "consensus", "timeout", "budget", "answer_cap", "all_agents_failed", "cancelled", "single_agent",
    )
    assert EndedBy("budget") is EndedBy.BUDGET and EndedBy.BUDGET == "budget"


def test_a_vote_on_an_old_snapshot_never_counts() -> None:
    c = Coordination(IDS, MajorityStrategy([AgentInfo(id=i) for i in IDS]))
    c.to_launch()
    c.accept_answer("a", "Paris")
    old = c.snapshot()
    c.accept_answer("b", "Lyon")
    assert not c.accept_vote("c", Vote(voter="c", target="a"), old.version)
    assert c.votes == {}
    assert c.accept_vote("c", Vote(voter="c", target="b"), c.version)


def test_a_launch_cancelled_before_it_started_is_relaunched_silently() -> None:
    c = Coordination(IDS, MajorityStrategy([AgentInfo(id=i) for i in IDS]))
    assert [launch.number for launch in c.to_launch()] == [1, 1, 1]
    c.accept_answer("a", "Paris")
    c.finish("b", Outcome.RESTART, "new answer from a")  # never announced
    c.announce("c")
    c.finish("c", Outcome.RESTART, "new answer from a")
    again = {launch.agent_id: launch for launch in c.to_launch()}
    assert again["b"].number == 1 and again["b"].restarted is None
    assert again["c"].number == 2 and again["c"].restarted == "new answer from a"


def test_an_agent_joins_once_and_is_launched_on_the_current_snapshot() -> None:
    c = Coordination(["a"], MajorityStrategy([AgentInfo(id="a")]))
    c.to_launch()
    c.accept_answer("a", "Paris")
    c.add_agent("n")
    with pytest.raises(ValueError, match="already in the turn"):
        c.add_agent("n")
    assert [launch.agent_id for launch in c.to_launch()] == ["n"]
    assert c.active() == ["a", "n"] and c.snapshot().labels == {"agent1": "a"}
