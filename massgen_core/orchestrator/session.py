"""The driver of one coordinated turn (PROTOCOL.md §5–8): an async generator of typed events.

``Orchestrator.run`` starts a ``_Session``, which asks the coordination state
(massgen_core.orchestrator.coordination) whom to launch, runs each launch
(massgen_core.orchestrator.launch) as a task of one ``asyncio.TaskGroup``,
feeds what launches report back into the state, applies the time bounds,
asks the strategy for the winner and streams the winner's presentation.
State changes happen synchronously (no await between a check and its
update), so concurrent launches never see a half-applied answer. It never
prints, and every task it starts is cancelled and awaited before ``run``
returns, whatever the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import attrs

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.content import Attachment
from massgen_core.orchestrator import launch as ln
from massgen_core.orchestrator import prompts
from massgen_core.orchestrator.agent import Agent
from massgen_core.orchestrator.budget import Budgets
from massgen_core.orchestrator.context import LaunchContext, current_launch
from massgen_core.orchestrator.coordination import ENDED_BY, Coordination, EndedBy, Outcome
from massgen_core.orchestrator.scaling import Scaler
from massgen_core.tools import Tool
from massgen_core.voting import AgentInfo, Vote, VotingStrategy

MAX_TOOL_ROUNDS = ln.MAX_TOOL_ROUNDS


@attrs.frozen(kw_only=True)
class Limits:
    """The bounds of one session (PROTOCOL.md §4–5)."""

    max_attempts: int = 3
    max_new_answers_per_agent: int | None = None
    max_consecutive_failures: int = 3
    session_timeout: float | None = 1800.0
    max_cost_usd: float | None = None
    max_cost_usd_per_agent: float | None = None
    max_conversation_cost_usd: float | None = None
    # Wall time an agent may spend retrying and relaunching without progress before it is dropped.
    agent_retry_timeout: float | None = 300.0
    # False: once every other agent has voted, decide without an agent that is only retrying.
    wait_for_retrying_agents: bool = False
    final_presentation: bool = True
    # A team's ``scale``: grow to ``scale_max`` agents while answers disagree, keep ``scale_min`` active.
    scale_min: int | None = None
    scale_max: int | None = None
    coordination_instructions: str | None = None
    presentation_instructions: str | None = None


class Orchestrator:
    """A team of agents and a voting strategy; ``run`` is one coordinated turn."""

    def __init__(
        self,
        agents: Sequence[Agent],
        strategy: VotingStrategy,
        *,
        strategy_name: str | None = None,
        limits: Limits | None = None,
        tools: Sequence[Tool] = (),
        use_orchestrator_for_single_agent: bool = True,
        emit_backend_event: Callable[[ev.Event], None] | None = None,
        spawn: Callable[[str, str], Agent] | None = None,
    ) -> None:
        if not agents:
            raise ValueError("an orchestrator needs at least one agent")
        self.agents = list(agents)
        self.strategy = strategy
        self.strategy_name = strategy_name or getattr(strategy, "name", type(strategy).__name__)
        self.limits = limits or Limits()
        self.tools = {tool.name: tool for tool in tools if tool.name not in prompts.WORKFLOW_TOOLS}
        self.use_orchestrator_for_single_agent = use_orchestrator_for_single_agent
        self.emit_backend_event = emit_backend_event
        self.spawn = spawn  # (template id, new id) -> a new agent like the template (scale)
        self._session: _Session | None = None
        self.conversation_cost_usd = 0.0  # what earlier runs (turns) of this team spent

    def tools_for(self, agent: Agent) -> Mapping[str, Tool]:
        """The function tools offered to ``agent``: its own list, else the team-wide ``tools``."""
        if agent.tools is None:
            return self.tools
        return {name: tool for name, tool in agent.tools.items() if name not in prompts.WORKFLOW_TOOLS}

    @property
    def agent_ids(self) -> list[str]:
        return [agent.id for agent in self.agents]

    def preflight(self) -> None:
        """Raise one ``MassGenError`` naming every agent that cannot run (e.g. a missing key), before any request."""
        from massgen_core.errors import MassGenError

        problems = []
        for agent in self.agents:
            try:
                agent.backend.preflight()
            except MassGenError as exc:
                problems.append(str(exc))
        if problems:
            raise MassGenError("\n".join(dict.fromkeys(problems)))

    def run(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        session_id: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> AsyncGenerator[ev.Event, None]:
        """Yield every event of one turn, in order, ending with exactly one SessionFinished.

        ``attachments`` (images, documents) go with the question in every agent's first user message.
        """
        session = _Session(self, question, tuple(history), session_id or uuid.uuid4().hex, tuple(attachments))
        self._session = session
        return session.events()

    def cancel(self) -> None:
        """Ask the running session to stop soon, still ending with SessionFinished(ended_by=cancelled)."""
        if self._session is not None:
            self._session.request_stop(EndedBy.CANCELLED)

    def backend_event(self, event: ev.Event) -> None:
        """Where backends report retries and fallbacks: stamped into the running session's stream."""
        session = self._session
        if session is not None and not session.closed:
            session.forward(event)
        if self.emit_backend_event is not None:
            self.emit_backend_event(event)

    async def aclose(self) -> None:
        """Release every agent's backend."""
        for agent in self.agents:
            await agent.backend.aclose()


@attrs.frozen
class _LaunchDone:
    """What a launch task reports back to the driver."""

    agent_id: str
    outcome: Outcome
    detail: str
    task: asyncio.Task[Any]


@attrs.frozen
class _CallDone:
    """The result of a tool-less call (presentation, direct answer)."""

    outcome: str  # answered | failed | cancelled (detail: the text streamed before Ctrl-C)
    detail: str = ""


_WAKE = object()  # a bound was hit inside a launch: the driver must look at the state


class _Session:
    """The driver of one ``run``; the rules live in ``self.coordination``."""

    def __init__(
        self,
        orch: Orchestrator,
        question: str,
        history: tuple[tuple[str, str], ...],
        session_id: str,
        attachments: tuple[Attachment, ...] = (),
    ) -> None:
        self.orch = orch
        self.question = question
        self.history = history
        self.attachments = attachments
        self.factory = ev.EventFactory(session_id)
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.agents = {agent.id: agent for agent in orch.agents}
        self.order = [agent.id for agent in orch.agents]
        limits = orch.limits
        self.coordination = Coordination(
            self.order,
            orch.strategy,
            max_new_answers_per_agent=limits.max_new_answers_per_agent,
            max_consecutive_failures=limits.max_consecutive_failures,
            agent_retry_timeout=limits.agent_retry_timeout,
            wait_for_retrying_agents=limits.wait_for_retrying_agents,
        )
        self.usage = bk.Usage()
        self.closed = False
        self.started = time.monotonic()
        self.tasks: dict[str, asyncio.Task[Any]] = {}  # agent id -> its running launch
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.retries: dict[str, int] = {}  # agent id -> backend retries reported so far
        self.scaler = (
            Scaler(limits.scale_min or 1, limits.scale_max)
            if limits.scale_max is not None and orch.spawn is not None
            else None
        )
        self._voters = len(orch.strategy.agents)  # agents added this turn leave the strategy at its end
        self.budget = Budgets(
            session=limits.max_cost_usd,
            per_agent=limits.max_cost_usd_per_agent,
            conversation=limits.max_conversation_cost_usd,
            spent_before=orch.conversation_cost_usd,
        )

    # -- what a launch uses (launch.Host) ----------------------------------------

    @property
    def strategy(self) -> VotingStrategy:
        return self.orch.strategy

    @property
    def limits(self) -> Limits:
        return self.orch.limits

    def tools_for(self, agent: Agent) -> Mapping[str, Tool]:
        return self.orch.tools_for(agent)

    def emit(self, cls: type[ev.Event], **fields: Any) -> None:
        # Stamping and enqueueing together keeps seq equal to yield order.
        self.queue.put_nowait(self.factory(cls, **fields))

    def add_usage(self, usage: bk.Usage) -> None:
        self.usage = self.usage + usage

    def request_stop(self, reason: EndedBy | str) -> None:
        self.coordination.stop(EndedBy(reason))
        self.queue.put_nowait(_WAKE)

    def answer_accepted(self, agent_id: str, restarted: tuple[str, ...]) -> None:
        current = asyncio.current_task()
        for other in restarted:
            task = self.tasks.get(other)
            if task is not None and task is not current and not task.done():
                task.cancel()  # stop the now-stale call early (PROTOCOL.md §5)

    def forward(self, event: ev.Event) -> None:
        stamped = attrs.evolve(
            event, session_id=self.factory.session_id, seq=next(self.factory._seq), ts=time.time()
        )
        if type(event) is ev.BackendRetry:
            self._note_retry(event.agent_id, f"{event.error} (retry {event.attempt})")
        self.queue.put_nowait(stamped)

    # -- the driver ------------------------------------------------------------

    async def events(self) -> AsyncGenerator[ev.Event, None]:
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                try:
                    async with contextlib.aclosing(self._drive()) as drive:
                        async for event in drive:
                            yield event
                except GeneratorExit:
                    pass  # the consumer closed the stream early: stop every launch, then end quietly
                await self._cancel_all()
        except BaseExceptionGroup as group:
            # The task group wraps what a task or the driver raised; a caller (and PROTOCOL.md's
            # library users) gets that exception itself, as before the driver used a TaskGroup.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        finally:
            self.closed = True
            await self._shrink()

    async def _drive(self) -> AsyncGenerator[ev.Event, None]:
        orch = self.orch
        limits = orch.limits
        coordination = self.coordination
        self.emit(
            ev.SessionStarted,
            question=self.question,
            agent_ids=tuple(self.order),
            strategy=orch.strategy_name,
            turn=len(self.history) + 1,
            attachments=tuple(a.ref() for a in self.attachments),
        )
        if len(orch.agents) == 1 and not orch.use_orchestrator_for_single_agent:
            async for event in self._direct():
                yield event
            return
        deadline = None if limits.session_timeout is None else self.started + limits.session_timeout
        self._schedule()
        ended_by: EndedBy | None = None
        while ended_by is None:
            item = await self._next(self._wake_at(deadline))
            if coordination.retry_due is not None:
                item = self._check_retry_bounds(item)
            if item is None:
                ended_by = EndedBy.TIMEOUT
                break
            if isinstance(item, ev.Event):
                yield item
                if coordination.stop_reason is None:
                    continue
            elif isinstance(item, _LaunchDone):
                self._finish_launch(item)
                self._scale()
            if coordination.stop_reason is not None:
                ended_by = coordination.stop_reason
                break
            self._schedule()
            ended_by = coordination.settled()
            self._report_dropped()
        await self._cancel_all()
        for event in self._drain():
            yield event
        async for event in self._conclude(ended_by):
            yield event

    async def _next(self, deadline: float | None) -> Any:
        """The next queued item, or None when the session timeout has passed."""
        try:
            return self.queue.get_nowait()  # the hot path: no timer for events already queued
        except asyncio.QueueEmpty:
            pass
        if deadline is None:
            return await self.queue.get()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            async with asyncio.timeout(remaining):
                return await self.queue.get()
        except TimeoutError:
            return None

    def _wake_at(self, deadline: float | None) -> float | None:
        """The session deadline, or earlier when a retrying agent's own bound runs out first."""
        own = self.coordination.retry_due
        return own if deadline is None or (own is not None and own < deadline) else deadline

    def _note_retry(self, agent_id: str, reason: str) -> None:
        self.retries[agent_id] = self.retries.get(agent_id, 0) + 1
        if self.coordination.mark_retrying(agent_id, reason, time.monotonic()):
            self.queue.put_nowait(_WAKE)  # the decision may no longer need to wait for it

    def _check_retry_bounds(self, item: Any) -> Any:
        """Give up the agents past their retry bound; waking up for that is no session timeout."""
        due = self.coordination.retry_due
        if due is None or time.monotonic() < due:
            return item
        for agent_id in self.coordination.give_up_overdue(time.monotonic()):
            task = self.tasks.get(agent_id)
            if task is not None:
                task.cancel()
        self._report_dropped()
        return _WAKE if item is None else item

    def _report_dropped(self) -> None:
        for dropped in self.coordination.take_dropped():
            self.emit(ev.AgentFailed, agent_id=dropped.agent_id, error=dropped.error)

    def _drain(self) -> list[ev.Event]:
        items: list[ev.Event] = []
        while True:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                return items
            if isinstance(item, ev.Event):
                items.append(item)

    def _finish_launch(self, done: _LaunchDone) -> None:
        if self.tasks.get(done.agent_id) is not done.task:
            return  # a launch already accounted for (the session is ending)
        del self.tasks[done.agent_id]
        self.coordination.finish(done.agent_id, done.outcome, done.detail, now=time.monotonic())
        self._report_dropped()

    def _scale(self) -> None:
        """Grow the team as its ``scale`` says (massgen_core.orchestrator.scaling)."""
        if self.scaler is None:
            return
        stopping = self.coordination.stop_reason is not None or self.budget.exhausted() is not None
        while (growth := self.scaler.next(self.coordination, stopping=stopping)) is not None:
            assert self.orch.spawn is not None
            agent = self.orch.spawn(growth.copy_of, growth.agent_id)
            self.agents[agent.id] = agent
            self.coordination.add_agent(agent.id)
            self.strategy.agents.append(AgentInfo(id=agent.id, weight=agent.weight, role=agent.role))
            self.emit(ev.AgentAdded, agent_id=agent.id, copy_of=growth.copy_of, reason=growth.reason)

    async def _shrink(self) -> None:
        """The turn is over: the agents it added leave the strategy and close their backends."""
        del self.strategy.agents[self._voters :]
        for agent_id in self.coordination.order[len(self.order) :]:
            await self.agents[agent_id].backend.aclose()

    def _schedule(self) -> None:
        for launch in self.coordination.to_launch():
            agent_id = launch.agent_id
            if launch.restarted is not None:
                self.emit(ev.AgentRestarted, agent_id=agent_id, reason=launch.restarted)
            task = self._spawn(
                ln.run_launch(self, self.agents[agent_id], launch.number), f"massgen-launch-{agent_id}"
            )
            self.tasks[agent_id] = task
            task.add_done_callback(functools.partial(self._launch_finished, agent_id))

    def _launch_finished(self, agent_id: str, task: asyncio.Task[tuple[Outcome, str]]) -> None:
        # A done callback, not code in the task: a task cancelled before its first step never runs its body.
        if task.cancelled():
            reason = self.coordination.records[agent_id].restart_reason or "the answers changed"
            done = _LaunchDone(agent_id, Outcome.RESTART, reason, task)
        else:
            outcome, detail = task.result()
            done = _LaunchDone(agent_id, outcome, detail, task)
        self.queue.put_nowait(done)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        assert self._group is not None, "tasks start inside the session's task group"
        task = self._group.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cancel_all(self) -> None:
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()
        self.coordination.stopped_all()

    # -- the end -----------------------------------------------------------------

    async def _conclude(self, ended_by: EndedBy) -> AsyncIterator[ev.Event]:
        coordination = self.coordination
        answers = coordination.ordered_answers()
        if not answers:
            reasons = "; ".join(f"{agent_id}: {error}" for agent_id, error in coordination.failures.items())
            yield self._finished(None, None, ended_by, "no agent produced an answer" + (f" ({reasons})" if reasons else ""))
            return
        votes = coordination.current_votes()
        decision = self.strategy.decide(votes, answers)
        winner = decision.winner if decision.winner in answers else next(iter(answers))
        explanation = decision.explanation
        if ended_by is not EndedBy.CONSENSUS:
            explanation = (
                f"Coordination ended early ({ended_by}); decided from what existed. " + explanation
            ).strip()
        if coordination.left_out:
            who = "; ".join(f"{agent_id}: {why}" for agent_id, why in coordination.left_out.items())
            explanation = f"{explanation} Left out (did not wait for): {who}.".strip()
        self.emit(
            ev.WinnerSelected,
            winner=winner,
            strategy=self.orch.strategy_name,
            tally=dict(decision.tally),
            reasons=dict(decision.reasons),
            explanation=explanation,
        )
        for event in self._drain():
            yield event
        final = answers[winner]
        error = None
        present = (
            self.limits.final_presentation
            and ended_by in (EndedBy.CONSENSUS, EndedBy.ANSWER_CAP, EndedBy.ALL_AGENTS_FAILED)
            and coordination.records[winner].active
        )
        if present:
            box: list[Any] = []
            async for event in self._present(winner, answers, votes, decision, box):
                yield event
            presented, error = box[0]
            if presented is not None:
                final = presented
            if coordination.stop_reason is EndedBy.CANCELLED:  # Ctrl-C during the presentation
                ended_by = EndedBy.CANCELLED
        else:
            self.emit(ev.FinalAnswerDelta, agent_id=winner, text=final)
            for event in self._drain():
                yield event
        yield self._finished(final, winner, ended_by, error)

    async def _present(
        self,
        winner: str,
        answers: Mapping[str, str],
        votes: Mapping[str, Vote],
        decision: Any,
        box: list[Any],
    ) -> AsyncIterator[ev.Event]:
        """Stream the winner's presentation (PROTOCOL.md §7); ``box`` receives (text or None, error or None)."""
        agent = self.agents[winner]
        messages = prompts.presentation_messages(
            system_message=agent.system_message,
            winner=winner,
            question=self.question,
            answers=answers,
            reasons={voter: vote.reason for voter, vote in votes.items()},
            votes_for={voter: vote.target for voter, vote in votes.items()},
            tally=decision.tally,
            history=self.history,
            instructions=self.limits.presentation_instructions,
            attachments=self.attachments,
        )
        result: list[_CallDone | None] = []
        async for event in self._pump(agent, messages, result, own_answer=answers[winner]):
            yield event
        done = result[0]
        if done is None:
            box.append((None, "final presentation timed out; the winner's answer is used verbatim"))
        elif done.outcome == "failed":
            box.append(
                (
                    None,
                    f"final presentation failed ({done.detail}); the winner's answer is used verbatim",
                )
            )
        elif done.outcome == "cancelled":
            kept = "the text streamed so far is the answer" if done.detail else "the winner's answer is used verbatim"
            box.append((done.detail or None, f"cancelled during the final presentation; {kept}"))
        elif not done.detail.strip():
            box.append((None, "final presentation was empty; the winner's answer is used verbatim"))
        else:
            box.append((done.detail, None))

    async def _pump(
        self,
        agent: Agent,
        messages: tuple[bk.Message, ...],
        box: list[_CallDone | None],
        *,
        own_answer: str | None = None,
    ) -> AsyncIterator[ev.Event]:
        """Run one tool-less call as a task, yielding its events live; ``box`` gets its result (None: timeout).

        ``cancel()`` (Ctrl-C) stops the call at once: ``box`` gets ``cancelled`` with the text streamed so far.
        """
        self._spawn(self._plain_call(agent, messages, own_answer), f"massgen-final-{agent.id}")
        limit = self.limits.session_timeout
        deadline = None if limit is None else self.started + limit
        streamed: list[str] = []
        while True:
            item = await self._next(deadline)
            if item is None:
                await self._cancel_all()
                box.append(None)
                break
            if isinstance(item, ev.Event):
                if isinstance(item, ev.FinalAnswerDelta):
                    streamed.append(item.text)
                yield item
            elif isinstance(item, _CallDone):
                box.append(item)
                break
            if self.coordination.stop_reason is EndedBy.CANCELLED:
                await self._cancel_all()
                break
        for event in self._drain():
            if isinstance(event, ev.FinalAnswerDelta):
                streamed.append(event.text)
            yield event
        if not box:
            box.append(_CallDone("cancelled", "".join(streamed)))

    async def _plain_call(self, agent: Agent, messages: tuple[bk.Message, ...], own_answer: str | None) -> None:
        current_launch.set(
            LaunchContext(
                agent_id=agent.id, labels={}, question=self.question, history=self.history,
                vote_parameters=None, may_answer=False, own_answer=own_answer,
            )
        )
        try:
            text, _calls = await ln.stream_call(self, agent, bk.Request(messages=messages), final=True)
        except Exception as exc:  # reported to the caller of _pump, never raised into the session
            self.queue.put_nowait(_CallDone("failed", ln.describe(exc)))
            return
        self.queue.put_nowait(_CallDone("answered", text))

    def _finished(
        self, final: str | None, winner: str | None, ended_by: EndedBy, error: str | None
    ) -> ev.Event:
        ended_by = self.coordination.end(ended_by)
        usage = self.usage
        # A call cut short before its usage arrived counts its whole reservation, as the budget did.
        self.orch.conversation_cost_usd += max(usage.cost_usd, self.budget.spent)
        if ended_by is EndedBy.BUDGET:
            report = f"stopped at the cost budget ({self.budget.summary()})"
            error = f"{error}; {report}" if error else report
        return self.factory(  # type: ignore[no-any-return]  # the factory builds the class it is given
            ev.SessionFinished,
            final_answer=final,
            winner=winner,
            ended_by=ended_by.value,  # the plain string on the wire
            usage={
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cached_tokens": usage.cached_tokens,
                "reasoning_tokens": usage.reasoning_tokens,
            },
            cost_usd=usage.cost_usd,
            duration_s=time.monotonic() - self.started,
            error=error,
        )

    # -- one agent, no coordination --------------------------------------------------

    async def _direct(self) -> AsyncIterator[ev.Event]:
        agent = self.orch.agents[0]
        self.emit(ev.AgentStarted, agent_id=agent.id, attempt=1, labels={})
        messages = prompts.direct_messages(agent.system_message, self.question, self.history, self.attachments)
        result: list[_CallDone | None] = []
        async for event in self._pump(agent, messages, result):
            yield event
        done = result[0]
        if done is None:
            yield self._finished(None, None, EndedBy.TIMEOUT, "the agent did not answer in time")
        elif done.outcome == "cancelled":
            text = done.detail or None
            yield self._finished(text, agent.id if text else None, EndedBy.CANCELLED, "cancelled while the agent answered")
        elif done.outcome == "answered" and done.detail.strip():
            yield self._finished(done.detail, agent.id, EndedBy.SINGLE_AGENT, None)
        else:
            error = (
                done.detail if done.outcome == "failed" else "the agent returned an empty answer"
            )
            self.emit(ev.AgentFailed, agent_id=agent.id, error=error)
            for event in self._drain():
                yield event
            yield self._finished(None, None, EndedBy.ALL_AGENTS_FAILED, error)


__all__ = ["ENDED_BY", "MAX_TOOL_ROUNDS", "EndedBy", "Limits", "Orchestrator", "Outcome"]
