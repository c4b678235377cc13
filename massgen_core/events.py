"""The typed events a session is made of.

The orchestrator yields these; displays, the conversation store, exporters
and ``on_event`` plugins all read the same stream. Events are frozen attrs
values carrying the session id, a gap-free sequence number and a timestamp.
They serialise to JSON-ready dicts (with a ``type`` tag) through one cattrs
converter and back. Nothing here prints or parses display strings.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from massgen_core.backend import Usage

if TYPE_CHECKING:
    import cattrs


@attrs.frozen(kw_only=True)
class Event:
    """Fields every event carries."""

    type: ClassVar[str] = "event"
    session_id: str
    seq: int
    ts: float


def _event(cls: type) -> type:
    return attrs.frozen(kw_only=True)(cls)


@_event
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    question: str
    agent_ids: tuple[str, ...]
    strategy: str = "majority"
    turn: int = 1
    # References to the question's attachments (name, kind, media_type, size, sha256 or url): never the bytes.
    attachments: tuple[Mapping[str, Any], ...] = ()


@_event
class AgentStarted(Event):
    type: ClassVar[str] = "agent_started"
    agent_id: str
    attempt: int = 1
    labels: Mapping[str, str] = attrs.Factory(dict)  # label -> real agent id in its snapshot


@_event
class TextDelta(Event):
    type: ClassVar[str] = "text_delta"
    agent_id: str
    text: str


@_event
class AnswerDelta(Event):
    """More of the answer an agent is writing (a ``new_answer`` call's ``content`` as it streams).

    A draft: the concatenated texts of one launch are a prefix of the answer it
    submits, but only ``AnswerSubmitted`` says that an answer was accepted.
    """

    type: ClassVar[str] = "answer_delta"
    agent_id: str
    text: str


@_event
class ReasoningDelta(Event):
    type: ClassVar[str] = "reasoning_delta"
    agent_id: str
    text: str


@_event
class ToolCalled(Event):
    type: ClassVar[str] = "tool_called"
    agent_id: str
    call_id: str
    name: str
    arguments: Mapping[str, Any] | None = None


@_event
class ToolResult(Event):
    type: ClassVar[str] = "tool_result"
    agent_id: str
    call_id: str
    name: str
    result: str
    is_error: bool = False


@_event
class BuiltinToolUsed(Event):
    """Progress or result of a provider-side tool (web search, code execution, a refusal), as the backend reported it."""

    type: ClassVar[str] = "builtin_tool_used"
    agent_id: str
    tool: str
    status: str  # started | in_progress | completed | failed
    data: Mapping[str, Any] = attrs.Factory(dict)


@_event
class CitationsReported(Event):
    """The sources a model response came with (e.g. Grok Live Search's ``citations``)."""

    type: ClassVar[str] = "citations_reported"
    agent_id: str
    citations: tuple[Mapping[str, Any], ...] = ()


@_event
class AnswerSubmitted(Event):
    type: ClassVar[str] = "answer_submitted"
    agent_id: str
    label: str
    text: str
    revision: int


@_event
class AnswerRejected(Event):
    type: ClassVar[str] = "answer_rejected"
    agent_id: str
    reason: str


@_event
class VoteCast(Event):
    type: ClassVar[str] = "vote_cast"
    voter: str
    target: str
    target_label: str
    reason: str = ""
    ranking: tuple[str, ...] = ()  # real ids, best first (ranked strategies)


@_event
class VoteDiscarded(Event):
    type: ClassVar[str] = "vote_discarded"
    voter: str
    target: str | None
    reason: str


@_event
class AgentRestarted(Event):
    type: ClassVar[str] = "agent_restarted"
    agent_id: str
    reason: str


@_event
class AgentAdded(Event):
    """A team with ``scale`` grew: ``agent_id`` is a new copy of ``copy_of`` that joins this turn."""

    type: ClassVar[str] = "agent_added"
    agent_id: str
    copy_of: str
    reason: str


@_event
class AgentFailed(Event):
    type: ClassVar[str] = "agent_failed"
    agent_id: str
    error: str


@_event
class BackendRetry(Event):
    type: ClassVar[str] = "backend_retry"
    agent_id: str
    backend: str
    model: str | None
    attempt: int
    delay_s: float
    error: str
    restart: bool = False  # kept on the wire; the core's HTTP kit never retries a stream after output began


@_event
class BackendFallback(Event):
    type: ClassVar[str] = "backend_fallback"
    agent_id: str
    from_backend: str
    to_backend: str
    error: str


@_event
class WorkflowFallback(Event):
    """An agent's reply carried no valid action: its workflow transport changes for the rest of the session."""

    type: ClassVar[str] = "workflow_fallback"
    agent_id: str
    from_transport: str  # tools | json | text
    to_transport: str
    reason: str


@_event
class UsageReported(Event):
    """Usage and cost of one model request."""

    type: ClassVar[str] = "usage_reported"
    agent_id: str
    backend: str
    model: str | None
    usage: Usage = attrs.Factory(Usage)  # tokens and cost; flat on the wire (see _converter)
    latency_s: float | None = None
    ttft_s: float | None = None  # time to the first text token
    ttfb_s: float | None = None  # time to the first byte of any content (text, reasoning, tool call)
    tokens_per_s: float | None = None  # output tokens per second after the first byte
    retries: int = 0
    status: str = "ok"  # ok | failed | cancelled
    estimated: bool = False  # no provider usage arrived: tokens estimated from the prompt and streamed output


@_event
class WinnerSelected(Event):
    type: ClassVar[str] = "winner_selected"
    winner: str
    strategy: str
    tally: Mapping[str, float] = attrs.Factory(dict)
    reasons: Mapping[str, str] = attrs.Factory(dict)  # voter -> reason
    explanation: str = ""


@_event
class FinalAnswerDelta(Event):
    type: ClassVar[str] = "final_answer_delta"
    agent_id: str
    text: str


@_event
class SessionFinished(Event):
    type: ClassVar[str] = "session_finished"
    final_answer: str | None
    winner: str | None
    ended_by: str  # consensus | timeout | budget | answer_cap | all_agents_failed | cancelled | single_agent
    usage: Mapping[str, int] = attrs.Factory(dict)
    cost_usd: float = 0.0
    duration_s: float = 0.0
    error: str | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SessionStarted,
        AgentStarted,
        TextDelta,
        AnswerDelta,
        ReasoningDelta,
        ToolCalled,
        ToolResult,
        BuiltinToolUsed,
        CitationsReported,
        AnswerSubmitted,
        AnswerRejected,
        VoteCast,
        VoteDiscarded,
        AgentRestarted,
        AgentAdded,
        AgentFailed,
        BackendRetry,
        BackendFallback,
        WorkflowFallback,
        UsageReported,
        WinnerSelected,
        FinalAnswerDelta,
        SessionFinished,
    )
}

@functools.cache
def _converter() -> cattrs.Converter:
    # Built on first (de)serialisation, not at import: backends and displays import this module
    # on every command, and importing cattrs and building the converter is a noticeable share of
    # start-up (see massgen_core/http/__init__.py).
    import cattrs
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

    converter = cattrs.Converter()
    nested_out = make_dict_unstructure_fn(UsageReported, converter)
    nested_in = make_dict_structure_fn(UsageReported, converter)

    def flat(event: UsageReported) -> dict[str, Any]:
        # The usage fields sit where they always did, between ``model`` and ``latency_s``.
        out: dict[str, Any] = {}
        for key, value in nested_out(event).items():
            if key == "usage":
                out.update(value)
            else:
                out[key] = value
        return out

    def nested(data: Mapping[str, Any], _cls: type) -> UsageReported:
        data = dict(data)
        data["usage"] = {key: data.pop(key) for key in _USAGE_KEYS if key in data}
        return nested_in(data, UsageReported)

    converter.register_unstructure_hook(UsageReported, flat)
    converter.register_structure_hook(UsageReported, nested)
    return converter


_USAGE_KEYS = tuple(field.name for field in attrs.fields(Usage))


def event_to_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = _converter().unstructure(event)
    data["type"] = event.type
    return data


def event_from_dict(data: Mapping[str, Any]) -> Event:
    data = dict(data)
    cls = EVENT_TYPES[data.pop("type")]
    return _converter().structure(data, cls)


class EventFactory:
    """Stamps events of one session with its id, a gap-free sequence and a timestamp."""

    def __init__(self, session_id: str, clock: Any = time.time) -> None:
        self.session_id = session_id
        self._seq = itertools.count(1)
        self._clock = clock

    def __call__(self, cls: type[Event], **fields: Any) -> Any:
        return cls(session_id=self.session_id, seq=next(self._seq), ts=self._clock(), **fields)
