"""MassGen plugin ``massgen-python-tool``: the ``python`` function tool.

Registers one tool that runs a Python snippet in a sandbox (see ``sandbox``
and ``jail``) under time, memory and output limits, and returns its exit
status, stdout and stderr as text; and the ``massgen sandbox`` command, which
says which protections hold on this machine. No agent is offered the tool
unless its config names it (``tools: [python]``). The tool is registered as a
``Lazy`` made by ``tool.make_tool`` on first use (reading the limits from the
environment then), so loading the plugin imports nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

if TYPE_CHECKING:
    import click


@hookimpl
def register_tools(register: Callable[..., None]) -> None:
    register(Lazy.made_by("massgen_python_tool.tool:make_tool", name="python"))


@hookimpl
def register_commands(cli: click.Group) -> None:
    from massgen_python_tool.command import sandbox_command

    cli.add_command(sandbox_command)


__getattr__ = forward_to(__name__, "tool")  # make_tool, Limits, run_snippet...: on first use

__all__ = ["register_commands", "register_tools"]
