"""Opening the database: WAL mode, busy timeout, versioned schema migrated forward."""

from __future__ import annotations

import sqlite3

import pytest

from massgen_core.store import SCHEMA_VERSION, Store, StoreError, schema


def test_a_new_database_is_created_in_wal_mode_at_the_current_schema_version(db_path):
    with Store(db_path) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == schema.BUSY_TIMEOUT_MS
        assert store.schema_version == SCHEMA_VERSION >= 1


def test_the_database_lives_in_the_data_dir_which_massgen_home_relocates(_isolated_home):
    with Store() as store:
        assert store.path == _isolated_home / "data" / "conversations.db"
        assert store.path.exists()


def test_an_unversioned_database_is_migrated_forward_on_open(db_path):
    sqlite3.connect(db_path).close()  # an empty file at user_version 0
    with Store(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "turns", "answers", "votes", "requests", "events", "fts"} <= tables


def test_later_migrations_run_from_the_stored_version(db_path, monkeypatch):
    Store(db_path).close()
    ran = []
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, lambda conn: ran.append(conn.execute("SELECT 1").fetchone())])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    conn = schema.connect(db_path)
    try:
        assert ran == [(1,)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    finally:
        conn.close()


def test_a_failing_migration_leaves_the_database_at_its_old_version(db_path, monkeypatch):
    Store(db_path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with pytest.raises(RuntimeError, match="migration bug"):
        schema.connect(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    conn.close()


def test_a_database_from_a_newer_massgen_is_refused_with_advice(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this MassGen"):
        Store(db_path)


def _hold_exclusive_lock(path):
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_opening_waits_for_a_lock_another_process_holds_briefly(db_path, monkeypatch):
    import threading

    sqlite3.connect(db_path).close()
    holder = _hold_exclusive_lock(db_path)
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with Store(db_path) as store:  # waits instead of failing
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        release.join()
        holder.close()


def test_a_lock_held_past_the_busy_timeout_is_an_error_not_a_hang(db_path, monkeypatch):
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 200)
    sqlite3.connect(db_path).close()
    holder = _hold_exclusive_lock(db_path)
    try:
        with pytest.raises(StoreError, match=f"cannot open the conversation database {db_path}: database is locked"):
            Store(db_path)
    finally:
        holder.close()


def test_credentials_an_older_version_stored_unmasked_are_masked_by_the_migration(db_path):
    import json

    conn = sqlite3.connect(db_path, isolation_level=None)
    schema.run_script(conn, schema._V1)
    conn.execute("PRAGMA user_version = 1")
    config = {"agents": [{"backend": {"type": "ollama", "base_url": "http://u:pw-old-1@h/v1?key=old-2", "model": "m"}}]}
    conn.execute("INSERT INTO conversations (id, config, started_at) VALUES ('c1', ?, 1.0)", (json.dumps(config),))
    conn.execute("INSERT INTO conversations (id, config, started_at) VALUES ('c2', 'not json', 1.0)")
    conn.execute("INSERT INTO conversations (id, config, started_at) VALUES ('c3', '{\"model\": \"m\"}', 1.0)")
    conn.execute("INSERT INTO turns (conversation_id, turn, session_id, question, started_at) VALUES ('c1', 1, 's', 'q', 1.0)")
    conn.execute("INSERT INTO events (turn_id, type, data) VALUES (1, 'agent_failed', ?)",
                 (json.dumps({"error": "GET http://u:pw-old-3@h/v1 failed"}),))  # fmt: skip
    conn.close()
    with Store(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 2
        doc = store.document("c1")
        raw = [r[0] for r in store.conn.execute("SELECT config FROM conversations ORDER BY id")]
    assert doc["conversation"]["config"]["agents"][0]["backend"]["base_url"] == "http://***@h/v1?key=***"
    assert doc["turns"][0]["events"][0]["data"] == {"error": "GET http://***@h/v1 failed"}
    assert raw[1:] == ["not json", '{"model": "m"}']  # what it cannot read, or need not change, is left as it was
    assert b"pw-old" not in db_path.read_bytes()
