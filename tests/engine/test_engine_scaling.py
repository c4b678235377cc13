"""A team's ``scale: {min, max}``: agents join while answers disagree and replace dropped ones, within bounds."""

from __future__ import annotations

import attrs

from massgen_core import events as ev
from massgen_core.config.schema import ScaleConfig
from massgen_core.orchestrator import build_orchestrator
from massgen_core.orchestrator.coordination import Coordination
from massgen_core.orchestrator.scaling import Scaler
from massgen_core.voting import AgentInfo, CountingStrategy


def _scaled(eng, agents, low, high, **orchestrator):
    config = eng.config(agents, **orchestrator)
    scale = attrs.evolve(config.orchestrator, scale=ScaleConfig(min=low, max=high))
    return attrs.evolve(config, orchestrator=scale)


async def test_disagreeing_answers_add_a_copy_that_takes_part(engine_manager, eng):
    config = _scaled(
        eng,
        [eng.agent("a", [{"answer": "Paris"}, {"vote": "first"}]), eng.agent("b", [{"answer": "Lyon"}, {"vote": "first"}])],
        2, 4,
    )
    orch = build_orchestrator(config, manager=engine_manager)
    events = await eng.run(orch)
    added = eng.of(events, ev.AgentAdded)
    assert [(e.agent_id, e.copy_of) for e in added] == [("scaled-1", "a")]
    assert "disagree (2 different answers)" in added[0].reason
    votes = {e.voter for e in eng.of(events, ev.VoteCast)}
    assert "scaled-1" in votes  # it launched and its vote was needed for consensus
    winner = eng.of(events, ev.WinnerSelected)[0]
    assert winner.tally.get("a") == 3
    assert events[-1].ended_by == "consensus"
    assert [a.id for a in orch.strategy.agents] == ["a", "b"]  # the next turn starts from the config again


async def test_the_team_never_grows_past_max(engine_manager, eng):
    answers = [eng.agent(x, [{"answer": f"answer of {x}"}, {"vote": "first"}]) for x in ("a", "b", "c")]
    events = await eng.run(build_orchestrator(_scaled(eng, answers, 1, 3), manager=engine_manager))
    assert eng.of(events, ev.AgentAdded) == []
    assert events[-1].ended_by == "consensus"


async def test_an_agent_that_keeps_failing_is_replaced_to_keep_the_minimum(engine_manager, eng):
    broken = eng.agent("bad", [{"fail": "rate_limit"}])
    good = eng.agent("good", [{"answer": "Paris"}, {"vote": "first"}])
    config = _scaled(eng, [broken, good], 2, 2, max_consecutive_failures=2)
    events = await eng.run(build_orchestrator(config, manager=engine_manager))
    failed = eng.of(events, ev.AgentFailed)
    added = eng.of(events, ev.AgentAdded)
    assert [e.agent_id for e in failed] == ["bad"]
    assert [(e.agent_id, e.copy_of) for e in added] == [("scaled-1", "good")]
    assert "fewer than 2 agents are active" in added[0].reason
    assert events.index(failed[0]) < events.index(added[0])
    assert events[-1].ended_by == "consensus" and events[-1].final_answer


async def test_a_team_without_scale_never_adds(engine_manager, eng):
    config = eng.config([eng.agent("a", [{"answer": "Paris"}, {"vote": "first"}]), eng.agent("b", [{"answer": "Lyon"}, {"vote": "first"}])])
    events = await eng.run(build_orchestrator(config, manager=engine_manager))
    assert eng.of(events, ev.AgentAdded) == []


def test_the_scaler_grows_once_per_disagreeing_snapshot_and_none_when_stopping():
    c = Coordination(["a", "b"], CountingStrategy([AgentInfo(id="a"), AgentInfo(id="b")]))
    scaler = Scaler(1, 3)
    c.accept_answer("a", "x")
    assert scaler.next(c, stopping=False) is None  # one answer: nothing to disagree about
    c.accept_answer("b", "y")
    assert scaler.next(c, stopping=True) is None
    first = scaler.next(c, stopping=False)
    assert first is not None and (first.agent_id, first.copy_of) == ("scaled-1", "a")
    assert scaler.next(c, stopping=False) is None
    c.add_agent(first.agent_id)
    c.accept_answer("a", "z")
    assert scaler.next(c, stopping=False) is None  # three active: at max


def test_replacements_stop_after_max_agents_added_in_a_turn():
    c = Coordination(["a", "b"], CountingStrategy([AgentInfo(id="a"), AgentInfo(id="b")]))
    scaler = Scaler(3, 3)
    seen = []
    for _ in range(5):
        growth = scaler.next(c, stopping=False)
        if growth is None:
            break
        seen.append(growth.agent_id)
        c.add_agent(growth.agent_id)
        assert scaler.next(c, stopping=False) is None  # back at the minimum
        c.drop(growth.agent_id, "keeps failing")
    assert seen == ["scaled-1", "scaled-2", "scaled-3"]
    assert len(c.active()) == 2  # the turn goes on with what it has


def test_a_new_id_never_takes_a_configured_one():
    c = Coordination(["scaled-1"], CountingStrategy([AgentInfo(id="scaled-1")]))
    growth = Scaler(2, 2).next(c, stopping=False)
    assert growth is not None and growth.agent_id == "scaled-1'"
