"""The ranked strategy: the vote tool asks for a ranking; Borda count; ties to config order."""

from __future__ import annotations

import massgen_scripted
import massgen_voting_ranked
import pytest
from massgen_voting_ranked import RankedStrategy

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config, VotingConfig
from massgen_core.orchestrator import build_orchestrator
from massgen_core.voting import AgentInfo, InvalidVote, Vote

AGENTS = [AgentInfo(id=i) for i in ("a", "b", "c")]
ANSWERS = {"a": "A", "b": "B", "c": "C"}
LABELS = {"agent1": "a", "agent2": "b", "agent3": "c"}


def _ranked(voter: str, *ranking: str) -> Vote:
    return Vote(voter=voter, target=ranking[0], ranking=ranking)


def test_vote_tool_asks_for_a_ranking_of_offered_labels():
    params = RankedStrategy(AGENTS).vote_parameters(["agent1", "agent2"])
    assert params["required"] == ["ranking", "reason"]
    assert params["properties"]["ranking"]["items"]["enum"] == ["agent1", "agent2"]


def test_parse_maps_the_ranking_to_real_ids_best_first():
    vote = RankedStrategy(AGENTS).parse_vote(
        "a", {"ranking": ["agent3", "agent1"], "reason": "r"}, LABELS
    )
    assert (vote.target, vote.ranking, vote.reason) == ("c", ("c", "a"), "r")


def test_a_single_label_string_is_a_one_item_ranking():
    assert RankedStrategy(AGENTS).parse_vote("a", {"ranking": "agent2"}, LABELS).ranking == ("b",)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ranking": []}, "non-empty"),
        ({}, "non-empty"),
        ({"ranking": ["agent9"]}, "agent9"),
        ({"ranking": ["agent1", "agent1"]}, "more than once"),
    ],
)
def test_invalid_rankings_are_rejected(arguments, message):
    with pytest.raises(InvalidVote, match=message):
        RankedStrategy(AGENTS).parse_vote("a", arguments, LABELS)


def test_borda_count_rewards_broad_support_over_first_places():
    votes = {
        "a": _ranked("a", "a", "b", "c"),
        "b": _ranked("b", "b", "a", "c"),
        "c": _ranked("c", "c", "a", "b"),
    }
    decision = RankedStrategy(AGENTS).decide(votes, ANSWERS)
    assert decision.tally == {"a": 7, "b": 6, "c": 5} and decision.winner == "a"
    assert "Borda" in decision.explanation


def test_borda_ties_go_to_config_order():
    votes = {"a": _ranked("a", "b", "a"), "b": _ranked("b", "a", "b")}
    assert RankedStrategy(AGENTS).decide(votes, {"a": "A", "b": "B"}).winner == "a"


def test_a_plain_vote_counts_as_a_one_item_ranking():
    decision = RankedStrategy(AGENTS).decide({"a": Vote(voter="a", target="c")}, ANSWERS)
    assert decision.winner == "c" and decision.tally["c"] == 3


async def test_full_session_with_ranking_votes(plugin_manager):
    for module in (massgen_scripted, massgen_voting_ranked):
        plugin_manager.register(module, name=module.__name__)

    def agent(agent_id: str, script: list) -> AgentConfig:
        return AgentConfig(
            id=agent_id, backend=BackendConfig(type="scripted", options={"script": script})
        )

    config = Config(
        agents=(
            agent("a", [{"answer": "A"}, {"vote": {"for_agent": "b"}}]),
            agent("b", [{"delay": 0.02, "answer": "B is longer"}, {"vote": "best"}]),
        ),
        voting=VotingConfig(strategy="ranked"),
    )
    events = [e async for e in build_orchestrator(config, manager=plugin_manager).run("Q")]
    last_answer = max(e.seq for e in events if isinstance(e, ev.AnswerSubmitted))
    counted = [e for e in events if isinstance(e, ev.VoteCast) and e.seq > last_answer]
    assert {c.ranking for c in counted} == {("b", "a")}
    assert events[-1].winner == "b"
