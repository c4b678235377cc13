"""Writing a streamed final answer to disk piece by piece, off the event loop.

``FinalSpool.append`` is what the recorder does with each final-answer delta:
a list append under a lock. A thread of its own, with its own connection to
the database file, appends what has accumulated to the ``final_chunks`` table
once ``flush_chars`` have arrived or ``interval_s`` after the first unwritten
piece, whichever comes first; so text streamed before a crash is on disk
within about ``interval_s``, and recording an answer of n characters costs
O(n) in all (the former ``final_answer || ?`` rewrote the whole answer at
every flush). ``finish`` hands over a turn's whole final answer: the thread
writes it into ``turns.final_answer``, indexes it for search and drops the
turn's pieces, in one transaction, so even a 10 MB answer never holds the
event loop. ``sync`` writes what is pending and waits. Nothing here raises
into the session: the first database error is kept in ``failure``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from massgen_core.store.document import FTS_FINAL, fts_rowid, index_text, unindex_text
from massgen_core.store.schema import BUSY_TIMEOUT_MS

_PIECE, _WHOLE = 0, 1


class FinalSpool:
    """Appends final-answer text to ``final_chunks`` of the database at ``path`` from a background thread."""

    def __init__(
        self, path: Path | None, *, interval_s: float = 0.5, flush_chars: int = 4096,
        connect: Callable[[], Any] | None = None,
    ) -> None:  # fmt: skip
        """``connect`` opens the thread's connection to a store that is not the SQLite file at ``path``."""
        self.path = path
        self._connect = connect
        self.interval_s = interval_s
        self.flush_chars = flush_chars
        self.failure: sqlite3.Error | None = None
        self._cond = threading.Condition()
        self._pending: list[tuple[int, str, int]] = []  # (turn id, text, _PIECE or _WHOLE) in arrival order
        self._pending_chars = 0
        self._urgent = False  # sync() or finish() is waiting: write now, do not wait for the interval
        self._busy = False  # the thread is writing a batch taken from _pending
        self._closed = False
        self._next_seq: dict[int, int] = {}
        self._thread: threading.Thread | None = None

    def append(self, turn_id: int, text: str) -> None:
        """Queue ``text`` for the turn (cheap: called on the event loop for every delta)."""
        self._queue(turn_id, text, _PIECE)

    def finish(self, turn_id: int, final_answer: str) -> None:
        """Write the turn's whole final answer in place of its pieces, as soon as possible."""
        with self._cond:
            self._pending_chars -= sum(len(text) for t, text, _ in self._pending if t == turn_id)
            self._pending = [item for item in self._pending if item[0] != turn_id]  # superseded
        self._queue(turn_id, final_answer, _WHOLE)

    def _queue(self, turn_id: int, text: str, kind: int) -> None:
        with self._cond:
            if self._closed or self.failure is not None:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="massgen-final-answer", daemon=True)
                self._thread.start()
            first = not self._pending
            self._pending.append((turn_id, text, kind))
            self._pending_chars += len(text)
            if kind == _WHOLE:
                self._urgent = True
            if first or self._urgent or self._pending_chars >= self.flush_chars:
                self._cond.notify_all()

    def sync(self) -> None:
        """Write everything appended so far and wait until it is committed."""
        with self._cond:
            if self._thread is None:
                return
            self._urgent = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: not (self._pending or self._busy) or self.failure is not None)
            self._urgent = False

    def close(self) -> None:
        """Write what is pending, then stop the thread."""
        self.sync()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    # -- the thread ----------------------------------------------------------

    def _take(self) -> list[tuple[int, str, int]] | None:
        """The next batch to write, waiting as the rules above say; None when closed and drained."""
        with self._cond:
            while True:
                if self._pending and (self._urgent or self._closed or self._pending_chars >= self.flush_chars):
                    break
                if self._closed:
                    return None
                if self._pending:  # let text accumulate, but never for longer than the interval
                    self._cond.wait(self.interval_s)
                    if self._pending:
                        break
                else:
                    self._cond.wait()
            batch, self._pending, self._pending_chars = self._pending, [], 0
            self._busy = True
            self._urgent = False
            return batch

    def _run(self) -> None:
        conn: Any = None
        try:
            if self._connect is not None:
                conn = self._connect()
            else:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)  # type: ignore[arg-type]
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA foreign_keys = ON")
            while (batch := self._take()) is not None:
                self._write(conn, batch)
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        except sqlite3.Error as exc:
            with self._cond:
                self.failure = exc
                self._busy = False
                self._pending.clear()
                self._cond.notify_all()
        finally:
            if conn is not None:
                conn.close()

    def _write(self, conn: sqlite3.Connection, batch: list[tuple[int, str, int]]) -> None:
        runs: list[tuple[int, int, list[str]]] = []  # consecutive pieces of one turn become one row
        for turn_id, text, kind in batch:
            if kind == _PIECE and runs and runs[-1][:2] == (turn_id, _PIECE):
                runs[-1][2].append(text)
            else:
                runs.append((turn_id, kind, [text]))
        conn.execute("BEGIN IMMEDIATE")
        try:
            for turn_id, kind, texts in runs:
                if kind == _PIECE:
                    seq = self._next_seq.get(turn_id, 0)
                    self._next_seq[turn_id] = seq + 1
                    conn.execute("INSERT INTO final_chunks (turn_id, seq, text) VALUES (?, ?, ?)", (turn_id, seq, "".join(texts)))
                    continue
                self._next_seq.pop(turn_id, None)
                conn.execute("DELETE FROM final_chunks WHERE turn_id = ?", (turn_id,))
                unindex_text(conn, fts_rowid(turn_id, FTS_FINAL), fts_rowid(turn_id, FTS_FINAL))
                conn.execute("UPDATE turns SET final_answer = ? WHERE id = ?", (texts[0], turn_id))
                index_text(conn, fts_rowid(turn_id, FTS_FINAL), texts[0])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
