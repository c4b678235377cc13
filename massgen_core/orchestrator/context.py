"""What the orchestrator tells a backend about the launch it serves, out of band.

A context variable holds what the current launch was offered: the label ->
real id map of its snapshot, the answers under those labels, the strategy's
vote schema (None when it cannot vote), whether it may answer, the agent's own
id, the question and the history; for a call without workflow actions (the
winner's presentation, a single agent answering directly) ``own_answer`` is
the agent's accepted answer, if any. Real providers ignore it; the scripted
backend, nested teams and the cookiecutter example read it instead of parsing
prompt markers or tool enums. It must never be put into a prompt: agents see
labels only.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class LaunchContext:
    agent_id: str
    labels: Mapping[str, str]  # label -> real agent id
    question: str = ""
    history: tuple[tuple[str, str], ...] = ()
    answers: Mapping[str, str] = attrs.Factory(dict)  # label -> answer text offered
    vote_parameters: Mapping[str, Any] | None = None  # the strategy's vote schema; None: no vote possible
    may_answer: bool = True
    own_answer: str | None = None  # calls without workflow actions: this agent's accepted answer

    @property
    def own_label(self) -> str | None:
        """The label of this agent's own answer in the snapshot, if it has one."""
        return next((label for label, real in self.labels.items() if real == self.agent_id), None)


current_launch: ContextVar[LaunchContext | None] = ContextVar(
    "massgen_current_launch", default=None
)
