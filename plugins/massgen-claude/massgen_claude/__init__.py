"""MassGen plugin ``massgen-claude``: the ``claude`` backend (Anthropic Messages API).

Registers ``ClaudeBackend`` for config ``type: claude`` and model names
``claude-*``. The plugin holds no state of its own; see ``backend``.
"""

from __future__ import annotations

from typing import Any

from massgen_claude.backend import ClaudeBackend
from massgen_claude.wire import ClaudeOptions
from massgen_core.hookspecs import hookimpl


@hookimpl
def register_backends(register: Any) -> None:
    register(ClaudeBackend)


__all__ = ["ClaudeBackend", "ClaudeOptions", "register_backends"]
