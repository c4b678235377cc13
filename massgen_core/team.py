"""``Team``: one configured team of agents, run from a library, a batch or an evaluation.

``Team.from_config(path_or_config)`` loads the config (and its plugins);
``await team.ask(question)`` runs one coordinated turn and returns a
``TeamResult``; ``async for event in team.stream(question)`` yields the same
turn's events as they happen. The team owns what a session needs around the
engine: the orchestrator (one per turn, so turns may run concurrently), the
preflight, the recorder (a turn is saved as it runs unless ``record=False``),
the guarded fan-out to observers and ``on_event`` plugins, and closing the
backends. ``team.conversation()`` keeps one orchestrator, recorder and history
across turns asked one after the other (the CLI's interactive mode,
``massgen serve``'s sessions; see massgen_core.conversation), with
``interrupt()`` for a Ctrl-C or a client that went away. ``await team.aclose()``
(or ``async with``) releases pooled connections. Nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

import attrs

from massgen_core import events as ev
from massgen_core import profiling
from massgen_core.content import Attachment, as_attachments

if TYPE_CHECKING:
    from massgen_core.config.schema import Config
    from massgen_core.conversation import Conversation
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


def switched_off_message(name: str, exc: BaseException) -> str:
    """The one line that reports an observer switched off (for an ``on_observer_error`` that prints)."""
    return f"{name} failed and was switched off: {type(exc).__name__}: {exc}"


def _name(observer: Observer) -> str:
    return "observer " + getattr(observer, "__qualname__", type(observer).__name__)


class OrchestratorFactory(Protocol):
    """Builds the engine for a config (``massgen_core.orchestrator.build_orchestrator``)."""

    def __call__(self, config: Config, *, manager: PluginManager) -> Any: ...


class RecorderFactory(Protocol):
    """Starts recording a conversation (``massgen_core.recording.start_recording``); None when off."""

    def __call__(self, config: Config, *, enabled: bool, conversation_id: str | None) -> Any: ...


def _build_orchestrator(config: Config, *, manager: PluginManager) -> Any:
    from massgen_core.orchestrator import build_orchestrator

    return build_orchestrator(config, manager=manager)


def _start_recording(config: Config, *, enabled: bool, conversation_id: str | None) -> Any:
    from massgen_core.recording import start_recording

    return start_recording(config, enabled=enabled, conversation_id=conversation_id)


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
        orchestrator_factory: OrchestratorFactory = _build_orchestrator,
        recorder_factory: RecorderFactory = _start_recording,
    ) -> None:
        if manager is None:
            from massgen_core.plugins import get_plugin_manager

            manager = get_plugin_manager()
        self.config = config
        self.manager = manager
        self.record = config.ui.logging_enabled if record is None else record
        self.observers = list(observers)
        self.on_observer_error = on_observer_error
        self.orchestrator_factory = orchestrator_factory
        self.recorder_factory = recorder_factory
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
        self.orchestrator_factory(self.config, manager=self.manager).preflight()

    def conversation(
        self, *, history: Sequence[tuple[str, str]] = (), conversation_id: str | None = None
    ) -> Conversation:
        """An opened conversation: turns asked one after the other, each with the history so far.

        Raises ``MassGenError`` when the config cannot build or an agent cannot
        run (a missing key), before any request or recording.
        """
        from massgen_core.conversation import Conversation

        return Conversation(self, history=history, conversation_id=conversation_id).open()

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

    def consumers(self, recorder: Observer | None, observers: Sequence[Observer] = ()) -> list[Observer]:
        """What sees each event of a turn, in order, each guarded: the store, the observers, ``on_event`` plugins."""
        consumers: list[Observer] = []
        if recorder is not None:
            consumers.append(profiling.timed("recording", self._guard("the conversation store", recorder)))
        consumers += [self._guard(_name(o), o) for o in [*self.observers, *observers]]
        if self.manager.hook.on_event.get_hookimpls():
            report = self.on_observer_error
            if report is not None and self.manager.on_observer_error is None:  # one plugin failing, by its name
                self.manager.on_observer_error = lambda name, exc: report(f"on_event plugin {name}", exc)
            consumers.append(self._guard("on_event plugins", self.manager.emit))
        return consumers

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
        """``stream``'s body: a one-turn conversation; ``facts`` receives the conversation id it was recorded under."""
        from massgen_core.conversation import Conversation

        conversation = Conversation(self, history=history, conversation_id=conversation_id)
        try:
            conversation.open()
            facts["conversation_id"] = conversation.conversation_id
            async for event in conversation.stream(
                question, session_id=session_id, observers=observers, attachments=attachments
            ):
                yield event
        finally:
            await conversation.aclose()

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


__all__ = ["OrchestratorFactory", "RecorderFactory", "Team", "TeamResult"]
