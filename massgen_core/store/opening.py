"""Opening the conversation database, with a clear error when it cannot be opened.

``open_database`` is ``schema.connect`` (create, WAL, migrate) turned into a
``StoreError`` that names the file and the reason when the file system says
no: a read-only or missing ``MASSGEN_HOME``, a file that is not a database.
Commands that only read (list, search, show, export, reports) pass
``read_only=True``: a store on a read-only file system is then opened
immutable, so it can still be read where SQLite cannot create its WAL index.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from massgen_core.store.schema import SCHEMA_VERSION, StoreError, connect


def _unwritable(path: Path) -> Path | None:
    """What stops SQLite writing the database at ``path`` (the file, or its nearest existing directory), if anything."""
    if path.exists() and not os.access(path, os.W_OK):
        return path
    probe = path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return None if os.access(probe, os.W_OK) else probe


def _reason(exc: BaseException, path: Path) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    blocked = _unwritable(path)
    if blocked is not None:
        text += f"; {blocked} is not writable (set MASSGEN_HOME to a writable directory)"
    return text


def _open_immutable(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"cannot read the conversation database {path}: {exc}") from None
    if version != SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"the conversation database {path} is read-only and has schema version {version}; "
            f"this MassGen reads version {SCHEMA_VERSION} (open it once where it can be written to migrate it)"
        )
    return conn


def open_database(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the database at ``path``; StoreError (naming the file and why) when there is none."""
    try:
        return connect(path)
    except (OSError, sqlite3.Error) as exc:
        if read_only and path.is_file() and _unwritable(path) is not None:
            return _open_immutable(path)
        raise StoreError(f"cannot open the conversation database {path}: {_reason(exc, path)}") from None
