"""``massgen [OPTIONS] ["question"]``: the v0.0.3 command line, plus our additions.

This module only declares the options; ``massgen_core.cli.run_impl.execute``
does the work (config resolution, the session, displays, recording).
"""

from __future__ import annotations

import sys
from typing import Any

import attrs
import click


@attrs.frozen(kw_only=True)
class RunOptions:
    question: str | None = None
    config: str | None = None
    backend: str | None = None
    model: str | None = None
    base_url: str | None = None
    system_message: str | None = None
    no_display: bool = False
    no_logs: bool = False
    json_output: bool = False
    json_lines: bool = False
    env: str | None = None
    preset: str | None = None
    template: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    continue_latest: bool = False
    resume: str | None = None
    verbosity: int = 1  # 0 final answer only, 1 normal, 2 verbose, 3 debug
    debug: bool = False
    profile: bool = False


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("question", required=False)
@click.option("--config", "-c", "config", metavar="FILE", help="Config file (YAML or JSON), or the name of a bundled config.")
@click.option("--backend", metavar="TYPE", help="Backend type for a single agent without a config file.")
@click.option("--model", metavar="NAME", help="Model name; the backend type is inferred when possible.")
@click.option("--base-url", metavar="URL", help="Base URL of the backend's API.")
@click.option("--system-message", metavar="TEXT", help="System message for the agent(s).")
@click.option("--no-display", is_flag=True, help="No live view: plain progress on stderr, final answer on stdout.")
@click.option("--no-logs", is_flag=True, help="Do not record this session in the conversation store.")
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object with the result at the end.")
@click.option("--jsonl", "json_lines", is_flag=True, help="Stream every event as a JSON line on stdout.")
@click.option("--env", metavar="NAME", help="Apply the named environment overlay from the config.")
@click.option("--preset", metavar="NAME", help="Run with a saved preset configuration.")
@click.option("--template", metavar="NAME", help="Build the question from a saved template.")
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="KEY VALUE", help="Template variable (repeatable).")
@click.option("--continue", "continue_latest", is_flag=True, help="Continue the latest conversation.")
@click.option("--resume", metavar="ID", help="Continue the conversation with this id (or unambiguous prefix).")
@click.option("-q", "--quiet", "quiet", count=True, help="Less output (-q: final answer only).")
@click.option("-v", "--verbose", "verbose", count=True, help="More output (-v: reasoning and tools, -vv: debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--profile", is_flag=True, help="At the end, the time and CPU of each phase (also in --json).")
@click.pass_context
def run(ctx: click.Context, /, quiet: int, verbose: int, debug: bool, **kwargs: Any) -> None:
    """Run one question through the agents (no question: interactive mode)."""
    from massgen_core.cli.run_impl import execute

    debug = debug or bool((ctx.obj or {}).get("debug"))
    verbosity = max(0, min(3, 1 + verbose - quiet + (2 if debug else 0)))
    options = RunOptions(verbosity=verbosity, debug=debug, **kwargs)
    sys.exit(execute(options))
