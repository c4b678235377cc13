"""The shape rules: agents, ids, teams, roles, weights, sections and unknown keys."""

from __future__ import annotations

import pytest

from massgen_core.config import ConfigError

ONE = """
agent:
  backend: {type: openai, model: gpt-4o-mini}
"""


def test_single_agent_block_loads_as_one_agent_with_default_id(load):
    config = load(ONE)
    assert [a.id for a in config.agents] == ["agent1"]
    assert config.agents[0].backend.type == "openai"
    assert config.agents[0].backend.model == "gpt-4o-mini"


def test_agent_ids_default_to_one_based_positions(load):
    config = load("""
agents:
  - backend: {type: openai, model: gpt-4o}
  - id: named
    backend: {type: claude, model: claude-3-5-haiku-20241022}
  - backend: {type: gemini, model: gemini-2.5-flash}
""")
    assert [a.id for a in config.agents] == ["agent1", "named", "agent3"]


def test_agents_may_be_a_mapping_keyed_by_id(load):
    config = load("""
agents:
  researcher: {backend: {type: openai, model: gpt-4o}}
  critic: {backend: {type: grok, model: grok-3-mini}}
""")
    assert [a.id for a in config.agents] == ["researcher", "critic"]


def test_duplicate_agent_ids_are_errors_at_the_second_id(problems):
    found = problems("""
agents:
  - id: same
    backend: {type: openai, model: gpt-4o}
  - id: same
    backend: {type: openai, model: gpt-4o}
""")
    assert len(found) == 1
    assert (found[0].line, found[0].col, found[0].key_path) == (5, 9, "agents[1].id")
    assert "duplicate agent id 'same' (first used on line 3)" in found[0].message


def test_agent_and_agents_together_is_an_error(problems):
    found = problems(ONE + "agents: []\n")
    assert [p.key_path for p in found] == ["agent"]
    assert "not both" in found[0].message


def test_a_config_without_agents_is_an_error(problems):
    found = problems("ui: {display_type: simple}\n")
    assert found[0].message.startswith("no agents")


def test_an_empty_document_is_an_error_not_a_crash(problems):
    found = problems("")
    assert "document is empty" in found[0].message


def test_an_agent_without_backend_names_the_agent(problems):
    found = problems("agents:\n  - id: lonely\n    system_message: hi\n")
    assert found[0].key_path == "agents[0]"
    assert "agent 'lonely' has no 'backend'" in found[0].message


def test_unknown_top_level_key_suggests_the_right_one(problems):
    found = problems(ONE + "orchestrater: {max_attempts: 2}\n")
    assert [(p.key_path, p.suggestion, p.line, p.col) for p in found] == [
        ("orchestrater", "orchestrator", 4, 1)
    ]


def test_unknown_agent_key_suggests_the_right_one(problems):
    found = problems("agent:\n  system_mesage: hi\n  backend: {type: openai, model: gpt-4o}\n")
    assert found[0].key_path == "agent.system_mesage"
    assert found[0].suggestion == "system_message"


def test_sections_load_into_their_classes(load):
    config = load(
        ONE
        + """
ui: {display_type: simple, logging_enabled: false}
orchestrator:
  voting_sensitivity: lenient
  max_new_answers_per_agent: 2
  answer_novelty_requirement: balanced
timeout_settings: {orchestrator_timeout_seconds: 60}
"""
    )
    assert config.ui.display_type == "simple" and config.ui.logging_enabled is False
    assert config.orchestrator.max_new_answers_per_agent == 2
    assert config.orchestrator.voting_sensitivity == "lenient"
    assert config.timeout_settings.orchestrator_timeout_seconds == 60.0


def test_wrong_value_types_are_reported_with_the_expected_type(problems):
    found = problems(
        ONE
        + "orchestrator: {max_new_answers_per_agent: many}\ntimeout_settings: {orchestrator_timeout_seconds: true}\n"
    )
    assert [(p.key_path, p.message) for p in found] == [
        ("orchestrator.max_new_answers_per_agent", "expected an integer, got a string 'many'"),
        ("timeout_settings.orchestrator_timeout_seconds", "expected a number, got a boolean True"),
    ]


def test_unknown_display_type_suggests_the_closest(problems):
    found = problems(ONE + "ui:\n  display_type: rich_terminl\n")
    assert (found[0].line, found[0].col, found[0].suggestion) == (5, 17, "rich_terminal")


def test_a_section_that_is_not_a_mapping_is_an_error(problems):
    found = problems(ONE + "ui: fancy\n")
    assert found[0].message == "ui must be a mapping, got a string"


def test_roles_are_named_system_messages_agents_refer_to(load):
    config = load("""
roles:
  pedant: You find flaws.
agents:
  - role: pedant
    weight: 2
    backend: {type: openai, model: gpt-4o}
""")
    agent = config.agents[0]
    assert (agent.role, agent.weight) == ("pedant", 2.0)
    assert config.roles == {"pedant": "You find flaws."}


def test_the_role_presets_the_engine_ships_need_no_roles_section(load):
    assert (
        load("agent: {role: fact_checker, backend: {type: openai, model: gpt-4o}}\n").agents[0].role
        == "fact_checker"
    )


def test_unknown_role_suggests_a_defined_one(problems):
    found = problems(
        "roles: {pedant: x}\nagent: {role: pednat, backend: {type: openai, model: gpt-4o}}\n"
    )
    assert (found[0].key_path, found[0].suggestion) == ("agent.role", "pedant")
    assert "fact_checker" in found[0].message  # the shipped presets are listed too


def test_negative_weight_is_an_error(problems):
    found = problems("agent: {weight: -1, backend: {type: openai, model: gpt-4o}}\n")
    assert found[0].key_path == "agent.weight"
    assert ">= 0" in found[0].message


def test_a_team_is_an_agent_with_agents_and_its_own_voting(load):
    config = load("""
agents:
  - id: team
    voting: {strategy: weighted, tie_break: random}
    orchestrator: {max_attempts: 2}
    agents:
      - backend: {type: openai, model: gpt-4o}
      - id: inner
        backend: {type: claude, model: claude-3-5-haiku-20241022}
  - id: solo
    backend: {type: gemini, model: gemini-2.5-flash}
""")
    team = config.agents[0]
    assert team.is_team and team.backend is None
    assert [a.id for a in team.agents] == ["team.agent1", "inner"]
    assert team.voting.strategy == "weighted" and team.voting.options == {"tie_break": "random"}
    assert team.orchestrator.max_attempts == 2


def test_a_team_with_a_backend_is_an_error(problems):
    found = problems(
        "agents:\n  - agents: [{backend: {type: openai, model: gpt-4o}}]\n    backend: {type: openai, model: gpt-4o}\n"
    )
    assert found[0].key_path == "agents[0].backend"
    assert "team" in found[0].message


def test_voting_on_a_plain_agent_is_an_error(problems):
    found = problems(
        "agent: {voting: {strategy: majority}, backend: {type: openai, model: gpt-4o}}\n"
    )
    assert found[0].key_path == "agent.voting"


def test_agent_ids_must_be_unique_across_nested_teams(problems):
    found = problems("""
agents:
  - id: x
    agents:
      - id: y
        backend: {type: openai, model: gpt-4o}
  - id: y
    backend: {type: openai, model: gpt-4o}
""")
    assert [p.key_path for p in found] == ["agents[1].id"]


def test_every_problem_is_reported_at_once(problems):
    found = problems("""
agents:
  - backend:
      type: openai
      model: gpt-4o
      temprature: 0.2
  - backend:
      type: claud
      model: x
ui: {display_type: nope}
extra: 1
""")
    assert [p.key_path for p in found] == [
        "agents[0].backend.temprature",
        "agents[1].backend.type",
        "ui.display_type",
        "extra",
    ]


def test_config_error_text_is_the_file_line_col_lines(load):
    with pytest.raises(ConfigError) as info:
        load(ONE + "orchestrater: {}\nuii: {}\n", file="team.yaml")
    assert str(info.value).splitlines() == [
        "team.yaml:4:1: orchestrater: unknown key 'orchestrater' (did you mean 'orchestrator'?)",
        "team.yaml:5:1: uii: unknown key 'uii' (did you mean 'ui'?)",
    ]
    assert all(p.severity == "error" for p in info.value.problems)


def test_voting_strategy_name_is_checked_with_a_suggestion(problems):
    found = problems(ONE + "voting: {strategy: majorty}\n")
    assert (found[0].key_path, found[0].suggestion) == ("voting.strategy", "majority")
    assert "installed: majority, weighted" in found[0].message


def test_voting_options_go_to_the_strategy_and_are_validated(load, problems):
    config = load(ONE + "voting: {strategy: weighted, tie_break: random, min_weight: 0.5}\n")
    assert config.voting.strategy == "weighted"
    assert config.voting.options == {"tie_break": "random", "min_weight": 0.5}
    found = problems(ONE + "voting: {strategy: weighted, tie_brake: first}\n")
    assert (found[0].key_path, found[0].suggestion) == ("voting.tie_brake", "tie_break")


def test_voting_option_values_pass_the_strategys_own_validators(problems):
    found = problems(ONE + "voting: {strategy: weighted, min_weight: -2}\n")
    assert found[0].key_path == "voting"
    assert "min_weight" in found[0].message


def test_a_strategy_without_options_rejects_extra_keys(problems):
    found = problems(ONE + "voting: {strategy: majority, quorum: 3}\n")
    assert found[0].key_path == "voting.quorum"
    assert "takes no options" in found[0].message


def test_default_voting_is_majority(load):
    assert load(ONE).voting.strategy == "majority"


def test_non_string_keys_are_errors(problems):
    found = problems(ONE + "1: x\n")
    assert found[0].message == "keys must be strings, got an integer 1"


def test_yaml_1_2_scalars_yes_stays_a_string(problems):
    found = problems(
        "agent:\n  system_message: yes\n  weight: 0o7\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert found == []


def test_anchors_and_merge_keys_work(load):
    config = load("""
agents:
  - id: a
    backend: &base {type: openai, model: gpt-4o, temperature: 0.1}
  - id: b
    backend:
      <<: *base
      temperature: 0.9
""")
    assert [a.backend.temperature for a in config.agents] == [0.1, 0.9]
    assert config.agents[1].backend.model == "gpt-4o"
