"""Seam between a CLI run and the conversation store (issue: Conversations).

``start_recording`` returns an event consumer that saves a session as it runs,
or None when recording is off. ``resolve_history`` turns ``--continue`` /
``--resume ID`` into the conversation to continue. The store replaces these
placeholders; until then nothing is recorded and no history is found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def start_recording(config: Any, *, enabled: bool = True) -> Callable[[Any], None] | None:
    return None


def resolve_history(*, resume: str | None = None, continue_latest: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
    """(conversation id to append to, [(question, final answer), ...])."""
    if resume or continue_latest:
        from massgen_core.errors import MassGenError

        raise MassGenError("conversation history is not available: no conversation store is installed")
    return None, []
