"""An agent as the orchestrator sees it: a backend with an id, system message, role, weight and tools.

This module holds the agent's description (and the workflow transport it
negotiated, which outlives one turn); the coordination state of a session
(answers, votes, launches) lives in ``session.py``.
It performs no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from massgen_core.backend import Backend
from massgen_core.orchestrator.workflow import Choice
from massgen_core.tools import Tool


@attrs.define(eq=False, kw_only=True)
class Agent:
    """One participant of a team; ``backend`` may itself wrap a nested team."""

    id: str
    backend: Backend
    backend_type: str = "?"
    model: str | None = None
    system_message: str | None = None  # role preset + the config's own system message
    role: str | None = None
    weight: float = 1.0
    call_timeout: float | None = None  # seconds per model call; None: no per-call bound
    workflow: Choice = attrs.Factory(
        lambda self: Choice(supported=self.backend.workflow_transports), takes_self=True
    )  # its workflow transport, kept across the session's turns
    tools: Mapping[str, Tool] | None = None  # the tools offered to it; None: the orchestrator's
