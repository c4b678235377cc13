"""``massgen`` as a user runs it: a subprocess, an isolated MASSGEN_HOME, scripted agents, no network."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAST = """
agents:
  - id: alice
    backend:
      type: scripted
      script:
        - answer: "Paris."
        - vote: {for: self, reason: "only answer so far"}
        - vote: {for: best, reason: "bob's is more complete"}
  - id: bob
    backend:
      type: scripted
      script:
        - {delay: 0.05, answer: "Paris is the capital and largest city of France."}
        - vote: {for: best, reason: "mine is the most complete"}
      final: "Paris is the capital of France."
  - id: carol
    backend:
      type: scripted
      script:
        - vote: {for: best, reason: "the most complete answer"}
"""

FAILING = """
agents:
  - id: a
    backend: {type: scripted, script: [{fail: auth}]}
  - id: b
    backend: {type: scripted, script: [{fail: server}]}
orchestrator: {max_consecutive_failures: 1}
"""

SLOW = """
agents:
  - id: a
    backend:
      type: scripted
      script:
        - {text: "thinking slowly ", stall: 60}
"""

PICKY = """
agents:
  - id: a
    backend:
      type: scripted
      model: picky-1
      script:
        - answer: "A."
        - {reasoning: "let me think", text: "no tool call here", no_tool_call: true}
        - {invalid_vote: agent7}
        - vote: {for: self, reason: "mine"}
  - id: b
    backend:
      type: scripted
      script:
        - {delay: 0.2, vote: {for: first, reason: "the only one"}}
"""

# One answer and one vote per turn, so a multi-turn session has a script for every turn.
TURNS = """
agents:
  - id: alice
    backend:
      type: scripted
      script:
        - answer: "answer one"
        - vote: self
        - answer: "answer two"
        - vote: self
        - answer: "answer three"
        - vote: self
  - id: bob
    backend:
      type: scripted
      script:
        - {delay: 0.1, vote: {for: first, reason: "agreed"}}
"""

TIMEOUT = """
agents:
  - id: a
    backend: {type: scripted, script: [{answer: "Early answer."}, {vote: self}]}
  - id: b
    backend: {type: scripted, script: [{stall: 30}]}
timeout_settings: {orchestrator_timeout_seconds: 0.5}
orchestrator: {final_presentation: false}
"""

LEGACY = FAST + """
display:
  type: simple
"""


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    for name, text in (("fast", FAST), ("failing", FAILING), ("slow", SLOW), ("legacy", LEGACY), ("picky", PICKY), ("turns", TURNS), ("timeout", TIMEOUT)):
        (tmp_path / f"{name}.yaml").write_text(text)
    (tmp_path / "bad.yaml").write_text("agents:\n  - id: a\n    backend: {type: scripted}\n    temprature: 3\n")
    return tmp_path


def test_json_prints_exactly_one_object_with_the_result(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "--json", "Capital of France?"])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole of stdout is one object
    assert proc.stdout.count("\n") == 1
    assert result["final_answer"] == "Paris is the capital of France."
    assert result["winner"] == "bob"
    assert result["ended_by"] == "consensus"
    assert result["votes"]["carol"]["target"] == "bob"
    assert result["votes"]["alice"] == {"target": "bob", "label": "agent2", "reason": "bob's is more complete"}
    assert result["answers"] == {"alice": "Paris.", "bob": "Paris is the capital and largest city of France."}
    assert result["usage"]["output_tokens"] > 0
    assert result["cost_usd"] == 0
    assert len(result["session_id"]) == 32
    assert result["duration_s"] > 0


def test_without_a_terminal_progress_goes_to_stderr_and_the_answer_alone_to_stdout(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "Capital of France?"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Paris is the capital of France.\n"
    assert "[alice] started" in proc.stderr
    assert "[alice] answered (answer 1, shown as agent1): Paris." in proc.stderr
    assert "[carol] voted for bob (agent" in proc.stderr
    assert "[winner] bob" in proc.stderr
    assert "\x1b[" not in proc.stderr  # no terminal control codes on a pipe


def test_quiet_prints_only_the_final_answer(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "-q", "Capital of France?"])
    assert proc.returncode == 0
    assert proc.stdout == "Paris is the capital of France.\n"
    assert proc.stderr == ""


def test_verbose_shows_reasoning_rejections_and_usage(cli, configs):
    proc = cli(["--config", str(configs / "picky.yaml"), "-v", "q"])
    assert proc.returncode == 0
    err = proc.stderr
    assert "[a] reasoning: let me think" in err
    assert "[a] response rejected: no workflow tool call" in err
    assert "[a] vote for ? discarded: " in err
    assert "[a] workflow tools -> json for the rest of the session: no workflow tool call" in err
    assert "[a] usage scripted/picky-1: " in err
    assert err.index("[a] reasoning: let me think") < err.index("[a] response rejected")


def test_normal_verbosity_hides_rejections(cli, configs):
    proc = cli(["--config", str(configs / "picky.yaml"), "q"])
    assert proc.returncode == 0
    assert "rejected" not in proc.stderr and "reasoning" not in proc.stderr


def test_an_answer_reached_by_a_bound_exits_zero_and_says_why(cli, configs):
    proc = cli(["--config", str(configs / "timeout.yaml"), "q"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Early answer.\n"
    assert "ended by timeout" in proc.stderr


def test_no_answer_exits_non_zero_with_the_reason(cli, configs):
    proc = cli(["--config", str(configs / "failing.yaml"), "Capital of France?"])
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "[a] failed" in proc.stderr
    assert "massgen: error: no answer could be produced (all_agents_failed)" in proc.stderr


def test_no_answer_in_json_mode_is_still_one_object_and_non_zero(cli, configs):
    proc = cli(["--config", str(configs / "failing.yaml"), "--json", "q"])
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["final_answer"] is None and result["ended_by"] == "all_agents_failed"


def test_a_bad_config_is_one_located_line_without_traceback(cli, configs):
    proc = cli(["--config", str(configs / "bad.yaml"), "q"])
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("massgen: error: ")
    assert "bad.yaml:4:" in lines[0] and "temprature" in lines[0]
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(cli, configs):
    proc = cli(["--debug", "--config", str(configs / "bad.yaml"), "q"])
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr


def test_no_config_says_how_to_start(cli):
    proc = cli(["Capital of France?"])
    assert proc.returncode == 1
    assert "--config offline-demo.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_bundled_config_suggests_the_right_name(cli):
    proc = cli(["--config", "offline-demo.yml", "q"])
    assert proc.returncode != 0
    assert "offline-demo" in proc.stderr


def test_config_warnings_go_to_stderr(cli, configs):
    proc = cli(["--config", str(configs / "legacy.yaml"), "q"])
    assert proc.returncode == 0
    assert "warning" in proc.stderr and "display" in proc.stderr
    assert proc.stdout == "Paris is the capital of France.\n"


def test_backend_and_config_together_are_refused(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "--backend", "openai", "q"])
    assert proc.returncode == 1
    assert "not both" in proc.stderr


def test_model_override_applies_to_every_agent(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "--model", "scripted-9", "-v", "q"])
    assert proc.returncode == 0
    assert "usage scripted/scripted-9" in proc.stderr


# -- interactive ----------------------------------------------------------------


def test_interactive_mode_runs_questions_and_commands_from_stdin(cli, configs):
    script = "first question\nsecond question\n/status\n/clear\nthird question\n/quit\nnever asked\n"
    proc = cli(["--config", str(configs / "turns.yaml"), "--json"], stdin=script)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in results] == ["first question", "second question", "third question"]
    assert [r["final_answer"] for r in results] == ["answer one", "answer two", "answer three"]
    assert [r["turn"] for r in results] == [1, 2, 1]  # history carried, then cleared
    assert "turns in history: 2" in proc.stderr
    assert "history cleared" in proc.stderr


def test_interactive_mode_ends_cleanly_at_end_of_input(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml")], stdin="one\n")
    assert proc.returncode == 0
    assert proc.stdout == "Paris is the capital of France.\n"
    assert "Traceback" not in proc.stderr


# -- recording ----------------------------------------------------------------------


def _turns(home: Path) -> list[tuple[str, str | None]]:
    db = home / "data" / "conversations.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT question, ended_by FROM turns ORDER BY id"))


def test_sessions_are_recorded_unless_no_logs(cli, configs, _isolated_home):
    cli(["--config", str(configs / "fast.yaml"), "--no-logs", "not kept"])
    assert _turns(_isolated_home) == []
    cli(["--config", str(configs / "fast.yaml"), "kept"])
    assert _turns(_isolated_home) == [("kept", "consensus")]


def test_clear_starts_a_new_recorded_conversation(cli, configs, _isolated_home):
    proc = cli(["--config", str(configs / "turns.yaml"), "-q"], stdin="first\nsecond\n/clear\nthird\n")
    assert proc.returncode == 0, proc.stderr
    db = _isolated_home / "data" / "conversations.db"
    with sqlite3.connect(db) as conn:
        rows = list(conn.execute("SELECT c.id, t.turn, t.question FROM turns t JOIN conversations c ON c.id = t.conversation_id ORDER BY t.id"))
    assert [(turn, q) for _, turn, q in rows] == [(1, "first"), (2, "second"), (1, "third")]
    assert rows[0][0] == rows[1][0] != rows[2][0]


def test_json_names_the_recorded_conversation_so_it_can_be_resumed(cli, configs):
    first = json.loads(cli(["--config", str(configs / "turns.yaml"), "--json", "first"]).stdout)
    assert len(first["conversation_id"]) >= 8
    proc = cli(["--config", str(configs / "turns.yaml"), "--json", "--resume", first["conversation_id"][:8], "second"])
    second = json.loads(proc.stdout)
    assert second["conversation_id"] == first["conversation_id"] and second["turn"] == 2


def test_json_without_recording_has_no_conversation(cli, configs):
    result = json.loads(cli(["--config", str(configs / "turns.yaml"), "--json", "--no-logs", "q"]).stdout)
    assert result["conversation_id"] is None


def test_continue_carries_the_latest_conversation_into_the_next_run(cli, configs, _isolated_home):
    first = cli(["--config", str(configs / "turns.yaml"), "--json", "first"])
    assert first.returncode == 0, first.stderr
    second = cli(["--config", str(configs / "turns.yaml"), "--json", "--continue", "second"])
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["turn"] == 2
    with sqlite3.connect(_isolated_home / "data" / "conversations.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM conversations").fetchone() == (1,)


def test_continue_without_any_conversation_is_one_error_line(cli, configs):
    proc = cli(["--config", str(configs / "turns.yaml"), "--continue", "q"])
    assert proc.returncode == 1
    assert proc.stderr.startswith("massgen: error: ") and "Traceback" not in proc.stderr


# -- Ctrl-C -------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child is POSIX-only")
def test_ctrl_c_cancels_cleanly_with_exit_130_and_keeps_the_recording(configs, _isolated_home):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["MASSGEN_HOME"] = str(_isolated_home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "massgen_core", "--config", str(configs / "slow.yaml"), "--no-display", "stall please"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 30
    while "[a] started" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = seen + err
    assert proc.returncode == 130
    assert "massgen: interrupted" in err
    assert "Traceback" not in err
    assert _turns(_isolated_home) == [("stall please", "cancelled")]


# -- the offline demo ------------------------------------------------------------------


def test_the_bundled_offline_demo_shows_the_whole_protocol(cli):
    proc = cli(["--config", "offline-demo.yaml", "--json", "-v", "What makes a good code review?"])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["winner"] == "bob" and result["ended_by"] == "consensus"
    assert set(result["answers"]) == {"alice", "bob"}  # a first answer, then an improvement
    assert {v["target"] for v in result["votes"].values()} == {"bob"} and len(result["votes"]) == 3
    assert all(v["reason"] for v in result["votes"].values())
    assert "restarted: new answer from alice" in proc.stderr
    assert "What makes a good code review?" in result["final_answer"]
    assert result["duration_s"] < 10


# -- presets, templates, a config from flags --------------------------------------------


def test_template_builds_the_question_from_params(cli, configs, _isolated_home):
    templates = _isolated_home / "config" / "templates"
    templates.mkdir(parents=True)
    (templates / "capital.yaml").write_text('text: "What is the capital of {country}?"\n')
    proc = cli(["--config", str(configs / "fast.yaml"), "--json", "--template", "capital", "-p", "country", "France"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["question"] == "What is the capital of France?"


def test_template_with_a_missing_param_is_one_error_line(cli, configs, _isolated_home):
    templates = _isolated_home / "config" / "templates"
    templates.mkdir(parents=True)
    (templates / "capital.yaml").write_text('text: "What is the capital of {country}?"\n')
    proc = cli(["--config", str(configs / "fast.yaml"), "--template", "capital"])
    assert proc.returncode == 1
    assert "-p country VALUE" in proc.stderr and "Traceback" not in proc.stderr


def test_preset_runs_a_saved_config(cli, configs, _isolated_home):
    presets = _isolated_home / "config" / "presets"
    presets.mkdir(parents=True)
    (presets / "quick.yaml").write_text(FAST)
    proc = cli(["--preset", "quick", "-q", "Capital?"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Paris is the capital of France.\n"


def test_backend_flag_builds_a_single_agent_config(cli):
    proc = cli(["--backend", "scripted", "--model", "solo-1", "--json", "-v", "q"])
    result = json.loads(proc.stdout)
    assert list(result["agents"]) == ["agent1"]
    assert "scripted/solo-1" in proc.stderr


def test_the_offline_demo_keeps_working_for_later_questions_of_an_interactive_session(cli, tmp_path):
    from massgen_core.config.loader import resolve_config_path

    text = resolve_config_path("offline-demo.yaml").read_text()
    fast = tmp_path / "demo-fast.yaml"
    fast.write_text(text.replace("token_delay: 0.025", "token_delay: 0"))  # same script, no streaming pauses
    questions = "".join(f"question {i}\n" for i in range(1, 13))  # more turns than the script has moves
    proc = cli(["--config", str(fast), "--json"], stdin=questions)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["turn"], r["winner"], r["ended_by"]) for r in results] == [(i, "bob", "consensus") for i in range(1, 13)]


def test_jsonl_streams_every_event_as_a_json_line(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "--jsonl", "Capital?"])
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["type"] == "session_started" and events[-1]["type"] == "session_finished"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["final_answer"] == "Paris is the capital of France."
    assert any(e["type"] == "vote_cast" and e["voter"] == "carol" for e in events)


def test_json_and_jsonl_together_are_refused(cli, configs):
    proc = cli(["--config", str(configs / "fast.yaml"), "--json", "--jsonl", "q"])
    assert proc.returncode == 1 and "not both" in proc.stderr


def test_model_colon_n_runs_a_team_of_n_copies(cli):
    proc = cli(["--model", "scripted-1:3", "--json", "Capital of France?"])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert sorted(result["agents"]) == ["a1", "a2", "a3"]
    assert sorted(result["votes"]) == ["a1", "a2", "a3"]  # every copy took part
    assert result["winner"] == "a1" and result["ended_by"] == "consensus"
