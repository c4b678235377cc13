"""The lossless, versioned dict form of one conversation, to and from the database.

``build_document`` reads everything the store holds about a conversation;
``import_document`` writes such a document back, so that import followed by
export gives the same document. The format is described in
docs/export-format.md. Nothing here renders a format or touches files.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from massgen_core.store.query import has_cjk
from massgen_core.store.schema import StoreError

FORMAT = "massgen-conversation"
VERSION = 1

FTS_ANSWER, FTS_QUESTION, FTS_FINAL = 1, 2, 3
_TURN_SHIFT = 32


def fts_rowid(turn_id: int, kind: int, answer_id: int = 0) -> int:
    """The rowid of searchable text: its turn in the high bits, then the answer id and the kind."""
    return (turn_id << _TURN_SHIFT) | (answer_id << 2) | kind


def fts_source(rowid: int) -> tuple[int, int, int]:
    """(turn id, kind, answer id) of a searchable text's rowid."""
    low = rowid & ((1 << _TURN_SHIFT) - 1)
    return rowid >> _TURN_SHIFT, low & 3, low >> 2

_CONVERSATION_FIELDS = ("id", "title", "config", "started_at", "finished_at", "ended_by", "cost_usd")
_TURN_FIELDS = (
    "turn", "session_id", "question", "agent_ids", "strategy", "started_at", "finished_at", "ended_by",
    "error", "final_answer", "winner", "tally", "reasons", "explanation", "usage", "cost_usd", "duration_s",
)  # fmt: skip
_ANSWER_FIELDS = ("agent_id", "label", "revision", "text", "ts")
_VOTE_FIELDS = ("voter", "target", "target_label", "reason", "ranking", "discarded", "discard_reason", "ts")
_REQUEST_FIELDS = (
    "agent_id", "backend", "model", "input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens",
    "cost_usd", "latency_s", "ttft_s", "ttfb_s", "tokens_per_s", "retries", "status", "estimated", "ts",
)  # fmt: skip
_EVENT_FIELDS = ("seq", "ts", "type", "data")
# Columns holding JSON text; NULL stands for None.
_JSON_COLUMNS = {"config", "agent_ids", "tally", "reasons", "usage", "ranking", "data"}
_BOOL_COLUMNS = {"discarded", "estimated"}
# Fields added after the first documents were written, with what an older document means by leaving them out.
_ADDED_FIELDS: dict[str, Any] = {"ttfb_s": None, "tokens_per_s": None, "estimated": False}


def dump_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _load(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS:
        return None if value is None else json.loads(value)
    if column in _BOOL_COLUMNS:
        return bool(value)
    return value


def _rows(conn: sqlite3.Connection, table: str, fields: tuple[str, ...], where: str, arg: Any) -> list[dict[str, Any]]:
    cursor = conn.execute(f"SELECT {', '.join(fields)} FROM {table} WHERE {where} ORDER BY id", (arg,))
    return [{f: _load(f, v) for f, v in zip(fields, row)} for row in cursor]


def final_text(conn: sqlite3.Connection, turn_id: int) -> str | None:
    """The final answer streamed so far by a turn that never finished (its pieces in final_chunks), or None."""
    pieces = [r[0] for r in conn.execute("SELECT text FROM final_chunks WHERE turn_id = ? ORDER BY seq", (turn_id,))]
    return "".join(pieces) if pieces else None


def build_document(conn: sqlite3.Connection, conversation_id: str) -> dict[str, Any]:
    """Everything stored about one conversation, as JSON-ready data."""
    row = conn.execute(
        f"SELECT {', '.join(_CONVERSATION_FIELDS)} FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    if row is None:
        raise StoreError(f"no conversation {conversation_id!r}")
    conversation = {f: _load(f, v) for f, v in zip(_CONVERSATION_FIELDS, row)}
    turns = []
    cursor = conn.execute(
        f"SELECT id, {', '.join(_TURN_FIELDS)} FROM turns WHERE conversation_id = ? ORDER BY turn",
        (conversation_id,),
    )
    for turn_id, *values in cursor.fetchall():
        turn = {f: _load(f, v) for f, v in zip(_TURN_FIELDS, values)}
        if turn["final_answer"] is None:
            turn["final_answer"] = final_text(conn, turn_id)
        turn["answers"] = _rows(conn, "answers", _ANSWER_FIELDS, "turn_id = ?", turn_id)
        turn["votes"] = _rows(conn, "votes", _VOTE_FIELDS, "turn_id = ?", turn_id)
        turn["requests"] = _rows(conn, "requests", _REQUEST_FIELDS, "turn_id = ?", turn_id)
        turn["events"] = _rows(conn, "events", _EVENT_FIELDS, "turn_id = ?", turn_id)
        turns.append(turn)
    return {"format": FORMAT, "version": VERSION, "conversation": conversation, "turns": turns}


def _values(record: Mapping[str, Any], fields: tuple[str, ...], where: str) -> list[Any]:
    if not isinstance(record, Mapping):
        raise StoreError(f"not a valid conversation document: {where} is not an object")
    missing = [f for f in fields if f not in record and f not in _ADDED_FIELDS]
    if missing:
        raise StoreError(f"not a valid conversation document: {where} lacks {', '.join(missing)}")
    out = []
    for f in fields:
        value = record.get(f, _ADDED_FIELDS.get(f))
        if f in _JSON_COLUMNS:
            value = dump_json(value)
        elif f in _BOOL_COLUMNS:
            value = int(bool(value))
        out.append(value)
    return out


def _insert(conn: sqlite3.Connection, table: str, fields: tuple[str, ...], values: list[Any]) -> int:
    marks = ", ".join("?" * len(fields))
    cursor = conn.execute(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks})", values)
    return int(cursor.lastrowid or 0)


def add_facet(conn: sqlite3.Connection, conversation_id: str, kind: str, value: Any) -> None:
    """Note that a conversation involves an agent, winner, backend or model (for the list filters)."""
    if value is not None:
        conn.execute(
            "INSERT OR IGNORE INTO facets (kind, value, conversation_id) VALUES (?, ?, ?)", (kind, str(value), conversation_id)
        )


def _turn_facets(conn: sqlite3.Connection, cid: str, turn: Mapping[str, Any]) -> None:
    for agent in turn.get("agent_ids") or ():
        add_facet(conn, cid, "agent", agent)
    for answer in turn.get("answers") or ():
        add_facet(conn, cid, "agent", answer.get("agent_id"))
    for request in turn.get("requests") or ():
        add_facet(conn, cid, "backend", request.get("backend"))
        add_facet(conn, cid, "model", request.get("model"))
    add_facet(conn, cid, "winner", turn.get("winner"))


def index_text(conn: sqlite3.Connection, rowid: int, body: str) -> None:
    conn.execute("INSERT INTO fts (rowid, body) VALUES (?, ?)", (rowid, body))
    if has_cjk(body):  # also where substrings of CJK text are found (schema version 4)
        conn.execute("INSERT INTO fts_cjk (rowid, body) VALUES (?, ?)", (rowid, body))


def unindex_text(conn: sqlite3.Connection, first: int, last: int) -> None:
    """Drop the searchable texts with rowids from ``first`` to ``last``."""
    for table in ("fts", "fts_cjk"):
        conn.execute(f"DELETE FROM {table} WHERE rowid BETWEEN ? AND ?", (first, last))


def import_document(conn: sqlite3.Connection, document: Mapping[str, Any], *, replace: bool = False) -> str:
    """Write a conversation document into the database; returns its id."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise StoreError(f"not a MassGen conversation document (expected \"format\": {FORMAT!r})")
    version = document.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise StoreError(f"conversation document version {version!r} is not supported (this MassGen reads up to {VERSION})")
    conversation = document.get("conversation")
    turns = document.get("turns")
    if not isinstance(turns, list):
        raise StoreError("not a valid conversation document: \"turns\" must be a list")
    values = _values(conversation, _CONVERSATION_FIELDS, "conversation")  # type: ignore[arg-type]
    cid = values[0]
    if not isinstance(cid, str) or not cid:
        raise StoreError("not a valid conversation document: conversation.id must be a non-empty string")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone():
            if not replace:
                raise StoreError(f"conversation {cid} already exists (delete it first, or import with --replace)")
            delete_conversation(conn, cid)
        _insert(conn, "conversations", _CONVERSATION_FIELDS, values)
        for i, turn in enumerate(turns):
            where = f"turns[{i}]"
            turn_id = _insert(conn, "turns", ("conversation_id", *_TURN_FIELDS), [cid, *_values(turn, _TURN_FIELDS, where)])
            index_text(conn, fts_rowid(turn_id, FTS_QUESTION), turn["question"])
            if turn["final_answer"] is not None:
                index_text(conn, fts_rowid(turn_id, FTS_FINAL), turn["final_answer"])
            for key, table, fields in (
                ("answers", "answers", _ANSWER_FIELDS),
                ("votes", "votes", _VOTE_FIELDS),
                ("requests", "requests", _REQUEST_FIELDS),
                ("events", "events", _EVENT_FIELDS),
            ):
                records = turn.get(key, [])
                if not isinstance(records, list):
                    raise StoreError(f"not a valid conversation document: {where}.{key} must be a list")
                for j, record in enumerate(records):
                    row_id = _insert(conn, table, ("turn_id", *fields), [turn_id, *_values(record, fields, f"{where}.{key}[{j}]")])
                    if table == "answers":
                        index_text(conn, fts_rowid(turn_id, FTS_ANSWER, row_id), record["text"])
            _turn_facets(conn, cid, turn)
        conn.execute("COMMIT")
    except BaseException as exc:
        conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            raise StoreError(f"not a valid conversation document: {exc}") from None
        raise
    return cid


def delete_conversation(conn: sqlite3.Connection, conversation_id: str) -> None:
    """Delete one conversation and its searchable text (the caller holds the transaction)."""
    turn_ids = [r[0] for r in conn.execute("SELECT id FROM turns WHERE conversation_id = ?", (conversation_id,))]
    for turn_id in turn_ids:
        unindex_text(conn, fts_rowid(turn_id, 0), fts_rowid(turn_id + 1, 0) - 1)
    conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
