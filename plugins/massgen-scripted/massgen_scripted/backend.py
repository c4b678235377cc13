"""The ``scripted`` backend: a testing and demo backend that replays a script from config.

It calls no model and touches no network. Each coordination call consumes the
next step of ``script`` (the last repeats); calls without workflow tools (the
final presentation, a single agent answering directly) stream ``final``. It
streams token by token with made-up, consistent usage numbers and cost 0.
It must never be mistaken for a real provider: it holds no keys and sends nothing.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from massgen_core.backend import (
    Backend,
    BackendContext,
    Chunk,
    Done,
    HealthResult,
    ReasoningDelta,
    Request,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from massgen_core.content import text_of
from massgen_core.errors import MassGenError
from massgen_core.orchestrator.workflow import vote_arguments
from massgen_scripted.options import (
    VOTE_TARGETS,
    ScriptedOptions,
    ScriptError,
    Step,
    parse_options,
)

REQUEST_LOG_SIZE = 100
_TOKEN = re.compile(r"\S+\s*|\s+")


async def _sleep(seconds: float) -> None:
    # asyncio is imported here, not at the top: every massgen command loads this plugin, and only
    # a running session (whose event loop has imported asyncio already) ever sleeps.
    import asyncio

    await asyncio.sleep(seconds)


class ScriptedBackendError(MassGenError):
    """A failure the script asked for (``fail: KIND``)."""

    def __init__(self, kind: str, agent_id: str) -> None:
        self.kind = kind
        super().__init__(f"scripted failure {kind!r} for agent {agent_id} (backend scripted)")


class ScriptedBackend(Backend):
    """Replays ``script``; a testing and demo backend, never a model."""

    name: ClassVar[str] = "scripted"
    model_patterns: ClassVar[tuple[str, ...]] = ("scripted*",)
    Options: ClassVar[type | None] = ScriptedOptions
    description: ClassVar[str] = (
        "Testing and demo backend: replays a script from config; no key, no network."
    )
    workflow_transports: ClassVar[tuple[str, ...]] = ("tools", "json")

    def __init__(self, config: Any, context: BackendContext | None = None) -> None:
        super().__init__(config, context)
        options = config.options
        self.options = options if isinstance(options, ScriptedOptions) else parse_options(options)
        self.calls = 0  # coordination calls made (steps consumed)
        self._turn: str | None = None  # with per_turn: the turn the step count belongs to
        # The latest requests, for tests and debugging; bounded so long conversations stay small.
        self.requests: deque[Request] = deque(maxlen=REQUEST_LOG_SIZE)
        self.last_answer: str | None = None
        self._call_ids = 0

    def stream(self, request: Request) -> AsyncIterator[Chunk]:
        return self._stream(request)

    async def health_check(self) -> HealthResult:
        return HealthResult(
            ok=True, latency_s=0.0, models=(self.config.model or "scripted",), status="ok"
        )

    # -- one call ------------------------------------------------------------

    async def _stream(self, request: Request) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        offer = request.workflow
        launch = _launch()
        question = _question(request, launch)
        out_tokens = 0
        if offer is None:
            text = self._final_text(question, launch)
            async for chunk in self._tokens(text, TextDelta):
                out_tokens += 1
                yield chunk
            yield self._usage(request, out_tokens)
            yield Done(finish_reason="stop", model=self.config.model)
            return
        if self.options.per_turn:
            turn = _turn_key(request, launch)
            if turn != self._turn:
                self._turn, self.calls = turn, 0
        step = self.options.script[min(self.calls, len(self.options.script) - 1)]
        self.calls += 1
        if step.delay:
            await _sleep(step.delay)
        if step.action == "fail":
            raise ScriptedBackendError(step.value, self.context.agent_id)
        if step.reasoning:
            async for chunk in self._tokens(_fill(step.reasoning, question), ReasoningDelta):
                out_tokens += 1
                yield chunk
        if step.action == "stall":
            await _sleep(step.value)
        calls = self._calls_for(step, request, question)
        for name, arguments in calls:
            if name == "new_answer" and isinstance(arguments.get("content"), str):
                self.last_answer = arguments["content"]
        lead = step.text
        if lead is None and step.action == "answer" and offer.transport == "tools":
            lead = step.value
        text = _fill(lead, question) if lead else ""
        if offer.transport != "tools" and calls:  # the same action, written as the transport asks
            text = _render(offer, calls, text)
            calls = []
        if text:
            async for chunk in self._tokens(text, TextDelta):
                out_tokens += 1
                yield chunk
        for name, arguments in calls:
            out_tokens += len(json.dumps(arguments).split())
            self._call_ids += 1
            yield ToolCallChunk(
                ToolCall(
                    id=f"call_{self._call_ids}",
                    name=name,
                    arguments=arguments,
                    arguments_raw=json.dumps(arguments),
                )
            )
        yield self._usage(request, out_tokens)
        yield Done(
            finish_reason="tool_calls" if step.action not in ("no_tool_call", "stall") else "stop",
            model=self.config.model,
        )

    def _calls_for(
        self, step: Step, request: Request, question: str
    ) -> list[tuple[str, dict[str, Any]]]:
        if step.action == "answer":
            return [("new_answer", {"content": _fill(step.value, question)})]
        if step.action == "vote":
            label = self._resolve_target(step.value, request)
            reason = _fill(step.value.get("reason") or step.reason or "", question)
            # the target first, then the rest (a ranked strategy reads them all)
            ranking = [label] + [lab for lab in _offered_labels(request) if lab != label]
            if request.workflow is None or not request.workflow.can_vote:
                return [("vote", {"agent_id": label, "reason": reason})]
            return [("vote", vote_arguments(request.workflow, ranking, reason))]
        if step.action == "invalid_vote":
            return [("vote", {"agent_id": step.value, "reason": step.reason or ""})]
        if step.action == "calls":
            return [(c["name"], c["arguments"]) for c in step.value]
        return []

    def _resolve_target(self, vote: Mapping[str, Any], request: Request) -> str:
        offered = _offered_labels(request)
        launch = _launch()
        target = str(vote.get("for", "best"))
        if "for_agent" in vote:
            by_real = {real: label for label, real in (launch.labels.items() if launch else ())}
            if vote["for_agent"] in by_real:
                return by_real[vote["for_agent"]]
            target = "best"  # that agent has no answer in this snapshot yet
        if target not in VOTE_TARGETS:
            return target
        if not offered:
            return "agent1"
        if target == "first":
            return offered[0]
        if target == "last":
            return offered[-1]
        if target == "self":
            own = launch.own_label if launch is not None else None
            return own if own in offered else offered[0]
        answers = dict(launch.answers) if launch is not None else {}
        return max(offered, key=lambda lab: (len(answers.get(lab, "")), -offered.index(lab)))

    def _final_text(self, question: str, launch: Any) -> str:
        if self.options.final is not None:
            return _fill(self.options.final, question)
        if launch is not None and launch.own_answer is not None:  # the winner presents its own answer
            return launch.own_answer
        if self.last_answer is not None:
            return self.last_answer
        first = next((s.value for s in self.options.script if s.action == "answer"), None)
        return _fill(first, question) if first else "(the scripted agent has no answer)"

    async def _tokens(self, text: str, kind: type) -> AsyncIterator[Chunk]:
        delay = self.options.token_delay
        for token in _TOKEN.findall(text):
            if delay:
                await _sleep(delay)
            yield kind(token)

    def _usage(self, request: Request, out_tokens: int) -> UsageChunk:
        in_tokens = sum(len(text_of(m.content).split()) for m in request.messages)
        return UsageChunk(Usage(input_tokens=in_tokens, output_tokens=out_tokens, cost_usd=0.0))


def _launch() -> Any:
    try:
        from massgen_core.orchestrator.context import current_launch
    except ImportError:  # pragma: no cover - the core always ships the orchestrator
        return None
    return current_launch.get()


def _offered_labels(request: Request) -> list[str]:
    return list(request.workflow.labels) if request.workflow is not None else []


def _render(offer: Any, calls: list[tuple[str, dict[str, Any]]], lead: str) -> str:
    """Workflow calls written for the ``json`` (one object) or ``text`` (answer, or ``VOTE:`` line) transport."""
    lines = [lead] if lead else []
    for name, arguments in calls:
        if offer.transport == "json":
            lines.append(json.dumps({"action": name, **arguments}))
        elif name == "new_answer":
            lines.append(str(arguments.get("content", "")))
        else:
            labels = arguments.get("ranking") or [arguments.get("agent_id")]
            lines.append(f"VOTE: {' > '.join(map(str, labels))} - {arguments.get('reason', '')}")
    return "\n".join(lines)


def _question(request: Request, launch: Any) -> str:
    """The question of the launch; outside a session, the first user message."""
    if launch is not None:
        return str(launch.question)
    return next((text_of(m.content) for m in request.messages if m.role == "user"), "")


def _turn_key(request: Request, launch: Any) -> str:
    """What identifies a turn: the history and the question of the launch."""
    if launch is not None:
        return repr((tuple(launch.history), launch.question))
    return _question(request, None)


def _fill(text: str, question: str) -> str:
    return text.replace("{question}", question)


__all__ = [
    "ScriptError",
    "ScriptedBackend",
    "ScriptedBackendError",
    "ScriptedOptions",
    "Step",
    "parse_options",
]
