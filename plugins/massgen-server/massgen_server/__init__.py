"""MassGen plugin that adds ``massgen serve``: an HTTP API to run sessions and read conversations.

Only the click command is defined at import time; Starlette and uvicorn are
imported when the command runs, so ``massgen --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from massgen_core.hookspecs import hookimpl

if TYPE_CHECKING:
    import click


@hookimpl
def register_commands(cli: click.Group) -> None:
    from massgen_server.command import serve

    cli.add_command(serve)
