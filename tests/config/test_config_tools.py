"""``tools:`` in a config: per agent, per team and as the orchestrator default, validated by name."""

from __future__ import annotations

import types

import pytest

from massgen_core.config import ConfigError
from massgen_core.hookspecs import hookimpl
from massgen_core.tools import Tool


async def _noop(**_: object) -> str:
    return ""


@pytest.fixture
def with_tools(manager):
    """The stand-ins plus two installed tools, ``python`` and ``search``."""
    module = types.ModuleType("tools")
    module.register_tools = hookimpl(
        lambda register: [
            register(Tool(name=name, description=name, parameters={"type": "object"}, func=_noop))
            for name in ("python", "search")
        ]
    )
    manager.register(module, name="massgen-test-tools")
    return manager


AGENT = """
agents:
  - id: coder
    tools: {tools}
    backend: {{type: openai, model: gpt-4o-mini}}
"""


def test_an_agent_names_its_tools(with_tools, load):
    config = load(AGENT.format(tools="[python, search]"))
    assert config.agents[0].tools == ("python", "search")


def test_an_agent_without_tools_key_inherits_and_the_default_is_none(with_tools, load):
    config = load("agent:\n  backend: {type: openai, model: gpt-4o-mini}\n")
    assert config.agents[0].tools is None
    assert config.orchestrator.tools is None


def test_a_misspelled_tool_is_located_with_a_suggestion(with_tools, problems):
    found = problems(AGENT.format(tools="[pyhton]"))
    assert [(p.key_path, p.line, p.suggestion) for p in found] == [
        ("agents[0].tools[0]", 4, "python")
    ]
    assert "unknown tool 'pyhton'; installed: python, search" in found[0].message


def test_a_tool_whose_plugin_is_not_installed_says_what_is(manager, problems):
    found = problems(AGENT.format(tools="[python]"))
    assert "unknown tool 'python'; installed: none" in found[0].message
    assert found[0].suggestion is None


def test_workflow_tools_and_repeats_are_refused(with_tools, problems):
    found = problems(AGENT.format(tools="[vote, python, python]"))
    assert [p.key_path for p in found] == ["agents[0].tools[0]", "agents[0].tools[2]"]
    assert "workflow tool" in found[0].message and "listed twice" in found[1].message


def test_tools_must_be_a_list_of_names(with_tools, problems):
    found = problems(AGENT.format(tools="python"))
    assert found[0].key_path == "agents[0].tools" and "expected a list" in found[0].message


def test_the_orchestrator_section_sets_the_default_for_every_agent(with_tools, load, problems):
    text = "agent:\n  backend: {type: openai, model: gpt-4o-mini}\norchestrator: {tools: [search]}\n"
    assert load(text).orchestrator.tools == ("search",)
    found = problems(text.replace("[search]", "[serch]"))
    assert (found[0].key_path, found[0].suggestion) == ("orchestrator.tools[0]", "search")


def test_a_team_names_tools_for_its_members(with_tools, load, problems):
    text = """
agents:
  - id: team
    tools: [python]
    orchestrator: {tools: [search]}
    agents:
      - backend: {type: openai, model: gpt-4o-mini}
"""
    team = load(text).agents[0]
    assert team.tools == ("python",) and team.orchestrator.tools == ("search",)
    with pytest.raises(ConfigError, match="unknown tool 'nope'"):
        load(text.replace("orchestrator: {tools: [search]}", "orchestrator: {tools: [nope]}"))
    found = problems(text.replace("tools: [python]", "tools: [pythn]"))
    assert (found[0].key_path, found[0].suggestion) == ("agents[0].tools[0]", "python")
