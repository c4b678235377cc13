"""MassGen plugin ``massgen-openai-compatible``: any OpenAI-compatible Chat Completions server.

``type: chatcompletion`` talks to the server at ``base_url``; the presets
(``ollama``, ``vllm``, ``lmstudio``, ``llamacpp``, ``sglang`` for local servers,
free and keyless; ``together``, ``groq``, ``openrouter``, ``deepseek``,
``mistral``, ``cerebras``, ``fireworks`` for hosted ones) only fill in the base
URL, key variable and prices (``presets``). The wire format lives in
``massgen_core.http.openai_chat``. Each type is registered as a ``Lazy``:
``backend`` is imported when a backend is first built.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

OPTIONS = "massgen_openai_compatible.options:CompatOptions"
# the names of the presets in ``presets.PRESETS`` (a test keeps the two equal)
PRESET_NAMES = (
    "ollama", "vllm", "lmstudio", "llamacpp", "sglang",
    "together", "groq", "openrouter", "deepseek", "mistral", "cerebras", "fireworks",
)
BACKENDS = (
    Lazy(
        "massgen_openai_compatible.backend:ChatCompletionBackend",
        name="chatcompletion",
        Options=OPTIONS,
        required_keys=("model", "base_url"),
    ),
    *(  # a preset carries its server's base URL
        Lazy(
            f"massgen_openai_compatible.backend:PRESET_CLASSES.{name}",
            name=name,
            Options=OPTIONS,
            required_keys=("model",),
        )
        for name in PRESET_NAMES
    ),
)


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    for backend in BACKENDS:
        register(backend)


__getattr__ = forward_to(__name__, "backend")  # ChatCompletionBackend, PRESET_BACKENDS: on first use

__all__ = ["BACKENDS", "PRESET_NAMES", "register_backends"]
