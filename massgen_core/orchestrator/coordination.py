"""The coordination rules of PROTOCOL.md §4–5 as a pure, synchronous state.

``Coordination`` holds what one turn has decided so far: the answers and the
votes cast on the current snapshot (its ``version``), every agent's record
(launches, answers given, consecutive failures, whether it is still in), who
is to be launched next and why, and why coordination ended. The async driver
(massgen_core.orchestrator.session) asks it what to launch, reports what each
launch did, and turns what it returns into events; nothing here awaits,
starts a task, reads a clock (times are passed in) or emits an event.

Outcomes and reasons are enums. ``EndedBy`` is a ``str`` enum so the wire
(events, the store, --jsonl, webhooks, exports) keeps the same strings.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs

from massgen_core.orchestrator import stragglers
from massgen_core.orchestrator.prompts import assign_labels
from massgen_core.orchestrator.stragglers import Retrying
from massgen_core.voting import Vote, VotingStrategy


class EndedBy(enum.StrEnum):
    """Why a turn ended (``SessionFinished.ended_by``)."""

    CONSENSUS = "consensus"
    TIMEOUT = "timeout"
    BUDGET = "budget"
    ANSWER_CAP = "answer_cap"
    ALL_AGENTS_FAILED = "all_agents_failed"
    CANCELLED = "cancelled"
    SINGLE_AGENT = "single_agent"


class Outcome(enum.StrEnum):
    """What one launch of an agent came to."""

    VOTED = "voted"
    ANSWERED = "answered"
    STALE = "stale"  # it voted on a snapshot that changed meanwhile
    FAILED = "failed"  # relaunched until ``max_consecutive_failures``
    FATAL = "fatal"  # relaunching cannot help (no key, refused key, unknown model)
    CAPPED = "capped"  # out of answers and it would not vote
    RESTART = "restart"  # cancelled because the answers changed


class AnswerProblem(enum.Enum):
    """Why the state refuses an answer text (PROTOCOL.md §4)."""

    CAPPED = "capped"
    DUPLICATE = "duplicate"


@attrs.define(eq=False)
class Record:
    """One agent's standing in the turn."""

    agent_id: str
    launches: int = 0
    answers_given: int = 0
    failures: int = 0  # consecutive failed launches
    active: bool = True
    running: bool = False
    announced: bool = False  # the running launch has been seen to start (AgentStarted)
    capped_version: int = -1  # snapshot version on which it ran out of answers and would not vote
    restart_reason: str | None = None
    retrying: Retrying | None = None  # retrying or relaunching since its last progress


@attrs.frozen
class Launch:
    """An agent to launch now; ``restarted`` is the reason to report when this is a restart."""

    agent_id: str
    number: int  # 1-based launch count of this agent (``AgentStarted.attempt``)
    restarted: str | None


@attrs.frozen
class Snapshot:
    """The answers a launch starts from, with the anonymous labels they are offered under."""

    version: int
    answers: Mapping[str, str]
    labels: Mapping[str, str]  # label -> real id


@attrs.frozen
class Accepted:
    """An accepted answer: its label in the new snapshot, and the agents it restarts."""

    label: str
    revision: int
    restarted: tuple[str, ...]


@attrs.frozen
class Dropped:
    agent_id: str
    error: str


class Coordination:
    """The state of one coordinated turn; every method is synchronous and deterministic."""

    def __init__(
        self,
        order: Sequence[str],
        strategy: VotingStrategy,
        *,
        max_new_answers_per_agent: int | None = None,
        max_consecutive_failures: int = 3,
        agent_retry_timeout: float | None = None,
        wait_for_retrying_agents: bool = False,
    ) -> None:
        self.order = list(order)
        self.strategy = strategy
        self.max_new_answers_per_agent = max_new_answers_per_agent
        self.max_consecutive_failures = max_consecutive_failures
        self.agent_retry_timeout = agent_retry_timeout
        self.wait_for_retrying_agents = wait_for_retrying_agents
        self.records = {agent_id: Record(agent_id) for agent_id in self.order}
        self.answers: dict[str, str] = {}
        self.votes: dict[str, Vote] = {}
        self.failures: dict[str, str] = {}  # agent id -> why it was dropped
        self.left_out: dict[str, str] = {}  # agent id -> why the decision did not wait for it
        self.version = 0
        self.stop_reason: EndedBy | None = None
        self.ended_by: EndedBy | None = None
        self.retry_due: float | None = None  # no retrying agent runs out of its bound before this
        self._dropped: list[Dropped] = []

    # -- what the driver reads ---------------------------------------------------

    def snapshot(self) -> Snapshot:
        answers = dict(self.answers)
        return Snapshot(self.version, answers, assign_labels(list(answers)))

    def active(self) -> list[str]:
        return [agent_id for agent_id in self.order if self.records[agent_id].active]

    def current_votes(self) -> dict[str, Vote]:
        """The recorded votes of agents still in the turn."""
        return {voter: vote for voter, vote in self.votes.items() if self.records[voter].active}

    def ordered_answers(self) -> dict[str, str]:
        return {agent_id: self.answers[agent_id] for agent_id in self.order if agent_id in self.answers}

    def add_agent(self, agent_id: str) -> None:
        """A new agent joins the turn (a team's ``scale``); it is launched on the current snapshot."""
        if agent_id in self.records:
            raise ValueError(f"agent {agent_id!r} is already in the turn")
        self.order.append(agent_id)
        self.records[agent_id] = Record(agent_id)

    def distinct_answers(self) -> int:
        return len({text.strip() for text in self.answers.values()})

    def take_dropped(self) -> list[Dropped]:
        """The agents dropped since the last call, in order (the driver reports each one)."""
        out, self._dropped = self._dropped, []
        return out

    # -- launching -----------------------------------------------------------------

    def to_launch(self) -> list[Launch]:
        """The agents to launch now, in config order; each is marked running."""
        if self.stop_reason is not None or self.ended_by is not None:
            return []
        out = []
        for agent_id in self.order:
            record = self.records[agent_id]
            if not record.active or record.running:
                continue
            if agent_id in self.votes or record.capped_version == self.version:
                continue
            if not self.strategy.may_answer(agent_id) and not self.answers:
                continue  # a judge waits for something to judge
            restarted = record.restart_reason if record.launches else None
            record.restart_reason = None
            record.announced = False
            record.launches += 1
            record.running = True
            out.append(Launch(agent_id, record.launches, restarted))
        return out

    def announce(self, agent_id: str) -> None:
        self.records[agent_id].announced = True

    def progress(self, agent_id: str) -> None:
        """The agent streamed content: it is no longer only retrying."""
        self.records[agent_id].retrying = None

    # -- what a launch did ---------------------------------------------------------

    def answer_problem(self, agent_id: str, text: str) -> AnswerProblem | None:
        cap = self.max_new_answers_per_agent
        if cap is not None and self.records[agent_id].answers_given >= cap:
            return AnswerProblem.CAPPED
        trimmed = text.strip()
        if any(existing.strip() == trimmed for existing in self.answers.values()):
            return AnswerProblem.DUPLICATE
        return None

    def accept_answer(self, agent_id: str, text: str) -> Accepted:
        """Record ``text`` as the agent's answer: a new snapshot, no votes, every other agent restarts."""
        record = self.records[agent_id]
        record.answers_given += 1
        self.answers[agent_id] = text
        self.version += 1
        self.votes.clear()
        label = next(lab for lab, real in assign_labels(list(self.answers)).items() if real == agent_id)
        restarted = []
        for other in self.records.values():
            if other is record or not other.active:
                continue
            other.restart_reason = f"new answer from {agent_id}"
            restarted.append(other.agent_id)
        return Accepted(label, record.answers_given, tuple(restarted))

    def accept_vote(self, agent_id: str, vote: Vote, version: int) -> bool:
        """Record the vote if it was cast on the current snapshot; False: stale, it never counts."""
        if version != self.version:
            return False
        self.votes[agent_id] = vote
        return True

    def finish(self, agent_id: str, outcome: Outcome, detail: str = "", *, now: float = 0.0) -> None:
        """A launch of ``agent_id`` ended with ``outcome``; ``detail`` is the error or restart reason."""
        record = self.records[agent_id]
        record.running = False
        if outcome is Outcome.RESTART and not record.announced:
            # Cancelled before it began: nobody saw it start, so it is relaunched silently.
            record.launches -= 1
            record.restart_reason = None
            return
        if outcome in (Outcome.VOTED, Outcome.ANSWERED, Outcome.CAPPED):
            record.failures = 0
            record.retrying = None
            if outcome is Outcome.CAPPED:
                record.capped_version = self.version
            return
        if outcome is Outcome.FATAL:
            record.failures += 1
            self.drop(agent_id, detail)
            return
        if outcome is Outcome.FAILED:
            record.failures += 1
            if record.failures >= self.max_consecutive_failures:
                self.drop(agent_id, f"{detail} ({record.failures} consecutive failed launches)")
                return
            record.restart_reason = f"previous launch failed: {detail}"
            self.mark_retrying(agent_id, detail, now)
            return
        record.restart_reason = detail or None

    def stopped_all(self) -> None:
        """Every running launch has been cancelled and awaited (the turn is ending)."""
        for record in self.records.values():
            record.running = False

    def drop(self, agent_id: str, error: str) -> None:
        record = self.records[agent_id]
        record.active = False
        self.votes.pop(agent_id, None)
        self.failures[agent_id] = error
        self._dropped.append(Dropped(agent_id, error))

    # -- agents that only retry ----------------------------------------------------

    def retrying(self) -> dict[str, Retrying | None]:
        return {agent_id: r.retrying for agent_id, r in self.records.items() if r.active}

    def mark_retrying(self, agent_id: str, reason: str, now: float) -> bool:
        """The agent retried or failed a launch at ``now``; False when it is no longer in the turn."""
        record = self.records.get(agent_id)
        if record is None or not record.active:
            return False
        since = record.retrying.since if record.retrying is not None else now
        record.retrying = Retrying(since, reason)
        bound = self.agent_retry_timeout
        if bound is not None:  # the earliest an agent can run out; progress since is checked when it comes
            due = since + bound
            self.retry_due = due if self.retry_due is None else min(self.retry_due, due)
        return True

    def give_up_overdue(self, now: float) -> list[str]:
        """Drop the agents retrying past their bound at ``now``; returns them (their launches must stop)."""
        bound = self.agent_retry_timeout
        overdue = stragglers.overdue(self.retrying(), bound, now)
        for agent_id, why in overdue.items():
            self.drop(agent_id, why)
        self.retry_due = stragglers.next_deadline(self.retrying(), bound)
        return list(overdue)

    # -- the end -------------------------------------------------------------------

    def stop(self, reason: EndedBy) -> None:
        """A bound or the user asks coordination to end; the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason

    def needed_voters(self) -> list[str]:
        return [
            agent_id
            for agent_id in self.strategy.voters()
            if agent_id in self.records
            and self.records[agent_id].active
            and self.records[agent_id].capped_version != self.version
        ]

    def settled(self) -> EndedBy | None:
        """Why coordination is over now, or None while it goes on (may leave out retrying voters)."""
        if self.stop_reason is not None:
            return self.stop_reason
        active = [r for r in self.records.values() if r.active]
        if not active:
            return EndedBy.ALL_AGENTS_FAILED
        capped = any(r.capped_version == self.version for r in active)
        agreed = EndedBy.ANSWER_CAP if capped else EndedBy.CONSENSUS
        if self.answers:
            current = self.current_votes()
            needed = self.needed_voters()
            if self.strategy.consensus_reached(current, needed):
                return agreed
            if not self.wait_for_retrying_agents and self._leave_out(current, needed):
                return agreed
        if not any(r.running for r in active):
            # Nobody is running and nobody will be launched: no progress is possible.
            if capped:
                return EndedBy.ANSWER_CAP
            if self.answers and all(v in self.votes for v in self.needed_voters()):
                return EndedBy.CONSENSUS
            return EndedBy.ALL_AGENTS_FAILED
        return None

    def end(self, reason: EndedBy) -> EndedBy:
        """Close the turn: it ends exactly once."""
        if self.ended_by is not None:
            raise RuntimeError(f"the turn already ended ({self.ended_by})")
        self.ended_by = EndedBy(reason)
        return self.ended_by

    def _leave_out(self, current: Mapping[str, Vote], needed: list[str]) -> bool:
        """Drop the voters that are only retrying when that lets the others' votes decide."""
        out = stragglers.left_out(needed, current, self.retrying())
        if not out or not self.strategy.consensus_reached(current, [a for a in needed if a not in out]):
            return False
        for agent_id, why in out.items():
            self.left_out[agent_id] = why
            self.drop(agent_id, f"left out of the decision: {why}, and every other agent had voted")
        return True


ENDED_BY = tuple(reason.value for reason in EndedBy)

__all__ = [
    "ENDED_BY",
    "Accepted",
    "AnswerProblem",
    "Coordination",
    "Dropped",
    "EndedBy",
    "Launch",
    "Outcome",
    "Record",
    "Snapshot",
]
