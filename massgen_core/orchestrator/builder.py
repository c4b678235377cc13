"""Building an ``Orchestrator`` from a ``Config``: backends, roles, weights, strategy, tools, nested teams.

This is the only place that turns configuration into live objects for a
session. It reads no files (the config loader does) and runs no session.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import cattrs

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.backend_factory import create_backend
from massgen_core.content import attachments_of, text_of
from massgen_core.config.schema import (
    AgentConfig,
    BackendConfig,
    Config,
    OrchestratorConfig,
    VotingConfig,
)
from massgen_core.errors import MassGenError, did_you_mean
from massgen_core.orchestrator import prompts
from massgen_core.orchestrator.agent import Agent
from massgen_core.orchestrator.context import current_launch
from massgen_core.orchestrator.roles import compose_system_message, resolve_role
from massgen_core.orchestrator.session import Limits, Orchestrator
from massgen_core.orchestrator.workflow import Choice, vote_arguments
from massgen_core.plugins import PluginManager, get_plugin_manager
from massgen_core.tools import Tool
from massgen_core.voting import AgentInfo, VotingStrategy

_BACKEND_FIELDS = {field.name for field in attrs.fields(BackendConfig)}
_options_converter = cattrs.Converter(forbid_extra_keys=True)


def build_orchestrator(
    config: Config,
    *,
    manager: PluginManager | None = None,
    emit_backend_event: Callable[[ev.Event], None] | None = None,
) -> Orchestrator:
    """An orchestrator for ``config``; backends are created through the plugin registry."""
    manager = manager or get_plugin_manager()
    return _build_team(
        config.agents,
        config=config,
        voting=config.voting,
        orchestrator=config.orchestrator,
        manager=manager,
        emit_backend_event=emit_backend_event,
        default_tools=config.orchestrator.tools or (),
    )


def build_strategy(
    voting: VotingConfig, agents: Sequence[AgentInfo], manager: PluginManager
) -> VotingStrategy:
    """The configured strategy from the registry, its options structured into its ``Options`` class."""
    cls = manager.voting_strategies.get(voting.strategy)
    options: Any = dict(voting.options)
    options_cls = getattr(cls, "Options", None)
    if options_cls is not None:
        try:
            options = _options_converter.structure(options, options_cls)
        except Exception as exc:
            detail = "; ".join(_leaf_errors(exc))
            raise MassGenError(
                f"voting strategy {voting.strategy!r}: invalid options: {detail}"
            ) from None
    elif options:
        raise MassGenError(
            f"voting strategy {voting.strategy!r} takes no options (got {', '.join(options)})"
        )
    strategy: VotingStrategy = cls(agents, options)
    return strategy


def _leaf_errors(exc: BaseException) -> list[str]:
    if isinstance(exc, cattrs.BaseValidationError):
        return [message for inner in exc.exceptions for message in _leaf_errors(inner)]
    if isinstance(exc, KeyError):
        return [f"missing option {exc}"]
    return [str(exc)]


def _build_team(
    agent_configs: Sequence[AgentConfig],
    *,
    config: Config,
    voting: VotingConfig,
    orchestrator: OrchestratorConfig,
    manager: PluginManager,
    emit_backend_event: Callable[[ev.Event], None] | None,
    default_tools: Sequence[str],
) -> Orchestrator:
    holder: list[Orchestrator] = []

    def emit(event: ev.Event) -> None:
        if holder:
            holder[0].backend_event(event)
        elif emit_backend_event is not None:  # pragma: no cover - only while building
            emit_backend_event(event)

    choices: dict[tuple[Any, ...], Choice] = {}  # agents on one model share what was learnt about it
    agents = [
        _build_agent(agent_config, config, manager, emit, default_tools, choices)
        for agent_config in agent_configs
    ]
    ids = [agent.id for agent in agents]
    if len(set(ids)) != len(ids):
        raise MassGenError(f"agent ids must be unique, got {', '.join(ids)}")
    infos = [AgentInfo(id=agent.id, weight=agent.weight, role=agent.role) for agent in agents]
    strategy = build_strategy(voting, infos, manager)
    timeouts = config.timeout_settings
    limits = Limits(
        max_attempts=orchestrator.max_attempts,
        max_new_answers_per_agent=orchestrator.max_new_answers_per_agent,
        max_consecutive_failures=orchestrator.max_consecutive_failures,
        session_timeout=timeouts.orchestrator_timeout_seconds,
        max_cost_usd=orchestrator.max_cost_usd,
        max_cost_usd_per_agent=orchestrator.max_cost_usd_per_agent,
        max_conversation_cost_usd=orchestrator.max_conversation_cost_usd,
        agent_retry_timeout=timeouts.agent_retry_timeout_seconds,
        wait_for_retrying_agents=orchestrator.wait_for_retrying_agents,
        final_presentation=orchestrator.final_presentation,
        coordination_instructions=orchestrator.coordination_instructions,
        presentation_instructions=orchestrator.presentation_instructions,
        scale_min=orchestrator.scale.min if orchestrator.scale else None,
        scale_max=orchestrator.scale.max if orchestrator.scale else None,
    )
    configs = {agent_config.id: agent_config for agent_config in agent_configs}

    def spawn(template: str, agent_id: str) -> Agent:
        """A new agent configured like ``template`` (a team's ``scale``)."""
        configs[agent_id] = attrs.evolve(configs[template], id=agent_id)
        return _build_agent(configs[agent_id], config, manager, emit, default_tools, choices)

    orch = Orchestrator(
        agents,
        strategy,
        strategy_name=voting.strategy,
        limits=limits,
        use_orchestrator_for_single_agent=config.ui.use_orchestrator_for_single_agent,
        emit_backend_event=emit_backend_event,
        spawn=spawn if orchestrator.scale else None,
    )
    holder.append(orch)
    return orch


def _build_agent(
    agent_config: AgentConfig,
    config: Config,
    manager: PluginManager,
    emit: Callable[[ev.Event], None],
    default_tools: Sequence[str],
    choices: dict[tuple[Any, ...], Choice],
) -> Agent:
    role_text = resolve_role(agent_config.role, config.roles) if agent_config.role else None
    system_message = compose_system_message(role_text, agent_config.system_message)
    per_call = config.timeout_settings.per_call_timeout_seconds
    tool_names = default_tools if agent_config.tools is None else agent_config.tools
    if agent_config.is_team:
        team_orchestrator = agent_config.orchestrator
        if agent_config.tools is None and team_orchestrator and team_orchestrator.tools is not None:
            tool_names = team_orchestrator.tools
        inner = _build_team(
            agent_config.agents,
            config=config,
            voting=agent_config.voting or config.voting,
            orchestrator=agent_config.orchestrator or config.orchestrator,
            manager=manager,
            emit_backend_event=emit,
            default_tools=tool_names,
        )
        backend: bk.Backend = TeamBackend(inner, agent_config.id)
        return Agent(
            id=agent_config.id,
            backend=backend,
            backend_type="team",
            model=None,
            system_message=system_message,
            role=agent_config.role,
            weight=agent_config.weight,
            call_timeout=per_call,
        )
    if agent_config.backend is None:
        raise MassGenError(f"agent {agent_config.id}: no backend configured")
    backend_config = apply_backend_params(agent_config.backend, config.backend_params)
    if not backend_config.type and backend_config.model:
        backend_config = attrs.evolve(
            backend_config, type=_infer_type(backend_config.model, manager)
        )
    backend = create_backend(
        backend_config, bk.BackendContext(agent_id=agent_config.id, emit=emit), manager
    )
    return Agent(
        id=agent_config.id,
        backend=backend,
        backend_type=backend_config.type or "?",
        model=backend_config.model,
        system_message=system_message,
        role=agent_config.role,
        weight=agent_config.weight,
        tools=named_tools(tool_names, manager, agent_config.id),
        # Not backend_config.timeout: that is the HTTP layer's idle timeout, and using it as a
        # whole-call deadline would cut long streams and leave no time for the layer's retries.
        call_timeout=per_call,
        workflow=_choice(backend_config, backend, choices),
    )


def _choice(config: BackendConfig, backend: bk.Backend, choices: dict[tuple[Any, ...], Choice]) -> Choice:
    key = (config.type, config.base_url, config.model, config.workflow, repr((config.fallback, config.pool)))
    if key not in choices:
        choices[key] = Choice(mode=config.workflow, supported=backend.workflow_transports)
    return choices[key]


def named_tools(names: Sequence[str], manager: PluginManager, agent_id: str) -> dict[str, Tool]:
    """The registered tools ``names`` lists: an installed tool is offered only where the config names it."""
    tools: dict[str, Tool] = {}
    for name in names:
        if name not in manager.tools:
            installed = manager.tools.names()
            hint = did_you_mean(name, installed)
            raise MassGenError(
                f"agent {agent_id}: unknown tool {name!r}"
                + (f" (did you mean {hint!r}?)" if hint else "")
                + f"; installed: {', '.join(installed) or 'none'}"
            )
        tools[name] = manager.tools.get(name)
    return tools


def apply_backend_params(backend: BackendConfig, params: Mapping[str, Any]) -> BackendConfig:
    """Fill the agent's unset shared backend keys from ``backend_params`` (the agent's own values win)."""
    changes = {
        key: value
        for key, value in params.items()
        if key in _BACKEND_FIELDS
        and key not in ("type", "options")
        and getattr(backend, key) is None
    }
    return attrs.evolve(backend, **changes) if changes else backend


def _infer_type(model: str, manager: PluginManager) -> str | None:
    for name, cls in manager.backends.items():
        if cls.serves_model(model):
            return name
    return None


class TeamBackend(bk.Backend):
    """A nested team used as one agent: its coordinated final answer is this agent's answer.

    On its first coordination call the inner team runs on the original message
    and the result is submitted with ``new_answer``; afterwards the team stands
    by its answer (votes for it, or for the first answer offered when its own
    is not in the snapshot). A call without workflow tools returns the team's
    latest answer. Inner text reaches the outer stream as text deltas.
    """

    name: ClassVar[str] = "team"

    def __init__(self, orchestrator: Orchestrator, agent_id: str) -> None:
        super().__init__(BackendConfig(type="team"), bk.BackendContext(agent_id=agent_id))
        self.inner = orchestrator
        self.last_answer: str | None = None
        self._calls = 0

    def stream(self, request: bk.Request) -> AsyncIterator[bk.Chunk]:
        return self._stream(request)

    def preflight(self) -> None:
        self.inner.preflight()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _stream(self, request: bk.Request) -> AsyncIterator[bk.Chunk]:
        launch = current_launch.get()
        offer = request.workflow
        offered = list(offer.labels) if offer is not None else []
        self._calls += 1
        if self.last_answer is not None and (offered or offer is None):
            if offer is not None and offer.can_vote:
                own = launch.own_label if launch is not None else None
                label = own if own in offered else offered[0]
                ranked = [label] + [lab for lab in offered if lab != label]
                arguments = vote_arguments(offer, ranked, "the team's coordinated answer stands")
                yield bk.ToolCallChunk(
                    bk.ToolCall(id=f"team_{self._calls}", name=prompts.VOTE, arguments=arguments)
                )
            else:
                yield bk.TextDelta(self.last_answer)
            yield bk.Done(finish_reason="stop")
            return
        question = launch.question if launch is not None else text_of(request.messages[-1].content)
        history = launch.history if launch is not None else ()
        # the outer question's attachments ride on the first user message: the inner team gets them too
        attachments = next((attachments_of(m.content) for m in request.messages if m.role == "user"), ())
        usage = bk.Usage()
        final: str | None = None
        error: str | None = None
        # aclosing: when the outer launch is cancelled, the inner session's tasks are cancelled at once.
        async with contextlib.aclosing(self.inner.run(question, history=history, attachments=attachments)) as stream:
            async for event in stream:
                if isinstance(event, ev.FinalAnswerDelta):
                    yield bk.TextDelta(event.text)
                elif isinstance(event, ev.UsageReported):
                    usage = usage + event.usage
                elif isinstance(event, ev.SessionFinished):
                    final, error = event.final_answer, event.error
        yield bk.UsageChunk(usage)
        if final is None:
            raise MassGenError(
                f"team {self.context.agent_id} produced no answer: {error or 'unknown reason'}"
            )
        self.last_answer = final
        if offer is not None and offer.may_answer:
            yield bk.ToolCallChunk(
                bk.ToolCall(
                    id=f"team_{self._calls}", name=prompts.NEW_ANSWER, arguments={"content": final}
                )
            )
        yield bk.Done(finish_reason="stop")

