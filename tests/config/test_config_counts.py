"""``count: N`` in an agent entry and ``--model NAME:N`` on the command line stand for N identical agents."""

from __future__ import annotations

import pytest

from massgen_core.config.counts import split_model
from massgen_core.config.loader import apply_cli_overrides, config_from_cli
from massgen_core.config.problems import ConfigError

TEAM = """\
agents:
  - id: solver
    count: 3
    system_message: Be brief.
    backend: {type: openai, model: gpt-4o-mini, temperature: 0.2}
  - backend: {type: openai, model: gpt-4o}
    count: 2
  - id: critic
    backend: {type: openai, model: gpt-4o}
"""


def test_a_count_makes_copies_named_after_the_entry_in_place(load):
    config = load(TEAM)
    assert [a.id for a in config.agents] == [
        "solver-1", "solver-2", "solver-3", "agent2-1", "agent2-2", "critic",
    ]
    solvers = config.agents[:3]
    assert {(a.backend.model, a.backend.temperature, a.system_message) for a in solvers} == {
        ("gpt-4o-mini", 0.2, "Be brief.")
    }


def test_members_of_a_team_may_have_a_count(load):
    config = load(
        "agents:\n  - id: panel\n    agents:\n      - id: p\n        count: 2\n"
        "        backend: {type: openai, model: gpt-4o-mini}\n"
    )
    assert [m.id for m in config.agents[0].agents] == ["p-1", "p-2"]


def test_a_copy_id_that_another_agent_uses_is_a_located_duplicate(problems):
    found = problems(
        "agents:\n  - id: x\n    count: 2\n    backend: {type: openai, model: gpt-4o}\n"
        "  - id: x-2\n    backend: {type: openai, model: gpt-4o}\n"
    )
    assert [(p.line, p.key_path, p.message) for p in found] == [
        (5, "agents[1].id", "duplicate agent id 'x-2' (first used on line 2)")
    ]


@pytest.mark.parametrize("value", ["0", "65", "two", "true", "1.5"])
def test_a_count_must_be_a_whole_number_in_range(problems, value):
    found = problems(f"agents:\n  - count: {value}\n    backend: {{type: openai, model: gpt-4o}}\n")
    assert [(p.line, p.key_path) for p in found] == [(2, "agents[0].count")]
    assert "count must be a whole number from 1 to 64" in found[0].message


def test_a_team_cannot_have_a_count(problems):
    found = problems(
        "agents:\n  - count: 2\n    agents:\n      - backend: {type: openai, model: gpt-4o}\n"
    )
    assert [(p.key_path, p.message) for p in found] == [
        ("agents[0].count", "count makes copies of one agent; a team cannot have a count")
    ]


def test_model_name_colon_digits_on_the_command_line_makes_agents_a1_to_aN(manager):
    config = config_from_cli(backend=None, model="gpt-4o-mini:3", manager=manager)
    assert [(a.id, a.backend.type, a.backend.model) for a in config.agents] == [
        ("a1", "openai", "gpt-4o-mini"), ("a2", "openai", "gpt-4o-mini"), ("a3", "openai", "gpt-4o-mini"),
    ]


def test_a_tag_with_letters_stays_part_of_the_model_name():
    assert split_model("llama3.1:8b") == ("llama3.1:8b", None)
    assert split_model("qwen2.5:7b-instruct") == ("qwen2.5:7b-instruct", None)
    assert split_model("gpt-4o-mini:12") == ("gpt-4o-mini", 12)
    assert split_model(None) == (None, None)


@pytest.mark.parametrize("model", ["gpt-4o-mini:0", "gpt-4o-mini:65"])
def test_a_command_line_count_out_of_range_is_refused(manager, model):
    with pytest.raises(ConfigError, match="N must be from 1 to 64"):
        config_from_cli(backend=None, model=model, manager=manager)


def test_a_count_with_config_says_to_write_it_in_the_file(load):
    with pytest.raises(ConfigError, match="write `count: N` in the agent"):
        apply_cli_overrides(load(TEAM), model="gpt-4o:2")


def test_a_team_scale_loads_into_the_orchestrator_section(load):
    config = load("orchestrator: {scale: {min: 2, max: 5}}\n" + TEAM)
    assert (config.orchestrator.scale.min, config.orchestrator.scale.max) == (2, 5)


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        ("{min: 3, max: 2}", "scale needs 1 <= min <= max <= 64, got min 3, max 2"),
        ("{min: 0, max: 2}", "scale needs 1 <= min <= max <= 64, got min 0, max 2"),
        ("{max: 65}", "scale needs 1 <= min <= max <= 64, got min 1, max 65"),
        ("{min: 2}", "scale needs max: the most agents the team may grow to"),
    ],
)
def test_a_scale_out_of_bounds_is_located(problems, scale, message):
    found = problems(f"orchestrator: {{scale: {scale}}}\nagents:\n  - backend: {{type: openai, model: gpt-4o}}\n")
    assert [(p.line, p.key_path, p.message) for p in found] == [(1, "orchestrator.scale", message)]
