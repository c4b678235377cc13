"""The question's attachments in the store: files named by their sha256, beside the database.

A turn's attachments are kept as one ``attachments`` row in the ``events``
table (a small reference per attachment: name, kind, media type, size, hash or
URL) and each file's bytes once, in ``<store folder>/attachments/<sha256>``,
however many turns or conversations share it; SQLite never holds the bytes.
A JSON export carries the bytes (base64, by hash) and an import writes them
back after checking each hash. Only the recorder and the store call this; with
``--no-logs`` there is no recorder, so nothing is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from massgen_core import content
from massgen_core.exporting import ATTACHMENTS_EVENT as EVENT_TYPE
from massgen_core.exporting import attachment_refs
from massgen_core.store.schema import StoreError

FOLDER = "attachments"


def folder(db_path: Path) -> Path:
    return Path(db_path).parent / FOLDER


def _write(where: Path, sha256: str, data: bytes) -> None:
    target = where / sha256
    if target.exists():
        return
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = where / f".{sha256}.{os.getpid()}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, target)


def record(conn: sqlite3.Connection, db_path: Path, turn_id: int, seq: int, ts: float,
           refs: Iterable[Mapping[str, Any]]) -> None:
    """Keep a turn's attachment references (an ``attachments`` event row) and their files by hash."""
    refs = [dict(ref) for ref in refs]
    for ref in refs:
        sha256 = ref.get("sha256")
        attachment = content.loaded(sha256) if sha256 else None
        if attachment is not None:
            _write(folder(db_path), attachment.sha256 or "", attachment.data)
    conn.execute(
        "INSERT INTO events (turn_id, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)",
        (turn_id, seq, ts, EVENT_TYPE, json.dumps({"attachments": refs}, ensure_ascii=False)),
    )


def hashes(document: Mapping[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for turn in document.get("turns") or ():
        for ref in attachment_refs(turn):
            if isinstance(ref.get("sha256"), str):
                seen[ref["sha256"]] = None
    return list(seen)


def hashes_of(conn: sqlite3.Connection, conversation_id: str) -> list[str]:
    """The attachment hashes a stored conversation's turns refer to."""
    rows = conn.execute(
        "SELECT e.data FROM events e JOIN turns t ON t.id = e.turn_id WHERE t.conversation_id = ? AND e.type = ?",
        (conversation_id, EVENT_TYPE),
    ).fetchall()
    turns = [{"events": [{"type": EVENT_TYPE, "data": json.loads(data)} for (data,) in rows]}]
    return hashes({"turns": turns})


def blobs_for(db_path: Path, document: Mapping[str, Any]) -> dict[str, str]:
    """sha256 -> base64 of every attachment file the document refers to and the store still has."""
    out: dict[str, str] = {}
    for sha256 in hashes(document):
        path = folder(db_path) / sha256
        if path.is_file():
            out[sha256] = base64.b64encode(path.read_bytes()).decode("ascii")
    return out


def restore(db_path: Path, blobs: Any) -> None:
    """Write a document's ``attachments`` (sha256 -> base64) back, refusing any whose hash differs."""
    if not isinstance(blobs, Mapping):
        raise StoreError('not a valid conversation document: "attachments" must be an object of sha256 -> base64')
    decoded: dict[str, bytes] = {}
    for sha256, text in blobs.items():
        try:
            data = base64.b64decode(str(text), validate=True)
        except ValueError:
            raise StoreError(f"not a valid conversation document: attachment {sha256} is not base64") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(f"not a valid conversation document: attachment {sha256} does not match its hash")
        decoded[sha256] = data
    for sha256, data in decoded.items():
        _write(folder(db_path), sha256, data)


def forget_unused(conn: sqlite3.Connection, db_path: Path, candidates: Iterable[str]) -> None:
    """Delete the files of ``candidates`` that no remaining turn refers to (after a conversation is deleted)."""
    for sha256 in candidates:
        used = conn.execute(
            "SELECT 1 FROM events WHERE type = ? AND instr(data, ?) > 0 LIMIT 1", (EVENT_TYPE, sha256)
        ).fetchone()
        if used is None:
            (folder(db_path) / sha256).unlink(missing_ok=True)
