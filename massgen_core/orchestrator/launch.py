"""One launch of one agent (PROTOCOL.md §3–4): prompts, the action transport, validation, the tool loop.

``run_launch`` builds the two messages an agent starts from, offers the
workflow actions on the agent's transport (massgen_core.orchestrator.workflow),
makes up to ``max_attempts`` model responses, runs registered tools in
between, checks each action against the §4 rules (``validate``) and hands
an accepted vote or answer to the coordination state. ``stream_call`` turns
one model request into events, counting its usage and settling its budget
hold. What a launch needs from its session is the ``Host`` protocol; it
never decides when coordination ends and never starts a task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.content import Attachment
from massgen_core.metering import current_meter
from massgen_core.orchestrator import prompts, workflow
from massgen_core.orchestrator.accounting import CallRecord
from massgen_core.orchestrator.agent import Agent
from massgen_core.orchestrator.answer_stream import AnswerStream
from massgen_core.orchestrator.budget import BudgetExceeded, Budgets, Hold, settled_cost
from massgen_core.orchestrator.context import LaunchContext, current_launch
from massgen_core.orchestrator.coordination import AnswerProblem, Coordination, EndedBy, Outcome
from massgen_core.redaction import redact_text
from massgen_core.tools import Tool
from massgen_core.voting import InvalidVote, Vote, VotingStrategy

MAX_TOOL_ROUNDS = 10  # registered-tool round trips within one attempt


class Host(Protocol):
    """What a launch uses of the session running it."""

    question: str
    history: tuple[tuple[str, str], ...]
    attachments: tuple[Attachment, ...]
    coordination: Coordination
    budget: Budgets
    retries: dict[str, int]

    def emit(self, cls: type[ev.Event], **fields: Any) -> None: ...
    def request_stop(self, reason: EndedBy) -> None: ...
    def add_usage(self, usage: bk.Usage) -> None: ...
    def answer_accepted(self, agent_id: str, restarted: tuple[str, ...]) -> None: ...
    def tools_for(self, agent: Agent) -> Mapping[str, Tool]: ...

    @property
    def strategy(self) -> VotingStrategy: ...
    @property
    def limits(self) -> Any: ...


class _AttemptError(Exception):
    """A response broke a §4 rule; the message goes back to the model."""

    def __init__(
        self, message: str, *, vote: bool = False, capped: bool = False, missing: bool = False
    ) -> None:
        super().__init__(message)
        self.vote = vote
        self.capped = capped
        self.missing = missing  # the reply carried no workflow action at all


# -- the attempts ------------------------------------------------------------------


async def run_launch(host: Host, agent: Agent, number: int) -> tuple[Outcome, str]:
    """One launch: its outcome, and the error or reason that goes with it."""
    try:
        return await _launch(host, agent, number)
    except Exception as exc:  # a backend error fails this launch, never the session
        return (Outcome.FATAL if getattr(exc, "fatal", False) else Outcome.FAILED), describe(exc)


async def _launch(host: Host, agent: Agent, number: int) -> tuple[Outcome, str]:
    coordination = host.coordination
    strategy = host.strategy
    limits = host.limits
    snapshot = coordination.snapshot()
    labels = snapshot.labels
    may_answer = strategy.may_answer(agent.id)
    vote_parameters = strategy.vote_parameters(list(labels)) if labels else None
    choice = agent.workflow
    offer = workflow.offer(
        may_answer=may_answer, labels=list(labels), vote_parameters=vote_parameters,
        transport=choice.current,
    )
    current_launch.set(
        LaunchContext(
            agent_id=agent.id, labels=labels, question=host.question, history=host.history,
            answers={label: snapshot.answers[real] for label, real in labels.items()},
            vote_parameters=offer.vote_parameters, may_answer=may_answer,
        )
    )
    host.emit(ev.AgentStarted, agent_id=agent.id, attempt=number, labels=labels)
    coordination.announce(agent.id)
    messages: list[bk.Message] = [
        system_message(host, agent, offer),
        bk.Message(
            role="user",
            content=prompts.user_content(
                prompts.user_prompt(host.question, snapshot.answers, labels, coordination.order, host.history),
                host.attachments,
            ),
        ),
    ]
    last_error = "no response"
    capped = False
    for _attempt in range(limits.max_attempts):
        text, calls = await respond(host, agent, messages, offer)
        action = workflow.read(offer, text, calls)
        if workflow.answered_in_text(offer, action) and choice.fall_back():
            host.emit(
                ev.WorkflowFallback, agent_id=agent.id, from_transport=offer.transport,
                to_transport=choice.current,
                reason="it answered in plain text although tools were offered",
            )
        results = {
            c.id: await run_tool(host, agent, c) for c in calls if c.name not in prompts.WORKFLOW_TOOLS
        }
        try:
            vote_or_answer = validate(host, agent.id, action, labels, may_answer)
        except _AttemptError as err:
            last_error, capped = str(err), err.capped
            if err.vote:
                target = _vote_label(action)
                host.emit(
                    ev.VoteDiscarded, voter=agent.id, target=labels.get(target or ""), reason=last_error
                )
            else:
                host.emit(ev.AnswerRejected, agent_id=agent.id, reason=last_error)
            sent = offer.transport
            if (err.missing or _malformed(action)) and choice.fall_back():
                offer = attrs.evolve(offer, transport=choice.current)
                messages[0] = system_message(host, agent, offer)
                host.emit(
                    ev.WorkflowFallback, agent_id=agent.id, from_transport=sent,
                    to_transport=choice.current, reason=last_error,
                )
            messages.append(bk.Message(role="assistant", content=text, tool_calls=tuple(calls)))
            for call in calls:
                body = results.get(call.id, last_error)
                messages.append(bk.Message(role="tool", content=body, tool_call_id=call.id, name=call.name))
            if not calls or sent != workflow.TOOLS:
                feedback = workflow.reminder(offer) if err.missing else f"{last_error}\n\n{workflow.reminder(offer)}"
                messages.append(bk.Message(role="user", content=feedback))
            continue
        if isinstance(vote_or_answer, Vote):
            vote = vote_or_answer
            if not coordination.accept_vote(agent.id, vote, snapshot.version):
                host.emit(
                    ev.VoteDiscarded, voter=agent.id, target=vote.target,
                    reason="stale: the answers changed while this agent was deciding",
                )
                return Outcome.STALE, "the answers changed while it was voting"
            label = next((lab for lab, real in labels.items() if real == vote.target), "")
            host.emit(
                ev.VoteCast, voter=agent.id, target=vote.target, target_label=label,
                reason=vote.reason, ranking=tuple(vote.ranking),
            )
            return Outcome.VOTED, ""
        accepted = coordination.accept_answer(agent.id, vote_or_answer)
        host.emit(
            ev.AnswerSubmitted, agent_id=agent.id, label=accepted.label, text=vote_or_answer,
            revision=accepted.revision,
        )
        host.answer_accepted(agent.id, accepted.restarted)
        return Outcome.ANSWERED, ""
    if capped:
        return Outcome.CAPPED, last_error
    return Outcome.FAILED, f"no valid workflow tool call after {limits.max_attempts} attempts: {last_error}"


def system_message(host: Host, agent: Agent, offer: bk.WorkflowOffer) -> bk.Message:
    return bk.Message(
        role="system",
        content=prompts.system_prompt(
            agent.system_message,
            has_history=bool(host.history),
            instructions=workflow.instructions(offer, host.limits.coordination_instructions),
        ),
    )


def validate(
    host: Host, agent_id: str, action: list[bk.ToolCall], labels: Mapping[str, str], may_answer: bool
) -> Vote | str:
    """The §4 rules: a Vote or an answer text, or _AttemptError with the message for the model."""
    votes = [c for c in action if c.name == prompts.VOTE]
    answers = [c for c in action if c.name == prompts.NEW_ANSWER]
    if not action:
        raise _AttemptError("no workflow tool call: finish by calling `vote` or `new_answer`", missing=True)
    if votes and answers:
        raise _AttemptError("Error: cannot call both `vote` and `new_answer` in the same response; call one")
    if len(votes) > 1:
        raise _AttemptError("Error: only one `vote` call is allowed per response", vote=True)
    if len(answers) > 1:
        raise _AttemptError("Error: only one `new_answer` call is allowed per response")
    if votes:
        call = votes[0]
        if not labels:
            raise _AttemptError("Error: cannot vote when no answers exist; use `new_answer`", vote=True)
        if call.arguments is None:
            raise _AttemptError("Error: the arguments of `vote` are not valid JSON", vote=True)
        try:
            return host.strategy.parse_vote(agent_id, call.arguments, labels)
        except InvalidVote as exc:
            raise _AttemptError(f"Error: {exc}", vote=True) from None
    if not may_answer:
        raise _AttemptError("Error: you may not submit answers in this team; use `vote`")
    content = (answers[0].arguments or {}).get("content")
    if not isinstance(content, str) or not content.strip():
        raise _AttemptError("Error: `new_answer` needs a non-empty `content` string")
    problem = host.coordination.answer_problem(agent_id, content)
    if problem is AnswerProblem.CAPPED:
        raise _AttemptError(
            f"Error: you have reached the maximum of {host.coordination.max_new_answers_per_agent} "
            "new answer(s); use `vote` instead",
            capped=True,
        )
    if problem is AnswerProblem.DUPLICATE:
        raise _AttemptError("Error: this answer duplicates an existing answer; vote for it instead")
    return content


# -- the tool loop -------------------------------------------------------------------


async def respond(
    host: Host, agent: Agent, messages: list[bk.Message], offer: bk.WorkflowOffer
) -> tuple[str, list[bk.ToolCall]]:
    """One model response, running registered tools in between until the model makes a workflow call."""
    tools = workflow.tool_specs(offer) if offer.transport == workflow.TOOLS else []
    tools.extend(tool.spec() for tool in host.tools_for(agent).values())
    request = bk.Request(
        messages=(), tools=tuple(tools), workflow=offer, response_schema=workflow.response_schema(offer),
    )
    for _round in range(MAX_TOOL_ROUNDS):
        text, calls = await stream_call(host, agent, attrs.evolve(request, messages=tuple(messages)))
        if not calls or any(c.name in prompts.WORKFLOW_TOOLS for c in calls):
            return text, calls
        messages.append(bk.Message(role="assistant", content=text, tool_calls=tuple(calls)))
        for call in calls:
            result = await run_tool(host, agent, call)
            messages.append(bk.Message(role="tool", content=result, tool_call_id=call.id, name=call.name))
    raise RuntimeError(f"more than {MAX_TOOL_ROUNDS} rounds of tool calls without a workflow tool call")


async def run_tool(host: Host, agent: Agent, call: bk.ToolCall) -> str:
    host.emit(ev.ToolCalled, agent_id=agent.id, call_id=call.id, name=call.name, arguments=call.arguments)
    offered = host.tools_for(agent)
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
            result = f"Error: {describe(exc)}"
    host.emit(ev.ToolResult, agent_id=agent.id, call_id=call.id, name=call.name, result=result, is_error=is_error)
    return result


# -- one model request -----------------------------------------------------------------


async def stream_call(
    host: Host, agent: Agent, request: bk.Request, *, final: bool = False
) -> tuple[str, list[bk.ToolCall]]:
    """Stream one model request into events; returns its text and complete tool calls.

    However the call ends, the request is counted (massgen_core.orchestrator.accounting)
    and its budget hold settled (massgen_core.orchestrator.budget). Provider-side tool
    progress (``BuiltinToolChunk``) and ``Done.citations`` become events.
    """
    parts: list[str] = []
    calls: list[bk.ToolCall] = []
    emit = host.emit
    agent_id = agent.id
    delta_cls = ev.FinalAnswerDelta if final else ev.TextDelta
    answer = AnswerStream(request.workflow) if request.workflow is not None and not final else None
    hold = await _reserve(host, agent, request)
    record = CallRecord(agent.backend, request, host.retries.get(agent_id, 0))
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
                    host.coordination.progress(agent_id)  # it is making progress again
                if kind is bk.TextDelta:
                    if record.first_text is None:
                        record.first_text = time.monotonic()
                    parts.append(chunk.text)
                    emit(delta_cls, agent_id=agent_id, text=chunk.text)
                    if hold is not None:
                        _streamed(host, hold, len(chunk.text))
                elif kind is bk.ReasoningDelta:
                    streamed += len(chunk.text)
                    emit(ev.ReasoningDelta, agent_id=agent_id, text=chunk.text)
                    if hold is not None:
                        _streamed(host, hold, len(chunk.text))
                elif kind is bk.ToolCallChunk:
                    streamed += len(chunk.call.arguments_raw or "") + len(chunk.call.name)
                    calls.append(chunk.call)
                elif kind is bk.UsageChunk:
                    record.add_usage(chunk.usage, served=(chunk.backend, chunk.model))
                elif kind is bk.BuiltinToolChunk:
                    emit(ev.BuiltinToolUsed, agent_id=agent_id, tool=chunk.tool, status=chunk.status, data=dict(chunk.data))
                elif kind is bk.Done and chunk.citations:
                    emit(ev.CitationsReported, agent_id=agent_id, citations=tuple(dict(c) for c in chunk.citations))
                if answer is not None and (piece := answer.feed(chunk)):
                    emit(ev.AnswerDelta, agent_id=agent_id, text=piece)  # the answer as it is written
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
        fields = record.report(status, output, host.retries.get(agent_id, 0), error)
        if hold is not None:
            host.budget.settle(hold, settled_cost(hold, fields))
        if fields is not None:
            _usage(host, agent, fields, record.served_by())
    return "".join(parts), calls


async def _reserve(host: Host, agent: Agent, request: bk.Request) -> Hold | None:
    """The call's budget hold (None without budgets); a call that cannot fit stops what the cap covers."""
    if not host.budget.active:
        return None
    try:
        return await host.budget.reserve(agent.id, agent.backend, request)
    except BudgetExceeded as exc:
        if not exc.fatal:
            host.request_stop(EndedBy.BUDGET)
        raise


def _streamed(host: Host, hold: Hold, chars: int) -> None:
    hold.streamed_chars += chars
    scope = host.budget.crossed(hold)
    if scope == "agent":
        raise BudgetExceeded(f"agent {hold.agent_id} reached its budget while streaming", scope=scope)
    if scope is not None:
        host.request_stop(EndedBy.BUDGET)  # the driver cancels every in-flight call


def _usage(host: Host, agent: Agent, fields: dict[str, Any], served: tuple[str | None, str | None]) -> None:
    host.add_usage(fields["usage"])
    host.emit(
        ev.UsageReported,
        agent_id=agent.id,
        backend=served[0] or agent.backend_type,  # the backend that served (a fallback, a pool member)
        model=served[1] or agent.model,
        **fields,
    )
    if host.budget.exhausted() is not None:
        host.request_stop(EndedBy.BUDGET)


def _vote_label(action: list[bk.ToolCall]) -> str | None:
    for call in action:
        if call.name == prompts.VOTE and call.arguments:
            label = call.arguments.get("agent_id")
            return label if isinstance(label, str) else None
    return None


def _malformed(action: list[bk.ToolCall]) -> bool:
    """A workflow call whose arguments were not valid JSON: the transport, not the model's choice, failed."""
    return any(call.arguments is None for call in action)


def describe(exc: BaseException) -> str:
    message = redact_text(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
