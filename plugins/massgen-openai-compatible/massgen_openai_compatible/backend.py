"""The ``chatcompletion`` backend: any OpenAI-compatible Chat Completions server, plus named presets.

``type: chatcompletion`` talks to the server at ``base_url``; the presets
(``ollama``, ``vllm``, ``lmstudio``, ``llamacpp``, ``sglang`` for local servers,
free and keyless; ``together``, ``groq``, ``openrouter``, ``deepseek``,
``mistral``, ``cerebras``, ``fireworks`` for hosted ones) only fill in the base
URL, key variable and prices (``presets``). The wire format lives in
``massgen_core.http.openai_chat``; this module adds no protocol of its own.
"""

from __future__ import annotations

import types
from typing import Any, ClassVar

from collections.abc import AsyncIterator

from massgen_core.backend import Chunk, Request, ResponseSchema
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_openai_compatible.options import CompatOptions
from massgen_openai_compatible.presets import PRESETS, Preset, preset_for_url


class ChatCompletionBackend(ChatCompletionsBackend):
    """``type: chatcompletion``: any OpenAI-compatible endpoint at ``base_url``."""

    name: ClassVar[str] = "chatcompletion"
    required_keys: ClassVar[tuple[str, ...]] = ("model", "base_url")
    Options = CompatOptions
    description: ClassVar[str] = "any OpenAI-compatible Chat Completions endpoint (base_url)"
    key_required: ClassVar[bool] = False
    concurrency: ClassVar[int | None] = None  # requests at a time per base URL (None: no limit)

    def __init__(self, config: Any, context: Any = None) -> None:
        super().__init__(config, context)
        hosted = preset_for_url(self.base_url)
        if hosted is not None:  # a known host: its key variable, required, and its prices
            # a known host overrides the class defaults for this instance only
            self.key_env = hosted.key_env  # type: ignore[misc]
            self.key_required = True  # type: ignore[misc]
            self.price_table = hosted.prices  # type: ignore[misc]
            self.text_only_models = hosted.text_only_models  # type: ignore[misc]
        elif not self.base_url:
            from massgen_core.errors import MassGenError

            raise MassGenError(
                f"agent {self.context.agent_id}: chatcompletion backend needs base_url "
                "(the server's OpenAI-style URL, e.g. http://localhost:8000/v1)"
            )

    def extra_body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.options.reasoning_effort:
            body["reasoning_effort"] = self.options.reasoning_effort
        body.update(self.options.extra_body)
        return body

    def response_format(self, schema: ResponseSchema, json_format: str | None = None) -> dict[str, Any]:
        return super().response_format(schema, self.options.json_format)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Send ``request``; at most ``max_concurrency`` requests at a time go to one base URL."""
        limit = self.options.max_concurrency if self.options.max_concurrency is not None else self.concurrency
        if not limit:
            async for chunk in super().stream(request):
                yield chunk
            return
        async with _gate(self.base_url, limit):
            async for chunk in super().stream(request):
                yield chunk


_GATES: Any = None  # event loop -> {(base_url, limit): semaphore}; made on first use


def _gate(base_url: str, limit: int) -> Any:
    """The semaphore of ``base_url`` in the running event loop (each loop has its own)."""
    import asyncio
    import weakref

    global _GATES
    if _GATES is None:
        _GATES = weakref.WeakKeyDictionary()
    gates = _GATES.setdefault(asyncio.get_running_loop(), {})
    return gates.setdefault((base_url, limit), asyncio.Semaphore(limit))


def _preset_class(preset: Preset) -> type[ChatCompletionBackend]:
    attrs_: dict[str, Any] = {
        "name": preset.name,
        "default_base_url": preset.base_url,
        "required_keys": ("model",),
        "key_env": preset.key_env,
        "key_required": not preset.local,
        "free": preset.local,
        "price_table": preset.prices,
        "json_format": preset.json_format,
        "concurrency": preset.concurrency,
        "text_only_models": preset.text_only_models,
        "description": f"{preset.description} ({preset.base_url})",
    }

    def __init__(self: ChatCompletionsBackend, config: Any, context: Any = None) -> None:
        ChatCompletionsBackend.__init__(self, config, context)

    attrs_["__init__"] = __init__
    cls_name = "".join(part.capitalize() for part in preset.name.split("_")) + "Backend"
    return type(cls_name, (ChatCompletionBackend,), attrs_)


PRESET_BACKENDS = {name: _preset_class(p) for name, p in PRESETS.items()}
# the same classes as attributes, for the plugin's Lazy registrations ("backend:PRESET_CLASSES.ollama")
PRESET_CLASSES = types.SimpleNamespace(**PRESET_BACKENDS)
