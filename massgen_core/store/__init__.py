"""The conversation store: the database every session is recorded in.

``Store`` answers the questions the ``conversations`` commands ask (list with
filters, full-text search, show, delete, import/export documents, history for
``--continue``/``--resume``); ``massgen_core.store.recorder.Recorder`` writes a
session into it as its events arrive. Nothing here prints or formats for a
terminal.

The store is the SQLite file ``default_path()`` unless ``database_url()`` names a PostgreSQL
server (massgen_core.store.pg), whose connection takes the same SQL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, Self

from massgen_core import paths
from massgen_core.store import attachments as _attachments
from massgen_core.store import document as _doc
from massgen_core.store.opening import open_database
from massgen_core.store.query import PlainQuery, highlight, to_fts5
from massgen_core.store.schema import SCHEMA_VERSION, StoreError

DB_NAME = "conversations.db"
URL_VARIABLE = "MASSGEN_DATABASE_URL"
_KIND_NAMES = {_doc.FTS_ANSWER: "answer", _doc.FTS_QUESTION: "question", _doc.FTS_FINAL: "final answer"}
_MAX_CANDIDATES = 10


def default_path() -> Path:
    """Where the conversation database lives (MASSGEN_HOME relocates it)."""
    return paths.data_dir() / DB_NAME


def database_url() -> str | None:
    """The PostgreSQL store's URL: ``MASSGEN_DATABASE_URL`` from the environment or ``config_dir()/.env``; None for SQLite."""
    url = os.environ.get(URL_VARIABLE)
    if url is None:
        env_file = paths.config_dir() / ".env"
        try:
            text = env_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if URL_VARIABLE in text:  # python-dotenv (its quoting rules) only when the file names it: start-up time
            from dotenv import dotenv_values

            url = dotenv_values(env_file).get(URL_VARIABLE)
    if not url:
        return None
    from massgen_core.store.pg import is_url

    if not is_url(url):
        raise StoreError(f"{URL_VARIABLE} must be a postgresql:// URL (unset it to use the SQLite store), not {url.split(':', 1)[0]!r}")
    return url


def exists() -> bool:
    """Whether there may be conversations to read (a PostgreSQL store, or the SQLite file)."""
    return database_url() is not None or default_path().exists()


class AmbiguousIdError(StoreError):
    """An id prefix that matches more than one conversation."""


# Query values are NamedTuples rather than attrs classes: immutable all the same, and importing
# attrs would cost ``massgen conversations list`` a noticeable share of its start-up budget.
class Filters(NamedTuple):
    """Restrictions shared by ``list`` and ``search``; None means no restriction."""

    since: float | None = None
    until: float | None = None
    model: str | None = None
    backend: str | None = None
    agent: str | None = None
    winner: str | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    unfinished: bool = False
    limit: int | None = 50

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions on the alias ``c`` (conversations) and their parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            clauses.append("c.started_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("c.started_at < ?")
            params.append(self.until)
        for kind, value in (("model", self.model), ("backend", self.backend), ("agent", self.agent), ("winner", self.winner)):
            if value is not None:
                clauses.append("c.id IN (SELECT conversation_id FROM facets WHERE kind = ? AND value = ?)")
                params += [kind, value]
        if self.min_cost is not None:
            clauses.append("c.cost_usd >= ?")
            params.append(self.min_cost)
        if self.max_cost is not None:
            clauses.append("c.cost_usd <= ?")
            params.append(self.max_cost)
        if self.unfinished:
            clauses.append("c.finished_at IS NULL")
        return clauses, params


class Summary(NamedTuple):
    """One line of ``conversations list``."""

    id: str
    title: str
    started_at: float
    finished_at: float | None
    ended_by: str | None
    cost_usd: float
    turns: int
    winner: str | None

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class SearchHit(NamedTuple):
    """The best-matching text of one conversation for a search."""

    summary: Summary
    kind: str  # question | answer | final answer
    agent_id: str | None
    snippet: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        data = self.summary.to_dict()
        data.update(kind=self.kind, agent_id=self.agent_id, snippet=self.snippet, score=self.score)
        return data


_SUMMARY_SELECT = """
SELECT c.id, c.title, c.started_at, c.finished_at, c.ended_by, c.cost_usd,
       (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id),
       (SELECT t.winner FROM turns t WHERE t.conversation_id = c.id ORDER BY t.turn DESC LIMIT 1)
"""


def _summary(row: tuple[Any, ...]) -> Summary:
    return Summary(
        id=row[0], title=row[1], started_at=row[2], finished_at=row[3], ended_by=row[4],
        cost_usd=row[5], turns=row[6], winner=row[7],
    )  # fmt: skip


def _cjk_hits(query: PlainQuery) -> tuple[str, list[Any]]:
    """The ``hits`` SELECT of a search for CJK text: trigram MATCH for terms of 3 characters and more, instr() for shorter."""
    from massgen_core.store.query import fts5_string

    indexed = [t for t in query.include if len(t) >= 3]
    conds: list[str] = []
    params: list[Any] = []
    if indexed:
        conds.append("fts_cjk MATCH ?")
        params.append(" ".join(map(fts5_string, indexed)))
    for terms, test in (([t for t in query.include if len(t) < 3], "> 0"), (list(query.exclude), "= 0")):
        for term in terms:
            conds.append(f"instr(lower(body), ?) {test}")
            params.append(term.lower())
    score = "bm25(fts_cjk)" if indexed else "0.0"
    return f"SELECT rowid AS hit, {score} AS score FROM fts_cjk WHERE {' AND '.join(conds)}", params


class Store:
    """An open conversation database."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False, url: str | None = None) -> None:
        """Open (creating) the store; ``read_only`` also reads one on a read-only file system.

        ``url`` (or, without ``path``, ``database_url()``) opens a PostgreSQL store instead.
        """
        self.url = url if url is not None or path is not None else database_url()
        self.conn: Any
        if self.url is not None:
            from massgen_core.store import pg

            self.path: Path | None = None
            self.conn = pg.connect(self.url)
            return
        if path is None:
            paths.ensure_private_dir(paths.data_dir())  # the default folder is ours: tighten an old 0755 one
        self.path = Path(path) if path is not None else default_path()
        self.conn = open_database(self.path, read_only=read_only)

    @property
    def files_anchor(self) -> Path:
        """What attachment files are kept beside (massgen_core.store.attachments): the SQLite file, or for
        PostgreSQL the one the data dir would hold (each machine's own folder)."""
        return self.path if self.path is not None else default_path()

    def background_connection(self) -> Any:
        """A factory of one more connection to this store, for a writer thread (the final-answer spool); None for SQLite."""
        if self.url is None:
            return None
        from massgen_core.store import pg

        return pg.reconnect(self.url)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- ids ---------------------------------------------------------------

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one conversation whose id starts with ``prefix``."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise StoreError("empty conversation id")
        # A range on the primary key rather than LIKE, so the index serves it.
        rows = self.conn.execute(
            "SELECT id, title FROM conversations WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\U0010ffff", _MAX_CANDIDATES + 1),
        ).fetchall()
        if not rows:
            raise StoreError(f"no conversation with id {prefix!r} (see: massgen conversations list)")
        if len(rows) > 1:
            shown = "; ".join(f"{r[0][:12]} {r[1][:40]!r}" for r in rows[:_MAX_CANDIDATES])
            more = " and more" if len(rows) > _MAX_CANDIDATES else ""
            raise AmbiguousIdError(f"conversation id {prefix!r} is ambiguous; it matches: {shown}{more}")
        return str(rows[0][0])

    def latest_id(self) -> str | None:
        """The conversation with the most recent turn, or None when there is none."""
        row = self.conn.execute(
            "SELECT conversation_id FROM turns ORDER BY started_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    # -- reading -----------------------------------------------------------

    def list_conversations(self, filters: Filters | None = None) -> list[Summary]:
        filters = filters or Filters()
        clauses, params = filters.where()
        sql = _SUMMARY_SELECT + " FROM conversations c"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY c.started_at DESC, c.id"
        if filters.limit is not None:
            sql += " LIMIT ?"
            params.append(filters.limit)
        return [_summary(row) for row in self.conn.execute(sql, params)]

    def search(
        self, query: str | PlainQuery, filters: Filters | None = None, *, mark: tuple[str, str] = ("[", "]")
    ) -> list[SearchHit]:
        """Conversations matching a search, best first, each with its best snippet.

        ``query`` is what someone typed (a ``PlainQuery``, massgen_core.store.query.parse_plain)
        or a string in the FTS5 query language.
        """
        filters = filters or Filters()
        clauses, params = filters.where()
        if self.url is not None:
            from massgen_core.store import pg

            rows, snippets = pg.search_rows(self.conn, query, clauses, params, filters.limit, _SUMMARY_SELECT, mark)
        else:
            rows, snippets = self._sqlite_search(query, clauses, params, filters.limit, mark)
        hit_ids = [row[9] for row in rows]
        sources = {hit: _doc.fts_source(hit) for hit in hit_ids}
        answer_ids = [answer for _, kind, answer in sources.values() if kind == _doc.FTS_ANSWER]
        agents: dict[int, str] = {}
        for start in range(0, len(answer_ids), 500):
            chunk = answer_ids[start : start + 500]
            agents.update(
                self.conn.execute(f"SELECT id, agent_id FROM answers WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
            )
        return [
            SearchHit(
                summary=_summary(row[:8]),
                kind=_KIND_NAMES[sources[row[9]][1]],
                agent_id=agents.get(sources[row[9]][2]) if sources[row[9]][1] == _doc.FTS_ANSWER else None,
                snippet=snippets.get(row[9], ""),
                score=row[8],
            )
            for row in rows
        ]

    def _sqlite_search(
        self, query: str | PlainQuery, clauses: list[str], params: list[Any], limit: int | None, mark: tuple[str, str]
    ) -> tuple[list[Any], dict[int, str]]:
        table, ours = "fts", None
        if isinstance(query, PlainQuery) and query.cjk:
            table, ours = "fts_cjk", list(query.include)
            hits, hit_params = _cjk_hits(query)
        else:
            match = to_fts5(query) if isinstance(query, PlainQuery) else query
            hits, hit_params = "SELECT rowid AS hit, bm25(fts) AS score FROM fts WHERE fts MATCH ?", [match]
        sql = (
            # MATERIALIZED: bm25() cannot run inside the aggregate if the CTE were flattened.
            f"WITH hits AS MATERIALIZED ({hits}), "
            # Group by turn from the rowid alone (no row reads), then by conversation; SQLite takes
            # the bare column ``hit`` from the row holding MIN(score).
            "best_turn AS (SELECT hit >> 32 AS turn_id, hit, MIN(score) AS score FROM hits GROUP BY 1), "
            "best AS (SELECT t.conversation_id, b.hit, MIN(b.score) AS score FROM best_turn b "
            "JOIN turns t ON t.id = b.turn_id GROUP BY t.conversation_id), "
            # Filter, rank and cut first; only the survivors get their summary columns computed.
            "top AS (SELECT best.conversation_id, best.hit, best.score, c.started_at FROM best "
            "JOIN conversations c ON c.id = best.conversation_id"
        )
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY best.score, c.started_at DESC"
        all_params: list[Any] = [*hit_params, *params]
        if limit is not None:
            sql += " LIMIT ?"
            all_params.append(limit)
        sql += (
            ") "
            + _SUMMARY_SELECT
            + ", top.score, top.hit FROM top JOIN conversations c ON c.id = top.conversation_id "
            "ORDER BY top.score, top.started_at DESC"
        )
        try:
            rows = self.conn.execute(sql, all_params).fetchall()
            snippets: dict[int, str] = {}
            hit_ids = [row[9] for row in rows]
            # One pass for every snippet: FTS5 serves MATCH together with rowid lookups.
            for start in range(0, len(hit_ids), 500):
                chunk = hit_ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                if ours is not None:
                    found = self.conn.execute(f"SELECT rowid, body FROM fts_cjk WHERE rowid IN ({marks})", chunk)
                    snippets.update((rowid, highlight(body, ours, mark)) for rowid, body in found)
                    continue
                snippets.update(
                    self.conn.execute(
                        f"SELECT rowid, snippet({table}, 0, ?, ?, '…', 16) FROM {table} WHERE {table} MATCH ? "
                        f"AND rowid IN ({marks})",
                        (mark[0], mark[1], hit_params[0], *chunk),
                    ).fetchall()
                )
        except sqlite3.OperationalError as exc:
            # Anything but contention is the query's fault (syntax, unterminated string, unknown column).
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise StoreError(
                    f"cannot understand the search {query!r} ({exc}); use words, \"exact phrases\", prefix* "
                    "and AND/OR/NOT, and quote text with punctuation"
                ) from None
            raise  # pragma: no cover - only under a lock held past busy_timeout
        return rows, snippets

    def document(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's document; with ``attachments`` (sha256 -> base64) when its turns had any."""
        document = _doc.build_document(self.conn, conversation_id)
        blobs = _attachments.blobs_for(self.files_anchor, document)
        if blobs:
            document["attachments"] = blobs
        return document

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        """(question, final answer) of every turn that produced a final answer, in order."""
        rows = self.conn.execute(
            "SELECT id, question, final_answer FROM turns WHERE conversation_id = ? ORDER BY turn", (conversation_id,)
        ).fetchall()
        answers = [(q, a if a is not None else _doc.final_text(self.conn, turn_id)) for turn_id, q, a in rows]
        return [(q, a) for q, a in answers if a is not None]

    # -- writing -----------------------------------------------------------

    def import_document(self, document: Any, *, replace: bool = False) -> str:
        if isinstance(document, Mapping) and "attachments" in document:
            _attachments.restore(self.files_anchor, document["attachments"])
        return _doc.import_document(self.conn, document, replace=replace)

    def delete(self, conversation_id: str) -> None:
        shared = _attachments.hashes_of(self.conn, conversation_id)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            _doc.delete_conversation(self.conn, conversation_id)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        _attachments.forget_unused(self.conn, self.files_anchor, shared)


__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "AmbiguousIdError",
    "Filters",
    "SearchHit",
    "Store",
    "StoreError",
    "Summary",
    "database_url",
    "default_path",
    "exists",
]
