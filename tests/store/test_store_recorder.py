"""The recorder writes a session into a real SQLite file as its events arrive."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core import recording
from massgen_core.errors import MassGenError
from massgen_core.redaction import REDACTED, redact
from massgen_core.store import Store, default_path
from massgen_core.store.recorder import Recorder


def _one(db: Path, sql: str, *args: object) -> object:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchone()[0]
    finally:
        conn.close()


def test_a_finished_session_is_recorded_with_answers_votes_usage_and_final_answer(record, store, make_events):
    cid = record(make_events())
    doc = store.document(cid)
    turn = doc["turns"][0]
    assert doc["conversation"]["title"] == "What is the capital of France?"
    assert [(a["agent_id"], a["text"]) for a in turn["answers"]] == [("alice", "Paris."), ("bob", "Paris is the capital of France.")]
    assert [(v["voter"], v["target"], v["reason"]) for v in turn["votes"]] == [
        ("alice", "bob", "alice likes bob"),
        ("bob", "bob", "bob likes bob"),
    ]
    assert [(r["backend"], r["model"], r["cost_usd"], r["ttft_s"]) for r in turn["requests"]] == [("openai", "gpt-4o-mini", 0.001, 0.1)] * 2
    assert turn["final_answer"] == "Paris is the capital of France."
    assert (turn["winner"], turn["tally"], turn["ended_by"]) == ("bob", {"bob": 2.0}, "consensus")
    assert doc["conversation"]["finished_at"] is not None


def test_text_deltas_are_not_stored_as_rows(record, sql_one, make_events):
    record(make_events())
    assert sql_one("SELECT COUNT(*) FROM events WHERE type = 'text_delta'") == 0
    assert sql_one("SELECT COUNT(*) FROM events") == 2  # the two agent_started events


def test_each_answer_is_committed_before_the_next_event_arrives(new_store, sql_one, make_events):
    recorder = Recorder(new_store())
    seen = []
    for event in make_events():
        recorder(event)
        if isinstance(event, ev.AnswerSubmitted):
            seen.append(sql_one("SELECT COUNT(*) FROM answers"))  # another connection sees it
    recorder.close()
    assert seen == [1, 2]


def test_a_usage_row_rides_with_the_next_commit_and_close_writes_the_last_one(new_store, sql_one, make_events):
    recorder = Recorder(new_store())
    seen = []
    for event in make_events(winner=None, final=None, finish=False):
        recorder(event)
        if isinstance(event, ev.UsageReported | ev.AnswerSubmitted):
            seen.append((type(event).__name__, sql_one("SELECT COUNT(*) FROM requests")))
    # alice's usage waits for bob's answer (the next commit); bob's for the close
    assert seen == [("AnswerSubmitted", 0), ("UsageReported", 0), ("AnswerSubmitted", 1), ("UsageReported", 1)]
    recorder.close()
    assert sql_one("SELECT COUNT(*) FROM requests") == 2
    assert sql_one("SELECT cost_usd FROM turns") == pytest.approx(0.002)
    assert sql_one("SELECT cost_usd FROM conversations") == pytest.approx(0.002)


def test_a_session_without_session_finished_stays_unfinished(record, store, make_events):
    cid = record(make_events(finish=False))
    doc = store.document(cid)
    assert doc["conversation"]["finished_at"] is None
    assert doc["turns"][0]["finished_at"] is None
    assert len(doc["turns"][0]["answers"]) == 2


def test_final_answer_falls_back_to_the_streamed_text_when_the_session_reports_none(record, store, make_events):
    events = make_events(final="streamed words")
    last = events[-1]
    events[-1] = ev.SessionFinished(session_id=last.session_id, seq=last.seq, ts=last.ts, final_answer=None, winner="bob", ended_by="timeout")
    cid = record(events)
    assert store.document(cid)["turns"][0]["final_answer"] == "streamed words "


def test_the_session_total_cost_replaces_the_sum_of_requests_when_reported(record, store, make_events):
    events = make_events(cost=0.25)
    last = events[-1]
    events[-1] = ev.SessionFinished(session_id=last.session_id, seq=last.seq, ts=last.ts, final_answer="x", winner="bob", ended_by="consensus", cost_usd=1.0)
    cid = record(events)
    doc = store.document(cid)
    assert doc["turns"][0]["cost_usd"] == pytest.approx(1.0)
    assert doc["conversation"]["cost_usd"] == pytest.approx(1.0)


def test_costs_of_requests_add_up_per_turn_and_conversation(record, store, make_events):
    cid = record(make_events(cost=0.25))
    doc = store.document(cid)
    assert doc["turns"][0]["cost_usd"] == pytest.approx(0.5)
    assert doc["conversation"]["cost_usd"] == pytest.approx(0.5)


def test_a_second_session_on_the_same_recorder_is_the_next_turn(new_store, store, make_events):
    recorder = Recorder(new_store())
    for event in make_events("s1") + make_events("s2", question="And of Spain?", final="Madrid."):
        recorder(event)
    recorder.close()
    doc = store.document(recorder.conversation_id)
    assert [(t["turn"], t["session_id"], t["question"]) for t in doc["turns"]] == [
        (1, "s1", "What is the capital of France?"),
        (2, "s2", "And of Spain?"),
    ]
    assert store.history(recorder.conversation_id) == [
        ("What is the capital of France?", "Paris is the capital of France."),
        ("And of Spain?", "Madrid."),
    ]


def test_recording_with_an_existing_conversation_id_appends_a_turn_and_reopens_it(record, store, make_events):
    cid = record(make_events("s1"))
    record(make_events("s2", question="Follow-up?", finish=False), conversation_id=cid)
    doc = store.document(cid)
    assert [t["turn"] for t in doc["turns"]] == [1, 2]
    assert doc["conversation"]["finished_at"] is None  # the new turn is still running


def test_new_conversation_starts_a_separate_record(new_store, store, make_events):
    recorder = Recorder(new_store())
    for event in make_events("s1"):
        recorder(event)
    first = recorder.conversation_id
    second = recorder.new_conversation()
    for event in make_events("s2"):
        recorder(event)
    recorder.close()
    assert first != second
    assert sorted(s.id for s in store.list_conversations()) == sorted([first, second])


def test_events_before_the_session_starts_are_ignored(record, store, make_events):
    f = ev.EventFactory("early")
    stray = f(ev.AnswerSubmitted, agent_id="x", label="agent1", text="orphan", revision=1)
    cid = record([stray, *make_events()])
    assert "orphan" not in [a["text"] for a in store.document(cid)["turns"][0]["answers"]]


def test_discarded_votes_are_kept_and_marked(record, store, make_events):
    events = make_events(finish=False)
    f = ev.EventFactory("sess-1")
    events.append(f(ev.VoteDiscarded, voter="alice", target="bob", reason="stale snapshot"))
    cid = record(events)
    votes = store.document(cid)["turns"][0]["votes"]
    assert votes[-1]["discarded"] is True and votes[-1]["discard_reason"] == "stale snapshot"


def test_notable_events_are_kept_with_their_fields(record, store, make_events):
    events = make_events(finish=False)
    f = ev.EventFactory("sess-1")
    events.append(f(ev.BackendRetry, agent_id="alice", backend="openai", model="m", attempt=2, delay_s=1.5, error="429"))
    events.append(f(ev.AgentFailed, agent_id="bob", error="boom"))
    cid = record(events)
    kept = [(e["type"], e["data"]) for e in store.document(cid)["turns"][0]["events"]][-2:]
    assert kept[0] == ("backend_retry", {"agent_id": "alice", "backend": "openai", "model": "m", "attempt": 2, "delay_s": 1.5, "error": "429", "restart": False})
    assert kept[1] == ("agent_failed", {"agent_id": "bob", "error": "boom"})


@pytest.mark.sqlite_only  # reads the file's bytes; tests/store/test_store_postgresql.py reads PostgreSQL's rows
def test_api_keys_in_the_config_are_redacted_before_storage(record, db_path, make_events):
    config = {"agents": [{"id": "a", "backend": {"type": "openai", "api_key": "sk-secret-123", "max_tokens": 50}}],
              "headers": {"Authorization": "Bearer sk-secret-123"}}  # fmt: skip
    record(make_events(), config=config)
    raw = db_path.read_bytes() + (db_path.with_name(db_path.name + "-wal").read_bytes() if db_path.with_name(db_path.name + "-wal").exists() else b"")
    assert b"sk-secret-123" not in raw
    stored = _one(db_path, "SELECT config FROM conversations")
    assert '"api_key":"***"' in str(stored) and '"max_tokens":50' in str(stored)


def test_redact_handles_attrs_configs_and_keeps_token_counts():
    from massgen_core.config.schema import AgentConfig, BackendConfig, Config

    config = Config(agents=(AgentConfig(id="a", backend=BackendConfig(type="openai", api_key="sk-x", max_tokens=9)),))
    data = redact(config)
    backend = data["agents"][0]["backend"]
    assert backend["api_key"] == REDACTED and backend["max_tokens"] == 9
    assert redact({"input_tokens": 5, "access_token": "t", "x-api-key": "k", "nothing": None}) == {
        "input_tokens": 5, "access_token": REDACTED, "x-api-key": REDACTED, "nothing": None,
    }  # fmt: skip
    assert redact({"obj": Path("/tmp")}) == {"obj": "/tmp"}


def test_a_database_failure_stops_recording_with_one_warning(db_path, make_events, capsys):
    store = Store(db_path)
    recorder = Recorder(store)
    events = make_events()
    recorder(events[0])
    store.conn.execute("DROP TABLE answers")
    for event in events[1:]:
        recorder(event)  # must not raise into the session
    recorder.close()
    err = capsys.readouterr().err
    assert err.count("conversation recording stopped") == 1
    assert recorder.error is not None


# -- the seam the run command calls ---------------------------------------------


def test_start_recording_returns_none_when_disabled():
    assert recording.start_recording(None, enabled=False) is None


def test_start_recording_records_into_the_default_database(make_events):
    recorder = recording.start_recording({"agents": []})
    assert recorder is not None
    for event in make_events():
        recorder(event)
    recorder.close()
    assert default_path().exists()
    with Store() as store:
        assert [s.id for s in store.list_conversations()] == [recorder.conversation_id]


def test_resolve_history_without_flags_is_a_new_conversation():
    assert recording.resolve_history() == (None, [])


def test_resolve_history_with_no_database_says_there_is_nothing_to_continue():
    with pytest.raises(MassGenError, match="nothing to continue"):
        recording.resolve_history(continue_latest=True)


def test_resolve_history_on_an_empty_database_says_there_is_nothing_to_continue():
    Store().close()
    with pytest.raises(MassGenError, match="nothing to continue"):
        recording.resolve_history(continue_latest=True)


def test_continue_picks_the_conversation_with_the_latest_turn(record_home, make_events):
    old = record_home(make_events("a", start=1000.0, question="old"))
    record_home(make_events("b", start=2000.0, question="newer"))
    record_home(make_events("c", start=3000.0, question="follow-up"), conversation_id=old)
    cid, history = recording.resolve_history(continue_latest=True)
    assert cid == old
    assert [q for q, _ in history] == ["old", "follow-up"]


def test_resume_accepts_an_id_prefix_and_skips_turns_without_a_final_answer(record_home, make_events):
    cid = record_home(make_events("a", question="first"))
    record_home(make_events("b", question="crashed", finish=False, final=None), conversation_id=cid)
    found, history = recording.resolve_history(resume=cid[:6])
    assert found == cid
    assert history == [("first", "Paris is the capital of France.")]


def test_a_store_that_cannot_be_opened_leaves_the_session_unrecorded_with_a_warning(capsys):
    db = default_path()
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    assert recording.start_recording({"agents": []}) is None
    err = capsys.readouterr().err
    assert "this session is not recorded" in err and "newer than this MassGen" in err
