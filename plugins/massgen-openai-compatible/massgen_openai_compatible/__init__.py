"""MassGen plugin: any OpenAI-compatible Chat Completions server, plus named presets.

``type: chatcompletion`` talks to the server at ``base_url``; the presets
(``ollama``, ``vllm``, ``lmstudio``, ``llamacpp``, ``sglang`` for local servers,
free and keyless; ``together``, ``groq``, ``openrouter``, ``deepseek``,
``mistral``, ``cerebras``, ``fireworks`` for hosted ones) only fill in the base
URL, key variable and prices. The wire format lives in
``massgen_core.http.openai_chat``; this module adds no protocol of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from massgen_core.backend import Request
from massgen_core.hookspecs import hookimpl
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.http.pricing import FREE, Price, PriceTable


@attrs.frozen(kw_only=True)
class CompatOptions:
    stream: bool = True
    reasoning_effort: str | None = None
    enable_web_search: bool | None = None  # accepted for config compatibility; generic servers have none
    extra_body: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen(kw_only=True)
class Preset:
    name: str
    base_url: str
    key_env: tuple[str, ...] = ()
    local: bool = False
    prices: PriceTable = attrs.Factory(dict)
    description: str = ""


LOCAL_PRESETS = (
    Preset(name="ollama", base_url="http://localhost:11434/v1", local=True, description="Ollama local server"),
    Preset(name="vllm", base_url="http://localhost:8000/v1", local=True, description="vLLM local server"),
    Preset(name="lmstudio", base_url="http://localhost:1234/v1", local=True, description="LM Studio local server"),
    Preset(name="llamacpp", base_url="http://localhost:8080/v1", local=True, description="llama.cpp server"),
    Preset(name="sglang", base_url="http://localhost:30000/v1", local=True, description="SGLang local server"),
)
HOSTED_PRESETS = (
    Preset(name="together", base_url="https://api.together.xyz/v1", key_env=("TOGETHER_API_KEY",),
           prices={"meta-llama/*": Price(0.88, 0.88), "deepseek-ai/*": Price(1.25, 1.25)},
           description="Together AI"),
    Preset(name="groq", base_url="https://api.groq.com/openai/v1", key_env=("GROQ_API_KEY",),
           prices={"llama-3.3-70b*": Price(0.59, 0.79), "llama-3.1-8b*": Price(0.05, 0.08),
                   "openai/gpt-oss-120b": Price(0.15, 0.75), "openai/gpt-oss-20b": Price(0.10, 0.50)},
           description="Groq"),
    Preset(name="openrouter", base_url="https://openrouter.ai/api/v1", key_env=("OPENROUTER_API_KEY",),
           prices={"*:free": FREE}, description="OpenRouter"),
    Preset(name="deepseek", base_url="https://api.deepseek.com/v1", key_env=("DEEPSEEK_API_KEY",),
           prices={"deepseek-chat": Price(0.27, 1.10, 0.07), "deepseek-reasoner": Price(0.55, 2.19, 0.14)},
           description="DeepSeek"),
    Preset(name="mistral", base_url="https://api.mistral.ai/v1", key_env=("MISTRAL_API_KEY",),
           prices={"mistral-large*": Price(2.0, 6.0), "mistral-small*": Price(0.2, 0.6)},
           description="Mistral AI"),
    Preset(name="cerebras", base_url="https://api.cerebras.ai/v1", key_env=("CEREBRAS_API_KEY",),
           prices={"gpt-oss-120b": Price(0.25, 0.69), "llama3.1-8b": Price(0.10, 0.10)},
           description="Cerebras"),
    Preset(name="fireworks", base_url="https://api.fireworks.ai/inference/v1", key_env=("FIREWORKS_API_KEY",),
           prices={"accounts/fireworks/models/*": Price(0.90, 0.90)}, description="Fireworks AI"),
)
PRESETS = {p.name: p for p in (*LOCAL_PRESETS, *HOSTED_PRESETS)}


def preset_for_url(base_url: str | None) -> Preset | None:
    """The hosted preset whose host ``base_url`` points at (so ``chatcompletion`` finds its key variable)."""
    if not base_url:
        return None
    import httpx  # lazily: loading plugins must stay cheap (see massgen_core/http/__init__.py)

    try:
        host = httpx.URL(base_url).host
    except httpx.InvalidURL:
        return None
    for preset in HOSTED_PRESETS:
        if httpx.URL(preset.base_url).host == host:
            return preset
    return None


class ChatCompletionBackend(ChatCompletionsBackend):
    """``type: chatcompletion``: any OpenAI-compatible endpoint at ``base_url``."""

    name: ClassVar[str] = "chatcompletion"
    Options = CompatOptions
    description: ClassVar[str] = "any OpenAI-compatible Chat Completions endpoint (base_url)"
    key_required: ClassVar[bool] = False

    def __init__(self, config: Any, context: Any = None) -> None:
        super().__init__(config, context)
        hosted = preset_for_url(self.base_url)
        if hosted is not None:  # a known host: its key variable, required, and its prices
            self.key_env = hosted.key_env
            self.key_required = True
            self.price_table = hosted.prices
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

    def build_http_request(self, request: Request) -> Any:
        call = super().build_http_request(request)
        if not self.options.stream:
            body = dict(call.json, stream=False)
            body.pop("stream_options", None)
            call = attrs.evolve(call, json=body, stream=False)
        return call


def _preset_class(preset: Preset) -> type[ChatCompletionBackend]:
    attrs_: dict[str, Any] = {
        "name": preset.name,
        "default_base_url": preset.base_url,
        "key_env": preset.key_env,
        "key_required": not preset.local,
        "free": preset.local,
        "price_table": preset.prices,
        "description": f"{preset.description} ({preset.base_url})",
    }

    def __init__(self: ChatCompletionsBackend, config: Any, context: Any = None) -> None:
        ChatCompletionsBackend.__init__(self, config, context)

    attrs_["__init__"] = __init__
    cls_name = "".join(part.capitalize() for part in preset.name.split("_")) + "Backend"
    return type(cls_name, (ChatCompletionBackend,), attrs_)


PRESET_BACKENDS = {name: _preset_class(p) for name, p in PRESETS.items()}


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(ChatCompletionBackend)
    for cls in PRESET_BACKENDS.values():
        register(cls)
