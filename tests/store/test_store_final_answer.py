"""A streamed final answer is appended to disk piece by piece (linear), from a thread, and written whole at the end."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from massgen_core import events as ev
from massgen_core.store import Store
from massgen_core.store.final_spool import FinalSpool
from massgen_core.store.recorder import Recorder


def _rows(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _pieces(db: Path) -> str:
    return "".join(r[0] for r in _rows(db, "SELECT text FROM final_chunks ORDER BY turn_id, seq"))


def _wait_for(predicate, what: str, limit_s: float = 20.0) -> None:
    """Poll until ``predicate()`` holds: the recorder writes from its own thread, with no call of ours."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def _streaming(recorder: Recorder, words: list[str]) -> ev.EventFactory:
    f = ev.EventFactory("s1")
    recorder(f(ev.SessionStarted, question="Long?", agent_ids=("a",)))
    recorder(f(ev.WinnerSelected, winner="a", strategy="majority", tally={"a": 1.0}))
    for word in words:
        recorder(f(ev.FinalAnswerDelta, agent_id="a", text=word))
    return f


def test_enough_buffered_text_reaches_the_disk_without_any_further_event(db_path):
    recorder = Recorder(Store(db_path), flush_chars=10, flush_interval_s=3600)
    _streaming(recorder, ["one ", "two ", "three ", "four "])
    _wait_for(lambda: _pieces(db_path).startswith("one two three"), "the first 10 characters written")
    recorder.close()
    assert _pieces(db_path) == "one two three four "


def test_a_stream_that_stalls_is_on_disk_within_the_interval(db_path):
    # The former recorder only looked at the clock when the next delta came: a stalled model kept it in memory.
    recorder = Recorder(Store(db_path), flush_chars=10**9, flush_interval_s=0.05)
    _streaming(recorder, ["alpha ", "beta "])
    _wait_for(lambda: _pieces(db_path) == "alpha beta ", "the stalled text written")
    recorder.close()


def test_each_write_appends_only_the_new_text_and_never_rewrites_the_answer(db_path):
    recorder = Recorder(Store(db_path), flush_chars=8, flush_interval_s=3600)
    words = [f"w{i:03d} " for i in range(40)]
    _streaming(recorder, words[:20])
    recorder.flush()
    first = _rows(db_path, "SELECT seq, text FROM final_chunks ORDER BY seq")
    more = ev.EventFactory("s1-more")
    for word in words[20:]:
        recorder(more(ev.FinalAnswerDelta, agent_id="a", text=word))
    recorder.flush()
    rows = _rows(db_path, "SELECT seq, text FROM final_chunks ORDER BY seq")
    assert rows[: len(first)] == first  # written rows are never touched again
    assert "".join(t for _, t in rows) == "".join(words)
    assert sum(len(t) for _, t in rows) == len("".join(words))  # each character written once
    assert _rows(db_path, "SELECT final_answer FROM turns") == [(None,)]  # not rewritten at every flush
    recorder.close()


def test_a_finished_turn_holds_its_whole_answer_and_no_pieces(db_path):
    recorder = Recorder(Store(db_path), flush_chars=4, flush_interval_s=0.01)
    f = _streaming(recorder, ["Paris ", "is ", "the ", "capital."])
    recorder.flush()
    assert _pieces(db_path) == "Paris is the capital."
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text=" Unwritten tail."))
    recorder(f(ev.SessionFinished, final_answer="Paris is the capital. Unwritten tail.", winner="a", ended_by="consensus"))
    assert _rows(db_path, "SELECT finished_at IS NOT NULL FROM turns") == [(1,)]
    recorder.flush()  # the whole answer is written by the spool's thread, off the event loop
    assert _rows(db_path, "SELECT final_answer FROM turns") == [("Paris is the capital. Unwritten tail.",)]
    assert _rows(db_path, "SELECT COUNT(*) FROM final_chunks") == [(0,)]
    recorder.close()
    assert _rows(db_path, "SELECT COUNT(*) FROM final_chunks") == [(0,)]  # the superseded tail was not written later
    with Store(db_path) as store:
        assert store.search("capital")[0].kind == "final answer"


def test_an_unfinished_turn_shows_and_continues_with_what_was_streamed(db_path):
    recorder = Recorder(Store(db_path), flush_chars=5, flush_interval_s=3600)
    _streaming(recorder, ["Half ", "an ", "answer"])
    recorder.close()  # no SessionFinished: a crash or a kill
    with Store(db_path) as store:
        cid = store.latest_id()
        assert store.document(cid)["turns"][0]["final_answer"] == "Half an answer"
        assert store.history(cid) == [("Long?", "Half an answer")]


def test_two_turns_keep_their_pieces_apart(db_path):
    recorder = Recorder(Store(db_path), flush_chars=1, flush_interval_s=3600)
    for n in (1, 2):
        f = ev.EventFactory(f"s{n}")
        recorder(f(ev.SessionStarted, question=f"Q{n}?", agent_ids=("a",)))
        for word in (f"answer{n} ", "words"):
            recorder(f(ev.FinalAnswerDelta, agent_id="a", text=word))
        recorder.flush()
    recorder.close()
    with Store(db_path) as store:
        assert store.history(store.latest_id()) == [("Q1?", "answer1 words"), ("Q2?", "answer2 words")]


def test_a_database_error_in_the_writer_stops_recording_with_one_warning(db_path, capsys):
    recorder = Recorder(Store(db_path), flush_chars=1, flush_interval_s=3600)
    f = _streaming(recorder, [])
    _rows(db_path, "DROP TABLE final_chunks")  # the writer's next insert fails
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text="lost"))
    _wait_for(lambda: recorder._spool.failure is not None, "the writer's failure noticed")
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text="after"))
    recorder(f(ev.SessionFinished, final_answer="x", winner="a", ended_by="consensus"))  # ignored, never raises
    recorder.close()
    assert recorder.error is not None and "final_chunks" in recorder.error
    assert capsys.readouterr().err.count("conversation recording stopped") == 1


def test_flush_reports_a_writer_failure_it_finds(db_path, capsys):
    recorder = Recorder(Store(db_path), flush_chars=10**9, flush_interval_s=3600)
    f = _streaming(recorder, [])
    _rows(db_path, "DROP TABLE final_chunks")
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text="lost"))
    recorder.flush()
    assert recorder.error is not None
    recorder.close()
    assert "conversation recording stopped" in capsys.readouterr().err


def test_the_spool_ignores_text_after_close_and_closes_without_having_started(tmp_path):
    Store(tmp_path / "c.db").close()
    idle = FinalSpool(tmp_path / "c.db")
    idle.sync()
    idle.close()  # never started a thread
    spool = FinalSpool(tmp_path / "c.db")
    spool.close()
    spool.append(1, "too late")
    assert _rows(tmp_path / "c.db", "SELECT COUNT(*) FROM final_chunks") == [(0,)]


def test_a_writer_failure_found_at_the_end_of_the_turn_stops_recording(db_path, capsys):
    recorder = Recorder(Store(db_path), flush_chars=1, flush_interval_s=3600)
    recorder.flush()  # nothing recorded yet: nothing to do
    f = _streaming(recorder, [])
    _rows(db_path, "DROP TABLE final_chunks")
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text="lost"))
    _wait_for(lambda: recorder._spool.failure is not None, "the writer's failure noticed")
    recorder(f(ev.SessionFinished, final_answer="lost", winner="a", ended_by="consensus"))
    assert recorder.error is not None
    assert _rows(db_path, "SELECT finished_at FROM turns") == [(None,)]  # nothing more was written
    recorder.close()
    assert capsys.readouterr().err.count("conversation recording stopped") == 1


def test_a_database_error_while_flushing_deferred_events_stops_recording(db_path, capsys):
    recorder = Recorder(Store(db_path))
    f = ev.EventFactory("s1")
    recorder(f(ev.SessionStarted, question="q", agent_ids=("a",)))
    recorder(f(ev.AgentStarted, agent_id="a"))  # deferred until the next commit
    _rows(db_path, "DROP TABLE events")
    recorder.flush()
    assert recorder.error is not None and "events" in recorder.error
    recorder.close()
    assert "conversation recording stopped" in capsys.readouterr().err


async def test_aclose_writes_everything_from_a_worker_thread(db_path):
    recorder = Recorder(Store(db_path), flush_chars=10**9, flush_interval_s=3600)
    f = _streaming(recorder, ["x" * 1000] * 50)
    recorder(f(ev.SessionFinished, final_answer="x" * 50_000, winner="a", ended_by="consensus"))
    await recorder.aclose()
    assert _rows(db_path, "SELECT length(final_answer) FROM turns") == [(50_000,)]
    assert _rows(db_path, "SELECT COUNT(*) FROM final_chunks") == [(0,)]
