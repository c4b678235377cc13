"""MassGen plugin ``massgen-gemini``: the ``gemini`` backend (Gemini streamGenerateContent).

Registers ``GeminiBackend`` for config ``type: gemini`` and model names
``gemini-*`` as a ``Lazy``: loading the plugin imports only the options
class, and ``massgen_gemini.backend`` is imported when a backend is first
built. The plugin holds no state of its own; see ``backend``.
"""

from __future__ import annotations

from typing import Any

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

BACKEND = Lazy(
    "massgen_gemini.backend:GeminiBackend",
    name="gemini",
    required_keys=("model",),
    also_known_as=("google",),
    description="Google Gemini (streamGenerateContent)",
    model_patterns=("gemini-*",),
    Options="massgen_gemini.options:GeminiOptions",
)


@hookimpl
def register_backends(register: Any) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # GeminiBackend: imported on first use

__all__ = ["BACKEND", "register_backends"]
