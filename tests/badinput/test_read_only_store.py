"""MASSGEN_HOME on a read-only file system: sessions still answer (one warning), reads work, writes fail in one line.

The read-only file system is a real one (a read-only bind mount in a private
mount namespace, see conftest.py), so root cannot write there either.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from massgen_core.store import Store, StoreError, default_path
from massgen_core.store.opening import _open_immutable

DEMO = ("--no-display", "--config", "one.yaml")  # the one_agent fixture's file, in MASSGEN_HOME (the cwd)
pytestmark = pytest.mark.usefixtures("read_only_mounts", "one_agent")


def _one_line(stderr: str, start: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(start), stderr
    assert "internal error" not in stderr
    return lines[0]


def _recorded(massgen) -> str:
    proc = massgen(*DEMO, "--json", "What is the capital of France?")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["conversation_id"]


def test_a_session_in_a_fresh_read_only_home_answers_with_one_warning(massgen, _isolated_home):
    proc = massgen(*DEMO, "-q", "hi", read_only=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Paris is the capital of France.")
    line = _one_line(proc.stderr, "massgen: warning: this session is not recorded: ")
    assert f"cannot open the conversation database {_isolated_home}/data/conversations.db: Read-only file system" in line
    assert f"{_isolated_home} is not writable" in line
    assert not (_isolated_home / "data").exists()


def test_conversations_list_in_a_fresh_read_only_home_is_one_located_line(massgen, _isolated_home):
    proc = massgen("conversations", "list", read_only=True)
    assert proc.returncode == 1
    line = _one_line(proc.stderr, "massgen: error: cannot open the conversation database ")
    assert str(_isolated_home / "data" / "conversations.db") in line


@pytest.mark.parametrize(
    "args",
    [
        ("conversations", "list", "--json"),
        ("conversations", "search", "capital"),
        ("conversations", "show", "{id}"),
        ("export", "{id}", "--format", "json"),
        ("stats",),
        ("usage",),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_read_only_store_can_still_be_read(massgen, args):
    conversation_id = _recorded(massgen)
    proc = massgen(*(a.replace("{id}", conversation_id[:8]) for a in args), read_only=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    if args[0] in ("conversations", "export"):
        assert conversation_id[:8] in proc.stdout


def test_deleting_from_a_read_only_store_is_one_line(massgen):
    conversation_id = _recorded(massgen)
    proc = massgen("conversations", "delete", "--yes", conversation_id, read_only=True)
    assert proc.returncode == 1
    line = _one_line(proc.stderr, "massgen: error: cannot open the conversation database ")
    assert "is not writable (set MASSGEN_HOME to a writable directory)" in line


def test_continuing_on_a_read_only_store_reads_the_history_and_warns_once(massgen):
    _recorded(massgen)
    proc = massgen(*DEMO, "-q", "--json", "--continue", "And of Italy?", read_only=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["turn"] == 2 and result["final_answer"].startswith("Paris")  # the recorded turn was read
    _one_line(proc.stderr, "massgen: warning: this session is not recorded: ")


def test_save_in_interactive_mode_on_a_read_only_store_reports_and_carries_on(massgen):
    _recorded(massgen)
    proc = massgen(*DEMO, "-q", stdin="hi\n/save\n/history\n/quit\n", read_only=True)
    assert proc.returncode == 0, proc.stderr
    warning, error = [line for line in proc.stderr.splitlines() if line.startswith("massgen:")]
    assert warning.startswith("massgen: warning: this session is not recorded")
    assert error.startswith("massgen: error: cannot open the conversation database")
    assert "1. You: hi" in proc.stderr  # /history still answers after the failed /save


def test_a_read_only_store_of_another_schema_version_says_so(massgen):
    _recorded(massgen)
    conn = sqlite3.connect(default_path())
    conn.execute("PRAGMA user_version = 99")  # written by a newer MassGen
    conn.close()
    proc = massgen("conversations", "list", read_only=True)
    assert proc.returncode == 1
    line = _one_line(proc.stderr, "massgen: error: the conversation database ")
    assert "is read-only and has schema version 99" in line


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    junk = tmp_path / "conversations.db"
    junk.write_bytes(b"this is not SQLite, just some text that happens to be here " * 20)
    with pytest.raises(StoreError, match=f"cannot open the conversation database {junk}: file is not a database$"):
        Store(junk)
    with pytest.raises(StoreError, match=f"cannot read the conversation database {junk}: file is not a database"):
        _open_immutable(junk)
