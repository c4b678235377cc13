"""The conversation database: opening a connection and migrating its schema.

One SQLite file in WAL mode, versioned with ``PRAGMA user_version``; every
open migrates it forward inside an immediate transaction so two processes
opening a fresh database at once cannot both create it. Nothing here knows
about events or documents.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from massgen_core import paths
from massgen_core.errors import MassGenError

BUSY_TIMEOUT_MS = 30_000

_V1 = """
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL DEFAULT '',
    config      TEXT,                       -- JSON, keys redacted
    started_at  REAL NOT NULL,
    finished_at REAL,                       -- NULL while a turn is running or after a crash
    ended_by    TEXT,
    cost_usd    REAL NOT NULL DEFAULT 0
);
CREATE INDEX conversations_started ON conversations(started_at);
CREATE INDEX conversations_unfinished ON conversations(started_at) WHERE finished_at IS NULL;

-- What the list filters ask about (agent, winner, backend, model), one row per distinct value,
-- so a filter is one index lookup instead of a join over every request of every turn.
CREATE TABLE facets (
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, conversation_id)
) WITHOUT ROWID;
CREATE INDEX facets_conversation ON facets(conversation_id);

CREATE TABLE turns (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    turn            INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    question        TEXT NOT NULL,
    agent_ids       TEXT NOT NULL DEFAULT '[]', -- JSON list
    strategy        TEXT,
    started_at      REAL NOT NULL,
    finished_at     REAL,
    ended_by        TEXT,
    error           TEXT,
    final_answer    TEXT,
    winner          TEXT,
    tally           TEXT,                       -- JSON {agent: score}
    reasons         TEXT,                       -- JSON {voter: reason}
    explanation     TEXT,
    usage           TEXT,                       -- JSON {kind: tokens}
    cost_usd        REAL NOT NULL DEFAULT 0,
    duration_s      REAL,
    UNIQUE (conversation_id, turn)
);
CREATE INDEX turns_winner ON turns(winner);

CREATE TABLE answers (
    id       INTEGER PRIMARY KEY,
    turn_id  INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL,
    label    TEXT,
    revision INTEGER NOT NULL,
    text     TEXT NOT NULL,
    ts       REAL
);
CREATE INDEX answers_turn ON answers(turn_id);
CREATE INDEX answers_agent ON answers(agent_id);

CREATE TABLE votes (
    id             INTEGER PRIMARY KEY,
    turn_id        INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    voter          TEXT NOT NULL,
    target         TEXT,
    target_label   TEXT,
    reason         TEXT NOT NULL DEFAULT '',
    ranking        TEXT NOT NULL DEFAULT '[]',  -- JSON list
    discarded      INTEGER NOT NULL DEFAULT 0,
    discard_reason TEXT,
    ts             REAL
);
CREATE INDEX votes_turn ON votes(turn_id);

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY,
    turn_id          INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    agent_id         TEXT NOT NULL,
    backend          TEXT NOT NULL,
    model            TEXT,
    input_tokens     INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    cached_tokens    INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd         REAL NOT NULL DEFAULT 0,
    latency_s        REAL,
    ttft_s           REAL,
    retries          INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'ok',
    ts               REAL
);
CREATE INDEX requests_turn ON requests(turn_id);
CREATE INDEX requests_model ON requests(model);
CREATE INDEX requests_backend ON requests(backend);

-- Other notable events (failures, retries, fallbacks, restarts, tool calls), as JSON.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    seq     INTEGER,
    ts      REAL,
    type    TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX events_turn ON events(turn_id);

-- Searchable text. The rowid says where it comes from (massgen_core.store.document.fts_rowid):
-- turn id << 32 | answer id << 2 | kind, so a search groups hits by turn without reading rows.
-- Prefix indexes: a short prefix (data*) can expand to many terms, and every snippet would
-- expand it again; indexed, it is one lookup.
CREATE VIRTUAL TABLE fts USING fts5(
    body,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'
);
"""

# Version 2: what each request measured beyond its tokens (time to first byte, output rate) and
# whether its tokens are the provider's or an estimate (a request cancelled or cut off before usage).
_V2 = """
ALTER TABLE requests ADD COLUMN ttfb_s REAL;
ALTER TABLE requests ADD COLUMN tokens_per_s REAL;
ALTER TABLE requests ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0
"""

# Version 3: a streamed final answer is appended here piece by piece (massgen_core.store.final_spool), so
# recording it costs O(its length) instead of rewriting turns.final_answer at every flush; the
# turn's pieces are folded into turns.final_answer when it finishes. Rows left here belong to a
# turn that crashed mid-answer: readers join them (massgen_core.store.document.final_text).
_V3 = """
CREATE TABLE final_chunks (
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (turn_id, seq)
) WITHOUT ROWID;
"""


# Version 4: texts with Chinese, Japanese or Korean, again in a trigram index. unicode61 reads a run of
# CJK characters as one word, so no word search finds a substring of it (日本 in 日本の首都は東京); a
# trigram index finds substrings of three characters and more, and shorter ones are matched with
# instr() over these rows alone (massgen_core.store.query, Store.search).
_V4 = """
CREATE VIRTUAL TABLE fts_cjk USING fts5(body, tokenize = 'trigram')
"""


def backfill_cjk(conn: Any) -> None:
    """Copy the searchable texts that hold CJK characters into ``fts_cjk`` (version 4)."""
    from massgen_core.store.query import has_cjk

    for rowid, body in conn.execute("SELECT rowid, body FROM fts").fetchall():
        if has_cjk(body):
            conn.execute("INSERT INTO fts_cjk (rowid, body) VALUES (?, ?)", (rowid, body))


def _rewrite_with_secrets_masked(conn: sqlite3.Connection) -> None:
    """Mask what older versions stored unmasked: credentials in URLs (base_url) of configs and events."""
    import json

    from massgen_core.redaction import redact

    previous = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")  # the unmasked text must not linger in freed page space
    for table, column in (("conversations", "config"), ("events", "data")):
        for rowid, text in conn.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall():
            try:
                value = json.loads(text)
            except ValueError:
                continue
            masked = redact(value)
            if masked != value:
                dumped = json.dumps(masked, ensure_ascii=False, separators=(",", ":"))
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (dumped, rowid))
    conn.execute(f"PRAGMA secure_delete = {int(previous)}")


def _v3(conn: sqlite3.Connection) -> None:
    run_script(conn, _V3)
    _rewrite_with_secrets_masked(conn)


def _v4(conn: sqlite3.Connection) -> None:
    run_script(conn, _V4)
    backfill_cjk(conn)


# The version whose migration also copies CJK texts into fts_cjk (backfill_cjk).
CJK_VERSION = 4
# The scripts of each version, which the PostgreSQL store (massgen_core.store.pg) applies with its types.
MIGRATION_SCRIPTS = (_V1, _V2, _V3, _V4)
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    lambda conn: run_script(conn, _V1),
    lambda conn: run_script(conn, _V2),
    _v3,
    _v4,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(MassGenError):
    """The conversation database cannot be used as asked."""


def run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our immediate transaction; run statement by statement instead.
    for statement in script.split(";\n"):
        lines = [line for line in statement.splitlines() if not line.lstrip().startswith("--")]
        text = "\n".join(lines).strip()
        if text:
            conn.execute(text)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL (persistent in the file, so normally only once, when the file is created).

    Changing the journal mode can report "database is locked" without waiting
    on the busy handler while another process closes its last connection, so
    the switch is retried within the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating and migrating as needed) the database at ``path``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=paths.PRIVATE_DIR_MODE)
    # SQLite gives the -wal and -shm files the database's own mode; older ones are tightened too.
    for private in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        paths.private_file(private, create=private is path and path.name != ":memory:")
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(conn)
        # In WAL mode NORMAL still survives a process kill; only an OS crash may lose the last commits.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the conversation database has schema version {version}, newer than this MassGen "
            f"understands ({SCHEMA_VERSION}); upgrade massgen-core"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[version:]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
