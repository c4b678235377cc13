"""MassGen plugin ``massgen-python-tool``: the ``python`` function tool.

Registers one tool that runs a Python snippet in a resource-limited
subprocess (see ``runner``) and returns its exit status, stdout and stderr as
text. It is a convenience with limits, not a security sandbox; the README
says what it does not protect against. The tool is registered as a ``Lazy``
made by ``tool.make_tool`` on first use (reading the limits from the
environment then), so loading the plugin imports nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to


@hookimpl
def register_tools(register: Callable[..., None]) -> None:
    register(Lazy.made_by("massgen_python_tool.tool:make_tool", name="python"))


__getattr__ = forward_to(__name__, "tool")  # make_tool, Limits, run_snippet...: on first use

__all__ = ["register_tools"]
