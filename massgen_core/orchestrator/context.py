"""What the orchestrator tells a backend about the launch it serves, out of band.

A context variable holds the label -> real id map of the snapshot the current
launch started from and the agent's own id. Real providers ignore it; the
scripted backend and nested teams read it to resolve ``for_agent`` and
``self``. It must never be put into a prompt: agents see labels only.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

import attrs


@attrs.frozen(kw_only=True)
class LaunchContext:
    agent_id: str
    labels: Mapping[str, str]  # label -> real agent id
    question: str = ""
    history: tuple[tuple[str, str], ...] = ()


current_launch: ContextVar[LaunchContext | None] = ContextVar(
    "massgen_current_launch", default=None
)
