"""Interactive-mode commands backed by the store: ``/save``, ``/export FORMAT [PATH]``, ``/history``.

``install(command)`` adds them to the run command's dispatch table (the
``command`` decorator of massgen_core.cli.run_impl). Handlers receive the
interactive session and its argument text and return True to keep going.
With recording on, the conversation is already in the store and ``/save``
only flushes it; with ``--no-logs`` it writes the history (questions and final
answers) as a conversation of its own. Nothing here runs a session.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from massgen_core.errors import MassGenError
from massgen_core.exporting import write_export
from massgen_core.terminal import for_stream

HISTORY_PREVIEW = 300
# id(runner) -> (the runner, the conversation /save wrote for it when recording was off), so that a
# second /save updates that conversation. Keyed by id: runners compare by value and are unhashable.
_saved: dict[int, tuple[weakref.ref[Any], str]] = {}


def _saved_id(runner: Any) -> str | None:
    entry = _saved.get(id(runner))
    return entry[1] if entry is not None and entry[0]() is runner else None


def _history_document(conversation_id: str, history: list[tuple[str, str]]) -> dict[str, Any]:
    from massgen_core.store.document import FORMAT, VERSION

    now = time.time()
    turns: list[dict[str, Any]] = [
        {
            "turn": number, "session_id": f"{conversation_id}-{number}", "question": question, "agent_ids": [],
            "strategy": None, "started_at": now, "finished_at": now, "ended_by": "saved", "error": None,
            "final_answer": answer, "winner": None, "tally": None, "reasons": None, "explanation": None,
            "usage": None, "cost_usd": 0.0, "duration_s": None, "answers": [], "votes": [], "requests": [], "events": [],
        }
        for number, (question, answer) in enumerate(history, start=1)
    ]
    title = " ".join(history[0][0].split())[:80] if history else ""
    conversation = {"id": conversation_id, "title": title, "config": None, "started_at": now, "finished_at": now,
                    "ended_by": "saved", "cost_usd": 0.0}  # fmt: skip
    return {"format": FORMAT, "version": VERSION, "conversation": conversation, "turns": turns}


def save(runner: Any) -> str | None:
    """Make sure the conversation so far is in the store; its id, or None when there is nothing yet."""
    recorder = runner.recorder
    if recorder is not None:
        if not recorder.has_turns:
            return None
        recorder.flush()
        return str(recorder.conversation_id)
    if not runner.history:
        return None
    from massgen_core.store import Store
    from massgen_core.store.recorder import new_conversation_id

    conversation_id = _saved_id(runner) or new_conversation_id()
    with Store() as store:
        store.import_document(_history_document(conversation_id, list(runner.history)), replace=True)
    _saved[id(runner)] = (weakref.ref(runner), conversation_id)
    return conversation_id


def _save(session: Any, arg: str) -> bool:
    conversation_id = save(session.runner)
    if conversation_id is None:
        session.streams.info("nothing to save yet: ask a question first")
    else:
        session.streams.info(f"saved as conversation {conversation_id} (massgen conversations show {conversation_id[:8]})")
    return True


def _export(session: Any, arg: str) -> bool:
    parts = arg.split(maxsplit=1)
    if not parts:
        session.streams.info("usage: /export FORMAT [PATH [--force]]   (massgen export --list-formats lists the formats)")
        return True
    fmt, target = parts[0], (parts[1].strip() if len(parts) > 1 else None)
    force = target is not None and (target == "--force" or target.endswith(" --force"))
    if force and target is not None:
        target = target.removesuffix("--force").strip() or None
    from massgen_core.plugins import get_plugin_manager
    from massgen_core.store import Store

    try:
        exporter = get_plugin_manager().exporters.get(fmt)()
        conversation_id = save(session.runner)
        if conversation_id is None:
            session.streams.info("nothing to export yet: ask a question first")
            return True
        with Store() as store:
            text = exporter.export(store.document(conversation_id))
        if target is None:
            text = for_stream(text, session.streams.stdout)
            session.streams.stdout.write(text if text.endswith("\n") else text + "\n")
            session.streams.stdout.flush()
            return True
        path = write_export(text, Path(target).expanduser(), conversation_id, exporter.extension, force=force)
        session.streams.info(f"wrote {path}")
    except MassGenError as exc:
        session.streams.error(str(exc))
    return True


def _history(session: Any, arg: str) -> bool:
    history = session.runner.history
    if not history:
        session.streams.info("no history yet: the next question starts the conversation")
        return True
    lines = []
    for number, (question, answer) in enumerate(history, start=1):
        preview = " ".join(answer.split())
        if len(preview) > HISTORY_PREVIEW:
            preview = preview[: HISTORY_PREVIEW - 1] + "…"
        lines += [f"{number}. You: {' '.join(question.split())}", f"   MassGen: {preview}"]
    session.streams.info("\n".join(lines))
    return True


def install(command: Callable[..., Callable[[Any], Any]]) -> None:
    """Register the store's commands with the interactive dispatch table."""
    command("/save", help="save the conversation so far in the conversation store")(_save)
    command("/export", help="export the conversation: /export FORMAT [PATH [--force]] (stdout without PATH)")(_export)
    command("/history", help="show the questions and final answers so far")(_history)
