"""The CLI shows the answer while the model is still writing it: live panels, --jsonl, -v."""

from __future__ import annotations

import json
from pathlib import Path

from massgen_core.testing.server import Gate

from .conftest import ANSWER, held_handler
from .procs import Watched

FIRST_LINE = ANSWER.splitlines()[0]  # "Paris is the capital of France."
LAST_LINE = ANSWER.splitlines()[-1]


def _config(home: Path, server, display: str = "rich_terminal") -> Path:
    path = home / "solo.yaml"
    path.write_text(
        "agents:\n"
        f"  - id: solo\n    backend: {{type: chatcompletion, model: m, base_url: '{server.url}/v1'}}\n"
        f"ui: {{display_type: {display}}}\n",
        encoding="utf-8",
    )
    return path


def _serve_held(server) -> Gate:
    gate = Gate(at=0)
    server.add("POST", "/v1/chat/completions", held_handler(gate))
    return gate


def test_the_live_panel_shows_the_answer_before_the_tool_call_completes(server, _isolated_home):
    gate = _serve_held(server)
    run = Watched(["--config", str(_config(_isolated_home, server)), "--no-logs", "What is the capital of France?"],
                  _isolated_home, terminal=True)
    try:
        run.wait_until(gate.reached.is_set, "the model is half-way through its answer")
        run.wait_until(lambda: FIRST_LINE in run.words, "the panel shows the start of the answer")
        during = run.words
    finally:
        gate.release.set()
    assert run.finish() == 0
    assert "writing" in during  # the panel's status while the answer streams, not "thinking · 0 tok"
    assert LAST_LINE not in during.split(FIRST_LINE, 1)[1]  # the rest had not arrived yet
    assert LAST_LINE in run.words


def test_jsonl_carries_answer_deltas_while_the_call_is_open(server, _isolated_home):
    gate = _serve_held(server)
    run = Watched(["--config", str(_config(_isolated_home, server)), "--no-logs", "--jsonl", "What is the capital?"],
                  _isolated_home, terminal=False)
    try:
        run.wait_until(gate.reached.is_set, "the model is half-way through its answer")
        run.wait_until(lambda: '"answer_delta"' in run.out, "an answer_delta line")
        during = [json.loads(line) for line in run.out.splitlines()]
    finally:
        gate.release.set()
    assert run.finish() == 0
    types = [e["type"] for e in during]
    assert "answer_submitted" not in types
    partial = "".join(e["text"] for e in during if e["type"] == "answer_delta")
    assert partial and ANSWER.startswith(partial) and partial != ANSWER
    events = [json.loads(line) for line in run.out.splitlines()]
    first_submit = next(i for i, e in enumerate(events) if e["type"] == "answer_submitted")
    assert "".join(e["text"] for e in events[:first_submit] if e["type"] == "answer_delta") == ANSWER


def test_verbose_plain_output_prints_each_answer_line_as_it_is_written(server, _isolated_home):
    gate = _serve_held(server)
    run = Watched(["--config", str(_config(_isolated_home, server, "simple")), "--no-logs", "-v", "What is the capital?"],
                  _isolated_home, terminal=False)
    try:
        run.wait_until(gate.reached.is_set, "the model is half-way through its answer")
        run.wait_until(lambda: f"[solo] writing: {FIRST_LINE}" in run.err, "the first line of the answer on stderr")
        during = run.err
    finally:
        gate.release.set()
    assert run.finish() == 0
    assert "answered" not in during and LAST_LINE not in during
    assert f"[solo] writing: {LAST_LINE}" in run.err  # the last line, flushed when the call ended
