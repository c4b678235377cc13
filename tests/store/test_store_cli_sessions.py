"""Recording through the real run command (scripted backend): kill, --no-logs, --continue, --resume, templates."""

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

from massgen_core.store import Filters, Store

FINAL_WORDS = 400

SLOW_CONFIG = f"""
agents:
  - id: alice
    backend:
      type: scripted
      model: scripted-slow
      token_delay: 0.02
      script:
        - answer: "Alice thinks the answer is forty-two."
        - vote: {{for: best, reason: "alice agrees"}}
      final: "{' '.join(f'word{i}' for i in range(FINAL_WORDS))}"
  - id: bob
    backend:
      type: scripted
      model: scripted-slow
      script:
        - vote: {{for: best, reason: "bob agrees"}}
"""

QUICK_CONFIG = """
agents:
  - id: solo
    backend:
      type: scripted
      model: scripted-quick
      script:
        - answer: "Answer to: {question}"
        - vote: best
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "quick.yaml"
    path.write_text(QUICK_CONFIG, encoding="utf-8")
    return path


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MASSGEN_HOME": str(home), "PYTHONIOENCODING": "utf-8"}


def test_a_run_killed_mid_stream_leaves_its_partial_record(tmp_path, _isolated_home):
    config = tmp_path / "slow.yaml"
    config.write_text(SLOW_CONFIG, encoding="utf-8")
    db = _isolated_home / "data" / "conversations.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "massgen_core", "--config", str(config), "--no-display", "What is six times seven?"],
        env=_env(_isolated_home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    partial = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                conn = sqlite3.connect(db, timeout=5)
                try:
                    row = conn.execute("SELECT final_answer FROM turns WHERE final_answer LIKE 'word0 word1%'").fetchone()
                except sqlite3.OperationalError:
                    row = None
                conn.close()
                if row:
                    partial = row[0]
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert partial is not None, "the final answer never started streaming into the store"
    assert proc.returncode == -signal.SIGKILL  # killed mid-stream, not finished

    with Store(db) as store:
        (summary,) = store.list_conversations(Filters(unfinished=True))
        turn = store.document(summary.id)["turns"][0]
    assert turn["question"] == "What is six times seven?"
    assert [a["text"] for a in turn["answers"]] == ["Alice thinks the answer is forty-two."]
    assert ("alice", "alice", "alice agrees") in [(v["voter"], v["target"], v["reason"]) for v in turn["votes"]]
    assert turn["winner"] == "alice" and turn["requests"]
    assert turn["finished_at"] is None
    assert turn["final_answer"].startswith(partial) and len(turn["final_answer"].split()) < FINAL_WORDS


def test_a_run_is_recorded_and_no_logs_records_nothing(massgen, config_file, home_store):
    massgen("--config", str(config_file), "--no-display", "--no-logs", "Unrecorded?")
    assert home_store.list_conversations() == []
    massgen("--config", str(config_file), "--no-display", "Recorded?")
    (summary,) = home_store.list_conversations()
    assert summary.title == "Recorded?" and summary.ended_by is not None and summary.finished_at is not None
    doc = home_store.document(summary.id)
    assert doc["turns"][0]["final_answer"] == "Answer to: Recorded?"
    assert doc["conversation"]["config"]["agents"][0]["backend"]["model"] == "scripted-quick"


def test_continue_and_resume_append_turns_to_the_chosen_conversation(massgen, config_file, home_store):
    massgen("--config", str(config_file), "--no-display", "First question")
    massgen("--config", str(config_file), "--no-display", "Other conversation")
    other, first = [s.id for s in home_store.list_conversations()]
    massgen("--config", str(config_file), "--no-display", "--resume", first[:7], "Follow-up to first")
    massgen("--config", str(config_file), "--no-display", "--continue", "Second follow-up")
    questions = [t["question"] for t in home_store.document(first)["turns"]]
    assert questions == ["First question", "Follow-up to first", "Second follow-up"]
    assert len(home_store.document(other)["turns"]) == 1


def test_a_template_builds_the_question_that_is_recorded(massgen, config_file, home_store):
    massgen("templates", "save", "cap", "--text", "What is the capital of {country}?")
    massgen("--config", str(config_file), "--no-display", "--template", "cap", "-p", "country", "Peru")
    (summary,) = home_store.list_conversations()
    assert summary.title == "What is the capital of Peru?"


def test_a_preset_runs_and_is_recorded(massgen, home_store):
    out = massgen("--preset", "offline-demo", "--no-display", "Demo?").stdout
    assert "Offline demo" in out
    (summary,) = home_store.list_conversations()
    assert summary.winner == "bob"


def _interactive(massgen, config_file, lines, *extra):
    return massgen("--config", str(config_file), "--no-display", *extra, input="".join(line + "\n" for line in lines))


def test_interactive_save_history_and_export(massgen, config_file, home_store, tmp_path):
    proc = _interactive(massgen, config_file, ["/history", "/save", "First?", "/history", "/save", "/export markdown",
                                               f"/export html {tmp_path}", "/export nope", "/export"])  # fmt: skip
    (summary,) = home_store.list_conversations()
    err = proc.stderr
    assert "no history yet" in err and "nothing to save yet" in err
    assert "1. You: First?\n   MassGen: Answer to: First?" in err
    assert f"saved as conversation {summary.id}" in err
    assert f"# First?\n\nConversation `{summary.id}`" in proc.stdout  # /export markdown prints to stdout
    assert (tmp_path / f"massgen-{summary.id[:8]}.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "unknown exporter 'nope'" in err and "usage: /export FORMAT [PATH [--force]]" in err


def test_interactive_save_without_recording_writes_the_history_once(massgen, config_file, home_store, tmp_path):
    proc = _interactive(massgen, config_file, ["/export json", "First?", "/save", "/save", f"/export json {tmp_path / 'c.json'}",
                                               f"/export json {tmp_path / 'missing' / 'c.json'}"], "--no-logs")  # fmt: skip
    (summary,) = home_store.list_conversations()
    assert proc.stderr.count(f"saved as conversation {summary.id}") == 2
    assert "nothing to export yet" in proc.stderr and "cannot write" in proc.stderr
    doc = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert [(t["question"], t["final_answer"]) for t in doc["turns"]] == [("First?", "Answer to: First?")]
    assert doc["conversation"]["ended_by"] == "saved"
