"""The majority strategy: PROTOCOL.md §6 rules, ties, edge cases, and one full session."""

from __future__ import annotations

import massgen_scripted
import massgen_voting_majority
import pytest
from massgen_voting_majority import MajorityStrategy

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config
from massgen_core.orchestrator import build_orchestrator
from massgen_core.voting import AgentInfo, InvalidVote, Vote

AGENTS = [AgentInfo(id="a"), AgentInfo(id="b"), AgentInfo(id="c")]
ANSWERS = {"a": "A", "b": "B", "c": "C"}


def _votes(**targets: str) -> dict[str, Vote]:
    return {
        voter: Vote(voter=voter, target=target, reason=f"{voter} likes {target}")
        for voter, target in targets.items()
    }


def test_most_votes_wins():
    decision = MajorityStrategy(AGENTS).decide(_votes(a="c", b="c", c="a"), ANSWERS)
    assert decision.winner == "c" and decision.tally == {"a": 1, "b": 0, "c": 2}


def test_ties_go_to_config_order_not_alphabetical():
    strategy = MajorityStrategy([AgentInfo(id="z"), AgentInfo(id="a")])
    decision = strategy.decide(_votes(z="a", a="z"), {"z": "Z", "a": "A"})
    assert decision.winner == "z"


def test_no_votes_means_the_first_agent_in_config_order_with_an_answer():
    decision = MajorityStrategy(AGENTS).decide({}, {"b": "B", "c": "C"})
    assert decision.winner == "b" and "no votes" in decision.explanation


def test_self_votes_count():
    decision = MajorityStrategy(AGENTS).decide(_votes(a="a", b="a", c="c"), ANSWERS)
    assert decision.winner == "a" and decision.tally["a"] == 2


def test_decision_carries_each_voters_reason():
    decision = MajorityStrategy(AGENTS).decide(_votes(a="b", b="b"), ANSWERS)
    assert decision.reasons == {"a": "a likes b", "b": "b likes b"}
    assert decision.explanation == "b wins with 2 votes of 2 voter(s)"


def test_no_answers_means_no_winner():
    decision = MajorityStrategy(AGENTS).decide({}, {})
    assert decision.winner is None and decision.explanation == "no answers to choose from"


def test_consensus_needs_every_active_voter():
    strategy = MajorityStrategy(AGENTS)
    assert not strategy.consensus_reached(_votes(a="a", b="a"), ["a", "b", "c"])
    assert strategy.consensus_reached(_votes(a="a", b="a"), ["a", "b"])


def test_vote_tool_offers_only_the_given_labels_and_maps_back_to_real_ids():
    strategy = MajorityStrategy(AGENTS)
    params = strategy.vote_parameters(["agent1", "agent2"])
    assert params["properties"]["agent_id"]["enum"] == ["agent1", "agent2"]
    vote = strategy.parse_vote(
        "c", {"agent_id": "agent2", "reason": "ok"}, {"agent1": "a", "agent2": "b"}
    )
    assert (vote.voter, vote.target, vote.reason) == ("c", "b", "ok")
    with pytest.raises(InvalidVote, match="Valid agents: agent1"):
        strategy.parse_vote("c", {"agent_id": "agent3"}, {"agent1": "a"})


def _scripted(agent_id: str, script: list) -> AgentConfig:
    return AgentConfig(
        id=agent_id, backend=BackendConfig(type="scripted", options={"script": script})
    )


async def test_full_session_picks_the_majority(plugin_manager):
    for module in (massgen_scripted, massgen_voting_majority):
        plugin_manager.register(module, name=module.__name__)
    config = Config(
        agents=(
            _scripted("a", [{"answer": "short"}, {"vote": "best"}]),
            _scripted("b", [{"answer": "the longest answer of all"}, {"vote": "best"}]),
            _scripted("c", [{"vote": {"for_agent": "a", "reason": "concise"}}]),
        )
    )
    events = [e async for e in build_orchestrator(config, manager=plugin_manager).run("Q")]
    winner = next(e for e in events if isinstance(e, ev.WinnerSelected))
    assert winner.winner == "b" and winner.tally == {"a": 1, "b": 2}
    assert events[-1].ended_by == "consensus"
