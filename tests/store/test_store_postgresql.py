"""The PostgreSQL store itself: migrating a SQLite store into it, workers starting at once, secrets, bad URLs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core.redaction import REDACTED
from massgen_core.store import SCHEMA_VERSION, Store, StoreError, default_path
from massgen_core.store.recorder import Recorder


def _cli(
    *args: str, home: Path, url: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MASSGEN_DATABASE_URL"}
    env.update(MASSGEN_HOME=str(home), PYTHONIOENCODING="utf-8")
    if url is not None:
        env["MASSGEN_DATABASE_URL"] = url
    proc = subprocess.run([sys.executable, "-m", "massgen_core", *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120, check=False)  # fmt: skip
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _record_unfinished(store: Store) -> str:
    """A turn killed mid-answer: its final answer only in final_chunks."""
    recorder = Recorder(store, flush_chars=1)
    f = ev.EventFactory("crashed")
    recorder(f(ev.SessionStarted, question="日本の首都はどこですか", agent_ids=("a",)))
    recorder(f(ev.AnswerSubmitted, agent_id="a", label="agent1", text="東京です", revision=1))
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text="東京"))
    recorder(f(ev.FinalAnswerDelta, agent_id="a", text="です"))
    recorder.close()
    return recorder.conversation_id


def _record(store: Store, events: list[ev.Event], **kw: object) -> str:
    recorder = Recorder(store, **kw)  # type: ignore[arg-type]
    for event in events:
        recorder(event)
    recorder.close()
    return recorder.conversation_id


def test_migrate_copies_a_sqlite_store_losslessly(pg_url, make_events, _isolated_home):
    config = {
        "agents": [
            {
                "backend": {
                    "type": "openai",
                    "api_key": "sk-proj-abcdefghijklmnopqrstuv",
                    "base_url": "https://u:pw@h/v1",
                }
            }
        ]
    }
    ids = [
        _record(Store(default_path()), make_events(), config=config),
        _record(
            Store(default_path()),
            make_events(
                "s2", question="C++ or gpt-4o?", answers=(("x", "C++"),), winner=None, final=None
            ),
        ),
        _record_unfinished(Store(default_path())),
    ]
    out = _cli("conversations", "migrate", "--to", pg_url, home=_isolated_home).stdout
    assert (
        "Copied 3 conversation(s)" in out and "massgen@" not in out
    )  # the URL's user and password are masked
    for cid in ids:  # export from SQLite == export from PostgreSQL, byte for byte
        old = _cli("export", cid, home=_isolated_home).stdout
        new = _cli("export", cid, home=_isolated_home, url=pg_url).stdout
        assert new == old and cid in new
    listed = _cli("conversations", "list", "--json", home=_isolated_home, url=pg_url).stdout
    assert listed == _cli("conversations", "list", "--json", home=_isolated_home).stdout
    again = _cli("conversations", "migrate", "--to", pg_url, home=_isolated_home).stdout
    assert "Copied 0 conversation(s)" in again and "3 already there were kept" in again


def test_migrate_refuses_what_it_cannot_do(pg_url, tmp_path, _isolated_home):
    proc = _cli(
        "conversations", "migrate", "--to", "sqlite:///x.db", home=_isolated_home, check=False
    )
    assert proc.returncode == 2 or proc.returncode == 1
    assert "postgresql:// URL" in proc.stderr
    proc = _cli("conversations", "migrate", "--to", pg_url, home=_isolated_home, check=False)
    assert proc.returncode == 1 and "no SQLite store" in proc.stderr


OPEN_AT_ONCE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from massgen_core.store import Store
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.002)
    with Store(url=sys.argv[1]) as store:
        print(store.schema_version)
    """
)


def test_workers_starting_at_once_on_an_empty_database_migrate_it_once(pg_server, tmp_path):
    url = pg_server.create_database("fresh_for_migration")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, url, str(go)], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]  # fmt: skip
    go.touch()
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.strip() == str(SCHEMA_VERSION)
    with Store(url=url) as store:
        assert store.conn.execute(
            "SELECT COUNT(*), MIN(version) FROM massgen_schema"
        ).fetchone() == (1, SCHEMA_VERSION)


def test_secrets_are_masked_in_the_rows_postgresql_stores(pg_url, make_events):
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
    config = {
        "agents": [
            {
                "backend": {
                    "type": "openai",
                    "api_key": key,
                    "base_url": "https://user:hunter2@example.test/v1",
                }
            }
        ]
    }
    f = ev.EventFactory("s")
    events = [*make_events()[:1], f(ev.BackendRetry, agent_id="alice", backend="openai", model="m", attempt=1, delay_s=0.1,
                                    error=f"401 from https://user:hunter2@example.test/v1 with key {key}")]  # fmt: skip
    _record(Store(url=pg_url), events, config=config)
    with Store(url=pg_url) as store:
        stored = " ".join(
            str(row)
            for table in ("conversations", "events")
            for row in store.conn.execute(f"SELECT * FROM {table}").fetchall()
        )
    assert key not in stored and "hunter2" not in stored and REDACTED in stored


def test_a_url_that_is_not_postgresql_or_a_server_that_is_down_is_a_clear_error(
    _isolated_home, monkeypatch
):
    monkeypatch.setenv("MASSGEN_DATABASE_URL", "mysql://localhost/x")
    with pytest.raises(StoreError, match="must be a postgresql:// URL"):
        Store()
    with pytest.raises(StoreError, match="cannot open the PostgreSQL conversation store") as info:
        Store(url="postgresql://someone:s3cr3t-pw@127.0.0.1:1/nothing")
    assert "s3cr3t-pw" not in str(info.value)
    proc = _cli(
        "conversations",
        "list",
        home=_isolated_home,
        url="postgresql://someone:s3cr3t-pw@127.0.0.1:1/x",
        check=False,
    )
    assert (
        proc.returncode == 1
        and "cannot open the PostgreSQL" in proc.stderr
        and "s3cr3t-pw" not in proc.stderr
    )


def test_the_url_can_live_in_the_config_dirs_env_file(pg_url, _isolated_home, make_events):
    from massgen_core import paths

    cid = _record(Store(url=pg_url), make_events())
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    (paths.config_dir() / ".env").write_text(f"MASSGEN_DATABASE_URL={pg_url}\n")
    out = _cli("conversations", "list", "--json", home=_isolated_home).stdout
    assert cid in out


def _varied(make_events) -> list[list[ev.Event]]:
    """Sessions on several days (one just before a UTC midnight), backends, models, winners and endings."""
    midnight = 1_750_032_000.0  # 2025-06-16 00:00 UTC
    return [
        make_events("d1", start=midnight - 3600 * 30, backend="openai", model="gpt-4o", cost=0.01),
        make_events(
            "d2",
            start=midnight - 60,
            backend="claude",
            model="claude-3-5-haiku",
            cost=0.02,
            winner="alice",
        ),
        make_events(
            "d3",
            start=midnight + 7200,
            backend="openai",
            model="gpt-4o-mini",
            winner=None,
            final=None,
        ),
        make_events(
            "d4",
            start=midnight + 86400 * 3,
            answers=(("carol", "x"), ("bob", "y"), ("alice", "z")),
            finish=False,
        ),
    ]


@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo"])
def test_usage_stats_and_dashboard_report_the_same_on_both_stores(
    pg_url, make_events, _isolated_home, tmp_path, tz, monkeypatch
):
    for i, events in enumerate(_varied(make_events)):
        _record(Store(default_path()), events, conversation_id=f"c{i}")
        _record(Store(url=pg_url), events, conversation_id=f"c{i}")
    commands = [
        ["usage", "--by", by, "--json"]
        for by in ("day", "model", "backend", "agent", "conversation")
    ]
    commands += [
        ["stats", "--json"],
        ["usage", "--since", "2025-06-15", "--json"],
        ["stats", "--until", "2025-06-16", "--json"],
    ]
    monkeypatch.setenv("TZ", tz)  # for the CLI processes
    for command in commands:
        sqlite_out = _cli(*command, home=_isolated_home).stdout
        assert _cli(*command, home=_isolated_home, url=pg_url).stdout == sqlite_out, command
    # The numbers behind the dashboard's charts (its HTML also says when it was made).
    charts = [
        _cli("dashboard", "-o", str(tmp_path / f"{name}.html"), "--json", home=_isolated_home, url=url).stdout
        for name, url in (("sqlite", None), ("pg", pg_url))
    ]
    assert charts[1] == charts[0] and '"sessions"' in charts[0]
    by_day = _cli("usage", "--by", "day", "--json", home=_isolated_home, url=pg_url).stdout
    # Days are local, as in SQLite: 2025-06-14 18:00 UTC is already the 15th in Tokyo.
    assert ('"2025-06-14"' in by_day) == (tz == "UTC") and '"2025-06-19"' in by_day


def test_a_lost_connection_stops_recording_with_one_warning(pg_url, make_events, capsys):
    store = Store(url=pg_url)
    recorder = Recorder(store)
    events = make_events()
    recorder(events[0])
    pid = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with Store(url=pg_url) as other:
        other.conn.execute("SELECT pg_terminate_backend(?)", (pid,))
    for event in events[1:]:
        recorder(event)
    recorder.close()
    warnings = [
        line for line in capsys.readouterr().err.splitlines() if "recording stopped" in line
    ]
    assert len(warnings) == 1 and recorder.error is not None
    with Store(
        url=pg_url
    ) as after:  # what was committed before the loss is there; the pool replaced the connection
        (summary,) = after.list_conversations()
        assert summary.finished_at is None


def test_a_store_migrated_by_a_newer_massgen_is_refused(pg_server):
    url = pg_server.create_database("from_the_future")
    Store(url=url).close()
    with Store(url=url) as store:
        store.conn.execute("UPDATE massgen_schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this MassGen understands"):
        Store(url=url)


def test_attachments_of_a_postgresql_store_are_kept_by_hash_in_the_data_dir(pg_url, tmp_path, _isolated_home):
    from massgen_core.content import load_attachment
    from massgen_core.testing import media

    image = load_attachment(media.write(tmp_path, "p.png", media.png()))
    with Store(url=pg_url) as store:
        recorder = Recorder(store)
        f = ev.EventFactory("s")
        recorder(f(ev.SessionStarted, question="What is it?", agent_ids=("a",), attachments=(image.ref(),)))
        recorder(f(ev.SessionFinished, final_answer="A pixel.", winner="a", ended_by="consensus"))
        recorder.flush()
        blob = default_path().parent / "attachments" / image.sha256
        assert blob.read_bytes() == media.png()
        document = store.document(recorder.conversation_id)
        assert set(document["attachments"]) == {image.sha256}
        store.delete(recorder.conversation_id)
        assert not blob.exists()  # no other turn refers to it
        store.import_document(document)  # and an import writes it back
        assert blob.read_bytes() == media.png()
