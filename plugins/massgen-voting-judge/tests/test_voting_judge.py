"""The judge strategy: a designated agent that does not answer picks the winner."""

from __future__ import annotations

import massgen_scripted
import massgen_voting_judge
import pytest
from massgen_voting_judge import JudgeOptions, JudgeStrategy

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config, VotingConfig
from massgen_core.errors import MassGenError
from massgen_core.orchestrator import build_orchestrator
from massgen_core.voting import AgentInfo, Vote

AGENTS = [AgentInfo(id=i) for i in ("a", "b", "judge")]


def test_only_the_judges_vote_decides():
    strategy = JudgeStrategy(AGENTS, JudgeOptions(judge="judge"))
    votes = {
        "a": Vote(voter="a", target="a"),
        "b": Vote(voter="b", target="a"),
        "judge": Vote(voter="judge", target="b", reason="more precise"),
    }
    decision = strategy.decide(votes, {"a": "A", "b": "B"})
    assert decision.winner == "b" and decision.reasons == {"judge": "more precise"}
    assert decision.tally == {"a": 0, "b": 1}


def test_the_judge_may_not_answer_but_the_others_may():
    strategy = JudgeStrategy(AGENTS, JudgeOptions(judge="judge"))
    assert not strategy.may_answer("judge") and strategy.may_answer("a")


def test_without_the_judges_vote_the_first_answer_wins():
    decision = JudgeStrategy(AGENTS, JudgeOptions(judge="judge")).decide({}, {"b": "B", "a": "A"})
    assert decision.winner == "a" and "did not vote" in decision.explanation


def test_the_judge_must_be_a_team_member():
    with pytest.raises(MassGenError, match="not an agent"):
        JudgeStrategy(AGENTS, JudgeOptions(judge="nobody"))
    with pytest.raises(MassGenError, match="needs the option"):
        JudgeStrategy(AGENTS, None)
    with pytest.raises(MassGenError, match="besides the judge"):
        JudgeStrategy([AgentInfo(id="judge")], JudgeOptions(judge="judge"))


def _agent(agent_id: str, script: list) -> AgentConfig:
    return AgentConfig(
        id=agent_id, backend=BackendConfig(type="scripted", options={"script": script})
    )


async def test_full_session_the_judge_waits_for_answers_and_picks(plugin_manager):
    for module in (massgen_scripted, massgen_voting_judge):
        plugin_manager.register(module, name=module.__name__)
    config = Config(
        agents=(
            _agent("a", [{"answer": "A"}, {"vote": "self"}]),
            _agent("b", [{"answer": "B, the better one"}, {"vote": "self"}]),
            _agent("judge", [{"vote": {"for_agent": "b", "reason": "better"}}]),
        ),
        voting=VotingConfig(strategy="judge", options={"judge": "judge"}),
    )
    orch = build_orchestrator(config, manager=plugin_manager)
    events = [e async for e in orch.run("Q")]
    judge_requests = orch.agents[2].backend.requests
    assert all("new_answer" not in {t.name for t in r.tools} for r in judge_requests)
    first_judge_start = next(
        e for e in events if isinstance(e, ev.AgentStarted) and e.agent_id == "judge"
    )
    assert first_judge_start.labels  # launched only once answers existed
    assert events[-1].winner == "b"


async def test_a_judge_that_tries_to_answer_is_told_to_vote(plugin_manager):
    for module in (massgen_scripted, massgen_voting_judge):
        plugin_manager.register(module, name=module.__name__)
    config = Config(
        agents=(
            _agent("a", [{"answer": "A"}, {"vote": "self"}]),
            _agent("judge", [{"answer": "my own"}, {"vote": "first"}]),
        ),
        voting=VotingConfig(strategy="judge", options={"judge": "judge"}),
    )
    events = [e async for e in build_orchestrator(config, manager=plugin_manager).run("Q")]
    rejected = [e for e in events if isinstance(e, ev.AnswerRejected)]
    assert rejected[0].agent_id == "judge" and "may not submit answers" in rejected[0].reason
    assert events[-1].winner == "a"
