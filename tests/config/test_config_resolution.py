"""Config names, the command-line config, overrides, and the effective config with secrets redacted."""

from __future__ import annotations

import pytest

from massgen_core import configs
from massgen_core.config import (
    ConfigError,
    apply_cli_overrides,
    config_from_cli,
    config_to_dict,
    load_config,
    resolve_config_path,
)


def test_an_existing_path_resolves_to_itself(write):
    path = write("agent: {}\n")
    assert resolve_config_path(str(path)) == path


def test_a_bundled_name_resolves_with_or_without_suffix():
    expected = configs.bundled_dir() / "three_agents_default.yaml"
    assert resolve_config_path("three_agents_default") == expected
    assert resolve_config_path("three_agents_default.yaml") == expected


def test_a_v003_style_path_finds_the_bundled_file_by_name():
    expected = configs.bundled_dir() / "three_agents_default.yaml"
    assert resolve_config_path("massgen/configs/three_agents_default.yaml") == expected


def test_an_unknown_name_lists_bundled_configs_with_a_suggestion():
    with pytest.raises(ConfigError) as info:
        resolve_config_path("three_agent_default")
    problem = info.value.problems[0]
    assert problem.suggestion == "three_agents_default"
    assert "three_agents_default" in problem.message and problem.line == 0


def test_a_directory_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        resolve_config_path(tmp_path)


def test_bundled_names_are_file_names_without_suffix():
    assert "three_agents_default" in configs.bundled_names()
    assert configs.find_bundled(".hidden") is None


def test_cli_model_alone_infers_the_backend(manager):
    config = config_from_cli(backend=None, model="gpt-4o-mini", manager=manager)
    agent = config.agents[0]
    assert (agent.id, agent.backend.type, agent.backend.model) == (
        "agent1",
        "openai",
        "gpt-4o-mini",
    )


def test_cli_backend_model_base_url_and_system_message(manager):
    config = config_from_cli(
        backend="ollama",
        model="llama3.2",
        base_url="http://127.0.0.1:11434/v1",
        system_message="Be brief ${not a var}",
        manager=manager,
    )
    agent = config.agents[0]
    assert (agent.backend.type, agent.backend.base_url) == ("ollama", "http://127.0.0.1:11434/v1")
    assert agent.system_message == "Be brief ${not a var}"


def test_cli_needs_a_model_or_backend(manager):
    with pytest.raises(ConfigError, match="give --config FILE, or --model NAME"):
        config_from_cli(backend=None, model=None, manager=manager)


def test_cli_unknown_backend_suggests(manager):
    with pytest.raises(ConfigError) as info:
        config_from_cli(backend="olama", model="llama3.2", manager=manager)
    assert info.value.problems[0].suggestion == "ollama"


def test_cli_overrides_apply_to_every_agent_including_team_members(load):
    config = load("""
agents:
  - id: team
    agents:
      - backend: {type: openai, model: gpt-4o}
  - backend: {type: claude, model: claude-3-5-haiku-20241022, enable_web_search: true}
""")
    changed = apply_cli_overrides(
        config, model="m", base_url="http://127.0.0.1:1/v1", system_message="s"
    )
    leaves = [changed.agents[0].agents[0], changed.agents[1]]
    assert [(a.backend.model, a.backend.base_url, a.system_message) for a in leaves] == [
        ("m", "http://127.0.0.1:1/v1", "s")
    ] * 2
    assert leaves[1].backend.type == "claude" and leaves[1].backend.options == {
        "enable_web_search": True
    }
    assert changed.agents[0].system_message is None  # a team has no system message of its own
    assert apply_cli_overrides(config) is config


def test_effective_config_redacts_api_keys_and_flattens_options(load):
    config = load(
        "agent:\n  backend: {type: openai, model: gpt-4o, api_key: sk-secret, enable_web_search: true}\n"
    )
    data = config_to_dict(config)
    backend = data["agents"][0]["backend"]
    assert backend["api_key"] == "***"
    assert backend["enable_web_search"] is True and "options" not in backend
    assert "sk-secret" not in repr(data)
    assert (
        config_to_dict(config, redact_secrets=False)["agents"][0]["backend"]["api_key"]
        == "sk-secret"
    )


def test_every_bundled_config_validates_with_the_installed_plugins(installed_plugins):
    for name in configs.bundled_names():
        load_config(name, manager=installed_plugins)
