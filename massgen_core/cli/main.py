"""Entry point of the ``massgen`` command.

``massgen [OPTIONS] "question"`` (the v0.0.3 command line) runs a session;
``massgen COMMAND ...`` runs a sub-command. Sub-commands are imported only
when used, and plugin commands (``register_commands``) are looked up only for
a name the core does not know, so ``massgen --help`` imports no plugin code.
Errors print one line and exit non-zero; ``--debug`` shows the traceback. Error
text can quote a config key or a model's words, so it is made inert first.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from massgen_core import __version__, startup
from massgen_core.errors import MassGenError
from massgen_core.terminal import inert

HELP_FLAGS = frozenset({"--help", "-h", "--version"})

# name -> (module, attribute); a command whose module is absent is hidden.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("massgen_core.cli.run", "run"),
    "plugins": ("massgen_core.cli.plugins_cmd", "plugins"),
    "config": ("massgen_core.cli.config_cmd", "config"),
    "configs": ("massgen_core.cli.config_cmd", "configs_cmd"),
    "backends": ("massgen_core.cli.backends_cmd", "backends"),
    "conversations": ("massgen_core.cli.conversations_cmd", "conversations"),
    "export": ("massgen_core.cli.conversations_cmd", "export"),
    "presets": ("massgen_core.cli.presets_cmd", "presets"),
    "templates": ("massgen_core.cli.presets_cmd", "templates"),
    "setup": ("massgen_core.cli.setup_cmd", "setup"),
    "usage": ("massgen_core.cli.reports_cmd", "usage"),
    "stats": ("massgen_core.cli.reports_cmd", "stats"),
    "batch": ("massgen_core.cli.batch_cmd", "batch"),
    "eval": ("massgen_core.cli.eval_cmd", "eval_"),
    "estimate": ("massgen_core.cli.estimate_cmd", "estimate"),
    "dashboard": ("massgen_core.cli.dashboard_cmd", "dashboard"),
}
# The first line of each lazy command's help, so ``massgen --help`` lists them without importing
# their modules (a test keeps these equal to the commands' own docstrings).
LAZY_HELP: dict[str, str] = {
    "run": "Run one question through the agents (no question: interactive mode).",
    "plugins": "List installed plugins, what each registers, and load errors.",
    "config": "Validate, show and edit configuration files.",
    "configs": "Show the bundled example configs (usable by name with --config).",
    "backends": "Installed backend types and health checks of configured backends.",
    "conversations": "List, search, show, delete and import recorded conversations.",
    "export": "Export a recorded conversation: massgen export ID --format FORMAT [-o PATH].",
    "presets": 'Named reusable configurations: massgen --preset NAME "question".',
    "templates": "Questions with {variables}: massgen --template NAME -p key value.",
    "setup": "Interactive wizard that writes a working config.",
    "usage": "Requests, tokens, cost, latency and failures of recorded model requests, grouped.",
    "stats": "How turns ended, per-agent wins, answers and votes, and turn duration and cost.",
    "batch": "Run many questions (JSON lines with id and question) through one team, resumably.",
    "eval": "Score teams against a dataset of questions with expected answers, with cost and a baseline.",
    "estimate": "Worst-case and expected cost of running a question, before it starts.",
    "dashboard": "Charts of sessions, tokens, cost, latency, failures and agents from the store, in one HTML file.",
}
GLOBAL_FLAGS = {"--debug"}
# OSErrors that the user's environment causes (read-only file system, a path under a file, a full
# disk), reported as one line with exit 1 rather than as an internal error.
_ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("EROFS", "EACCES", "EPERM", "ENOTDIR", "EISDIR", "ENOSPC", "EDQUOT", "ENAMETOOLONG", "ELOOP")
    if hasattr(errno, name)
)


def _available(name: str) -> bool:
    module = LAZY_COMMANDS[name][0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # pragma: no cover - parent package missing
        return False


class MassGenGroup(click.Group):
    """A group whose commands load lazily and whose default command is ``run``."""

    _plugin_commands_loaded = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {n for n in LAZY_COMMANDS if _available(n)} | set(self.commands)
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name in LAZY_COMMANDS and _available(name):
            module_name, attr = LAZY_COMMANDS[name]
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            self.add_command(command, name)
            return command
        if not self._plugin_commands_loaded:
            self.load_plugin_commands()
            return self.commands.get(name)
        return None

    def load_plugin_commands(self) -> None:
        """Let plugins add sub-commands; a plugin that fails here is reported, not fatal."""
        from massgen_core.plugins import get_plugin_manager

        self._plugin_commands_loaded = True
        manager = get_plugin_manager()
        for impl in manager.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as exc:
                click.echo(inert(f"massgen: warning: plugin {impl.plugin_name} failed to add commands: {exc}"), err=True)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands section of ``massgen --help``, importing no command module to write it."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:  # a stand-in shortens the text exactly as the command would
                rows.append((name, click.Command(name, help=LAZY_HELP[name]).get_short_help_str(limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def is_command(self, name: str) -> bool:
        if name in LAZY_COMMANDS:
            return _available(name)
        if name.startswith("-"):
            return False
        if not self._plugin_commands_loaded:
            self.load_plugin_commands()
        return name in self.commands

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        i = 0
        while i < len(args) and args[i] in GLOBAL_FLAGS:
            i += 1
        if i == len(args) or not (args[i] in ("--help", "-h", "--version") or self.is_command(args[i])):
            args = [*args[:i], "run", *args[i:]]
        return super().parse_args(ctx, args)


@click.group(
    cls=MassGenGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=(
        'Without a command, runs a session: massgen [--config FILE] "question" (see massgen run --help). '
        "Installed plugins may add commands (such as serve); they are not imported for this help: "
        "massgen COMMAND --help works for each."
    ),
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs (with redacted HTTP traces).")
@click.version_option(__version__, prog_name="massgen")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """MassGen: several LLM agents answer, read each other's answers and vote; the winner presents."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug or ctx.obj.get("debug", False)
    if ctx.obj["debug"]:
        os.environ["MASSGEN_DEBUG"] = "1"


def main(argv: Sequence[str] | None = None) -> Any:
    """Run the CLI; errors become one line on stderr and a non-zero exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MASSGEN_DEBUG") == "1"
    startup.pause()  # until the first request or the end of the command (massgen_core.startup)
    if not HELP_FLAGS.intersection(args):  # help imports no attrs: it need not load attrs' cache
        from massgen_core import attrs_cache

        attrs_cache.install()
    try:
        return cli.main(args=args, prog_name="massgen", standalone_mode=False, obj={"debug": debug})
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("massgen: interrupted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # ``massgen conversations``: asking for its help
        click.echo(exc.format_message())
        sys.exit(0)
    except click.UsageError as exc:  # an unknown option, a missing or bad argument: a usage error, exit 1
        where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        click.echo(inert(f"massgen: error: {' '.join(exc.format_message().split())}{where}"), err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(inert(f"massgen: error: {' '.join(exc.format_message().split())}"), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("massgen: interrupted", err=True)
        sys.exit(130)
    except MassGenError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        for line in str(exc).splitlines() or [""]:  # one line per problem
            click.echo(f"massgen: error: {inert(line)}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.filename is None or exc.errno not in _ENVIRONMENT_ERRNOS:
            _internal_error(exc, debug)
        if debug:
            import traceback

            traceback.print_exc()
        # The file system said no (read-only, not a directory, no space): the user's to fix, not a bug.
        click.echo(inert(f"massgen: error: {exc.filename}: {exc.strerror}"), err=True)
        sys.exit(1)
    except Exception as exc:
        _internal_error(exc, debug)
    finally:
        startup.resume()


def _internal_error(exc: BaseException, debug: bool) -> NoReturn:
    """A bug in MassGen: one line (the traceback with --debug) and exit code 2."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    click.echo(
        inert(f"massgen: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"),
        err=True,
    )
    sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
