"""What a display knows about a running session, folded from its events.

``SessionView.apply`` turns one event into O(1) updates (a counter, a field, an
append to a bounded deque) so thousands of text deltas stay cheap; the live
view renders from this state only on refresh, and the JSON result is built
from it at the end. It must not print, render or touch the orchestrator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from massgen_core import events as ev

# Deltas are usually a token or a few; this many is plenty for a panel's tail.
TAIL_CHUNKS = 400

STATUS_WAITING = "waiting"
STATUS_THINKING = "thinking"
STATUS_WRITING = "writing"  # its answer is streaming (AnswerDelta)
STATUS_ANSWERED = "answered"
STATUS_VOTED = "voted"
STATUS_RESTARTING = "restarting"
STATUS_FAILED = "failed"
STATUS_PRESENTING = "presenting"
STATUS_DONE = "done"


@attrs.frozen(kw_only=True)
class CastVote:
    """A vote that currently counts, as the display last saw it."""

    target: str
    label: str
    reason: str


def _tail() -> deque[str]:
    return deque(maxlen=TAIL_CHUNKS)


@attrs.define(kw_only=True)
class AgentView:
    """One agent's panel state."""

    id: str
    status: str = STATUS_WAITING
    tail: deque[str] = attrs.Factory(_tail)
    reasoning: deque[str] = attrs.Factory(_tail)
    draft: deque[str] = attrs.Factory(_tail)  # the answer being written in the current launch
    answers: int = 0
    answer: str | None = None
    label: str | None = None
    vote: CastVote | None = None
    launches: int = 0
    restarts: int = 0
    retries: int = 0
    tool_calls: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    note: str = ""

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def text_tail(self, max_chars: int) -> str:
        """The last ``max_chars`` characters of the current launch's answer draft, else its text, else its reasoning."""
        text = "".join(self.draft) or "".join(self.tail) or "".join(self.reasoning)
        return text[-max_chars:]


class SessionView:
    """The state of one session as its events describe it."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.question: str | None = None
        self.strategy: str | None = None
        self.turn: int = 1
        self.agents: dict[str, AgentView] = {}
        self.votes: dict[str, CastVote] = {}
        self.winner: str | None = None
        self.tally: dict[str, float] = {}
        self.reasons: dict[str, str] = {}
        self.explanation: str = ""
        self.final_chunks: list[str] = []
        self.finished: ev.SessionFinished | None = None
        self.started_ts: float | None = None
        self.last_ts: float | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.events = 0
        self.last_note = ""
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.SessionStarted: self._session_started,
            ev.AgentStarted: self._agent_started,
            ev.TextDelta: self._text_delta,
            ev.AnswerDelta: self._answer_delta,
            ev.ReasoningDelta: self._reasoning_delta,
            ev.ToolCalled: self._tool_called,
            ev.AnswerSubmitted: self._answer_submitted,
            ev.AnswerRejected: self._answer_rejected,
            ev.VoteCast: self._vote_cast,
            ev.VoteDiscarded: self._vote_discarded,
            ev.AgentRestarted: self._agent_restarted,
            ev.AgentFailed: self._agent_failed,
            ev.BackendRetry: self._backend_retry,
            ev.BackendFallback: self._backend_fallback,
            ev.WorkflowFallback: self._workflow_fallback,
            ev.UsageReported: self._usage,
            ev.WinnerSelected: self._winner_selected,
            ev.FinalAnswerDelta: self._final_delta,
            ev.SessionFinished: self._session_finished,
        }

    # -- reading -------------------------------------------------------------

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def agent(self, agent_id: str) -> AgentView:
        view = self.agents.get(agent_id)
        if view is None:
            view = self.agents[agent_id] = AgentView(id=agent_id)
        return view

    def live_tally(self) -> dict[str, int]:
        """Votes per target among the votes that currently count, in agent order."""
        counts: dict[str, int] = {}
        for vote in self.votes.values():
            counts[vote.target] = counts.get(vote.target, 0) + 1
        order = {agent_id: i for i, agent_id in enumerate(self.agents)}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)))))

    def elapsed(self, now: float | None = None) -> float:
        if self.finished is not None:
            return self.finished.duration_s
        if self.started_ts is None:
            return 0.0
        end = now if now is not None else self.last_ts
        return max(0.0, (end or self.started_ts) - self.started_ts)

    @property
    def final_text(self) -> str | None:
        if self.finished is not None and self.finished.final_answer is not None:
            return self.finished.final_answer
        return "".join(self.final_chunks) or None

    # -- folding events --------------------------------------------------------

    def apply(self, event: ev.Event) -> None:
        self.events += 1
        if self.started_ts is None:
            self.started_ts = event.ts
        self.last_ts = event.ts
        if self.session_id is None:
            self.session_id = event.session_id
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _touch(self, agent_id: str, ts: float) -> AgentView:
        view = self.agent(agent_id)
        if view.first_ts is None:
            view.first_ts = ts
        view.last_ts = ts
        return view

    def _session_started(self, e: ev.SessionStarted) -> None:
        self.question, self.strategy, self.turn = e.question, e.strategy, e.turn
        self.started_ts = e.ts
        for agent_id in e.agent_ids:
            self.agent(agent_id)

    def _agent_started(self, e: ev.AgentStarted) -> None:
        view = self._touch(e.agent_id, e.ts)
        view.status = STATUS_THINKING
        view.launches += 1
        view.tail.clear()
        view.reasoning.clear()
        view.draft.clear()
        view.note = ""

    def _text_delta(self, e: ev.TextDelta) -> None:
        view = self.agents.get(e.agent_id) or self.agent(e.agent_id)
        view.tail.append(e.text)
        view.last_ts = e.ts

    def _answer_delta(self, e: ev.AnswerDelta) -> None:
        view = self.agents.get(e.agent_id) or self.agent(e.agent_id)
        view.draft.append(e.text)
        view.last_ts = e.ts
        if view.status == STATUS_THINKING:
            view.status = STATUS_WRITING

    def _reasoning_delta(self, e: ev.ReasoningDelta) -> None:
        view = self.agents.get(e.agent_id) or self.agent(e.agent_id)
        view.reasoning.append(e.text)
        view.last_ts = e.ts

    def _tool_called(self, e: ev.ToolCalled) -> None:
        view = self._touch(e.agent_id, e.ts)
        view.tool_calls += 1
        view.note = f"called {e.name}"

    def _answer_submitted(self, e: ev.AnswerSubmitted) -> None:
        view = self._touch(e.agent_id, e.ts)
        view.status = STATUS_ANSWERED
        view.answers += 1
        view.answer = e.text
        view.label = e.label
        view.note = ""
        # A new answer clears every vote (PROTOCOL.md §5).
        for voter in self.votes:
            self.agents[voter].vote = None
            if self.agents[voter].status == STATUS_VOTED:
                self.agents[voter].status = STATUS_RESTARTING
        self.votes.clear()
        self.last_note = f"{e.agent_id} submitted answer {view.answers}"

    def _answer_rejected(self, e: ev.AnswerRejected) -> None:
        self._touch(e.agent_id, e.ts).note = f"rejected: {e.reason}"

    def _vote_cast(self, e: ev.VoteCast) -> None:
        view = self._touch(e.voter, e.ts)
        vote = CastVote(target=e.target, label=e.target_label, reason=e.reason)
        view.vote = vote
        view.status = STATUS_VOTED
        view.note = ""
        self.votes[e.voter] = vote
        self.last_note = f"{e.voter} voted for {e.target}"

    def _vote_discarded(self, e: ev.VoteDiscarded) -> None:
        view = self._touch(e.voter, e.ts)
        current = self.votes.get(e.voter)
        if current is not None and (e.target is None or e.target == current.target):
            del self.votes[e.voter]
            view.vote = None
        view.note = f"vote discarded: {e.reason}"

    def _agent_restarted(self, e: ev.AgentRestarted) -> None:
        view = self._touch(e.agent_id, e.ts)
        view.status = STATUS_RESTARTING
        view.restarts += 1
        view.note = e.reason

    def _agent_failed(self, e: ev.AgentFailed) -> None:
        view = self._touch(e.agent_id, e.ts)
        view.status = STATUS_FAILED
        view.error = e.error
        view.note = e.error

    def _backend_retry(self, e: ev.BackendRetry) -> None:
        view = self._touch(e.agent_id, e.ts)
        view.retries += 1
        if e.restart:  # the request starts over: what it streamed is discarded
            view.tail.clear()
            view.reasoning.clear()
            view.draft.clear()
        view.note = f"retry {e.attempt} in {e.delay_s:.1f}s: {e.error}"

    def _backend_fallback(self, e: ev.BackendFallback) -> None:
        self._touch(e.agent_id, e.ts).note = f"fell back from {e.from_backend} to {e.to_backend}"

    def _workflow_fallback(self, e: ev.WorkflowFallback) -> None:
        self._touch(e.agent_id, e.ts).note = f"workflow {e.from_transport} -> {e.to_transport}"

    def _usage(self, e: ev.UsageReported) -> None:
        view = self.agents.get(e.agent_id) or self.agent(e.agent_id)
        usage = e.usage
        view.input_tokens += usage.input_tokens
        view.output_tokens += usage.output_tokens
        view.cost_usd += usage.cost_usd
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cost_usd += usage.cost_usd

    def _winner_selected(self, e: ev.WinnerSelected) -> None:
        self.winner = e.winner
        self.tally = dict(e.tally)
        self.reasons = dict(e.reasons)
        self.explanation = e.explanation
        view = self._touch(e.winner, e.ts)
        view.status = STATUS_PRESENTING
        view.tail.clear()
        view.draft.clear()
        self.last_note = f"{e.winner} presents the final answer"

    def _final_delta(self, e: ev.FinalAnswerDelta) -> None:
        self.final_chunks.append(e.text)
        view = self.agents.get(e.agent_id) or self.agent(e.agent_id)
        view.tail.append(e.text)

    def _session_finished(self, e: ev.SessionFinished) -> None:
        self.finished = e
        if e.winner is not None:
            self.winner = e.winner
            self.agent(e.winner).status = STATUS_DONE
        # The orchestrator's totals are authoritative when it reports them.
        if e.usage:
            self.input_tokens = int(e.usage.get("input_tokens", self.input_tokens))
            self.output_tokens = int(e.usage.get("output_tokens", self.output_tokens))
        if e.cost_usd:
            self.cost_usd = e.cost_usd
