"""The normalized language-model interface every backend plugin implements.

A backend turns a ``Request`` (messages, function tools) into an async stream
of ``Chunk`` values: text and reasoning deltas, tool-call argument fragments,
complete tool calls, builtin
tool progress, usage, and a final ``Done``. Failures are typed exceptions from
``massgen_core.http.errors`` (the provider layer). This module holds data
and the abstract base only; it performs no I/O.
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attrs

from massgen_core.content import Content

if TYPE_CHECKING:
    from massgen_core.config.schema import BackendConfig
    from massgen_core.events import Event

Role = Literal["system", "user", "assistant", "tool"]


@attrs.frozen(kw_only=True)
class ToolCall:
    """One complete function call the model made, arguments already assembled and parsed."""

    id: str
    name: str
    arguments: Mapping[str, Any] | None = None  # None when the JSON was invalid
    arguments_raw: str | None = None


@attrs.frozen(kw_only=True)
class Message:
    """One message; ``content`` is a string, or a tuple of parts (text, images, documents) on a user message."""

    role: Role
    content: Content = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # for role == "tool"
    name: str | None = None  # tool name, for role == "tool"


@attrs.frozen(kw_only=True)
class FunctionSpec:
    """A function tool offered to the model: name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class WorkflowOffer:
    """What a coordination launch may do, stated by the core so that no backend guesses it.

    ``labels`` are the anonymous labels that can be voted for, in order;
    ``vote_parameters`` is the voting strategy's vote schema for them (None
    when no vote is possible); ``may_answer`` says whether ``new_answer`` is
    allowed. ``transport`` is how the action travels: ``tools`` (native tool
    calls), ``json`` (``Request.response_schema``) or ``text`` (a marked line).
    """

    may_answer: bool = True
    labels: tuple[str, ...] = ()
    vote_parameters: Mapping[str, Any] | None = None
    transport: str = "tools"

    @property
    def can_vote(self) -> bool:
        return self.vote_parameters is not None


@attrs.frozen(kw_only=True)
class ResponseSchema:
    """A JSON schema the model's whole reply must follow (structured output); ``name`` labels it."""

    name: str
    schema: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class Request:
    messages: tuple[Message, ...]
    tools: tuple[FunctionSpec, ...] = ()
    tool_choice: Literal["auto", "required", "none"] = "auto"
    response_schema: ResponseSchema | None = None  # set for the json workflow transport
    workflow: WorkflowOffer | None = None  # set on coordination calls, None on plain chats


@attrs.frozen(kw_only=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


# -- chunks ---------------------------------------------------------------


@attrs.frozen(slots=True)
class TextDelta:
    text: str


@attrs.frozen(slots=True)
class ReasoningDelta:
    text: str


@attrs.frozen(slots=True)
class ToolCallChunk:
    call: ToolCall


@attrs.frozen(slots=True)
class ToolCallDelta:
    """A fragment of a tool call's JSON arguments, as the wire sends it; the whole call follows as ``ToolCallChunk``.

    ``id`` is the id the complete call will carry (so the pieces can be matched
    to it), ``name`` the function's name when known. For displays that show an
    answer while it is written; nothing may act on a call before it is complete.
    """

    id: str
    name: str
    arguments: str


@attrs.frozen(kw_only=True)
class BuiltinToolChunk:
    """Progress or result of a provider-side tool (web search, code execution)."""

    tool: str
    status: str  # "started" | "in_progress" | "completed" | "failed"
    data: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen(slots=True)
class UsageChunk:
    usage: Usage
    # The backend type and model that served the request (a fallback or pool member may differ
    # from the agent's configured primary); None: the agent's own.
    backend: str | None = attrs.field(default=None, kw_only=True)
    model: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen(kw_only=True)
class Done:
    finish_reason: str | None = None
    model: str | None = None
    citations: tuple[Mapping[str, Any], ...] = ()


Chunk = TextDelta | ReasoningDelta | ToolCallDelta | ToolCallChunk | BuiltinToolChunk | UsageChunk | Done


@attrs.frozen(kw_only=True)
class HealthResult:
    ok: bool
    latency_s: float | None = None
    error: str | None = None
    models: tuple[str, ...] = ()
    status: str = "ok"  # "ok" | "down" | "timeout" | "unauthorized" | ...


@attrs.define(kw_only=True)
class BackendContext:
    """What the core hands a backend: who uses it and where to report events."""

    agent_id: str = "?"
    emit: Callable[[Event], None] | None = None  # for retry / fallback events
    debug: bool = False


class Backend:
    """Base class for backend plugins.

    Subclasses set ``name`` (the config ``type``), ``model_patterns`` (fnmatch
    patterns of model names this type serves, so ``--model`` finds it),
    ``Options`` (an attrs class of backend-specific config keys, validated by
    the config loader), ``key_env`` (environment variables holding the API
    key, first wins; empty when no key is needed) and ``workflow_transports``.
    """

    name: ClassVar[str]
    model_patterns: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type | None] = None
    key_env: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    # Config keys a run cannot do without (``massgen_core.config.backend_rules``): ``config
    # validate`` reports them missing, and ``create_backend`` refuses the same entries.
    required_keys: ClassVar[tuple[str, ...]] = ()
    # Other names users write for this type (``anthropic`` for ``claude``): "did you mean" hints only.
    also_known_as: ClassVar[tuple[str, ...]] = ()
    # The workflow transports the backend's wire format carries natively: "tools" (function
    # calls) and/or "json" (it honours ``Request.response_schema``). The plain-text transport
    # needs nothing from a backend and is always possible.
    workflow_transports: ClassVar[tuple[str, ...]] = ("tools",)
    # The attachment kinds ("image", "pdf", "text") the wire format carries, whether it takes an image
    # by URL, and the models (fnmatch patterns) known to take no image or document at all.
    accepts_parts: ClassVar[frozenset[str]] = frozenset()
    accepts_urls: ClassVar[bool] = False
    text_only_models: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: BackendConfig, context: BackendContext | None = None) -> None:
        self.config = config
        self.context = context or BackendContext()

    @classmethod
    def serves_model(cls, model: str) -> bool:
        model = model.lower()
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in cls.model_patterns)

    def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Send ``request`` and yield chunks as they arrive, ending with ``Done``."""
        raise NotImplementedError

    def preflight(self) -> None:
        """Raise a ``MassGenError`` now if no request could succeed (e.g. no API key), before any is sent."""

    async def health_check(self) -> HealthResult:
        """A cheap authenticated probe with a short timeout."""
        return HealthResult(ok=True, status="unknown")

    async def aclose(self) -> None:
        """Release what the backend holds (shared HTTP clients are closed by the core)."""
