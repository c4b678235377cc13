"""The named presets of OpenAI-compatible servers: base URL, key variable, prices.

Local servers (``ollama``, ``vllm``, ``lmstudio``, ``llamacpp``, ``sglang``) are
free and need no key, but send one when the config or their optional key
variable (``VLLM_API_KEY``...) has it; hosted ones need their provider's key. Plain data, cheap to
import: the plugin registers one backend type per preset from this table.
"""

from __future__ import annotations

import attrs

from massgen_core.http.pricing import FREE, Price, PriceTable


@attrs.frozen(kw_only=True)
class Preset:
    name: str
    base_url: str
    key_env: tuple[str, ...] = ()
    local: bool = False
    prices: PriceTable = attrs.Factory(dict)
    description: str = ""
    json_format: str = "json_schema"  # how the server takes a JSON schema (response_format)
    concurrency: int | None = None  # requests at a time per base URL (None: no limit)
    text_only_models: tuple[str, ...] = ()  # models known to take no images


# Local servers need no key, but one started with --api-key wants it: it is taken from the config
# or, optionally, from the variable named here (the one the server itself reads, where it has one).
LOCAL_PRESETS = (
    Preset(name="ollama", base_url="http://localhost:11434/v1", key_env=("OLLAMA_API_KEY",), local=True,
           description="Ollama local server"),
    Preset(name="vllm", base_url="http://localhost:8000/v1", key_env=("VLLM_API_KEY",), local=True,
           description="vLLM local server"),
    Preset(name="lmstudio", base_url="http://localhost:1234/v1", key_env=("LMSTUDIO_API_KEY",), local=True,
           description="LM Studio local server"),
    Preset(name="llamacpp", base_url="http://localhost:8080/v1", key_env=("LLAMACPP_API_KEY", "LLAMA_API_KEY"),
           local=True, description="llama.cpp server or llama-cpp-python", json_format="json_object", concurrency=1),
    Preset(name="sglang", base_url="http://localhost:30000/v1", key_env=("SGLANG_API_KEY",), local=True,
           description="SGLang local server"),
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
           description="DeepSeek", text_only_models=("*",)),
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
    from massgen_core.http._httpx import httpx  # lazily: loading plugins must stay cheap (see massgen_core/http/__init__.py)

    try:
        host = httpx.URL(base_url).host
    except httpx.InvalidURL:
        return None
    for preset in HOSTED_PRESETS:
        if httpx.URL(preset.base_url).host == host:
            return preset
    return None


__all__ = ["HOSTED_PRESETS", "LOCAL_PRESETS", "PRESETS", "Preset", "preset_for_url"]
