"""Provider-side tool progress and citations reach the event stream (they used to be dropped silently)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from massgen_core import backend as bk
from massgen_core import events as ev
from massgen_core.orchestrator import build_orchestrator

SOURCES = ({"url": "https://example.org/paris", "title": "Paris"},)


async def _searching(self: Any, request: bk.Request) -> AsyncIterator[Any]:
    names = {t.name for t in request.tools}
    if "vote" in names:
        yield bk.ToolCallChunk(bk.ToolCall(id="v", name="vote", arguments={"agent_id": "agent1", "reason": "ok"}))
        yield bk.Done()
        return
    yield bk.BuiltinToolChunk(tool="web_search", status="started", data={"id": "ws_1"})
    yield bk.BuiltinToolChunk(tool="web_search", status="completed", data={"id": "ws_1", "query": "capital of France"})
    yield bk.TextDelta("Paris")
    if names:
        yield bk.ToolCallChunk(bk.ToolCall(id="n", name="new_answer", arguments={"content": "Paris"}))
    yield bk.Done(citations=SOURCES)


async def test_builtin_tool_progress_and_citations_are_events_of_the_agent(engine_manager, eng):
    eng.register_backend(engine_manager, "searching", _searching)
    config = eng.config([eng.custom("a", "searching")])
    events = await eng.run(build_orchestrator(config, manager=engine_manager))
    used = eng.of(events, ev.BuiltinToolUsed)
    # the coordination call and the final presentation both searched
    assert [(e.agent_id, e.tool, e.status) for e in used[:2]] == [
        ("a", "web_search", "started"), ("a", "web_search", "completed"),
    ]
    assert used[1].data == {"id": "ws_1", "query": "capital of France"}
    cited = eng.of(events, ev.CitationsReported)
    assert cited and all(e.agent_id == "a" and e.citations == SOURCES for e in cited)
    assert events[-1].final_answer == "Paris"


def test_the_new_events_round_trip_through_json():
    make = ev.EventFactory("s")
    for event in (
        make(ev.BuiltinToolUsed, agent_id="a", tool="code_execution", status="failed", data={"stderr": "boom"}),
        make(ev.CitationsReported, agent_id="a", citations=SOURCES),
    ):
        data = json.loads(json.dumps(ev.event_to_dict(event)))
        assert ev.event_from_dict(data) == event
