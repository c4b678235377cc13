"""The coordination loop (PROTOCOL.md §4–8) as an async generator of typed events.

``Orchestrator.run`` launches every agent concurrently, enforces the workflow
tools, records answers and votes, restarts agents when the snapshot changes,
applies the bounds, asks the strategy for the winner and streams the winner's
presentation. All session state is mutated synchronously (no await between a
check and its update), so concurrent launches never see a half-applied answer.
It never prints, and every task it starts is cancelled and awaited before
``run`` returns, whatever the reason.
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
from massgen_core.metering import current_meter
from massgen_core.orchestrator import prompts, stragglers, workflow
from massgen_core.orchestrator.accounting import CallRecord
from massgen_core.orchestrator.agent import Agent
from massgen_core.orchestrator.budget import BudgetExceeded, Budgets, Hold, settled_cost
from massgen_core.orchestrator.stragglers import Retrying
from massgen_core.orchestrator.context import LaunchContext, current_launch
from massgen_core.redaction import redact_text
from massgen_core.tools import Tool
from massgen_core.voting import InvalidVote, Vote, VotingStrategy

ENDED_BY = (
    "consensus",
    "timeout",
    "budget",
    "answer_cap",
    "all_agents_failed",
    "cancelled",
    "single_agent",
)
MAX_TOOL_ROUNDS = 10  # registered-tool round trips within one attempt


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
    coordination_instructions: str | None = None
    presentation_instructions: str | None = None


# -- what a launch reports back to the driver ---------------------------------


@attrs.frozen
class _LaunchDone:
    agent_id: str
    outcome: str  # voted | answered | stale | failed | capped | restart
    detail: str = ""
    task: Any = None


@attrs.frozen
class _CallDone:
    """The result of a tool-less call (presentation, direct answer)."""

    outcome: str  # answered | failed | cancelled (detail: the text streamed before Ctrl-C)
    detail: str = ""


_WAKE = object()  # a bound was hit inside a launch: the driver must look at the state


class _AttemptError(Exception):
    """A response broke a §4 rule; the message goes back to the model."""

    def __init__(
        self, message: str, *, vote: bool = False, capped: bool = False, missing: bool = False
    ) -> None:
        super().__init__(message)
        self.vote = vote
        self.capped = capped
        self.missing = missing  # the reply carried no workflow action at all


@attrs.define(eq=False)
class _State:
    agent: Agent
    task: asyncio.Task[None] | None = None
    launches: int = 0
    answers_given: int = 0
    failures: int = 0
    active: bool = True
    capped_version: int = -1  # snapshot version on which it ran out of answers and would not vote
    restart_reason: str | None = None
    announced: bool = False  # the current launch has emitted AgentStarted
    retrying: Retrying | None = None  # retrying or relaunching since its last progress


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
            self._session.request_stop("cancelled")

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


class _Session:
    """The state and the driver of one ``run``."""

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
        self.states = {agent.id: _State(agent) for agent in orch.agents}
        self.order = [agent.id for agent in orch.agents]
        self.answers: dict[str, str] = {}
        self.votes: dict[str, Vote] = {}
        self.failures: dict[str, str] = {}  # agent id -> why it was dropped
        self.version = 0
        self.usage = bk.Usage()
        self.stop_reason: str | None = None
        self.closed = False
        self.started = time.monotonic()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.retries: dict[str, int] = {}  # agent id -> backend retries reported so far
        self.left_out: dict[str, str] = {}  # agent id -> why the decision did not wait for it
        self._retry_due: float | None = None  # no retrying agent runs out of its bound before this
        limits = orch.limits
        self.budget = Budgets(
            session=limits.max_cost_usd,
            per_agent=limits.max_cost_usd_per_agent,
            conversation=limits.max_conversation_cost_usd,
            spent_before=orch.conversation_cost_usd,
        )

    # -- emitting ------------------------------------------------------------

    def emit(self, cls: type[ev.Event], **fields: Any) -> None:
        # Stamping and enqueueing together keeps seq equal to yield order.
        self.queue.put_nowait(self.factory(cls, **fields))

    def forward(self, event: ev.Event) -> None:
        stamped = attrs.evolve(
            event, session_id=self.factory.session_id, seq=next(self.factory._seq), ts=time.time()
        )
        if type(event) is ev.BackendRetry:
            self._note_retry(event.agent_id, f"{event.error} (retry {event.attempt})")
        self.queue.put_nowait(stamped)

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.queue.put_nowait(_WAKE)

    # -- the driver ------------------------------------------------------------

    async def events(self) -> AsyncGenerator[ev.Event, None]:
        try:
            async with contextlib.aclosing(self._drive()) as drive:
                async for event in drive:
                    yield event
        finally:
            self.closed = True
            await self._cancel_all()

    async def _drive(self) -> AsyncGenerator[ev.Event, None]:
        orch = self.orch
        limits = orch.limits
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
        ended_by: str | None = None
        while ended_by is None:
            item = await self._next(self._wake_at(deadline))
            if self._retry_due is not None:
                item = self._check_retry_bounds(item)
            if item is None:
                ended_by = "timeout"
                break
            if isinstance(item, ev.Event):
                yield item
                if self.stop_reason is None:
                    continue
            elif isinstance(item, _LaunchDone):
                self._finish_launch(item)
            if self.stop_reason is not None:
                ended_by = self.stop_reason
                break
            self._schedule()
            ended_by = self._ended()
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
        own = self._retry_due
        return own if deadline is None or (own is not None and own < deadline) else deadline

    def _retrying(self) -> dict[str, Retrying | None]:
        return {agent_id: s.retrying for agent_id, s in self.states.items() if s.active}

    def _note_retry(self, agent_id: str, reason: str) -> None:
        self.retries[agent_id] = self.retries.get(agent_id, 0) + 1
        state = self.states.get(agent_id)
        if state is not None and state.active:
            self._mark_retrying(state, reason)
            self.queue.put_nowait(_WAKE)  # the decision may no longer need to wait for it

    def _mark_retrying(self, state: _State, reason: str) -> None:
        since = state.retrying.since if state.retrying is not None else time.monotonic()
        state.retrying = Retrying(since, reason)
        bound = self.orch.limits.agent_retry_timeout
        if bound is not None:  # the earliest an agent can run out; progress since is checked when it comes
            due = since + bound
            self._retry_due = due if self._retry_due is None else min(self._retry_due, due)

    def _check_retry_bounds(self, item: Any) -> Any:
        """Give up the agents past their retry bound; waking up for that is no session timeout."""
        if self._retry_due is None or time.monotonic() < self._retry_due:
            return item
        self._give_up_overdue()
        return _WAKE if item is None else item

    def _give_up_overdue(self) -> None:
        """Drop the agents retrying past their wall-time bound, and find when the next may run out."""
        bound = self.orch.limits.agent_retry_timeout
        for agent_id, why in stragglers.overdue(self._retrying(), bound, time.monotonic()).items():
            state = self.states[agent_id]
            if state.task is not None:
                state.task.cancel()
            self._drop(state, why)
        self._retry_due = stragglers.next_deadline(self._retrying(), bound)

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
        state = self.states[done.agent_id]
        if state.task is not done.task:
            return  # a launch already accounted for (the session is ending)
        state.task = None
        if done.outcome in ("voted", "answered"):
            state.failures = 0
            state.retrying = None
            return
        if done.outcome == "capped":
            state.failures = 0
            state.retrying = None
            state.capped_version = self.version
            return
        if done.outcome == "fatal":  # relaunching cannot help (no key, refused key, unknown model)
            state.failures += 1
            self._drop(state, done.detail)
            return
        if done.outcome == "failed":
            state.failures += 1
            if state.failures >= self.orch.limits.max_consecutive_failures:
                self._drop(state, f"{done.detail} ({state.failures} consecutive failed launches)")
                return
            state.restart_reason = f"previous launch failed: {done.detail}"
            self._mark_retrying(state, done.detail)
            return
        state.restart_reason = done.detail or None

    def _drop(self, state: _State, error: str) -> None:
        state.active = False
        self.votes.pop(state.agent.id, None)
        self.failures[state.agent.id] = error
        self.emit(ev.AgentFailed, agent_id=state.agent.id, error=error)

    def _schedule(self) -> None:
        if self.stop_reason is not None:
            return
        for agent_id in self.order:
            state = self.states[agent_id]
            if not state.active or state.task is not None:
                continue
            if agent_id in self.votes or state.capped_version == self.version:
                continue
            if not self.orch.strategy.may_answer(agent_id) and not self.answers:
                continue  # a judge waits for something to judge
            if state.launches and state.restart_reason is not None:
                self.emit(ev.AgentRestarted, agent_id=agent_id, reason=state.restart_reason)
            state.restart_reason = None
            state.announced = False
            state.launches += 1
            task = self._spawn(self._launch_task(state), f"massgen-launch-{agent_id}")
            state.task = task
            task.add_done_callback(functools.partial(self._launch_finished, state))

    def _needed_voters(self) -> list[str]:
        return [
            agent_id
            for agent_id in self.orch.strategy.voters()
            if agent_id in self.states
            and self.states[agent_id].active
            and self.states[agent_id].capped_version != self.version
        ]

    def _ended(self) -> str | None:
        active = [s for s in self.states.values() if s.active]
        if not active:
            return "all_agents_failed"
        capped = any(s.capped_version == self.version for s in active)
        if self.answers:
            current = {
                voter: vote for voter, vote in self.votes.items() if self.states[voter].active
            }
            needed = self._needed_voters()
            if self.orch.strategy.consensus_reached(current, needed):
                return "answer_cap" if capped else "consensus"
            if not self.orch.limits.wait_for_retrying_agents and self._leave_out(current, needed):
                return "answer_cap" if capped else "consensus"
        if not any(s.task is not None for s in active):
            # Nobody is running and nobody will be launched: no progress is possible.
            if capped:
                return "answer_cap"
            return (
                "consensus"
                if self.answers and all(v in self.votes for v in self._needed_voters())
                else "all_agents_failed"
            )
        return None

    def _leave_out(self, current: Mapping[str, Vote], needed: list[str]) -> bool:
        """Drop the voters that are only retrying when that lets the others' votes decide."""
        out = stragglers.left_out(needed, current, self._retrying())
        if not out or not self.orch.strategy.consensus_reached(current, [a for a in needed if a not in out]):
            return False
        for agent_id, why in out.items():
            self.left_out[agent_id] = why
            self._drop(self.states[agent_id], f"left out of the decision: {why}, and every other agent had voted")
        return True

    async def _cancel_all(self) -> None:
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for state in self.states.values():
            state.task = None

    # -- one launch --------------------------------------------------------------

    async def _launch_task(self, state: _State) -> tuple[str, str]:
        try:
            return await self._launch(state)
        except Exception as exc:  # a backend error fails this launch, never the session
            return ("fatal" if getattr(exc, "fatal", False) else "failed"), _describe(exc)

    def _launch_finished(self, state: _State, task: asyncio.Task[tuple[str, str]]) -> None:
        # A done callback, not code in the task: a task cancelled before its first step never runs its body.
        if task.cancelled() and not state.announced:
            # Cancelled before it began: nobody saw it start, so it is relaunched silently.
            state.launches -= 1
            state.restart_reason = None
            done = _LaunchDone(state.agent.id, "restart", "", task)
        elif task.cancelled():
            done = _LaunchDone(
                state.agent.id, "restart", state.restart_reason or "the answers changed", task
            )
        else:
            outcome, detail = task.result()
            done = _LaunchDone(state.agent.id, outcome, detail, task)
        self.queue.put_nowait(done)

    async def _launch(self, state: _State) -> tuple[str, str]:
        agent = state.agent
        strategy = self.orch.strategy
        version = self.version
        answers = dict(self.answers)
        labels = prompts.assign_labels(list(answers))
        current_launch.set(
            LaunchContext(
                agent_id=agent.id, labels=labels, question=self.question, history=self.history
            )
        )
        self.emit(ev.AgentStarted, agent_id=agent.id, attempt=state.launches, labels=labels)
        state.announced = True
        may_answer = strategy.may_answer(agent.id)
        choice = agent.workflow
        vote_parameters = strategy.vote_parameters(list(labels)) if labels else None
        offer = workflow.offer(
            may_answer=may_answer, labels=list(labels), vote_parameters=vote_parameters,
            transport=choice.current,
        )
        messages: list[bk.Message] = [
            self._system_message(agent, offer),
            bk.Message(
                role="user",
                content=prompts.user_content(
                    prompts.user_prompt(self.question, answers, labels, self.order, self.history),
                    self.attachments,
                ),
            ),
        ]
        last_error = "no response"
        capped = False
        for _attempt in range(self.orch.limits.max_attempts):
            text, calls = await self._respond(agent, messages, offer)
            action = workflow.read(offer, text, calls)
            if workflow.answered_in_text(offer, action) and choice.fall_back():
                self.emit(
                    ev.WorkflowFallback, agent_id=agent.id, from_transport=offer.transport,
                    to_transport=choice.current,
                    reason="it answered in plain text although tools were offered",
                )
            results = {
                c.id: await self._run_tool(agent, c)
                for c in calls
                if c.name not in prompts.WORKFLOW_TOOLS
            }
            try:
                vote_or_answer = self._validate(state, action, labels, may_answer)
            except _AttemptError as err:
                last_error, capped = str(err), err.capped
                if err.vote:
                    target = _vote_label(action)
                    self.emit(
                        ev.VoteDiscarded,
                        voter=agent.id,
                        target=labels.get(target or ""),
                        reason=last_error,
                    )
                else:
                    self.emit(ev.AnswerRejected, agent_id=agent.id, reason=last_error)
                sent = offer.transport
                if (err.missing or _malformed(action)) and choice.fall_back():
                    offer = attrs.evolve(offer, transport=choice.current)
                    messages[0] = self._system_message(agent, offer)
                    self.emit(
                        ev.WorkflowFallback, agent_id=agent.id, from_transport=sent,
                        to_transport=choice.current, reason=last_error,
                    )
                messages.append(bk.Message(role="assistant", content=text, tool_calls=tuple(calls)))
                if calls:
                    for call in calls:
                        body = results.get(call.id, last_error)
                        messages.append(
                            bk.Message(
                                role="tool", content=body, tool_call_id=call.id, name=call.name
                            )
                        )
                if not calls or sent != workflow.TOOLS:
                    feedback = workflow.reminder(offer) if err.missing else f"{last_error}\n\n{workflow.reminder(offer)}"
                    messages.append(bk.Message(role="user", content=feedback))
                continue
            if isinstance(vote_or_answer, Vote):
                vote = vote_or_answer
                label = next((lab for lab, real in labels.items() if real == vote.target), "")
                if version != self.version:
                    self.emit(
                        ev.VoteDiscarded,
                        voter=agent.id,
                        target=vote.target,
                        reason="stale: the answers changed while this agent was deciding",
                    )
                    return "stale", "the answers changed while it was voting"
                self.votes[agent.id] = vote
                self.emit(
                    ev.VoteCast,
                    voter=agent.id,
                    target=vote.target,
                    target_label=label,
                    reason=vote.reason,
                    ranking=tuple(vote.ranking),
                )
                return "voted", ""
            self._accept_answer(state, vote_or_answer)
            return "answered", ""
        if capped:
            return "capped", last_error
        return (
            "failed",
            f"no valid workflow tool call after {self.orch.limits.max_attempts} attempts: {last_error}",
        )

    def _system_message(self, agent: Agent, offer: bk.WorkflowOffer) -> bk.Message:
        custom = self.orch.limits.coordination_instructions
        return bk.Message(
            role="system",
            content=prompts.system_prompt(
                agent.system_message,
                has_history=bool(self.history),
                instructions=workflow.instructions(offer, custom),
            ),
        )

    async def _respond(
        self, agent: Agent, messages: list[bk.Message], offer: bk.WorkflowOffer
    ) -> tuple[str, list[bk.ToolCall]]:
        """One model response, running registered tools in between until the model makes a workflow call."""
        tools = workflow.tool_specs(offer) if offer.transport == workflow.TOOLS else []
        tools.extend(tool.spec() for tool in self.orch.tools_for(agent).values())
        request = bk.Request(
            messages=(), tools=tuple(tools), workflow=offer,
            response_schema=workflow.response_schema(offer),
        )
        for _round in range(MAX_TOOL_ROUNDS):
            text, calls = await self._call(agent, attrs.evolve(request, messages=tuple(messages)))
            if not calls or any(c.name in prompts.WORKFLOW_TOOLS for c in calls):
                return text, calls
            messages.append(bk.Message(role="assistant", content=text, tool_calls=tuple(calls)))
            for call in calls:
                result = await self._run_tool(agent, call)
                messages.append(
                    bk.Message(role="tool", content=result, tool_call_id=call.id, name=call.name)
                )
        raise RuntimeError(
            f"more than {MAX_TOOL_ROUNDS} rounds of tool calls without a workflow tool call"
        )

    async def _call(
        self, agent: Agent, request: bk.Request, *, final: bool = False
    ) -> tuple[str, list[bk.ToolCall]]:
        """Stream one model request into events; returns its text and complete tool calls.

        However the call ends, the request is counted (massgen_core.orchestrator.accounting)
        and its budget hold settled (massgen_core.orchestrator.budget).
        """
        parts: list[str] = []
        calls: list[bk.ToolCall] = []
        emit = self.emit
        agent_id = agent.id
        delta_cls = ev.FinalAnswerDelta if final else ev.TextDelta
        hold = await self._reserve(agent, request)
        record = CallRecord(agent.backend, request, self.retries.get(agent_id, 0))
        token = current_meter.set(record.meter)
        status, streamed = "failed", 0
        error: Exception | None = None
        stream: Any = None
        try:
            stream = agent.backend.stream(request)
            async with asyncio.timeout(agent.call_timeout):
                async for chunk in stream:
                    kind = type(chunk)
                    if record.first_content is None and kind is not bk.UsageChunk and kind is not bk.Done:
                        record.first_content = time.monotonic()
                        self.states[agent_id].retrying = None  # it is making progress again
                    if kind is bk.TextDelta:
                        if record.first_text is None:
                            record.first_text = time.monotonic()
                        parts.append(chunk.text)
                        emit(delta_cls, agent_id=agent_id, text=chunk.text)
                        if hold is not None:
                            self._streamed(hold, len(chunk.text))
                    elif kind is bk.ReasoningDelta:
                        streamed += len(chunk.text)
                        emit(ev.ReasoningDelta, agent_id=agent_id, text=chunk.text)
                        if hold is not None:
                            self._streamed(hold, len(chunk.text))
                    elif kind is bk.ToolCallChunk:
                        streamed += len(chunk.call.arguments_raw or "") + len(chunk.call.name)
                        calls.append(chunk.call)
                    elif kind is bk.UsageChunk:
                        record.add_usage(chunk.usage, served=(chunk.backend, chunk.model))
            status = "ok"
        except TimeoutError as exc:
            error = exc
            limit = "" if agent.call_timeout is None else f" after {agent.call_timeout:g}s"
            raise TimeoutError(f"model call timed out{limit}") from None
        except (asyncio.CancelledError, BudgetExceeded):  # cut short by a restart, a stop or its budget
            status = "cancelled"
            raise
        except Exception as exc:
            error = exc
            raise
        finally:
            current_meter.reset(token)
            # Close the stream now, not at garbage collection: a cancelled call must release its connection.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
            output = streamed + sum(len(p) for p in parts)
            fields = record.report(status, output, self.retries.get(agent_id, 0), error)
            if hold is not None:
                self.budget.settle(hold, settled_cost(hold, fields))
            if fields is not None:
                self._usage(agent, fields, record.served_by())
        return "".join(parts), calls

    async def _reserve(self, agent: Agent, request: bk.Request) -> Hold | None:
        """The call's budget hold (None without budgets); a call that cannot fit stops what the cap covers."""
        if not self.budget.active:
            return None
        try:
            return await self.budget.reserve(agent.id, agent.backend, request)
        except BudgetExceeded as exc:
            if not exc.fatal:
                self.request_stop("budget")
            raise

    def _streamed(self, hold: Hold, chars: int) -> None:
        hold.streamed_chars += chars
        scope = self.budget.crossed(hold)
        if scope == "agent":
            raise BudgetExceeded(f"agent {hold.agent_id} reached its budget while streaming", scope=scope)
        if scope is not None:
            self.request_stop("budget")  # the driver cancels every in-flight call

    def _usage(
        self, agent: Agent, fields: dict[str, Any], served: tuple[str | None, str | None] = (None, None)
    ) -> None:
        self.usage = self.usage + bk.Usage(
            input_tokens=fields["input_tokens"],
            output_tokens=fields["output_tokens"],
            cached_tokens=fields["cached_tokens"],
            reasoning_tokens=fields["reasoning_tokens"],
            cost_usd=fields["cost_usd"],
        )
        self.emit(
            ev.UsageReported,
            agent_id=agent.id,
            backend=served[0] or agent.backend_type,  # the backend that served (a fallback, a pool member)
            model=served[1] or agent.model,
            **fields,
        )
        if self.budget.exhausted() is not None:
            self.request_stop("budget")

    async def _run_tool(self, agent: Agent, call: bk.ToolCall) -> str:
        self.emit(
            ev.ToolCalled,
            agent_id=agent.id,
            call_id=call.id,
            name=call.name,
            arguments=call.arguments,
        )
        offered = self.orch.tools_for(agent)
        tool = offered.get(call.name)
        is_error = True
        if tool is None:
            result = f"Error: unknown tool {call.name!r}. Available: {', '.join(sorted(offered)) or 'none'}"
        elif call.arguments is None:
            result = f"Error: the arguments of {call.name} are not valid JSON"
        else:
            try:
                result = str(await tool(**call.arguments))
                is_error = False
            except Exception as exc:  # the model sees the tool's failure and may recover
                result = f"Error: {_describe(exc)}"
        self.emit(
            ev.ToolResult,
            agent_id=agent.id,
            call_id=call.id,
            name=call.name,
            result=result,
            is_error=is_error,
        )
        return result

    def _validate(
        self,
        state: _State,
        workflow: list[bk.ToolCall],
        labels: Mapping[str, str],
        may_answer: bool,
    ) -> Vote | str:
        """The §4 rules: a Vote or an answer text, or _AttemptError with the message for the model."""
        votes = [c for c in workflow if c.name == prompts.VOTE]
        answers = [c for c in workflow if c.name == prompts.NEW_ANSWER]
        if not workflow:
            raise _AttemptError(
                "no workflow tool call: finish by calling `vote` or `new_answer`", missing=True
            )
        if votes and answers:
            raise _AttemptError(
                "Error: cannot call both `vote` and `new_answer` in the same response; call one"
            )
        if len(votes) > 1:
            raise _AttemptError("Error: only one `vote` call is allowed per response", vote=True)
        if len(answers) > 1:
            raise _AttemptError("Error: only one `new_answer` call is allowed per response")
        agent_id = state.agent.id
        if votes:
            call = votes[0]
            if not labels:
                raise _AttemptError(
                    "Error: cannot vote when no answers exist; use `new_answer`", vote=True
                )
            if call.arguments is None:
                raise _AttemptError("Error: the arguments of `vote` are not valid JSON", vote=True)
            try:
                return self.orch.strategy.parse_vote(agent_id, call.arguments, labels)
            except InvalidVote as exc:
                raise _AttemptError(f"Error: {exc}", vote=True) from None
        call = answers[0]
        if not may_answer:
            raise _AttemptError("Error: you may not submit answers in this team; use `vote`")
        content = (call.arguments or {}).get("content")
        if not isinstance(content, str) or not content.strip():
            raise _AttemptError("Error: `new_answer` needs a non-empty `content` string")
        cap = self.orch.limits.max_new_answers_per_agent
        if cap is not None and state.answers_given >= cap:
            raise _AttemptError(
                f"Error: you have reached the maximum of {cap} new answer(s); use `vote` instead",
                capped=True,
            )
        trimmed = content.strip()
        if any(existing.strip() == trimmed for existing in self.answers.values()):
            raise _AttemptError(
                "Error: this answer duplicates an existing answer; vote for it instead"
            )
        return content

    def _accept_answer(self, state: _State, text: str) -> None:
        agent_id = state.agent.id
        state.answers_given += 1
        self.answers[agent_id] = text
        self.version += 1
        self.votes.clear()
        label = next(
            lab
            for lab, real in prompts.assign_labels(list(self.answers)).items()
            if real == agent_id
        )
        self.emit(
            ev.AnswerSubmitted,
            agent_id=agent_id,
            label=label,
            text=text,
            revision=state.answers_given,
        )
        current = asyncio.current_task()
        for other in self.states.values():
            if other is state or not other.active:
                continue
            other.restart_reason = f"new answer from {agent_id}"
            if other.task is not None and other.task is not current and not other.task.done():
                other.task.cancel()  # stop the now-stale call early (PROTOCOL.md §5)

    # -- the end -----------------------------------------------------------------

    async def _conclude(self, ended_by: str) -> AsyncIterator[ev.Event]:
        strategy = self.orch.strategy
        answers = {
            agent_id: self.answers[agent_id] for agent_id in self.order if agent_id in self.answers
        }
        if not answers:
            reasons = "; ".join(f"{agent_id}: {error}" for agent_id, error in self.failures.items())
            yield self._finished(None, None, ended_by, "no agent produced an answer" + (f" ({reasons})" if reasons else ""))
            return
        votes = {voter: vote for voter, vote in self.votes.items() if self.states[voter].active}
        decision = strategy.decide(votes, answers)
        winner = decision.winner if decision.winner in answers else next(iter(answers))
        explanation = decision.explanation
        if ended_by != "consensus":
            explanation = (
                f"Coordination ended early ({ended_by}); decided from what existed. " + explanation
            ).strip()
        if self.left_out:
            who = "; ".join(f"{agent_id}: {why}" for agent_id, why in self.left_out.items())
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
            self.orch.limits.final_presentation
            and ended_by in ("consensus", "answer_cap", "all_agents_failed")
            and self.states[winner].active
        )
        if present:
            box: list[Any] = []
            async for event in self._present(winner, answers, votes, decision, box):
                yield event
            presented, error = box[0]
            if presented is not None:
                final = presented
            if self.stop_reason == "cancelled":  # Ctrl-C during the presentation
                ended_by = "cancelled"
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
        agent = self.states[winner].agent
        messages = prompts.presentation_messages(
            system_message=agent.system_message,
            winner=winner,
            question=self.question,
            answers=answers,
            reasons={voter: vote.reason for voter, vote in votes.items()},
            votes_for={voter: vote.target for voter, vote in votes.items()},
            tally=decision.tally,
            history=self.history,
            instructions=self.orch.limits.presentation_instructions,
            attachments=self.attachments,
        )
        result: list[_CallDone | None] = []
        async for event in self._pump(agent, messages, result):
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
        self, agent: Agent, messages: tuple[bk.Message, ...], box: list[_CallDone | None]
    ) -> AsyncIterator[ev.Event]:
        """Run one tool-less call as a task, yielding its events live; ``box`` gets its result (None: timeout).

        ``cancel()`` (Ctrl-C) stops the call at once: ``box`` gets ``cancelled`` with the text streamed so far.
        """
        self._spawn(self._plain_call(agent, messages), f"massgen-final-{agent.id}")
        limit = self.orch.limits.session_timeout
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
            if self.stop_reason == "cancelled":
                await self._cancel_all()
                break
        for event in self._drain():
            if isinstance(event, ev.FinalAnswerDelta):
                streamed.append(event.text)
            yield event
        if not box:
            box.append(_CallDone("cancelled", "".join(streamed)))

    async def _plain_call(self, agent: Agent, messages: tuple[bk.Message, ...]) -> None:
        current_launch.set(
            LaunchContext(
                agent_id=agent.id, labels={}, question=self.question, history=self.history
            )
        )
        try:
            text, _calls = await self._call(agent, bk.Request(messages=messages), final=True)
        except Exception as exc:  # reported to the caller of _pump, never raised into the session
            self.queue.put_nowait(_CallDone("failed", _describe(exc)))
            return
        self.queue.put_nowait(_CallDone("answered", text))

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _finished(
        self, final: str | None, winner: str | None, ended_by: str, error: str | None
    ) -> ev.Event:
        usage = self.usage
        # A call cut short before its usage arrived counts its whole reservation, as the budget did.
        self.orch.conversation_cost_usd += max(usage.cost_usd, self.budget.spent)
        if ended_by == "budget":
            report = f"stopped at the cost budget ({self.budget.summary()})"
            error = f"{error}; {report}" if error else report
        return self.factory(  # type: ignore[no-any-return]  # the factory builds the class it is given
            ev.SessionFinished,
            final_answer=final,
            winner=winner,
            ended_by=ended_by,
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
            yield self._finished(None, None, "timeout", "the agent did not answer in time")
        elif done.outcome == "cancelled":
            text = done.detail or None
            yield self._finished(text, agent.id if text else None, "cancelled", "cancelled while the agent answered")
        elif done.outcome == "answered" and done.detail.strip():
            yield self._finished(done.detail, agent.id, "single_agent", None)
        else:
            error = (
                done.detail if done.outcome == "failed" else "the agent returned an empty answer"
            )
            self.emit(ev.AgentFailed, agent_id=agent.id, error=error)
            for event in self._drain():
                yield event
            yield self._finished(None, None, "all_agents_failed", error)


def _vote_label(workflow: list[bk.ToolCall]) -> str | None:
    for call in workflow:
        if call.name == prompts.VOTE and call.arguments:
            label = call.arguments.get("agent_id")
            return label if isinstance(label, str) else None
    return None


def _malformed(action: list[bk.ToolCall]) -> bool:
    """A workflow call whose arguments were not valid JSON: the transport, not the model's choice, failed."""
    return any(call.arguments is None for call in action)


def _describe(exc: BaseException) -> str:
    message = redact_text(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
