"""cancel() during the final presentation (or a single agent's direct answer) ends the turn at once as ``cancelled``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from massgen_core import events as ev

FINAL = " ".join(f"word{i}" for i in range(300))  # streamed a token at a time, 10 ms apart: 3 s in all
SCRIPT = [{"answer": "The short answer."}, {"vote": {"for": "self", "reason": "only answer"}}]


async def _run_cancelling(orch, when: Callable[[ev.Event], bool]) -> list[ev.Event]:
    events: list[ev.Event] = []
    cancelled = False
    async for event in orch.run("Explain."):
        events.append(event)
        if not cancelled and when(event):
            cancelled = True
            orch.cancel()
    return events


def _streamed(events: list[ev.Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, ev.FinalAnswerDelta))


async def test_cancel_mid_presentation_keeps_what_streamed(eng, no_leaks):
    before = asyncio.all_tasks()
    orch = eng.team([eng.agent("solo", SCRIPT, final=FINAL, token_delay=0.01)])
    events = await _run_cancelling(orch, lambda e: isinstance(e, ev.FinalAnswerDelta))
    finished = eng.finished(events)
    assert finished.ended_by == "cancelled" and finished.winner == "solo"
    assert finished.final_answer == _streamed(events)
    assert FINAL.startswith(finished.final_answer) and len(finished.final_answer) < len(FINAL)
    assert finished.error == "cancelled during the final presentation; the text streamed so far is the answer"
    no_leaks(before)


async def test_cancel_before_the_presentation_streams_uses_the_winners_answer(eng, no_leaks):
    before = asyncio.all_tasks()
    orch = eng.team([eng.agent("solo", SCRIPT, final=FINAL, token_delay=0.01)])
    events = await _run_cancelling(orch, lambda e: isinstance(e, ev.WinnerSelected))
    finished = eng.finished(events)
    assert _streamed(events) == ""
    assert (finished.ended_by, finished.final_answer) == ("cancelled", "The short answer.")
    assert finished.error == "cancelled during the final presentation; the winner's answer is used verbatim"
    no_leaks(before)


async def test_cancel_during_a_single_agents_direct_answer(eng, no_leaks):
    before = asyncio.all_tasks()
    orch = eng.team([eng.agent("solo", SCRIPT, final=FINAL, token_delay=0.01)], single=False)
    events = await _run_cancelling(orch, lambda e: isinstance(e, ev.FinalAnswerDelta))
    finished = eng.finished(events)
    assert (finished.ended_by, finished.winner) == ("cancelled", "solo")
    assert finished.final_answer == _streamed(events) and FINAL.startswith(finished.final_answer)
    assert finished.error == "cancelled while the agent answered"
    no_leaks(before)


async def test_cancel_before_a_direct_answer_streams_has_no_answer(eng):
    orch = eng.team([eng.agent("solo", SCRIPT, final=FINAL, token_delay=0.01)], single=False)
    events = await _run_cancelling(orch, lambda e: isinstance(e, ev.AgentStarted))
    finished = eng.finished(events)
    assert (finished.ended_by, finished.winner, finished.final_answer) == ("cancelled", None, None)
    assert not any(isinstance(e, ev.AgentFailed) for e in events)
