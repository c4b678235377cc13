"""Durability, on SQLite and PostgreSQL: a SIGKILLed session keeps what it streamed; four writing processes lose nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from massgen_core.store import Filters, Store

# A session that streams slowly: answers first, then a long final answer, token by token.
SLOW_SESSION = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from massgen_core import events as ev
    from massgen_core.backend import Usage
    from massgen_core.store import Filters, Store
    from massgen_core.store.recorder import Recorder

    target = sys.argv[1]
    recorder = Recorder(Store(url=target) if "://" in target else Store(Path(target)), flush_interval_s=0.05)
    f = ev.EventFactory("slow")
    recorder(f(ev.SessionStarted, question="Explain WAL mode", agent_ids=("alice", "bob")))
    for agent in ("alice", "bob"):
        for word in "write ahead logging keeps readers and writers apart".split():
            recorder(f(ev.TextDelta, agent_id=agent, text=word + " "))
            time.sleep(0.005)
        recorder(f(ev.AnswerSubmitted, agent_id=agent, label="agent1", text=agent + " says: WAL", revision=1))
        recorder(f(ev.UsageReported, agent_id=agent, backend="scripted", model="s", usage=Usage(output_tokens=8)))
    recorder(f(ev.VoteCast, voter="alice", target="bob", target_label="agent2", reason="clearer"))
    recorder(f(ev.WinnerSelected, winner="bob", strategy="majority", tally={"bob": 1.0}))
    for i in range(100000):
        recorder(f(ev.FinalAnswerDelta, agent_id="bob", text=f"token{i} "))
        time.sleep(0.01)
    """
)

CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from massgen_core import events as ev
    from massgen_core.backend import Usage
    from massgen_core.store import Filters, Store
    from massgen_core.store.recorder import Recorder

    target, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    while not go.exists():
        time.sleep(0.005)
    for n in range(count):
        recorder = Recorder(Store(url=target) if "://" in target else Store(Path(target)))
        f = ev.EventFactory(f"{name}-{n}")
        recorder(f(ev.SessionStarted, question=f"{name} question {n}", agent_ids=("a", "b")))
        for agent in ("a", "b"):
            recorder(f(ev.AnswerSubmitted, agent_id=agent, label="agent1", text=f"{name} answer {n} by {agent}", revision=1))
            recorder(f(ev.UsageReported, agent_id=agent, backend="scripted", model=name, usage=Usage(cost_usd=0.5)))
        recorder(f(ev.VoteCast, voter="a", target="b", target_label="agent2", reason="ok"))
        recorder(f(ev.SessionFinished, final_answer=f"{name} final {n}", winner="b", ended_by="consensus"))
        recorder.close()
        if recorder.error:
            sys.exit("recording failed: " + recorder.error)
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _poll(target: str, sql: str, until: float) -> object:
    while time.monotonic() < until:
        try:
            with _open(target) as store:
                row = store.conn.execute(sql).fetchone()
            value = row[0] if row else None
        except sqlite3.OperationalError:  # schema not created yet
            value = None
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {sql}")


def _open(target: str) -> Store:
    return Store(url=target) if "://" in target else Store(Path(target))


def _intact(store: Store) -> None:
    if store.url is None:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_session_killed_mid_stream_keeps_everything_recorded_so_far(tmp_path, store_url):
    db = store_url or str(tmp_path / "conversations.db")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SESSION, db], env=_env())
    try:
        # The answer streams into final_chunks, piece by piece, while the turn runs.
        partial = _poll(db, "SELECT text FROM final_chunks WHERE seq = 0 AND text LIKE 'token0 token1 token2%'", time.monotonic() + 30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    with _open(db) as store:
        _intact(store)
        (summary,) = store.list_conversations()
        assert summary.finished_at is None  # marked unfinished
        assert [s.id for s in store.list_conversations(Filters(unfinished=True))] == [summary.id]
        turn = store.document(summary.id)["turns"][0]
    assert [a["text"] for a in turn["answers"]] == ["alice says: WAL", "bob says: WAL"]
    assert [(v["voter"], v["target"]) for v in turn["votes"]] == [("alice", "bob")]
    assert len(turn["requests"]) == 2 and turn["winner"] == "bob"
    assert isinstance(turn["final_answer"], str) and turn["final_answer"].startswith(str(partial))
    assert turn["final_answer"].startswith("token0 token1 token2")


WRITERS = ("north", "south", "east", "west")


def test_four_processes_recording_at_once_lose_and_corrupt_nothing(tmp_path, store_url):
    db = store_url or str(tmp_path / "conversations.db")
    go = tmp_path / "go"
    count = 15
    writers = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, db, name, str(count), str(go)], env=_env(),
                         stderr=subprocess.PIPE, text=True)
        for name in WRITERS
    ]
    time.sleep(0.3)  # both are waiting on the start line
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err

    with _open(db) as store:
        _intact(store)
        rows = store.list_conversations(Filters(limit=None))
        assert len(rows) == len(WRITERS) * count
        assert all(r.finished_at is not None and r.cost_usd == pytest.approx(1.0) for r in rows)
        assert store.conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == len(WRITERS) * 2 * count
        assert store.conn.execute("SELECT COUNT(*) FROM fts").fetchone()[0] == len(WRITERS) * 4 * count  # question, 2 answers, final
        for name in WRITERS:
            hits = store.search(f'"{name} final"', Filters(limit=None))
            assert len(hits) == count
