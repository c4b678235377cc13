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


def _scripted(home: Path) -> Path:
    config = {
        "agents": [
            {"id": "alice", "backend": {"type": "scripted", "per_turn": True, "script": [
                {"answer": "Paris."}, {"vote": {"for": "self", "reason": "mine"}}], "final": "Paris is the capital."}},
            {"id": "bob", "backend": {"type": "scripted", "per_turn": True, "script": [
                {"delay": 0.05, "vote": {"for": "first", "reason": "ok"}}]}},
        ],
    }
    path = home / "two.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_the_live_view_of_a_later_interactive_turn_names_the_turn(_isolated_home):
    run = Watched(["--config", str(_scripted(_isolated_home)), "--no-logs"], _isolated_home, terminal=True)
    try:
        run.wait_until(lambda: "interactive mode" in run.words, "the banner")
        run.type("First question?\n")
        run.wait_until(lambda: "Paris is the capital." in run.words and run.words.rstrip().endswith(">"), "the first answer")
        assert "turn 2  |  votes" not in run.words
        run.type("Second question?\n")
        run.wait_until(lambda: "turn 2  |  votes" in run.words and run.words.rstrip().endswith(">")
                       and "Paris is the capital." in run.words.split("turn 2  |  votes", 1)[1], "the second answer")
    finally:
        if run.proc.poll() is None:
            run.type("/quit\n")
    assert run.finish() == 0
    second = run.words.split("Second question?", 1)[1]
    assert "╭─ alice" in second and "turn 2  |  votes" in second  # the second turn's panels, named


def test_debug_log_lines_during_the_live_view_stay_whole(server, _isolated_home):
    from massgen_core.testing.openai import coordination_handler

    from .test_live_view_motion import screen_of

    server.add("POST", "/v1/chat/completions", coordination_handler(answer="Paris.", chunk_delay=0.02))
    run = Watched(["--config", str(_config(_isolated_home, server)), "--no-logs", "--debug", "Capital?"],
                  _isolated_home, terminal=True)
    assert run.finish() == 0
    screen = screen_of(run.out.replace("\r\n", "\n"))
    logged = [line for line in screen if "/v1/chat/completions" in line]
    assert len(logged) >= 3  # answer, vote, presentation: each exchange logged
    assert all("╭" not in line and "│" not in line for line in logged)  # no log text inside the view's lines
    assert sum(line.startswith("╭─ solo") for line in screen) == 1  # the view drawn once, below the log lines
    assert max(screen.index(line) for line in logged) < next(i for i, line in enumerate(screen) if line.startswith("╭─ solo"))
