"""Recording a session into the store as its events arrive.

A ``Recorder`` is an event consumer: called with every event, it writes
questions, answers, votes, per-request usage and notable events as they come,
committing after each so a crash or SIGKILL loses nothing already recorded
(agent starts and restarts, frequent and minor, ride along with the next commit;
so does a model call's usage row, which the session always follows at once,
without an await, with the call's answer, vote, rejection or tool call).
Text deltas are not stored (answers are stored when submitted); an answer
still being written (``AnswerDelta``) when the turn ends or the recorder is
flushed (a timeout, Ctrl-C, ``/save``) is kept as one ``answer_delta`` event
row with the draft so far; final-answer
deltas go to a ``FinalSpool``, which appends them to disk from a thread of its
own every ``flush_interval_s`` or ``flush_chars``, and the whole answer is
written once when the turn finishes (linear in its length, off the event loop).
A turn stays unfinished until SessionFinished. It never raises into the
session: a database failure is reported once on stderr and recording stops.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from massgen_core import events as ev
from massgen_core.redaction import redact
from massgen_core.store import Store
from massgen_core.store.document import (
    FTS_ANSWER,
    FTS_QUESTION,
    add_facet,
    dump_json,
    fts_rowid,
    index_text,
)
from massgen_core.store.final_spool import FinalSpool

TITLE_CHARS = 80
# Events kept whole in the ``events`` table; the others have tables of their own or are not kept.
_KEPT_EVENTS = (
    ev.ToolCalled,
    ev.ToolResult,
    ev.AnswerRejected,
    ev.AgentFailed,
    ev.BackendRetry,
    ev.BackendFallback,
    ev.WorkflowFallback,
)


# Frequent and of little value alone: written with the next commit rather than in one of their own.
_DEFERRED_EVENTS = (ev.AgentStarted, ev.AgentRestarted)


def new_conversation_id() -> str:
    return uuid.uuid4().hex


class Recorder:
    """Writes one conversation (one or more turns) into a store as events arrive."""

    def __init__(
        self,
        store: Store,
        *,
        config: Any = None,
        conversation_id: str | None = None,
        flush_interval_s: float = 0.5,
        flush_chars: int = 4096,
    ) -> None:
        self.store = store
        self.conn = store.conn
        self.conversation_id = conversation_id or new_conversation_id()
        self.config = redact(config) if config is not None else None
        self.error: str | None = None
        self._turn_id: int | None = None
        self._pending: list[tuple[Any, ...]] = []  # deferred event rows
        self._pending_usage: list[tuple[int | None, ev.UsageReported]] = []  # (turn id, event)
        self._seen_backends: set[str] = set()
        self._seen_models: set[str | None] = set()
        self._final: list[str] = []  # the running turn's final answer as streamed so far
        self._drafts: dict[str, tuple[ev.AnswerDelta, list[str]]] = {}  # agent -> (last delta, pieces)
        self._spool = FinalSpool(
            store.path, interval_s=flush_interval_s, flush_chars=flush_chars, connect=store.background_connection()
        )
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.SessionStarted: self._session_started,
            ev.AnswerSubmitted: self._answer,
            ev.VoteCast: self._vote,
            ev.VoteDiscarded: self._vote_discarded,
            ev.UsageReported: self._usage,
            ev.WinnerSelected: self._winner,
            ev.FinalAnswerDelta: self._final_delta,
            ev.AnswerDelta: self._answer_delta,
            ev.SessionFinished: self._finished,
        }
        for cls in _KEPT_EVENTS:
            self._handlers[cls] = self._other
        for cls in _DEFERRED_EVENTS:  # type: ignore[assignment]  # one loop variable, two tuples of classes
            self._handlers[cls] = self._deferred

    # -- the consumer ------------------------------------------------------

    def __call__(self, event: Any) -> None:
        handler = self._handlers.get(type(event))
        if handler is None or self.error is not None:
            return
        if self._turn_id is None and type(event) is not ev.SessionStarted:
            return  # nothing to attach it to
        try:
            handler(event)
        except sqlite3.Error as exc:
            self._fail(exc)

    @property
    def has_turns(self) -> bool:
        """Whether a turn of the current conversation has been recorded."""
        return self._turn_id is not None

    def new_conversation(self) -> str:
        """Start a fresh conversation for the next turn (interactive ``/clear``)."""
        self.flush()
        self.conversation_id = new_conversation_id()
        self._turn_id = None
        self._seen_backends.clear()
        self._seen_models.clear()
        return self.conversation_id

    def flush(self) -> None:
        """Write buffered final-answer text and deferred events now (``/save``, close)."""
        if self._turn_id is None:
            return
        self._keep_drafts()
        self._spool.sync()
        if self._spool.failure is not None:
            self._fail(self._spool.failure)
            return
        if not (self._pending or self._pending_usage):
            return
        try:
            with self._tx():
                pass  # entering writes what is pending
        except sqlite3.Error as exc:
            self._fail(exc)

    def close(self) -> None:
        """Flush and close; an unfinished turn stays marked unfinished.

        This waits for the spool to write what it holds (a whole final answer
        at most): from a coroutine, ``await recorder.aclose()`` instead.
        """
        if self.error is None:
            self.flush()
        self._spool.close()
        self.store.close()

    async def aclose(self) -> None:
        """``close`` in a worker thread, so that the event loop is not held while the last text is written."""
        import asyncio

        await asyncio.to_thread(self.close)

    # -- helpers -----------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        print(f"massgen: warning: conversation recording stopped: {self.error}", file=sys.stderr)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self._write_pending()
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _add_cost(self, conn: sqlite3.Connection, delta: float, turn_id: int | None) -> None:
        if delta:
            conn.execute("UPDATE turns SET cost_usd = cost_usd + ? WHERE id = ?", (delta, turn_id))
            conn.execute("UPDATE conversations SET cost_usd = cost_usd + ? WHERE id = ?", (delta, self.conversation_id))

    # -- handlers ----------------------------------------------------------

    def _session_started(self, e: ev.SessionStarted) -> None:
        self._final = []  # an earlier turn's pieces are in the spool under its own turn id
        cid = self.conversation_id
        with self._tx() as conn:
            exists = conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone()
            if exists:
                conn.execute("UPDATE conversations SET finished_at = NULL, ended_by = NULL WHERE id = ?", (cid,))
            else:
                conn.execute(
                    "INSERT INTO conversations (id, title, config, started_at) VALUES (?, ?, ?, ?)",
                    (cid, " ".join(e.question.split())[:TITLE_CHARS], dump_json(self.config), e.ts),
                )
            number = conn.execute(
                "SELECT COALESCE(MAX(turn), 0) + 1 FROM turns WHERE conversation_id = ?", (cid,)
            ).fetchone()[0]
            cursor = conn.execute(
                "INSERT INTO turns (conversation_id, turn, session_id, question, agent_ids, strategy, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cid, number, e.session_id, e.question, dump_json(list(e.agent_ids)), e.strategy, e.ts),
            )
            self._turn_id = int(cursor.lastrowid or 0)
            index_text(conn, fts_rowid(self._turn_id, FTS_QUESTION), e.question)
            for agent in e.agent_ids:
                add_facet(conn, cid, "agent", agent)
            if e.attachments:  # references here, the files by hash beside the database
                from massgen_core.store import attachments

                attachments.record(conn, self.store.files_anchor, self._turn_id, e.seq, e.ts, e.attachments)

    def _answer_delta(self, e: ev.AnswerDelta) -> None:
        draft = self._drafts.get(e.agent_id)
        if draft is None:
            self._drafts[e.agent_id] = (e, [e.text])
        else:
            draft[1].append(e.text)
            self._drafts[e.agent_id] = (e, draft[1])

    def _keep_drafts(self) -> None:
        """Queue the answers still being written as ``answer_delta`` rows (each the whole draft so far)."""
        drafts, self._drafts = self._drafts, {}
        for last, pieces in drafts.values():
            changes: dict[str, Any] = {"text": "".join(pieces)}  # mypy does not see the decorator-made fields
            self._pending.append(self._event_row(attrs.evolve(last, **changes)))

    def _answer(self, e: ev.AnswerSubmitted) -> None:
        self._drafts.pop(e.agent_id, None)  # stored whole, just below
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO answers (turn_id, agent_id, label, revision, text, ts) VALUES (?, ?, ?, ?, ?, ?)",
                (self._turn_id, e.agent_id, e.label, e.revision, e.text, e.ts),
            )
            index_text(conn, fts_rowid(self._turn_id, FTS_ANSWER, int(cursor.lastrowid or 0)), e.text)  # type: ignore[arg-type]
            add_facet(conn, self.conversation_id, "agent", e.agent_id)

    def _vote(self, e: ev.VoteCast) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO votes (turn_id, voter, target, target_label, reason, ranking, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._turn_id, e.voter, e.target, e.target_label, e.reason, dump_json(list(e.ranking)), e.ts),
            )

    def _vote_discarded(self, e: ev.VoteDiscarded) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO votes (turn_id, voter, target, discarded, discard_reason, ts) VALUES (?, ?, ?, 1, ?, ?)",
                (self._turn_id, e.voter, e.target, e.reason, e.ts),
            )

    def _usage(self, e: ev.UsageReported) -> None:
        # Rides with the next commit, like the deferred events: the session emits a model call's
        # answer, vote, rejection or tool call right after its usage, with no await in between, so
        # a crash cannot fall between the two; this halves the commits of a session.
        self._pending_usage.append((self._turn_id, e))

    def _write_usage(self, conn: sqlite3.Connection, turn_id: int | None, e: ev.UsageReported) -> None:
        usage = e.usage
        conn.execute(
            "INSERT INTO requests (turn_id, agent_id, backend, model, input_tokens, output_tokens, cached_tokens, "
            "reasoning_tokens, cost_usd, latency_s, ttft_s, ttfb_s, tokens_per_s, retries, status, estimated, ts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                turn_id, e.agent_id, e.backend, e.model, usage.input_tokens, usage.output_tokens,
                usage.cached_tokens, usage.reasoning_tokens, usage.cost_usd, e.latency_s, e.ttft_s, e.ttfb_s, e.tokens_per_s, e.retries,
                e.status, int(e.estimated), e.ts,
            ),
        )  # fmt: skip
        self._add_cost(conn, usage.cost_usd, turn_id)
        if e.backend not in self._seen_backends or e.model not in self._seen_models:
            self._seen_backends.add(e.backend)
            self._seen_models.add(e.model)
            add_facet(conn, self.conversation_id, "backend", e.backend)
            add_facet(conn, self.conversation_id, "model", e.model)

    def _winner(self, e: ev.WinnerSelected) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE turns SET winner = ?, strategy = ?, tally = ?, reasons = ?, explanation = ? WHERE id = ?",
                (e.winner, e.strategy, dump_json(dict(e.tally)), dump_json(dict(e.reasons)), e.explanation, self._turn_id),
            )
            add_facet(conn, self.conversation_id, "winner", e.winner)

    def _final_delta(self, e: ev.FinalAnswerDelta) -> None:
        if self._spool.failure is not None:
            self._fail(self._spool.failure)
            return
        self._final.append(e.text)
        self._spool.append(self._turn_id, e.text)  # type: ignore[arg-type]

    def _finished(self, e: ev.SessionFinished) -> None:
        if self._spool.failure is not None:
            self._fail(self._spool.failure)
            return
        turn_id = self._turn_id
        self._keep_drafts()
        streamed, self._final = "".join(self._final), []
        final = e.final_answer if e.final_answer is not None else streamed or None
        with self._tx() as conn:
            recorded = conn.execute("SELECT cost_usd FROM turns WHERE id = ?", (turn_id,)).fetchone()[0]
            # The session's own total wins over the sum of the requests we saw, when it has one.
            if e.cost_usd:
                self._add_cost(conn, e.cost_usd - recorded, turn_id)
            conn.execute(
                "UPDATE turns SET winner = COALESCE(?, winner), ended_by = ?, error = ?, usage = ?, "
                "duration_s = ?, finished_at = ? WHERE id = ?",
                (e.winner, e.ended_by, e.error, dump_json(dict(e.usage)), e.duration_s, e.ts, turn_id),
            )
            conn.execute(
                "UPDATE conversations SET finished_at = ?, ended_by = ? WHERE id = ?",
                (e.ts, e.ended_by, self.conversation_id),
            )
            add_facet(conn, self.conversation_id, "winner", e.winner)
        if final is not None:  # the answer, its search index and dropping its pieces: O(length), in the spool's thread
            self._spool.finish(turn_id, final)  # type: ignore[arg-type]

    def _event_row(self, e: Any) -> tuple[Any, ...]:
        data = ev.event_to_dict(e)
        for key in ("type", "session_id", "seq", "ts"):
            data.pop(key, None)
        return (self._turn_id, e.seq, e.ts, e.type, dump_json(redact(data)))

    def _other(self, e: Any) -> None:
        if type(e) is ev.BackendRetry and e.restart:
            self._drafts.pop(e.agent_id, None)  # the request starts over, and so does its answer
        with self._tx() as conn:
            conn.execute("INSERT INTO events (turn_id, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)", self._event_row(e))

    def _deferred(self, e: Any) -> None:
        if type(e) is ev.AgentStarted:
            self._drafts.pop(e.agent_id, None)  # a new launch: the draft of the last one was abandoned
        self._pending.append(self._event_row(e))

    def _write_pending(self) -> None:
        if self._pending:
            self.conn.executemany("INSERT INTO events (turn_id, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)", self._pending)
            self._pending.clear()
        if self._pending_usage:
            usage, self._pending_usage = self._pending_usage, []
            for turn_id, e in usage:
                self._write_usage(self.conn, turn_id, e)
