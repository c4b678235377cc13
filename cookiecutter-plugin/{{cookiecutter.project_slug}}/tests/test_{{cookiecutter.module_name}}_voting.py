"""The {{ cookiecutter.registered_name|tojson }} voting strategy, through MassGen's plugin manager."""

from __future__ import annotations

import pytest
from massgen_core.plugins import PluginManager
from massgen_core.voting import AgentInfo, InvalidVote, Vote

import {{ cookiecutter.module_name }}

NAME = {{ cookiecutter.registered_name|tojson }}
ANSWERS = {"alice": "Paris.", "bob": "Paris, France.", "carol": "It is Paris."}


def strategy():
    pm = PluginManager()
    pm.register({{ cookiecutter.module_name }}, name={{ cookiecutter.project_slug|tojson }})
    cls = pm.voting_strategies.get(NAME)
    return cls([AgentInfo(id="alice"), AgentInfo(id="bob"), AgentInfo(id="carol")])


def votes(**targets: str) -> dict[str, Vote]:
    return {
        voter: Vote(voter=voter, target=target, reason=f"{voter} likes {target}")
        for voter, target in targets.items()
    }


def test_the_plugin_registers_the_strategy_under_its_name() -> None:
    assert strategy().name == NAME


def test_a_unanimous_vote_wins_even_for_a_later_agent() -> None:
    decision = strategy().decide(votes(alice="carol", bob="carol", carol="carol"), ANSWERS)
    assert decision.winner == "carol"
    assert decision.tally == {"carol": 3.0}
    assert decision.reasons["alice"] == "alice likes carol"
    assert decision.explanation.startswith("unanimous")


def test_a_split_vote_goes_to_the_first_agent_with_an_answer() -> None:
    decision = strategy().decide(
        votes(alice="bob", bob="bob", carol="carol"), {"bob": "x", "carol": "y"}
    )
    assert decision.winner == "bob"
    assert decision.tally == {"bob": 2.0, "carol": 1.0}
    assert "split" in decision.explanation


def test_with_no_votes_the_first_agent_with_an_answer_wins() -> None:
    decision = strategy().decide({}, {"carol": "y", "bob": "x"})
    assert decision.winner == "bob"
    assert "no votes" in decision.explanation


def test_with_no_votes_and_no_answers_there_is_no_winner() -> None:
    assert strategy().decide({}, {}).winner is None


def test_votes_are_parsed_from_anonymous_labels_to_real_ids() -> None:
    s = strategy()
    assert (
        s.parse_vote(
            "alice", {"agent_id": "agent2", "reason": "r"}, {"agent1": "bob", "agent2": "carol"}
        ).target
        == "carol"
    )
    with pytest.raises(InvalidVote):
        s.parse_vote("alice", {"agent_id": "agent9", "reason": "r"}, {"agent1": "bob"})
