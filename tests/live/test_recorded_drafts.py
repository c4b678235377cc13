"""The recorder keeps an answer that was still being written when the turn ended or was flushed."""

from __future__ import annotations

import itertools
import json
import sqlite3

from massgen_core import events as ev
from massgen_core.store import Store
from massgen_core.store.recorder import Recorder


def _rows(db) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(db)
    try:
        return [(t, json.loads(d)) for t, d in conn.execute("SELECT type, data FROM events WHERE type = 'answer_delta' ORDER BY seq")]
    finally:
        conn.close()


def _factory() -> ev.EventFactory:
    clock = itertools.count(1_750_000_000.0)
    return ev.EventFactory("s1", clock=lambda: next(clock))


def test_an_unfinished_answer_is_kept_whole_and_submitted_or_abandoned_ones_are_not(tmp_path):
    db = tmp_path / "c.db"
    f = _factory()
    recorder = Recorder(Store(db))
    for event in [
        f(ev.SessionStarted, question="q", agent_ids=("a", "b", "c")),
        f(ev.AgentStarted, agent_id="a"),
        f(ev.AgentStarted, agent_id="b"),
        f(ev.AgentStarted, agent_id="c"),
        f(ev.AnswerDelta, agent_id="a", text="Paris is "),
        f(ev.AnswerDelta, agent_id="b", text="Rome"),
        f(ev.AnswerDelta, agent_id="c", text="Lyon"),
        f(ev.AnswerDelta, agent_id="a", text="the capital"),
        f(ev.AnswerSubmitted, agent_id="b", label="agent1", text="Rome", revision=1),
        f(ev.AgentStarted, agent_id="c"),  # restarted: its old draft is gone
        f(ev.SessionFinished, final_answer=None, winner=None, ended_by="timeout", error="too slow"),
    ]:
        recorder(event)
    recorder.close()
    assert _rows(db) == [("answer_delta", {"agent_id": "a", "text": "Paris is the capital"})]


def _writing(db, text: str) -> tuple[Recorder, ev.EventFactory]:
    """A recorder whose one agent, a, has started writing ``text``."""
    f = _factory()
    recorder = Recorder(Store(db))
    recorder(f(ev.SessionStarted, question="q", agent_ids=("a",)))
    recorder(f(ev.AnswerDelta, agent_id="a", text=text))
    return recorder, f


def test_a_flush_mid_turn_writes_the_draft_so_far(tmp_path):
    db = tmp_path / "c.db"
    recorder, _ = _writing(db, "half an ans")
    recorder.flush()  # what /save and Ctrl-C do
    assert _rows(db) == [("answer_delta", {"agent_id": "a", "text": "half an ans"})]
    recorder.close()


def test_a_draft_cut_by_a_restarted_request_is_not_kept(tmp_path):
    db = tmp_path / "c.db"
    recorder, f = _writing(db, "first try")
    recorder(f(ev.BackendRetry, agent_id="a", backend="openai", model="m", attempt=1, delay_s=0.1, error="reset", restart=True))
    recorder(f(ev.AnswerDelta, agent_id="a", text="second"))
    recorder(f(ev.SessionFinished, final_answer=None, winner=None, ended_by="cancelled"))
    recorder.close()
    assert _rows(db) == [("answer_delta", {"agent_id": "a", "text": "second"})]


def test_a_kept_draft_survives_export_and_import(tmp_path):
    db = tmp_path / "c.db"
    recorder, f = _writing(db, "half")
    recorder(f(ev.SessionFinished, final_answer=None, winner=None, ended_by="timeout"))
    recorder.close()
    document = Store(db).document(recorder.conversation_id)
    kept = [e for e in document["turns"][0]["events"] if e["type"] == "answer_delta"]
    assert [e["data"] for e in kept] == [{"agent_id": "a", "text": "half"}]
    other = Store(tmp_path / "other.db")
    cid = other.import_document(json.loads(json.dumps(document)))
    assert other.document(cid)["turns"][0]["events"] == document["turns"][0]["events"]
