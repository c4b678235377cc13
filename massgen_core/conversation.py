"""``Conversation``: the turns of one team that follow each other, from the CLI, the server or a script.

A conversation owns one orchestrator for all its turns (so a backend's state,
such as a scripted backend's place in its script, and the conversation budget
carry from one question to the next), the recorder that saves every turn under
one conversation id, the history (questions and final answers) the next turn
is asked with, and interrupting the running turn. ``Team.conversation()``
builds and opens one; ``Team.ask`` and ``Team.stream`` are one-turn
conversations. Nothing here prints or installs signal handlers: callers decide
what a Ctrl-C or a client that went away means and call ``interrupt()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any, Self

from massgen_core import events as ev

if TYPE_CHECKING:
    from massgen_core.content import Attachment
    from massgen_core.team import Observer, Team

# After the first interrupt, how long the running turn gets to stop by itself
# (it then still ends with a SessionFinished, so the store keeps a complete turn).
GRACE_S = 3.0


class Conversation:
    """Turns asked one after the other (see the module docstring).

    Building one builds the orchestrator (a config that cannot build raises
    ``MassGenError``); ``open()`` runs the preflight (a missing key raises
    ``MassGenError`` before any request), counts what a continued
    conversation already spent and starts recording.
    """

    def __init__(
        self,
        team: Team,
        *,
        history: Sequence[tuple[str, str]] = (),
        conversation_id: str | None = None,
        grace_s: float = GRACE_S,
    ) -> None:
        self.team = team
        self.history: list[tuple[str, str]] = list(history)
        self.conversation_id = conversation_id
        self.grace_s = grace_s
        self.orchestrator: Any = team.orchestrator_factory(team.config, manager=team.manager)
        self.recorder: Any = None
        self.last: ev.SessionFinished | None = None  # the latest turn's end, when it reached one
        self.interrupted = False  # whether interrupt() stopped the latest turn
        self._task: asyncio.Task[Any] | None = None  # the task consuming the running turn
        self._deadline: asyncio.TimerHandle | None = None
        self._preflown = False

    def preflight(self) -> None:
        """Raise one ``MassGenError`` naming every agent that cannot run (once: ``open`` skips it then)."""
        preflight = getattr(self.orchestrator, "preflight", None)
        if preflight is not None and not self._preflown:
            preflight()
        self._preflown = True

    def open(self) -> Self:
        self.preflight()
        if self.conversation_id is not None and self.team.record:  # its budget counts what earlier turns spent
            from massgen_core.recording import conversation_cost

            self.orchestrator.conversation_cost_usd = conversation_cost(self.conversation_id)
        self.recorder = self.team.recorder_factory(
            self.team.config, enabled=self.team.record, conversation_id=self.conversation_id
        )
        self.conversation_id = getattr(self.recorder, "conversation_id", self.conversation_id)
        return self

    @property
    def running(self) -> bool:
        return self._task is not None

    def interrupt(self) -> None:
        """Stop the running turn: the first call asks it to stop, a second one (or ``grace_s`` later) cuts it off.

        Call it on the event loop's thread; between turns it does nothing.
        """
        task = self._task
        if task is None:
            return
        cancel = getattr(self.orchestrator, "cancel", None)
        if self.interrupted or cancel is None:
            self.interrupted = True
            task.cancel()
            return
        self.interrupted = True
        cancel()
        self._deadline = asyncio.get_running_loop().call_later(self.grace_s, task.cancel)

    async def stream(
        self,
        question: str,
        *,
        session_id: str | None = None,
        observers: Sequence[Observer] = (),
        attachments: tuple[Attachment, ...] = (),
    ) -> AsyncGenerator[ev.Event, None]:
        """Run one turn with the history so far, yielding its events in order.

        The recorder, the team's observers, ``observers`` and the ``on_event``
        plugins see each event (guarded: one that raises is switched off and
        reported once) before it is yielded. A turn that ends with a final
        answer is added to the history. An interrupted turn ends the stream
        early, without an error; ``interrupted`` says so.
        """
        if self._task is not None:
            raise RuntimeError("a conversation runs one turn at a time")
        consumers = self.team.consumers(self.recorder, observers)
        self.interrupted = False
        self.last = None
        self._task = asyncio.current_task()
        try:
            extra: dict[str, Any] = {"attachments": attachments} if attachments else {}
            run = self.orchestrator.run(
                question, history=list(self.history), session_id=session_id or uuid.uuid4().hex, **extra
            )
            closing = contextlib.aclosing(run) if hasattr(run, "aclose") else contextlib.nullcontext(run)
            async with closing as events:
                async for event in events:
                    for consume in consumers:
                        consume(event)
                    if isinstance(event, ev.SessionFinished):
                        self.last = event
                    yield event
        except asyncio.CancelledError:
            if not self.interrupted or self._task is None:
                raise
            self._task.uncancel()
        finally:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._task = None
        if self.last is not None and self.last.final_answer is not None and not self.interrupted:
            self.history.append((question, self.last.final_answer))

    def new(self) -> None:
        """Forget the history; later turns are recorded as a new conversation with its own budget."""
        self.history.clear()
        self.conversation_id = None
        if hasattr(self.orchestrator, "conversation_cost_usd"):
            self.orchestrator.conversation_cost_usd = 0.0
        renew = getattr(self.recorder, "new_conversation", None)
        if renew is not None:
            self.conversation_id = renew()
        elif self.recorder is not None:
            self.close_recorder()
            self.recorder = self.team.recorder_factory(self.team.config, enabled=True, conversation_id=None)
            self.conversation_id = getattr(self.recorder, "conversation_id", None)

    def close_recorder(self) -> None:
        close = getattr(self.recorder, "close", None)
        self.recorder = None
        if close is not None:
            close()

    async def aclose(self) -> None:
        """Close the recorder and every backend of the orchestrator (idempotent)."""
        try:
            self.close_recorder()
        finally:
            aclose = getattr(self.orchestrator, "aclose", None)
            if aclose is not None:
                await aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


__all__ = ["GRACE_S", "Conversation"]
