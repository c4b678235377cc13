"""A session streams the answer an agent writes as AnswerDelta events, before the call completes."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from massgen_core import events as ev
from massgen_core.config.loader import load_text_with_warnings
from massgen_core.orchestrator import build_orchestrator
from massgen_core.testing.server import Gate

from .conftest import ANSWER, held_handler, held_json_handler, held_text_handler, wait_for


def _orchestrator(manager, backend: str, workflow: str = "auto"):
    text = textwrap.dedent(
        f"""
        agents:
          - id: solo
            backend: {backend}
        """
    )
    text = text.replace("}\n", f", workflow: {workflow}}}\n", 1)
    config = load_text_with_warnings(text, manager=manager)[0]
    return build_orchestrator(config, manager=manager)


async def _run_held(orchestrator, gate: Gate) -> tuple[list[ev.Event], list[ev.Event]]:
    """Run a session; return the events seen while the server held the answer, and all of them."""
    seen: list[ev.Event] = []

    async def consume() -> None:
        async for event in orchestrator.run("What is the capital of France?"):
            seen.append(event)

    task = asyncio.create_task(consume())
    try:
        await wait_for(gate.reached.is_set, "the server reached the middle of the answer")
        await wait_for(lambda: any(type(e) is ev.AnswerDelta for e in seen), "an answer delta while the call is open")
        during = list(seen)
    finally:
        gate.release.set()
    await asyncio.wait_for(task, 60)
    await orchestrator.aclose()
    return during, seen


def _check(during: list[ev.Event], seen: list[ev.Event]) -> None:
    partial = "".join(e.text for e in during if type(e) is ev.AnswerDelta)
    assert partial and ANSWER.startswith(partial) and len(partial) < len(ANSWER)
    assert not any(type(e) is ev.AnswerSubmitted for e in during)
    first_submit = next(i for i, e in enumerate(seen) if type(e) is ev.AnswerSubmitted)
    streamed = "".join(e.text for e in seen[:first_submit] if type(e) is ev.AnswerDelta)
    assert streamed == ANSWER == seen[first_submit].text
    assert seen[-1].final_answer  # the session still ends with its answer


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_the_new_answer_argument_streams_before_the_tool_call_completes(server, installed_plugins, api):
    gate = Gate(at=0)
    if api == "chat":
        server.add("POST", "/v1/chat/completions", held_handler(gate))
        backend = f"{{type: chatcompletion, model: m, base_url: '{server.url}/v1'}}"
    else:
        server.add("POST", "/v1/responses", held_handler(gate, api="responses"))
        backend = f"{{type: openai, model: gpt-4o-mini, api_key: sk-test-123456, base_url: '{server.url}/v1'}}"
    during, seen = await _run_held(_orchestrator(installed_plugins, backend), gate)
    _check(during, seen)


@pytest.mark.parametrize("transport", ["json", "text"])
async def test_the_answer_inside_a_json_or_plain_text_reply_streams(server, installed_plugins, transport):
    """json: the reply's ``content`` field, read out of the JSON text; text: the reply itself."""
    gate = Gate(at=0)
    handler = held_json_handler if transport == "json" else held_text_handler
    server.add("POST", "/v1/chat/completions", handler(gate))
    backend = f"{{type: chatcompletion, model: m, base_url: '{server.url}/v1'}}"
    during, seen = await _run_held(_orchestrator(installed_plugins, backend, transport), gate)
    _check(during, seen)
    text = "".join(e.text for e in seen if type(e) is ev.TextDelta)
    assert ('"action"' in text) is (transport == "json")  # the raw JSON stays text; the answer deltas carry the content
