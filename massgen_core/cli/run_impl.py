"""What ``massgen [OPTIONS] ["question"]`` does, once click has parsed it.

Resolves the configuration (preset, file, bundled name or ``--backend/--model``),
builds the orchestrator, runs one question (or an interactive multi-turn
conversation) and pipes every event to the display, the conversation store
and the ``on_event`` hook. The final answer goes to stdout, progress to stderr
or the live view. Exit codes: 0 an answer, 1 no answer or a user error,
130 interrupted. It never writes files of its own and never blocks on input
after a one-shot answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import uuid
from collections.abc import Callable
from typing import Any, TextIO

import attrs

from massgen_core import profiling
from massgen_core.cli.run import RunOptions
from massgen_core.display import Display, choose_display
from massgen_core.errors import MassGenError
from massgen_core.events import Event, SessionFinished
from massgen_core.questions import check_question
from massgen_core.terminal import inert

EXIT_OK = 0
EXIT_NO_ANSWER = 1
EXIT_INTERRUPTED = 130
# After the first Ctrl-C, how long the orchestrator gets to stop by itself.
GRACE_S = 3.0

NO_CONFIG_MESSAGE = (
    "no agents configured: run `massgen setup`, or pass --config FILE (try the offline demo, no keys needed: "
    'massgen --config offline-demo.yaml "your question"), or --backend TYPE / --model NAME '
    "with the provider's key in its environment variable (e.g. OPENAI_API_KEY)"
)

Consumer = Callable[[Event], None]


@attrs.define
class Streams:
    """The run's three streams; every message written through it is made inert (massgen_core.terminal)."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO

    def warn(self, message: str) -> None:
        self.stderr.write(f"massgen: warning: {inert(message)}\n")
        self.stderr.flush()

    def error(self, message: str) -> None:
        self.stderr.write(f"massgen: error: {inert(message)}\n")
        self.stderr.flush()

    def info(self, message: str) -> None:
        self.stderr.write(inert(message) + "\n")
        self.stderr.flush()


# -- configuration -------------------------------------------------------------


def resolve_config(options: RunOptions) -> tuple[Any, list[str]]:
    """The run's Config and the warning lines loading it produced."""
    from massgen_core.config import loader

    if options.preset and options.config:
        raise MassGenError("give --preset or --config, not both")
    if options.backend and (options.preset or options.config):
        raise MassGenError("give --config FILE or --backend TYPE, not both (--model may override a config's models)")
    source: Any = options.config
    if options.preset:
        from massgen_core.presets import resolve_preset

        source = resolve_preset(options.preset)
    if source is not None:
        config, problems = loader.load_config_with_warnings(source, env=options.env)
        config = loader.apply_cli_overrides(
            config, model=options.model, base_url=options.base_url, system_message=options.system_message
        )
        return config, [f"massgen: {p.format()}" for p in problems]
    if options.env:
        raise MassGenError("--env selects an environment of a config file: pass --config FILE too")
    if not (options.backend or options.model):
        from massgen_core.cli.setup_cmd import default_output

        if default_output().is_file():  # written by `massgen setup`
            config, problems = loader.load_config_with_warnings(default_output())
            config = loader.apply_cli_overrides(config, system_message=options.system_message, base_url=options.base_url)
            return config, [f"massgen: {p.format()}" for p in problems]
    if options.backend or options.model:
        config, problems = loader.config_from_cli_with_warnings(
            backend=options.backend,
            model=options.model,
            base_url=options.base_url,
            system_message=options.system_message,
        )
        return config, [f"massgen: {p.format()}" for p in problems]
    raise MassGenError(NO_CONFIG_MESSAGE)


def build_question(options: RunOptions) -> str | None:
    """The question from the argument or from ``--template NAME -p KEY VALUE``."""
    if options.template is None:
        if options.params:
            raise MassGenError("-p/--param sets template variables: use it with --template NAME")
        return options.question
    if options.question is not None:
        raise MassGenError("give a question or --template, not both")
    from massgen_core.presets import render_template

    return render_template(options.template, dict(options.params))


# -- event plumbing ------------------------------------------------------------


class _Guarded:
    """An event consumer whose failure is reported once and then switched off.

    A broken store or ``on_event`` plugin must not end a session the user is
    watching; the display is not guarded because its failure is our bug.
    """

    def __init__(self, name: str, consume: Consumer, streams: Streams) -> None:
        self.name, self.consume, self.streams = name, consume, streams
        self.failed = False

    def __call__(self, event: Event) -> None:
        if self.failed:
            return
        try:
            self.consume(event)
        except Exception as exc:
            self.failed = True
            self.streams.warn(f"{self.name} failed and was switched off for this session: {type(exc).__name__}: {exc}")


def _install_sigint(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> bool:
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        return False
    return True


async def _pump(
    orchestrator: Any,
    question: str,
    *,
    history: list[tuple[str, str]],
    session_id: str,
    consumers: list[Consumer],
    grace_s: float = GRACE_S,
    expose: Callable[[Callable[[], None] | None], None] | None = None,
) -> tuple[SessionFinished | None, bool]:
    """Feed one session's events to every consumer: (its SessionFinished, whether Ctrl-C stopped it).

    The first Ctrl-C asks the orchestrator to stop (it still ends with a
    SessionFinished, so the store keeps a complete turn); a second one, or the
    grace period running out, cancels outright. ``expose`` receives the
    interrupt function while the session runs (None after), for callers that
    interrupt without a signal.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupted = False
    deadline: asyncio.TimerHandle | None = None

    def on_sigint() -> None:
        nonlocal interrupted, deadline
        cancel = getattr(orchestrator, "cancel", None)
        if interrupted or cancel is None:
            interrupted = True
            task.cancel()
            return
        interrupted = True
        cancel()
        deadline = loop.call_later(grace_s, task.cancel)

    installed = _install_sigint(loop, on_sigint)
    if expose is not None:
        expose(on_sigint)
    finished: SessionFinished | None = None
    try:
        stream = orchestrator.run(question, history=history, session_id=session_id)
        closing = contextlib.aclosing(stream) if hasattr(stream, "aclose") else contextlib.nullcontext(stream)
        async with closing:
            async for event in stream:
                for consume in consumers:
                    consume(event)
                if isinstance(event, SessionFinished):
                    finished = event
    except asyncio.CancelledError:
        if not interrupted:
            raise
        task.uncancel()
    finally:
        if deadline is not None:
            deadline.cancel()
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
        if expose is not None:
            expose(None)
    return finished, interrupted


@attrs.define
class Runner:
    """Runs questions against one orchestrator on one event loop, feeding every consumer.

    One loop serves every turn of an interactive session, because pooled
    HTTP connections belong to the loop that opened them.
    """

    options: RunOptions
    config: Any
    orchestrator: Any
    streams: Streams
    manager: Any
    recorder: Any = None
    history: list[tuple[str, str]] = attrs.Factory(list)
    conversation_id: str | None = None
    last: SessionFinished | None = None
    turns: int = 0
    loop: asyncio.Runner = attrs.Factory(asyncio.Runner)
    grace_s: float = GRACE_S
    _interrupt: Callable[[], None] | None = attrs.field(default=None, init=False)
    _shut: bool = attrs.field(default=False, init=False)

    def _expose(self, interrupt: Callable[[], None] | None) -> None:
        self._interrupt = interrupt

    def interrupt(self) -> None:
        """What Ctrl-C does to the running question (nothing when none runs); call it on the loop's thread."""
        if self._interrupt is not None:
            self._interrupt()

    def make_display(self) -> Display:
        return choose_display(
            stdout=self.streams.stdout,
            stderr=self.streams.stderr,
            display_type=self.config.ui.display_type,
            no_display=self.options.no_display,
            json_output=self.options.json_output,
            verbosity=self.options.verbosity,
            json_extra={"conversation_id": getattr(self.recorder, "conversation_id", None)},
            json_lines=self.options.json_lines,
        )

    def consumers(self, display: Display) -> list[Consumer]:
        consumers: list[Consumer] = [profiling.timed("presentation", display.handle)]
        if self.recorder is not None:
            consumers.append(profiling.timed("recording", _Guarded("the conversation store", self.recorder, self.streams)))
        if self.manager.hook.on_event.get_hookimpls():
            self.manager.on_observer_error = lambda name, exc: self.streams.warn(
                f"on_event plugin {name} failed and was switched off: {type(exc).__name__}: {exc}"
            )
            consumers.append(_Guarded("an on_event plugin", self.manager.emit, self.streams))
        profile = profiling.current()
        if profile is not None:
            consumers.append(profile.observe)
        return consumers

    def ask(self, question: str) -> int:
        """Run one question; the exit code it deserves (0 answer, 1 none, 130 interrupted)."""
        display = self.make_display()
        session_id = uuid.uuid4().hex
        display.start()
        try:
            with profiling.phase("session"):
                finished, interrupted = self.loop.run(
                    _pump(
                        self.orchestrator,
                        question,
                        history=list(self.history),
                        session_id=session_id,
                        consumers=self.consumers(display),
                        grace_s=self.grace_s,
                        expose=self._expose,
                    )
                )
        finally:
            display.stop()
        with profiling.phase("presentation"):
            display.finish(finished)
        self.last = finished
        self.turns += 1
        if interrupted:
            return EXIT_INTERRUPTED
        if finished is None:
            self.streams.error("the session ended without a result")
            return EXIT_NO_ANSWER
        if finished.final_answer is None:
            self.streams.error(f"no answer could be produced ({finished.ended_by}): {finished.error or 'no agent answered'}")
            return EXIT_NO_ANSWER
        self.history.append((question, finished.final_answer))
        return EXIT_OK

    def shutdown(self) -> None:
        """Close the recorder, the backends and pooled connections, then the loop (idempotent)."""
        if self._shut:
            return
        self._shut = True
        try:
            self.close()
        finally:
            try:
                self.loop.run(self._aclose())
            finally:
                self.loop.close()

    async def _aclose(self) -> None:
        aclose = getattr(self.orchestrator, "aclose", None)
        if aclose is not None:
            await aclose()
        from massgen_core.http.pool import aclose_all

        await aclose_all()

    def close(self) -> None:
        close = getattr(self.recorder, "close", None)
        self.recorder = None
        if close is not None:
            close()

    def new_conversation(self) -> None:
        """Forget the history; later turns are recorded as a new conversation."""
        from massgen_core.recording import start_recording

        self.history.clear()
        self.conversation_id = None
        if hasattr(self.orchestrator, "conversation_cost_usd"):
            self.orchestrator.conversation_cost_usd = 0.0  # a new conversation has its own budget
        renew = getattr(self.recorder, "new_conversation", None)
        if renew is not None:
            renew()
        elif self.recorder is not None:
            self.close()
            self.recorder = start_recording(self.config, enabled=True)


# -- interactive mode ----------------------------------------------------------

CommandHandler = Callable[["Interactive", str], bool]  # returns False to leave


@attrs.frozen
class Command:
    names: tuple[str, ...]
    help: str
    handler: CommandHandler


# The dispatch table: adding a command is one ``@command(...)`` function.
COMMANDS: dict[str, Command] = {}


def command(*names: str, help: str) -> Callable[[CommandHandler], CommandHandler]:
    def register(handler: CommandHandler) -> CommandHandler:
        entry = Command(names=names, help=help, handler=handler)
        for name in names:
            COMMANDS[name] = entry
        return handler

    return register


@command("/quit", "/exit", "/q", help="leave interactive mode")
def _quit(session: Interactive, arg: str) -> bool:
    return False


@command("/clear", "/reset", help="forget the conversation history and start a new conversation")
def _clear(session: Interactive, arg: str) -> bool:
    session.runner.new_conversation()
    session.streams.info("history cleared: the next question starts a new conversation")
    return True


@command("/help", help="list the commands")
def _help(session: Interactive, arg: str) -> bool:
    seen: list[Command] = []
    for entry in COMMANDS.values():
        if entry not in seen:
            seen.append(entry)
    lines = ["Type a question to ask the agents; earlier questions and answers are carried along.", "Commands:"]
    lines += [f"  {' '.join(entry.names):<22} {entry.help}" for entry in seen]
    session.streams.info("\n".join(lines))
    return True


@command("/status", help="show the agents, the history length and the last session")
def _status(session: Interactive, arg: str) -> bool:
    runner = session.runner
    config = runner.config
    agents = ", ".join(a.id for a in config.agents)
    lines = [
        f"agents: {agents}",
        f"voting strategy: {config.voting.strategy}",
        f"config: {config.source or 'command line'}",
        f"turns in history: {len(runner.history)}",
        f"recording: {'on' if runner.recorder is not None else 'off'}",
    ]
    last = runner.last
    if last is not None:
        outcome = f"winner {last.winner}" if last.winner else "no winner"
        lines.append(
            f"last session: {last.session_id} · {outcome} · ended by {last.ended_by} · {last.duration_s:.1f}s · ${last.cost_usd:.4f}"
        )
    session.streams.info("\n".join(lines))
    return True


# /save, /export FORMAT [PATH], /history: the conversation store's commands.
from massgen_core.store.session_commands import install as _install_store_commands  # noqa: E402

_install_store_commands(command)


@attrs.define
class Interactive:
    """The multi-turn loop: reads lines from stdin (a terminal or a pipe) until /quit or EOF."""

    runner: Runner
    streams: Streams
    prompt: str = "> "

    def _read(self) -> str | None:
        if self.streams.stdin.isatty():
            self.streams.stderr.write(self.prompt)
            self.streams.stderr.flush()
        line = self.streams.stdin.readline()
        return None if line == "" else line.strip()

    def banner(self) -> None:
        config = self.runner.config
        agents = ", ".join(a.id for a in config.agents)
        self.streams.info(f"MassGen interactive mode · agents: {agents} · type a question, /help for commands, /quit to leave")

    def loop(self) -> int:
        if self.runner.options.verbosity >= 1:
            self.banner()
        while True:
            line = self._read()
            if line is None:
                return EXIT_OK
            if not line:
                continue
            if line.startswith("/"):
                name, _, arg = line.partition(" ")
                entry = COMMANDS.get(name.lower())
                if entry is None:
                    self.streams.info(f"unknown command {name}; /help lists the commands")
                    continue
                try:
                    if not entry.handler(self, arg.strip()):
                        return EXIT_OK
                except MassGenError as exc:  # /save on a store that cannot be written, say
                    self.streams.error(str(exc))
                continue
            try:
                code = self.runner.ask(check_question(line))
            except MassGenError as exc:
                self.streams.error(str(exc))
                continue
            if code == EXIT_INTERRUPTED:
                # Ctrl-C during a turn cancels that turn only; at the prompt it leaves.
                self.streams.info("massgen: interrupted; the question was cancelled")


# -- entry ------------------------------------------------------------------------


def _configure_logging(options: RunOptions, stderr: TextIO) -> None:
    if options.debug or options.verbosity >= 3:
        from massgen_core.redaction import RedactingFormatter

        handler = logging.StreamHandler(stderr)
        handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))  # httpx logs whole URLs
        logging.basicConfig(level=logging.DEBUG, handlers=[handler])


def execute(
    options: RunOptions,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command; the exit code. MassGenError propagates (the CLI prints it as one line)."""
    if options.json_output and options.json_lines:
        raise MassGenError("give --json (one result object) or --jsonl (every event), not both")
    if options.profile:
        profiling.start()
    streams = Streams(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    reconfigure = getattr(streams.stdin, "reconfigure", None)
    if reconfigure is not None:  # a line that is not UTF-8 is then refused by check_question, not a crash
        reconfigure(errors="surrogateescape")
    _configure_logging(options, streams.stderr)
    question = build_question(options)
    if question is not None:
        check_question(question)
    with profiling.phase("config"):
        config, warnings = resolve_config(options)
    for warning in warnings:
        streams.info(warning)

    from massgen_core.orchestrator import build_orchestrator
    from massgen_core.plugins import get_plugin_manager
    from massgen_core.recording import conversation_cost, resolve_history, start_recording

    with profiling.phase("plugins"):
        manager = get_plugin_manager()
        orchestrator = build_orchestrator(config, manager=manager)
    orchestrator.preflight()  # a missing key is one clear line before any request or recording
    conversation_id, history = resolve_history(resume=options.resume, continue_latest=options.continue_latest)
    if conversation_id is not None:  # a conversation budget counts what its earlier turns spent
        orchestrator.conversation_cost_usd = conversation_cost(conversation_id)
    recorder = start_recording(
        config, enabled=not options.no_logs and config.ui.logging_enabled, conversation_id=conversation_id
    )
    runner = Runner(
        options=options,
        config=config,
        orchestrator=orchestrator,
        streams=streams,
        manager=manager,
        recorder=recorder,
        history=list(history),
        conversation_id=conversation_id,
    )
    try:
        if question is None:
            return Interactive(runner=runner, streams=streams).loop()
        code = runner.ask(question)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    finally:
        with profiling.phase("shutdown"):
            runner.shutdown()
        profile = profiling.stop()
        if profile is not None:
            streams.stderr.write(inert(profile.format()) + "\n")
    if code == EXIT_INTERRUPTED:
        streams.info("massgen: interrupted")
    return code
