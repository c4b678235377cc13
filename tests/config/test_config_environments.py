"""Named environment overlays, ${VAR} interpolation and .env files."""

from __future__ import annotations

import pytest

from massgen_core.config import ConfigError

BASE = """
agents:
  - id: main
    backend:
      type: openai
      model: gpt-4o-mini
      temperature: 0.2
ui:
  display_type: rich_terminal
  logging_enabled: true
environments:
  dev:
    ui: {display_type: simple}
    agents:
      - id: cheap
        backend: {type: openai, model: gpt-4o-mini}
      - id: second
        backend: {type: grok, model: grok-3-mini}
  prod:
    ui:
      logging_enabled: false
"""


def test_without_env_the_base_config_loads(load):
    config = load(BASE)
    assert [a.id for a in config.agents] == ["main"]
    assert config.environment is None


def test_env_overlay_deep_merges_mappings(load):
    config = load(BASE, env="prod")
    assert config.ui.display_type == "rich_terminal"  # kept from the base
    assert config.ui.logging_enabled is False  # from the overlay
    assert config.environment == "prod"


def test_env_overlay_replaces_lists(load):
    config = load(BASE, env="dev")
    assert [a.id for a in config.agents] == ["cheap", "second"]
    assert config.ui.display_type == "simple"


def test_unknown_env_lists_the_known_ones_with_a_suggestion(load):
    with pytest.raises(ConfigError) as info:
        load(BASE, env="prd")
    problem = info.value.problems[0]
    assert "unknown environment 'prd'; known: dev, prod" in problem.message
    assert problem.suggestion == "prod"


def test_env_without_environments_section_is_an_error(load):
    with pytest.raises(ConfigError, match="unknown environment 'dev'"):
        load("agent: {backend: {type: openai, model: gpt-4o}}\n", env="dev")


def test_problems_inside_an_overlay_point_into_the_overlay(problems):
    found = problems(BASE.replace("ui: {display_type: simple}", "ui: {display_type: simpel}"))
    assert [(p.key_path, p.line, p.col, p.suggestion) for p in found] == [
        ("ui.display_type", 13, 24, "simple")
    ]


def test_an_overlay_that_is_not_a_mapping_is_an_error(problems):
    found = problems("agent: {backend: {type: openai, model: gpt-4o}}\nenvironments: {dev: [1]}\n")
    assert found[0].key_path == "environments.dev"


def test_variables_are_interpolated_from_the_environment(load, monkeypatch):
    monkeypatch.setenv("MG_TEST_MODEL", "gpt-4o")
    monkeypatch.setenv("MG_TEST_KEY", "sk-test")
    config = load(
        "agent:\n  backend: {type: openai, model: '${MG_TEST_MODEL}', api_key: '${MG_TEST_KEY}'}\n"
    )
    assert config.agents[0].backend.model == "gpt-4o"
    assert config.agents[0].backend.api_key == "sk-test"


def test_default_applies_when_the_variable_is_unset(load, monkeypatch):
    monkeypatch.delenv("MG_TEST_UNSET", raising=False)
    config = load(
        "agent:\n  system_message: 'Hi ${MG_TEST_UNSET:-there}!'\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert config.agents[0].system_message == "Hi there!"


def test_interpolated_numbers_become_numbers(load, monkeypatch):
    monkeypatch.setenv("MG_TEST_TEMP", "0.25")
    config = load(
        "agent:\n  backend: {type: openai, model: gpt-4o, temperature: '${MG_TEST_TEMP}', max_tokens: '${MG_TEST_MAX:-100}'}\n"
    )
    assert (config.agents[0].backend.temperature, config.agents[0].backend.max_tokens) == (
        0.25,
        100,
    )


def test_an_unset_variable_without_default_names_the_variable_and_key(problems, monkeypatch):
    monkeypatch.delenv("MG_TEST_MISSING_KEY", raising=False)
    found = problems(
        "agent:\n  backend:\n    type: openai\n    model: gpt-4o\n    api_key: ${MG_TEST_MISSING_KEY}\n"
    )
    assert [(p.key_path, p.line, p.col) for p in found] == [("agent.backend.api_key", 5, 14)]
    assert "MG_TEST_MISSING_KEY is not set" in found[0].message


def test_double_dollar_escapes_a_reference(load):
    config = load(
        "agent:\n  system_message: 'literal $${HOME}'\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert config.agents[0].system_message == "literal ${HOME}"


def _forget(monkeypatch, name):
    # set then delete: monkeypatch restores "unset" afterwards, even if .env loading sets it
    monkeypatch.setenv(name, "x")
    monkeypatch.delenv(name)


def test_dotenv_in_the_current_directory_is_honoured(load, tmp_path, monkeypatch):
    _forget(monkeypatch, "MG_TEST_DOTENV")
    (tmp_path / ".env").write_text("MG_TEST_DOTENV=from-cwd\n")
    monkeypatch.chdir(tmp_path)
    config = load(
        "agent:\n  system_message: ${MG_TEST_DOTENV}\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert config.agents[0].system_message == "from-cwd"


def test_dotenv_in_the_user_config_dir_is_honoured_after_the_cwd_one(
    load, tmp_path, monkeypatch, _isolated_home
):
    _forget(monkeypatch, "MG_TEST_A")
    _forget(monkeypatch, "MG_TEST_B")
    (tmp_path / ".env").write_text("MG_TEST_A=cwd\n")
    user = _isolated_home / "config"
    user.mkdir(parents=True)
    (user / ".env").write_text("MG_TEST_A=user\nMG_TEST_B=user\n")
    monkeypatch.chdir(tmp_path)
    config = load(
        "agent:\n  system_message: ${MG_TEST_A}-${MG_TEST_B}\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert config.agents[0].system_message == "cwd-user"


def test_dotenv_never_overrides_a_variable_already_set(load, tmp_path, monkeypatch):
    monkeypatch.setenv("MG_TEST_SET", "shell")
    (tmp_path / ".env").write_text("MG_TEST_SET=dotenv\n")
    monkeypatch.chdir(tmp_path)
    config = load(
        "agent:\n  system_message: ${MG_TEST_SET}\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert config.agents[0].system_message == "shell"


def test_validate_checks_every_environment(problems):
    found = problems(BASE.replace("logging_enabled: false", "loging_enabled: false"))
    assert [(p.key_path, p.suggestion) for p in found] == [("ui.loging_enabled", "logging_enabled")]
    assert found[0].line == 21
