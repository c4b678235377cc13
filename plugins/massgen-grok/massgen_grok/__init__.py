"""MassGen plugin ``massgen-grok``: xAI Grok through its OpenAI-compatible Chat Completions API.

``type: grok`` serves ``grok-*`` at ``https://api.x.ai/v1`` with the key from
``XAI_API_KEY`` (see ``backend``). Registered as a ``Lazy``: loading the plugin
imports only the options class; the backend module loads when first used.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

BACKEND = Lazy(
    "massgen_grok.backend:GrokBackend",
    name="grok",
    required_keys=("model",),
    also_known_as=("xai",),
    description="xAI Grok (OpenAI-compatible, Live Search)",
    model_patterns=("grok-*",),
    Options="massgen_grok.options:GrokOptions",
)


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # GrokBackend, PRICES: imported on first use

__all__ = ["BACKEND", "register_backends"]
