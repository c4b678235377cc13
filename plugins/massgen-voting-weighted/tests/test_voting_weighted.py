"""The weighted strategy: votes count the voter's configured weight."""

from __future__ import annotations

import massgen_scripted
import massgen_voting_weighted
from massgen_voting_weighted import WeightedStrategy

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config, VotingConfig
from massgen_core.orchestrator import build_orchestrator
from massgen_core.voting import AgentInfo, Vote

AGENTS = [
    AgentInfo(id="a", weight=1.0),
    AgentInfo(id="b", weight=1.0),
    AgentInfo(id="c", weight=3.0),
]
ANSWERS = {"a": "A", "b": "B", "c": "C"}


def _vote(voter: str, target: str) -> Vote:
    return Vote(voter=voter, target=target, reason="r")


def test_a_heavy_voter_outweighs_two_light_ones():
    votes = {"a": _vote("a", "a"), "b": _vote("b", "a"), "c": _vote("c", "c")}
    decision = WeightedStrategy(AGENTS).decide(votes, ANSWERS)
    assert decision.winner == "c" and decision.tally == {"a": 2.0, "b": 0.0, "c": 3.0}
    assert "weighted vote" in decision.explanation


def test_equal_weight_sums_tie_to_config_order():
    agents = [
        AgentInfo(id="x", weight=2.0),
        AgentInfo(id="y", weight=1.0),
        AgentInfo(id="z", weight=1.0),
    ]
    votes = {"x": _vote("x", "y"), "y": _vote("y", "x"), "z": _vote("z", "x")}
    assert WeightedStrategy(agents).decide(votes, {"x": "X", "y": "Y"}).winner == "x"


def test_an_unknown_voter_counts_with_weight_one():
    votes = {"ghost": _vote("ghost", "b")}
    assert WeightedStrategy(AGENTS).decide(votes, ANSWERS).tally["b"] == 1.0


def test_no_votes_means_the_first_answer():
    assert WeightedStrategy(AGENTS).decide({}, {"b": "B", "c": "C"}).winner == "b"


async def test_full_session_uses_weights_from_config(plugin_manager):
    for module in (massgen_scripted, massgen_voting_weighted):
        plugin_manager.register(module, name=module.__name__)

    def agent(agent_id: str, weight: float, script: list) -> AgentConfig:
        return AgentConfig(
            id=agent_id,
            weight=weight,
            backend=BackendConfig(type="scripted", options={"script": script}),
        )

    config = Config(
        agents=(
            agent("a", 1.0, [{"answer": "A"}, {"vote": {"for_agent": "a"}}]),
            agent("b", 1.0, [{"delay": 0.02, "answer": "B"}, {"vote": {"for_agent": "a"}}]),
            agent("boss", 5.0, [{"delay": 0.04, "vote": {"for_agent": "b"}}]),
        ),
        voting=VotingConfig(strategy="weighted"),
    )
    events = [e async for e in build_orchestrator(config, manager=plugin_manager).run("Q")]
    winner = next(e for e in events if isinstance(e, ev.WinnerSelected))
    assert winner.winner == "b" and winner.tally == {"a": 2.0, "b": 5.0}


def test_tie_break_first_and_last_pick_opposite_ends_of_config_order():
    from massgen_voting_weighted import WeightedOptions

    votes = {"a": _vote("a", "a"), "b": _vote("b", "b")}  # a and b tie at 1.0; c voted for nobody
    even = [AgentInfo(id="a"), AgentInfo(id="b"), AgentInfo(id="c")]
    assert WeightedStrategy(even).decide(votes, ANSWERS).winner == "a"
    assert WeightedStrategy(even, WeightedOptions(tie_break="first")).decide(votes, ANSWERS).winner == "a"
    last = WeightedStrategy(even, WeightedOptions(tie_break="last"))
    assert last.decide(votes, ANSWERS).winner == "b"
    silent = last.decide({}, ANSWERS)
    assert silent.winner == "c" and "last agent in config order" in silent.explanation


def test_a_tie_break_the_strategy_does_not_know_is_a_located_config_error(tmp_path):
    import subprocess
    import sys

    good = tmp_path / "good.yaml"
    good.write_text("agents:\n  - {id: a, backend: {type: scripted}}\nvoting:\n  strategy: weighted\n  tie_break: last\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("tie_break: last", "tie_break: middle"))
    run = [sys.executable, "-m", "massgen_core", "config", "validate"]
    assert subprocess.run([*run, str(good)], capture_output=True, text=True).returncode == 0
    done = subprocess.run([*run, str(bad)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    said = done.stdout + done.stderr
    assert f"{bad}:4:" in said and "tie_break must be one of first, last, got 'middle'" in said
