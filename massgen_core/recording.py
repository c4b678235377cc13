"""Seam between a CLI run and the conversation store.

``start_recording`` returns an event consumer that saves a session as it runs
(a ``massgen_core.store.recorder.Recorder``: call it with every event, call
``close()`` at the end), or None when recording is off. ``resolve_history``
turns ``--continue`` / ``--resume ID`` into the conversation to continue and
its history; pass that id back as ``start_recording(conversation_id=...)`` so
the new turn is appended to it, and ``conversation_cost`` gives what its turns
spent (for a conversation budget). Nothing here runs a session or prints.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from massgen_core.errors import MassGenError

if TYPE_CHECKING:
    from massgen_core.store.recorder import Recorder


def start_recording(config: Any, *, enabled: bool = True, conversation_id: str | None = None) -> Recorder | None:
    """A recorder for a new conversation (or for ``conversation_id``), or None when ``enabled`` is False."""
    if not enabled:
        return None
    from massgen_core.store import Store, StoreError
    from massgen_core.store.recorder import Recorder

    try:
        store = Store()
    except StoreError as exc:  # names the file and why
        # The answer matters more than its record: say so once and run without recording.
        print(f"massgen: warning: this session is not recorded: {exc} (use --no-logs to silence)", file=sys.stderr)
        return None
    return Recorder(store, config=config, conversation_id=conversation_id)


def resolve_history(*, resume: str | None = None, continue_latest: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
    """(conversation id to append to, [(question, final answer), ...]); (None, []) for a new conversation."""
    if not resume and not continue_latest:
        return None, []
    from massgen_core.store import Store, exists

    if not exists():
        raise MassGenError("no conversations recorded yet, so there is nothing to continue")
    with Store(read_only=True) as store:
        if resume:
            conversation_id = store.resolve_id(resume)
        else:
            latest = store.latest_id()
            if latest is None:
                raise MassGenError("no conversations recorded yet, so there is nothing to continue")
            conversation_id = latest
        return conversation_id, store.history(conversation_id)


def conversation_cost(conversation_id: str) -> float:
    """What the recorded turns of ``conversation_id`` cost, in USD (0 when it has none)."""
    from massgen_core.store import Store, exists

    if not exists():
        return 0.0
    with Store(read_only=True) as store:
        row = store.conn.execute("SELECT cost_usd FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    return float(row[0]) if row else 0.0
