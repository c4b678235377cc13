"""``Team``: one configured team of agents, run from a library, a batch or an evaluation.

``Team.from_config(path_or_config)`` loads the config (and its plugins);
``await team.ask(question)`` runs one coordinated turn and returns a
``TeamResult``; ``async for event in team.stream(question)`` yields the same
turn's events as they happen. The team owns what a session needs around the
engine: the orchestrator (one per turn, so turns may run concurrently), the
preflight, the recorder (a turn is saved as it runs unless ``record=False``),
the guarded fan-out to observers and ``on_event`` plugins, and closing the
backends. ``await team.aclose()`` (or ``async with``) releases pooled
connections. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs

from massgen_core import events as ev
from massgen_core.content import Attachment, as_attachments

if TYPE_CHECKING:
    from massgen_core.config.schema import Config
    from massgen_core.plugins import PluginManager

Observer = Callable[[ev.Event], None]


@attrs.frozen(kw_only=True)
class TeamResult:
    """What one turn produced: the decision, its evidence and its cost."""

    question: str
    final_answer: str | None
    winner: str | None
    ended_by: str
    error: str | None
    answers: Mapping[str, str]  # agent id -> its last accepted answer
    votes: tuple[Mapping[str, str], ...]  # {voter, target, reason} of the votes that stood
    usage: Mapping[str, int]
    cost_usd: float
    duration_s: float
    session_id: str
    conversation_id: str | None
    failures: Mapping[str, str]  # agent id -> why it failed

    @property
    def ok(self) -> bool:
        return self.final_answer is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "final_answer": self.final_answer,
            "winner": self.winner,
            "ended_by": self.ended_by,
            "error": self.error,
            "answers": dict(self.answers),
            "votes": [dict(v) for v in self.votes],
            "usage": dict(self.usage),
            "cost_usd": self.cost_usd,
            "duration_s": self.duration_s,
            "session_id": self.session_id,
            "conversation_id": self.conversation_id,
            "failures": dict(self.failures),
        }


class _Collector:
    """Builds a ``TeamResult`` from one turn's events."""

    def __init__(self, question: str) -> None:
        self.question = question
        self.answers: dict[str, str] = {}
        self.votes: dict[str, dict[str, str]] = {}
        self.failures: dict[str, str] = {}
        self.finished: ev.SessionFinished | None = None
        self.session_id = ""

    def __call__(self, event: ev.Event) -> None:
        self.session_id = event.session_id
        if isinstance(event, ev.AnswerSubmitted):
            self.answers[event.agent_id] = event.text
            self.votes.clear()  # a new answer clears the votes cast before it (PROTOCOL.md §5)
        elif isinstance(event, ev.VoteCast):
            self.votes[event.voter] = {"voter": event.voter, "target": event.target, "reason": event.reason}
        elif isinstance(event, ev.AgentFailed):
            self.failures[event.agent_id] = event.error
        elif isinstance(event, ev.SessionFinished):
            self.finished = event

    def result(self, conversation_id: str | None) -> TeamResult:
        f = self.finished
        return TeamResult(
            question=self.question,
            final_answer=f.final_answer if f else None,
            winner=f.winner if f else None,
            ended_by=f.ended_by if f else "cancelled",
            error=(f.error if f else "the turn ended before it finished"),
            answers=dict(self.answers),
            votes=tuple(self.votes.values()),
            usage=dict(f.usage) if f else {},
            cost_usd=f.cost_usd if f else 0.0,
            duration_s=f.duration_s if f else 0.0,
            session_id=self.session_id,
            conversation_id=conversation_id,
            failures=dict(self.failures),
        )


def _name(observer: Observer) -> str:
    return "observer " + getattr(observer, "__qualname__", type(observer).__name__)


class Team:
    """A configured team (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        *,
        manager: PluginManager | None = None,
        record: bool | None = None,
        observers: Sequence[Observer] = (),
        on_observer_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        if manager is None:
            from massgen_core.plugins import get_plugin_manager

            manager = get_plugin_manager()
        self.config = config
        self.manager = manager
        self.record = config.ui.logging_enabled if record is None else record
        self.observers = list(observers)
        self.on_observer_error = on_observer_error
        self.switched_off: dict[str, str] = {}  # observer name -> why it was switched off

    @classmethod
    def from_config(
        cls,
        source: str | Path | Mapping[str, Any] | Config,
        *,
        env: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """A team from a config file path, a bundled config name, a mapping or a ``Config``."""
        from massgen_core.config import loader
        from massgen_core.config.schema import Config

        if isinstance(source, Config):
            config = source
        elif isinstance(source, Mapping):
            config = loader.config_from_dict(dict(source), env=env)
        else:
            config = loader.load_config(source, env=env)
        return cls(config, **kwargs)

    @property
    def agent_ids(self) -> list[str]:
        return [agent.id for agent in self.config.agents]

    def preflight(self) -> None:
        """Raise one ``MassGenError`` naming every agent that cannot run, before any request."""
        from massgen_core.orchestrator import build_orchestrator

        build_orchestrator(self.config, manager=self.manager).preflight()

    def _guard(self, name: str, consume: Observer) -> Observer:
        def guarded(event: ev.Event) -> None:
            if name in self.switched_off:
                return
            try:
                consume(event)
            except Exception as exc:
                self.switched_off[name] = f"{type(exc).__name__}: {exc}"
                if self.on_observer_error is not None:
                    self.on_observer_error(name, exc)

        return guarded

    async def stream(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        session_id: str | None = None,
        conversation_id: str | None = None,
        observers: Sequence[Observer] = (),
        attachments: Sequence[Attachment | str | os.PathLike[str]] = (),
    ) -> AsyncIterator[ev.Event]:
        """Run one turn, yielding its events in order (the last is ``SessionFinished``).

        ``attachments`` are images and documents (``Attachment`` values, file paths or
        http(s) image URLs) sent with the question to every agent; paths are read and
        checked before anything runs.

        The turn is recorded (when recording is on) and every observer sees
        each event before it is yielded; an observer that raises is switched
        off for the rest of the team's life and reported once.
        """
        parts = as_attachments(attachments)
        async for event in self._run(question, history, session_id, conversation_id, observers, {}, parts):
            yield event

    async def _run(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        session_id: str | None,
        conversation_id: str | None,
        observers: Sequence[Observer],
        facts: dict[str, Any],
        attachments: tuple[Attachment, ...] = (),
    ) -> AsyncIterator[ev.Event]:
        """``stream``'s body; ``facts`` receives the conversation id the turn was recorded under."""
        from massgen_core.orchestrator import build_orchestrator
        from massgen_core.recording import conversation_cost, start_recording

        orchestrator = build_orchestrator(self.config, manager=self.manager)
        try:
            orchestrator.preflight()
            if conversation_id is not None and self.record:  # a conversation budget counts its earlier turns
                orchestrator.conversation_cost_usd = conversation_cost(conversation_id)
            recorder = start_recording(self.config, enabled=self.record, conversation_id=conversation_id)
            facts["conversation_id"] = getattr(recorder, "conversation_id", conversation_id)
            consumers: list[Observer] = []
            if recorder is not None:
                consumers.append(self._guard("the conversation store", recorder))
            consumers += [self._guard(_name(o), o) for o in [*self.observers, *observers]]
            if self.manager.hook.on_event.get_hookimpls():
                consumers.append(self._guard("on_event plugins", self.manager.emit))
            try:
                run = orchestrator.run(
                    question, history=list(history), session_id=session_id or uuid.uuid4().hex,
                    attachments=attachments,
                )
                async with contextlib.aclosing(run) as events:
                    async for event in events:
                        for consume in consumers:
                            consume(event)
                        yield event
            finally:
                close = getattr(recorder, "close", None)
                if close is not None:
                    close()
        finally:
            await orchestrator.aclose()

    async def ask(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        conversation_id: str | None = None,
        observers: Sequence[Observer] = (),
        attachments: Sequence[Attachment | str | os.PathLike[str]] = (),
    ) -> TeamResult:
        """Run one turn to its end; its ``TeamResult`` (``attachments`` as for ``stream``)."""
        parts = as_attachments(attachments)
        collect = _Collector(question)
        facts: dict[str, Any] = {}
        async for _event in self._run(question, history, None, conversation_id, [collect, *observers], facts, parts):
            pass
        return collect.result(facts.get("conversation_id"))

    async def aclose(self) -> None:
        """Close pooled HTTP connections (each turn already closed its own backends)."""
        from massgen_core.http.pool import aclose_all

        await aclose_all()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


__all__ = ["Team", "TeamResult"]
