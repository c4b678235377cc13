"""The configuration schema as attrs classes.

This is the shape every other part of the core reads. Loading, validation,
interpolation, legacy shapes and located errors live in the loader of this
package; nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class BackendConfig:
    """One backend: the keys every backend shares, plus ``options`` owned by the backend plugin."""

    type: str | None = None
    model: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None  # per-call timeout, seconds
    max_retries: int | None = None
    retry_initial_delay: float | None = None
    retry_max_delay: float | None = None
    max_retry_wait: float | None = None  # longest Retry-After obeyed (default 60 s); longer fails over
    health_timeout: float | None = None
    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None
    fallback: tuple[BackendConfig, ...] = ()
    pool: tuple[BackendConfig, ...] = ()
    routing: str = "round_robin"  # round_robin | least_busy | lowest_latency
    workflow: str = "auto"  # auto | tools | json | text: how workflow actions travel
    stream: bool | None = None  # False: ask for one complete JSON answer instead of a stream
    options: Mapping[str, Any] = attrs.Factory(dict)  # backend-specific keys, validated by the plugin


@attrs.frozen(kw_only=True)
class VotingConfig:
    strategy: str = "majority"
    options: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen(kw_only=True)
class ScaleConfig:
    """Dynamic team size: agents are added while answers disagree and to replace dropped ones."""

    min: int = 1
    max: int


@attrs.frozen(kw_only=True)
class OrchestratorConfig:
    voting_sensitivity: str | None = None  # accepted for compatibility with later MassGen versions
    answer_novelty_requirement: str | None = None  # likewise
    max_new_answers_per_agent: int | None = None
    max_attempts: int = 3  # attempts per launch (PROTOCOL.md §4)
    max_consecutive_failures: int = 3  # failed launches before an agent is dropped
    max_cost_usd: float | None = None  # a cap on what one turn may spend (massgen_core.orchestrator.budget)
    max_cost_usd_per_agent: float | None = None  # a cap on what each agent may spend in one turn
    max_conversation_cost_usd: float | None = None  # a cap on what all turns of a conversation may spend
    # False: once every other agent has voted, decide without an agent that is only retrying.
    wait_for_retrying_agents: bool = False
    final_presentation: bool = True  # False: the winner's answer is the final answer verbatim
    coordination_instructions: str | None = None  # overrides of the default prompt texts
    presentation_instructions: str | None = None
    tools: tuple[str, ...] | None = None  # tools every agent of this team is offered (None: none)
    scale: ScaleConfig | None = None  # None: the team keeps the agents it was configured with


@attrs.frozen(kw_only=True)
class TimeoutConfig:
    orchestrator_timeout_seconds: float = 1800.0
    per_call_timeout_seconds: float | None = None
    # Wall time an agent may spend retrying and relaunching without progress before it is dropped.
    agent_retry_timeout_seconds: float | None = 300.0


@attrs.frozen(kw_only=True)
class UIConfig:
    display_type: str = "rich_terminal"  # rich_terminal | terminal | simple
    logging_enabled: bool = True
    use_orchestrator_for_single_agent: bool = True


@attrs.frozen(kw_only=True)
class AgentConfig:
    """One agent; an agent with ``agents`` is a nested team (hierarchical orchestration)."""

    id: str
    backend: BackendConfig | None = None
    system_message: str | None = None
    role: str | None = None
    weight: float = 1.0
    agents: tuple[AgentConfig, ...] = ()
    voting: VotingConfig | None = None
    orchestrator: OrchestratorConfig | None = None
    # Tools offered to this agent (on a team: to its members); None inherits the team's default.
    tools: tuple[str, ...] | None = None

    @property
    def is_team(self) -> bool:
        return bool(self.agents)


@attrs.frozen(kw_only=True)
class Config:
    agents: tuple[AgentConfig, ...]
    backend_params: Mapping[str, Any] = attrs.Factory(dict)
    ui: UIConfig = attrs.Factory(UIConfig)
    orchestrator: OrchestratorConfig = attrs.Factory(OrchestratorConfig)
    timeout_settings: TimeoutConfig = attrs.Factory(TimeoutConfig)
    voting: VotingConfig = attrs.Factory(VotingConfig)
    roles: Mapping[str, str] = attrs.Factory(dict)  # role name -> system message preset
    # plugins' sections of this file (``register_config_sections``): name -> the built section
    sections: Mapping[str, Any] = attrs.Factory(dict)
    environment: str | None = None  # the environment overlay applied, if any
    source: str | None = None  # file the config came from
