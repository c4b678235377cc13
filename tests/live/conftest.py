"""Helpers for the live-answer tests: a loopback model that holds its answer open mid-stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from massgen_core.testing import FakeServer
from massgen_core.testing.openai import coordination_handler
from massgen_core.testing.server import Gate, Response

# Escapes, non-ASCII and an astral character (a surrogate pair in ASCII JSON) to split anywhere.
ANSWER = 'Paris is the capital of France.\nIt is called "la Ville Lumière" — the City of Light \U0001F600.\nDone.'
WAIT_S = 60  # a deadline for things that must happen, not a timing assertion


def tool_names(request: Any) -> set[str]:
    body = request.json()
    return {(t.get("function") or t).get("name") for t in body.get("tools") or []}


def held_handler(gate: Gate, *, api: str = "chat", answer: str = ANSWER, fragments: int = 12) -> Callable[[Any], Response]:
    """A cooperative agent (openai.coordination_handler) whose first ``new_answer`` stops half-way until released."""
    base = coordination_handler(api, answer=answer, fragments=fragments)
    held = {"done": False}

    def handler(request: Any) -> Response:
        response = base(request)
        if not held["done"] and "new_answer" in tool_names(request):
            held["done"] = True
            return attrs_evolve_gate(response, gate)
        return response

    return handler


def attrs_evolve_gate(response: Response, gate: Gate) -> Response:
    """``response`` held half-way through its pieces (the gate's ``at`` is set here)."""
    return response.held(Gate(at=len(response.chunks) // 2, reached=gate.reached, release=gate.release))


def held_json_handler(gate: Gate, *, answer: str = ANSWER, fragments: int = 12) -> Callable[[Any], Response]:
    """A model on the ``json`` transport: its reply is the JSON action as text, held half-way."""
    from massgen_core.testing.openai import chat_events

    held = {"done": False}

    def handler(request: Any) -> Response:
        body = request.json()
        blob = json.dumps(body.get("messages"))
        if body.get("response_format") is None:
            return Response.sse(chat_events([answer]))  # the final presentation
        if "no answers available yet" in blob:
            raw = json.dumps({"action": "new_answer", "content": answer})
        else:
            raw = json.dumps({"action": "vote", "agent_id": "agent1", "reason": "it is right"})
        step = max(1, len(raw) // fragments)
        response = Response.sse(chat_events([raw[i : i + step] for i in range(0, len(raw), step)]))
        if not held["done"]:
            held["done"] = True
            return attrs_evolve_gate(response, gate)
        return response

    return handler


def held_text_handler(gate: Gate, *, answer: str = ANSWER, fragments: int = 12) -> Callable[[Any], Response]:
    """A model that never calls tools (``text`` transport): the reply is the answer, or a VOTE line."""
    from massgen_core.testing.openai import chat_events

    held = {"done": False}

    def handler(request: Any) -> Response:
        blob = json.dumps(request.json().get("messages"))
        if "no answers available yet" in blob or "CURRENT ANSWERS" not in blob:
            raw = answer
        else:
            raw = "VOTE: agent1 - it is right"
        step = max(1, len(raw) // fragments)
        response = Response.sse(chat_events([raw[i : i + step] for i in range(0, len(raw), step)]))
        if not held["done"] and "no answers available yet" in blob:
            held["done"] = True
            return attrs_evolve_gate(response, gate)
        return response

    return handler


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_pool() -> Any:
    yield
    from massgen_core.http import aclose_all

    await aclose_all()


@pytest.fixture
def cli(_isolated_home: Any) -> Callable[..., Any]:
    """``massgen ARGS`` run to completion in a subprocess with this test's MASSGEN_HOME."""
    import subprocess
    import sys

    from .procs import cli_env

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "massgen_core", *args], input="", capture_output=True, text=True,
            env=cli_env(_isolated_home, {"COLUMNS": "120"}), cwd=_isolated_home, timeout=WAIT_S,
        )

    return run
