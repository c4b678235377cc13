"""MassGen plugin ``massgen-openai``: OpenAI, through the Responses API (default) or Chat Completions.

``type: openai`` serves ``gpt-*``, ``o1*``, ``o3*``, ``o4*`` and ``chatgpt-*``
(see ``backend``). Registered as a ``Lazy``: loading the plugin imports only
the options class; the backend module loads when a backend is first built.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

BACKEND = Lazy(
    "massgen_openai.backend:OpenAIBackend",
    name="openai",
    required_keys=("model",),
    description="OpenAI (Responses API; api: chat_completions for Chat Completions)",
    model_patterns=("gpt-*", "o1*", "o3*", "o4*", "chatgpt-*"),
    Options="massgen_openai.options:OpenAIOptions",
)


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # OpenAIBackend, PRICES: imported on first use

__all__ = ["BACKEND", "register_backends"]
