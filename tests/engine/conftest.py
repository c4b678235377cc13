"""Fixtures for the engine tests: teams of scripted agents built through the real builder."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import pytest

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.config.schema import (
    AgentConfig,
    BackendConfig,
    Config,
    OrchestratorConfig,
    TimeoutConfig,
    UIConfig,
    VotingConfig,
)
from massgen_core.hookspecs import hookimpl
from massgen_core.orchestrator import Orchestrator, build_orchestrator


@pytest.fixture
def engine_manager(scripted_manager):
    """A plugin manager with the scripted backend and every first-party strategy (root conftest)."""
    return scripted_manager



def register_backend(manager: Any, name: str, respond: Callable[[Any, bk.Request], AsyncIterator[Any]]) -> None:
    """A throwaway backend type ``name`` whose stream is ``respond(self, request)``."""

    class Custom(bk.Backend):
        pass

    Custom.name = name
    Custom.stream = lambda self, request: respond(self, request)  # type: ignore[method-assign]

    class Plugin:
        @hookimpl
        def register_backends(self, register: Any) -> None:
            register(Custom)

    manager.register(Plugin(), name=f"test-{name}")


def custom_agent(agent_id: str, backend_type: str, **backend: Any) -> AgentConfig:
    """An agent on a backend type registered with ``register_backend``."""
    return AgentConfig(id=agent_id, backend=BackendConfig(type=backend_type, model="m-1", **backend))

def scripted_agent(
    agent_id: str, script: Sequence[Any], workflow: str = "auto", **options: Any
) -> AgentConfig:
    extra = {k: options.pop(k) for k in ("system_message", "role", "weight") if k in options}
    return AgentConfig(
        id=agent_id,
        backend=BackendConfig(
            type="scripted", model="scripted-1", options={"script": list(script), **options},
            workflow=workflow,
        ),
        **extra,
    )


def make_config(
    agents: Mapping[str, Sequence[Any]] | Sequence[AgentConfig],
    *,
    strategy: str = "majority",
    voting_options: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
    per_call: float | None = None,
    single: bool = True,
    roles: Mapping[str, str] | None = None,
    backend_params: Mapping[str, Any] | None = None,
    workflow: str = "auto",
    **orchestrator: Any,
) -> Config:
    if isinstance(agents, Mapping):
        agent_configs = tuple(
            scripted_agent(agent_id, script, workflow) for agent_id, script in agents.items()
        )
    else:
        agent_configs = tuple(agents)
    return Config(
        agents=agent_configs,
        voting=VotingConfig(strategy=strategy, options=dict(voting_options or {})),
        orchestrator=OrchestratorConfig(**orchestrator),
        timeout_settings=TimeoutConfig(
            orchestrator_timeout_seconds=timeout, per_call_timeout_seconds=per_call
        ),
        ui=UIConfig(use_orchestrator_for_single_agent=single),
        roles=dict(roles or {}),
        backend_params=dict(backend_params or {}),
    )


async def collect_events(
    orch: Orchestrator, question: str = "What is the capital of France?", **kw: Any
) -> list[ev.Event]:
    return [event async for event in orch.run(question, **kw)]


def of(events: Sequence[ev.Event], cls: type) -> list[Any]:
    return [event for event in events if isinstance(event, cls)]


@pytest.fixture
def no_leaks():
    """Asserts that a test leaves no asyncio task of its own behind."""

    def check(before: set[asyncio.Task[Any]]) -> None:
        leftover = [
            t
            for t in asyncio.all_tasks() - before
            if t is not asyncio.current_task() and not t.done()
        ]
        assert leftover == []

    return check


@pytest.fixture
def eng(engine_manager) -> types.SimpleNamespace:
    """Helpers: ``eng.team(agents, **kw)`` builds an Orchestrator, ``await eng.run(orch)`` collects events."""

    def team(agents: Any, **kw: Any) -> Orchestrator:
        return build_orchestrator(make_config(agents, **kw), manager=engine_manager)

    return types.SimpleNamespace(
        team=team,
        run=collect_events,
        of=of,
        agent=scripted_agent,
        register_backend=register_backend,
        custom=custom_agent,
        config=make_config,
        manager=engine_manager,
        finished=lambda events: events[-1],
    )
