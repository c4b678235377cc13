"""MassGen plugin ``massgen-claude``: the ``claude`` backend (Anthropic Messages API).

Registers ``ClaudeBackend`` for config ``type: claude`` and model names
``claude-*`` as a ``Lazy``: loading the plugin imports only the options
class, and ``massgen_claude.backend`` (the HTTP layer, wire format and stream
parser) is imported when a backend is first built. The plugin holds no state
of its own; see ``backend``.
"""

from __future__ import annotations

from typing import Any

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

BACKEND = Lazy(
    "massgen_claude.backend:ClaudeBackend",
    name="claude",
    required_keys=("model",),
    also_known_as=("anthropic",),
    description="Anthropic Claude (Messages API)",
    model_patterns=("claude-*",),
    Options="massgen_claude.options:ClaudeOptions",
)


@hookimpl
def register_backends(register: Any) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # ClaudeBackend: imported on first use

__all__ = ["BACKEND", "register_backends"]
