"""What ``massgen [OPTIONS] ["question"]`` does, once click has parsed it.

Resolves the configuration (preset, file, bundled name or ``--backend/--model``),
opens a conversation of a ``massgen_core.Team`` (which owns the orchestrator,
the recording, the guarded fan-out to ``on_event`` plugins, interrupting and
closing), runs one question (or an interactive multi-turn conversation) and
shows every event. The final answer goes to stdout, progress to stderr
or the live view. Exit codes: 0 an answer, 1 no answer or a user error,
130 interrupted. It never writes files of its own and never blocks on input
after a one-shot answer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TextIO

import attrs

from massgen_core import profiling
from massgen_core.cli.options import RunOptions
from massgen_core.conversation import Conversation
from massgen_core.display import Display, choose_display
from massgen_core.errors import MassGenError
from massgen_core.events import SessionFinished
from massgen_core.questions import check_question
from massgen_core.team import Team, switched_off_message
from massgen_core.terminal import inert

EXIT_OK = 0
EXIT_NO_ANSWER = 1
EXIT_INTERRUPTED = 130

# With no config, no --backend and no --model, v0.0.3 ran one OpenAI agent; so do we when its key is set.
DEFAULT_BACKEND, DEFAULT_BACKEND_KEY = "openai", "OPENAI_API_KEY"
# Backend types that call no model, so `--backend TYPE` alone needs no default model.
MODEL_OPTIONAL = frozenset({"scripted"})
NO_CONFIG_MESSAGE = (
    "no agents configured: run `massgen setup`, or pass --config FILE (try the offline demo, no keys needed: "
    'massgen --config offline-demo.yaml "your question"), or --backend TYPE / --model NAME '
    "with the provider's key in its environment variable (e.g. OPENAI_API_KEY)"
)

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
    from massgen_core.cli.setup_cmd import DEFAULT_MODELS, default_output

    if not (options.backend or options.model):
        if default_output().is_file():  # written by `massgen setup`
            config, problems = loader.load_config_with_warnings(default_output())
            config = loader.apply_cli_overrides(config, system_message=options.system_message, base_url=options.base_url)
            return config, [f"massgen: {p.format()}" for p in problems]
    backend, model, note = options.backend, options.model, None
    if backend and not model and backend not in MODEL_OPTIONAL:
        model = DEFAULT_MODELS.get(backend)  # the documented default rather than a request with no model
        if model is not None:
            note = f"massgen: --backend {backend} without --model: using its default model {model}"
    elif not (backend or model) and _has_key(DEFAULT_BACKEND_KEY):  # v0.0.3: a bare `massgen "q"` ran OpenAI
        backend, model = DEFAULT_BACKEND, DEFAULT_MODELS[DEFAULT_BACKEND]
        note = (
            f"massgen: no config given and {DEFAULT_BACKEND_KEY} is set: one {backend} agent with {model} "
            "(choose with --config FILE or --model NAME)"
        )
    if backend or model:
        config, problems = loader.config_from_cli_with_warnings(
            backend=backend,
            model=model,
            base_url=options.base_url,
            system_message=options.system_message,
        )
        return config, [f"massgen: {p.format()}" for p in problems] + ([note] if note else [])
    raise MassGenError(NO_CONFIG_MESSAGE)


def _has_key(variable: str) -> bool:
    from massgen_core.config.loader import load_dotenv_files

    load_dotenv_files()  # a key in .env counts, as it does for the run
    return bool(os.environ.get(variable, "").strip())


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


# -- the session --------------------------------------------------------------


def _install_sigint(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> bool:
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        return False
    return True


@attrs.define
class Runner:
    """Runs questions of one conversation (massgen_core.Conversation) on one event loop, showing each.

    The team and its conversation own the orchestrator, the recorder, the
    guarded fan-out and interrupting; the runner adds the display, Ctrl-C and
    exit codes. One loop serves every turn of an interactive session, because
    pooled HTTP connections belong to the loop that opened them.
    """

    options: RunOptions
    team: Team
    conversation: Conversation
    streams: Streams
    attachments: list[Any] = attrs.Factory(list)  # sent with every question until /detach or /clear
    turns: int = 0
    loop: asyncio.Runner = attrs.Factory(asyncio.Runner)
    _shut: bool = attrs.field(default=False, init=False)

    @property
    def config(self) -> Any:
        return self.team.config

    @property
    def history(self) -> list[tuple[str, str]]:
        return self.conversation.history

    @property
    def recorder(self) -> Any:
        return self.conversation.recorder

    @property
    def last(self) -> SessionFinished | None:
        return self.conversation.last

    def interrupt(self) -> None:
        """What Ctrl-C does to the running question (nothing when none runs); call it on the loop's thread."""
        self.conversation.interrupt()

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

    async def _turn(self, question: str, display: Display) -> None:
        loop = asyncio.get_running_loop()
        installed = _install_sigint(loop, self.interrupt)
        handle = profiling.timed("presentation", display.handle)
        profile = profiling.current()
        observers = [profile.observe] if profile is not None else []
        try:
            async for event in self.conversation.stream(question, attachments=tuple(self.attachments), observers=observers):
                handle(event)
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGINT)

    def ask(self, question: str) -> int:
        """Run one question; the exit code it deserves (0 answer, 1 none, 130 interrupted)."""
        display = self.make_display()
        display.start()
        try:
            with profiling.phase("session"):
                self.loop.run(self._turn(question, display))
        finally:
            display.stop()
        finished = self.conversation.last
        with profiling.phase("presentation"):
            display.finish(finished)
        self.turns += 1
        if self.conversation.interrupted:
            return EXIT_INTERRUPTED
        if finished is None:
            self.streams.error("the session ended without a result")
            return EXIT_NO_ANSWER
        if finished.final_answer is None:
            self.streams.error(f"no answer could be produced ({finished.ended_by}): {finished.error or 'no agent answered'}")
            return EXIT_NO_ANSWER
        return EXIT_OK

    def shutdown(self) -> None:
        """Close the recorder, the backends and pooled connections, then the loop (idempotent)."""
        if self._shut:
            return
        self._shut = True
        try:
            self.loop.run(self._aclose())
        finally:
            self.loop.close()

    async def _aclose(self) -> None:
        try:
            await self.conversation.aclose()
        finally:
            await self.team.aclose()

    def close(self) -> None:
        self.conversation.close_recorder()

    def new_conversation(self) -> None:
        """Forget the history; later turns are recorded as a new conversation."""
        self.conversation.new()
        self.attachments.clear()


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


@command("/help", "/h", help="list the commands")
def _help(session: Interactive, arg: str) -> bool:
    seen: list[Command] = []
    for entry in COMMANDS.values():
        if entry not in seen:
            seen.append(entry)
    lines = ["Type a question to ask the agents; earlier questions and answers are carried along.", "Commands:"]
    lines += [f"  {' '.join(entry.names):<22} {entry.help}" for entry in seen]
    lines.append(f"  ({', '.join(BARE_COMMANDS)} also work without the slash, typed alone on a line)")
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
from massgen_core.cli.attach_commands import install as _install_attach_commands  # noqa: E402

_install_store_commands(command)
_install_attach_commands(command)


# v0.0.3's interactive words, typed without a slash: the whole line, in any case, is the command.
BARE_COMMANDS = {"quit": "/quit", "exit": "/exit", "reset": "/reset", "clear": "/clear", "help": "/help"}


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
        self.streams.info(f"MassGen interactive mode · agents: {agents} · type a question, /help for commands, /quit (or quit) to leave")

    def loop(self) -> int:
        if self.runner.options.verbosity >= 1:
            self.banner()
        while True:
            line = self._read()
            if line is None:
                return EXIT_OK
            if not line:
                continue
            line = BARE_COMMANDS.get(line.lower(), line)
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
            if self.runner.turns and self.runner.options.verbosity >= 1:  # where one turn ends and the next begins
                self.streams.info(f"--- turn {self.runner.turns + 1} " + "-" * 40)
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
    from massgen_core.cli.attach_commands import load_cli_attachments

    attachments = load_cli_attachments(options)  # read and checked before any config, request or recording
    with profiling.phase("config"):
        config, warnings = resolve_config(options)
    for warning in warnings:
        streams.info(warning)

    from massgen_core.plugins import get_plugin_manager
    from massgen_core.recording import resolve_history

    with profiling.phase("plugins"):
        team = Team(
            config,
            manager=get_plugin_manager(),
            record=not options.no_logs and config.ui.logging_enabled,
            on_observer_error=lambda name, exc: streams.warn(switched_off_message(name, exc)),
        )
        conversation = Conversation(team)
        conversation.preflight()  # a missing key is one clear line before any request or recording
        conversation.conversation_id, history = resolve_history(resume=options.resume, continue_latest=options.continue_latest)
        conversation.history = list(history)
        runner = Runner(
            options=options, team=team, conversation=conversation.open(), streams=streams, attachments=attachments
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
