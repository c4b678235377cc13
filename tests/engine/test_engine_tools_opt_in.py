"""Installed tools are offered only where the config names them: per agent, per team, as a default."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, OrchestratorConfig
from massgen_core.errors import MassGenError
from massgen_core.hookspecs import hookimpl
from massgen_core.orchestrator import build_orchestrator
from massgen_core.tools import Tool

CALLS: list[str] = []


async def _echo(text: str = "") -> str:
    CALLS.append(text)
    return f"echo: {text}"


@pytest.fixture
def tooled(eng):
    """``eng`` with two installed tools, ``echo`` and ``shout``."""

    class Plugin:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            for name in ("echo", "shout"):
                register(Tool(name=name, description=name, parameters={"type": "object"}, func=_echo))

    eng.manager.register(Plugin(), name="echo-tools")
    CALLS.clear()
    return eng


def _offered(orch: Any) -> dict[str, list[str]]:
    """Agent id -> the registered tools of its first coordination request (workflow tools left out)."""
    workflow = {"new_answer", "vote"}
    return {
        a.id: [t.name for t in a.backend.requests[0].tools if t.name not in workflow]
        for a in orch.agents
    }


def _quick(eng: Any, agent_id: str, **kw: Any) -> AgentConfig:
    return eng.agent(agent_id, [{"answer": f"{agent_id} answer"}, {"vote": "self"}], **kw)


async def test_an_installed_tool_is_not_offered_when_no_config_names_it(tooled):
    orch = tooled.team({"a": [{"answer": "A"}, {"vote": "self"}]})
    await tooled.run(orch)
    assert _offered(orch) == {"a": []}


async def test_each_agent_is_offered_only_the_tools_it_names(tooled):
    agents = [
        attrs.evolve(_quick(tooled, "a"), tools=("echo",)),
        attrs.evolve(_quick(tooled, "b"), tools=("shout", "echo")),
        _quick(tooled, "c"),
    ]
    orch = build_orchestrator(tooled.config(agents), manager=tooled.manager)
    await tooled.run(orch)
    assert _offered(orch) == {
        "a": ["echo"],
        "b": ["shout", "echo"],
        "c": [],
    }


async def test_the_orchestrator_default_applies_unless_an_agent_names_its_own(tooled):
    agents = [_quick(tooled, "a"), attrs.evolve(_quick(tooled, "b"), tools=())]
    orch = build_orchestrator(tooled.config(agents, tools=("shout",)), manager=tooled.manager)
    await tooled.run(orch)
    assert _offered(orch) == {"a": ["shout"], "b": []}


async def test_a_team_names_the_tools_of_its_members(tooled):
    def team(team_id: str, **kw: Any) -> AgentConfig:
        return AgentConfig(id=team_id, agents=(_quick(tooled, f"{team_id}-m"),), **kw)

    agents = [
        team("t1", tools=("echo",)),
        team("t2", orchestrator=OrchestratorConfig(tools=("shout",))),
        team("t3", tools=("echo",), orchestrator=OrchestratorConfig(tools=("shout",))),
        team("t4"),
    ]
    orch = build_orchestrator(tooled.config(agents, tools=("echo", "shout")), manager=tooled.manager)
    await tooled.run(orch)
    inner = {a.id: _offered(a.backend.inner) for a in orch.agents}
    assert inner == {
        "t1": {"t1-m": ["echo"]},
        "t2": {"t2-m": ["shout"]},
        "t3": {"t3-m": ["echo"]},  # the team's own tools win over its orchestrator's
        "t4": {"t4-m": ["echo", "shout"]},  # inherited from the top level
    }


async def test_a_call_of_an_installed_but_unoffered_tool_is_refused_not_run(tooled):
    script = [{"calls": [{"name": "shout", "arguments": {"text": "hi"}}]}, {"answer": "A"}, {"vote": "self"}]
    agent = attrs.evolve(tooled.agent("a", script), tools=("echo",))
    orch = build_orchestrator(tooled.config([agent]), manager=tooled.manager)
    events = await tooled.run(orch)
    result = tooled.of(events, ev.ToolResult)[0]
    assert result.is_error and result.result == "Error: unknown tool 'shout'. Available: echo"
    assert CALLS == []


def test_a_config_built_in_code_naming_an_unknown_tool_fails_with_a_suggestion(tooled):
    agent = attrs.evolve(_quick(tooled, "a"), tools=("ehco",))
    with pytest.raises(MassGenError, match=r"agent a: unknown tool 'ehco' \(did you mean 'echo'\?\)"):
        build_orchestrator(tooled.config([agent]), manager=tooled.manager)
    agent = attrs.evolve(_quick(tooled, "a"), tools=("zzz",))
    with pytest.raises(MassGenError, match="unknown tool 'zzz'; installed: echo, shout"):
        build_orchestrator(tooled.config([agent]), manager=tooled.manager)
