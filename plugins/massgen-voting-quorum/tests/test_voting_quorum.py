"""The quorum strategy: early consensus at a fraction of active voters; majority otherwise."""

from __future__ import annotations

import time

import massgen_scripted
import massgen_voting_quorum
import pytest
from massgen_voting_quorum import QuorumOptions, QuorumStrategy

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config, VotingConfig
from massgen_core.errors import MassGenError
from massgen_core.orchestrator import build_orchestrator, build_strategy
from massgen_core.voting import AgentInfo, Vote

IDS = ["a", "b", "c"]
AGENTS = [AgentInfo(id=i) for i in IDS]
ANSWERS = {"a": "A", "b": "B", "c": "C"}


def _votes(**targets: str) -> dict[str, Vote]:
    return {voter: Vote(voter=voter, target=target) for voter, target in targets.items()}


def test_default_fraction_is_two_thirds_rounded_up():
    strategy = QuorumStrategy(AGENTS)
    assert strategy.needed(3) == 2 and strategy.needed(4) == 3 and strategy.needed(1) == 1


def test_consensus_as_soon_as_one_answer_has_the_quorum():
    strategy = QuorumStrategy(AGENTS)
    assert strategy.consensus_reached(_votes(a="b", c="b"), IDS)
    assert not strategy.consensus_reached(_votes(a="b", c="a"), IDS)


def test_everyone_voting_without_a_quorum_is_still_the_end():
    strategy = QuorumStrategy(AGENTS, QuorumOptions(fraction=1.0))
    assert strategy.consensus_reached(_votes(a="a", b="b", c="c"), IDS)


def test_decision_names_the_quorum_answer():
    decision = QuorumStrategy(AGENTS).decide(_votes(a="c", b="c"), ANSWERS)
    assert decision.winner == "c" and "quorum" in decision.explanation


def test_without_quorum_the_decision_falls_back_to_majority():
    decision = QuorumStrategy(AGENTS, QuorumOptions(fraction=1.0)).decide(
        _votes(a="b", b="b", c="a"), ANSWERS
    )
    assert decision.winner == "b" and decision.explanation.startswith("no quorum; majority")


def test_fraction_must_be_within_zero_and_one(plugin_manager):
    plugin_manager.register(massgen_voting_quorum, name="quorum")
    with pytest.raises(MassGenError, match="fraction"):
        build_strategy(
            VotingConfig(strategy="quorum", options={"fraction": 0}), AGENTS, plugin_manager
        )
    strategy = build_strategy(
        VotingConfig(strategy="quorum", options={"fraction": "0.5"}), AGENTS, plugin_manager
    )
    assert strategy.options.fraction == 0.5


async def test_full_session_ends_early_once_the_quorum_is_reached(plugin_manager):
    for module in (massgen_scripted, massgen_voting_quorum):
        plugin_manager.register(module, name=module.__name__)

    def agent(agent_id: str, script: list) -> AgentConfig:
        return AgentConfig(
            id=agent_id, backend=BackendConfig(type="scripted", options={"script": script})
        )

    config = Config(
        agents=(
            agent("a", [{"answer": "A"}, {"vote": "self"}]),
            agent("b", [{"delay": 0.02, "vote": "first"}]),
            agent("slow", [{"delay": 0.04, "vote": "first"}, {"stall": 30}]),
        ),
        voting=VotingConfig(strategy="quorum"),
    )
    started = time.monotonic()
    events = [e async for e in build_orchestrator(config, manager=plugin_manager).run("Q")]
    assert time.monotonic() - started < 5
    assert events[-1].ended_by == "consensus" and events[-1].winner == "a"
    voters = {e.voter for e in events if isinstance(e, ev.VoteCast)}
    assert "a" in voters and len(voters) >= 2
