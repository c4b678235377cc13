"""``massgen [OPTIONS] ["question"]``: the v0.0.3 command line, plus our additions.

This module only declares the options; ``massgen_core.cli.run_impl.execute``
does the work (config resolution, the session, displays, recording). The
parsed options are a ``RunOptions`` (massgen_core.cli.options, re-exported
here), so run_impl never imports this module and the two form no cycle.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from massgen_core.cli.options import RunOptions

__all__ = ["RunOptions", "run"]


def _samples(ctx: click.Context) -> None:
    from massgen_core.cli.samples import samples_text

    click.echo(samples_text())
    ctx.exit(0)


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
@click.option("--image", "images", multiple=True, metavar="PATH_OR_URL", help="Attach an image (PNG, JPEG, GIF, WebP file or http(s) URL; repeatable).")
@click.option("--file", "files", multiple=True, metavar="PATH", help="Attach a file: PDF or UTF-8 text, or an image (repeatable).")
@click.option("--continue", "continue_latest", is_flag=True, help="Continue the latest conversation.")
@click.option("--resume", metavar="ID", help="Continue the conversation with this id (or unambiguous prefix).")
@click.option("-q", "--quiet", "quiet", count=True, help="Less output (-q: final answer only).")
@click.option("-v", "--verbose", "verbose", count=True, help="More output (-v: reasoning and tools, -vv: debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--profile", is_flag=True, help="At the end, the time and CPU of each phase (also in --json).")
@click.option(
    "--create-samples",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, param, value: _samples(ctx) if value else None,
    help="Show where the sample configs are and how to run or copy one (v0.0.3 habit).",
)
@click.pass_context
def run(ctx: click.Context, /, quiet: int, verbose: int, debug: bool, **kwargs: Any) -> None:
    """Run one question through the agents (no question: interactive mode)."""
    from massgen_core.cli.run_impl import execute

    debug = debug or bool((ctx.obj or {}).get("debug"))
    verbosity = max(0, min(3, 1 + verbose - quiet + (2 if debug else 0)))
    options = RunOptions(verbosity=verbosity, debug=debug, **kwargs)
    sys.exit(execute(options))
