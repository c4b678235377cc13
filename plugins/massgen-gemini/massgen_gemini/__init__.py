"""MassGen plugin ``massgen-gemini``: the ``gemini`` backend (Gemini streamGenerateContent).

Registers ``GeminiBackend`` for config ``type: gemini`` and model names
``gemini-*``. The plugin holds no state of its own; see ``backend``.
"""

from __future__ import annotations

from typing import Any

from massgen_core.hookspecs import hookimpl
from massgen_gemini.backend import GeminiBackend
from massgen_gemini.wire import GeminiOptions


@hookimpl
def register_backends(register: Any) -> None:
    register(GeminiBackend)


__all__ = ["GeminiBackend", "GeminiOptions", "register_backends"]
