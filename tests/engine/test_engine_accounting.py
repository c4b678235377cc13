"""Budgets as caps, in the engine: reservations that wait or refuse, streamed output that crosses a cap, and the scopes."""

from __future__ import annotations

import asyncio
import types
from typing import Any, ClassVar

import attrs
import pytest

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig
from massgen_core.hookspecs import hookimpl
from massgen_core.http.pricing import FREE, Price
from massgen_core.orchestrator.accounting import list_price
from massgen_core.orchestrator.budget import BudgetExceeded, Budgets

OUTPUT_ONLY = Price(0.0, 10.0)  # $10 per million output tokens: 100 tokens of max_tokens reserve $0.001


class Priced(bk.Backend):
    """A billing backend scripted per test: ``Priced.script[agent_id]`` is a list of async step functions."""

    name: ClassVar[str] = "priced"
    script: ClassVar[dict[str, list[Any]]] = {}
    produced: ClassVar[dict[str, int]] = {}

    def list_price(self) -> Price:
        return OUTPUT_ONLY

    def stream(self, request: bk.Request) -> Any:
        steps = Priced.script[self.context.agent_id]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        return step(self, request)


async def runaway(self: Priced, request: bk.Request) -> Any:
    """Ignores max_tokens: streams text until cancelled."""
    for _ in range(10_000):
        Priced.produced[self.context.agent_id] = Priced.produced.get(self.context.agent_id, 0) + 1
        yield bk.TextDelta("0123456789")
        await asyncio.sleep(0)


def answering(cost: float, delay: float = 0.0) -> Any:
    async def step(self: Priced, request: bk.Request) -> Any:
        await asyncio.sleep(delay)
        names = {tool.name for tool in request.tools}
        if "vote" in names:
            yield bk.ToolCallChunk(bk.ToolCall(id="v", name="vote", arguments={"agent_id": "agent1", "reason": "ok"}))
        else:
            yield bk.ToolCallChunk(bk.ToolCall(id="n", name="new_answer", arguments={"content": f"answer of {self.context.agent_id}"}))
        yield bk.UsageChunk(bk.Usage(output_tokens=int(cost * 1e5), cost_usd=cost))

    return step


@pytest.fixture
def priced(eng):
    Priced.script = {}
    Priced.produced = {}

    class Plugin:
        @hookimpl
        def register_backends(self, register: Any) -> None:
            register(Priced)

    eng.manager.register(Plugin(), name="test-priced")
    return eng


def agent(agent_id: str, *steps: Any, max_tokens: int = 100) -> AgentConfig:
    Priced.script[agent_id] = list(steps)
    return AgentConfig(id=agent_id, backend=BackendConfig(type="priced", model="p-1", max_tokens=max_tokens))


async def test_streamed_output_past_the_budget_cancels_the_call(priced):
    # The reservation assumed max_tokens; the backend streams far more, so the cap is crossed mid-stream.
    orch = priced.team([agent("a", runaway), agent("b", runaway)], max_cost_usd=0.003)
    events = await priced.run(orch)
    finished = priced.finished(events)
    assert finished.ended_by == "budget" and finished.final_answer is None
    assert "stopped at the cost budget (session: spent $" in finished.error and "of $0.0030" in finished.error
    assert sum(Priced.produced.values()) < 10_000  # cancelled, not streamed to the end
    usage = priced.of(events, ev.UsageReported)
    assert {u.status for u in usage} == {"cancelled"} and all(u.estimated for u in usage)


async def test_an_agent_crossing_its_own_budget_while_streaming_is_dropped_alone(priced):
    orch = priced.team(
        [agent("a", runaway), agent("b", answering(0.0001, delay=0.2), answering(0.0001), max_tokens=20)],
        max_cost_usd_per_agent=0.001, final_presentation=False,
    )  # fmt: skip
    events = await priced.run(orch)
    failed = priced.of(events, ev.AgentFailed)
    assert [(f.agent_id, "reached its budget while streaming" in f.error) for f in failed] == [("a", True)]
    assert (priced.finished(events).ended_by, priced.finished(events).winner) == ("consensus", "b")


async def test_a_call_waits_for_held_reservations_and_is_refused_when_none_could_free_room(priced):
    # Each call reserves $0.001 (100 max_tokens). a's call holds its reservation while b's waits; once a has
    # spent $0.0008, b's worst case would cross $0.0015 and nothing else is held: the session stops there.
    orch = priced.team([agent("a", answering(0.0008, delay=0.05)), agent("b", answering(0.0001))],
                       max_cost_usd=0.0015, final_presentation=False)  # fmt: skip
    events = await priced.run(orch)
    finished = priced.finished(events)
    assert (finished.ended_by, finished.winner) == ("budget", "a")
    assert [u.agent_id for u in priced.of(events, ev.UsageReported)] == ["a"]  # b was never sent
    assert finished.cost_usd == pytest.approx(0.0008)
    assert "session: spent $0.0008 of $0.0015" in finished.error


async def test_the_conversation_budget_counts_what_earlier_turns_spent(priced):
    orch = priced.team([agent("a", answering(0.0001)), agent("b", answering(0.0001))],
                       max_conversation_cost_usd=0.0015, max_cost_usd_per_agent=1.0)  # fmt: skip
    orch.conversation_cost_usd = 0.0014
    finished = priced.finished(await priced.run(orch))
    assert finished.ended_by == "budget"
    assert "conversation: spent $0.0014 of $0.0015" in finished.error
    orch.conversation_cost_usd = 0.0
    second = priced.finished(await priced.run(orch))
    assert second.ended_by == "consensus"
    assert orch.conversation_cost_usd == pytest.approx(second.cost_usd)


def test_an_exhausted_conversation_stops_and_the_summary_names_every_scope():
    budgets = Budgets(session=1.0, per_agent=0.5, conversation=0.2, spent_before=0.2)
    assert budgets.exhausted() == "conversation"
    budgets.by_agent["a"] = 0.1
    assert budgets.summary() == (
        "session: spent $0.0000 of $1.0000; conversation: spent $0.2000 of $0.2000; a: spent $0.1000 of $0.5000"
    )
    with pytest.raises(BudgetExceeded) as refused:
        asyncio.run(budgets.reserve("a", types.SimpleNamespace(list_price=lambda: OUTPUT_ONLY), bk.Request(messages=())))
    assert refused.value.scope == "conversation" and not refused.value.fatal


def test_a_fallback_is_priced_at_its_dearest_member_and_unpriced_if_any_member_is():
    def member(price: Price | None) -> Any:
        return types.SimpleNamespace(list_price=lambda: price)

    assert list_price(types.SimpleNamespace(members=[member(Price(1, 2)), member(Price(3, 1))])) == Price(3, 1)
    assert list_price(types.SimpleNamespace(members=[member(Price(1, 2)), member(None)])) is None
    assert list_price(types.SimpleNamespace()) == FREE  # prices its own usage (scripted, a nested team)


async def test_a_retry_reported_for_an_agent_outside_the_session_is_counted_without_harm(priced):
    async def retrying(self: Priced, request: bk.Request) -> Any:
        self.context.emit(ev.BackendRetry(session_id="", seq=0, ts=0.0, agent_id="ghost", backend="priced",
                                          model="p-1", attempt=1, delay_s=0.0, error="boom"))  # fmt: skip
        async for chunk in answering(0.0)(self, request):
            yield chunk

    orch = priced.team([agent("a", retrying)])
    events = await priced.run(orch)
    assert priced.finished(events).ended_by == "consensus"
    usage = priced.of(events, ev.UsageReported)
    assert [e.agent_id for e in priced.of(events, ev.BackendRetry)] == ["ghost"] * len(usage)  # one per call
    assert {u.retries for u in usage} == {0}  # not a's retries


def retrying_forever(self: Priced, request: bk.Request) -> Any:
    """A backend that only retries: it reports a retry, then waits for the next attempt."""

    async def step() -> Any:
        self.context.emit(ev.BackendRetry(session_id="", seq=0, ts=0.0, agent_id=self.context.agent_id,
                                          backend="priced", model="p-1", attempt=1, delay_s=30.0, error="HTTP 503"))  # fmt: skip
        await asyncio.sleep(30)
        yield bk.TextDelta("never")  # pragma: no cover - cancelled first

    return step()


async def test_an_agent_that_only_retries_is_left_out_once_the_others_voted(priced):
    orch = priced.team([agent("good", answering(0.0)), agent("busy", retrying_forever)], final_presentation=False)
    orch.limits = attrs.evolve(orch.limits, agent_retry_timeout=None)  # no wall-time bound: only the rule decides
    events = await priced.run(orch)
    finished = priced.finished(events)
    assert (finished.ended_by, finished.winner) == ("consensus", "good")
    failed = priced.of(events, ev.AgentFailed)
    assert [f.agent_id for f in failed] == ["busy"]
    assert failed[0].error.startswith("left out of the decision: only retrying (HTTP 503 (retry 1))")
    winner = priced.of(events, ev.WinnerSelected)[0]
    assert winner.explanation.endswith("Left out (did not wait for): busy: only retrying (HTTP 503 (retry 1)).")


async def test_an_agent_retrying_past_its_bound_is_given_up_even_when_the_session_waits(priced):
    orch = priced.team([agent("good", answering(0.0)), agent("busy", retrying_forever)],
                       final_presentation=False, wait_for_retrying_agents=True)  # fmt: skip
    orch.limits = attrs.evolve(orch.limits, agent_retry_timeout=0.2)
    events = await priced.run(orch)
    finished = priced.finished(events)
    assert (finished.ended_by, finished.winner) == ("consensus", "good")
    failed = priced.of(events, ev.AgentFailed)
    assert [f.agent_id for f in failed] == ["busy"]
    assert failed[0].error.startswith("gave up after 0.2s of retries and relaunches without progress (last error: HTTP 503")
    assert "Left out" not in priced.of(events, ev.WinnerSelected)[0].explanation


async def test_a_call_cancelled_before_it_was_sent_costs_nothing_against_the_budget(priced):
    async def slow_to_send(self: Priced, request: bk.Request) -> Any:
        await asyncio.sleep(30)  # cancelled by good's answer before anything reached a server
        yield bk.TextDelta("never")  # pragma: no cover

    orch = priced.team([agent("good", answering(0.0002)), agent("slow", slow_to_send, answering(0.0001))],
                       max_cost_usd=1.0, final_presentation=False)  # fmt: skip
    events = await priced.run(orch)
    finished = priced.finished(events)
    assert finished.ended_by == "consensus"
    usage = priced.of(events, ev.UsageReported)
    assert [u.status for u in usage if u.agent_id == "slow"] == ["ok"]  # the cancelled call was no request
    # Only what was reported counts: the cancelled call's $0.001 reservation was released.
    assert orch.conversation_cost_usd == pytest.approx(sum(u.usage.cost_usd for u in usage))


@pytest.mark.parametrize("scope", ["max_cost_usd", "max_conversation_cost_usd"])
async def test_streamed_reasoning_past_a_cap_stops_the_session(priced, scope):
    async def thinking(self: Priced, request: bk.Request) -> Any:
        for _ in range(10_000):
            Priced.produced[self.context.agent_id] = Priced.produced.get(self.context.agent_id, 0) + 1
            yield bk.ReasoningDelta("0123456789")
            await asyncio.sleep(0)

    orch = priced.team([agent("a", thinking)], **{scope: 0.003})
    finished = priced.finished(await priced.run(orch))
    assert finished.ended_by == "budget"
    assert Priced.produced["a"] < 10_000
    assert ("session: spent" if scope == "max_cost_usd" else "conversation: spent") in finished.error
