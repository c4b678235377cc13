"""Validation finds what a run would trip over: unusable engine bounds, a strategy's objections.

A type check alone let ``max_attempts: 0`` (every launch fails at once),
``orchestrator_timeout_seconds: -5`` (the session ends before it starts) or
``max_cost_usd: -1`` through ``massgen config validate`` as "ok", and a judge
who is not a member of the team was only found when the session started.
"""

from __future__ import annotations

import pytest

from massgen_core.config import ConfigError, load_text_with_warnings


@pytest.fixture
def team_manager(plugin_manager):
    """The scripted backend and the strategies these tests build, registered as throwaway plugins."""
    import massgen_scripted
    import massgen_voting_judge
    import massgen_voting_majority

    for module in (massgen_scripted, massgen_voting_majority, massgen_voting_judge):
        plugin_manager.register(module, name=module.__name__)
    return plugin_manager

AGENT = "agents: [{id: a, backend: {type: scripted, model: scripted-1}}]\n"


def _errors(text: str, manager) -> list[tuple[str, int, str]]:
    with pytest.raises(ConfigError) as err:
        load_text_with_warnings(AGENT + text, "bounds.yaml", manager=manager)
    return [(p.key_path, p.line, p.message) for p in err.value.problems if p.is_error]


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("orchestrator", "max_attempts", "0"),
        ("orchestrator", "max_new_answers_per_agent", "0"),
        ("orchestrator", "max_consecutive_failures", "-1"),
        ("orchestrator", "max_cost_usd", "-1"),
        ("orchestrator", "max_cost_usd", ".nan"),
        ("timeout_settings", "orchestrator_timeout_seconds", "-5"),
        ("timeout_settings", "per_call_timeout_seconds", "0"),
    ],
)
def test_a_bound_that_cannot_run_is_a_located_error(team_manager, section, key, value):
    found = _errors(f"{section}:\n  {key}: {value}\n", team_manager)
    assert [(path, line) for path, line, _ in found] == [(f"{section}.{key}", 3)]
    assert "greater than 0" in found[0][2]


def test_every_bad_bound_is_reported_at_once(team_manager):
    text = (
        "orchestrator: {max_attempts: 0, max_cost_usd: 0}\n"
        "timeout_settings: {orchestrator_timeout_seconds: 0}\n"
        "environments:\n  fast:\n    timeout_settings: {per_call_timeout_seconds: -1}\n"
    )
    paths = {path for path, _, _ in _errors(text, team_manager)}
    assert paths >= {
        "orchestrator.max_attempts",
        "orchestrator.max_cost_usd",
        "timeout_settings.orchestrator_timeout_seconds",
    }


def test_positive_and_unset_bounds_load(team_manager):
    text = (
        "orchestrator: {max_attempts: 1, max_new_answers_per_agent: null, max_cost_usd: 0.01}\n"
        "timeout_settings: {orchestrator_timeout_seconds: .inf, per_call_timeout_seconds: 0.5}\n"
    )
    config, _ = load_text_with_warnings(AGENT + text, "bounds.yaml", manager=team_manager)
    assert config.orchestrator.max_attempts == 1 and config.orchestrator.max_cost_usd == 0.01
    assert config.timeout_settings.per_call_timeout_seconds == 0.5


# -- a strategy's own objections to its team, found by validation rather than at run time ------

TEAM = """
agents:
  - id: editor
    backend: {type: scripted, model: scripted-1}
  - id: writer
    backend: {type: scripted, model: scripted-1}
"""


def test_a_judge_who_is_not_a_member_is_a_located_error(team_manager):
    with pytest.raises(ConfigError) as err:
        load_text_with_warnings(
            TEAM + "voting: {strategy: judge, judge: editr}\n", "judge.yaml", manager=team_manager
        )
    [problem] = err.value.problems
    assert (problem.key_path, problem.line) == ("voting", 7)
    assert "judge 'editr' is not an agent of this team (editor, writer)" in problem.message


def test_a_nested_team_inheriting_the_judge_strategy_is_checked_too(team_manager):
    text = TEAM + (
        "  - id: panel\n"
        "    agents:\n"
        "      - {id: p1, backend: {type: scripted, model: scripted-1}}\n"
        "      - {id: p2, backend: {type: scripted, model: scripted-1}}\n"
        "voting: {strategy: judge, judge: editor}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_text_with_warnings(text, "nested.yaml", manager=team_manager)
    [problem] = err.value.problems
    assert problem.key_path == "voting" and "in team 'panel'" in problem.message


def test_a_nested_teams_own_strategy_is_located_at_its_own_voting(team_manager):
    text = TEAM + (
        "  - id: panel\n"
        "    agents:\n"
        "      - {id: p1, backend: {type: scripted, model: scripted-1}}\n"
        "      - {id: p2, backend: {type: scripted, model: scripted-1}}\n"
        "    voting: {strategy: judge, judge: editor}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_text_with_warnings(text, "own.yaml", manager=team_manager)
    [problem] = err.value.problems
    assert (problem.key_path, problem.line) == ("agents[2].voting", 11)


def test_a_judge_who_is_a_member_loads(team_manager):
    config, _ = load_text_with_warnings(
        TEAM + "voting: {strategy: judge, judge: editor}\n", "ok.yaml", manager=team_manager
    )
    assert config.voting.options == {"judge": "editor"}
