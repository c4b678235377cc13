"""OpenAI-compatible servers and presets: base URLs, keys, cost, non-streamed answers, health."""

from __future__ import annotations

import pytest
from massgen_openai_compatible import PRESET_BACKENDS, PRESETS, ChatCompletionBackend, preset_for_url

from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.http import MissingKeyError, aclose_all
from massgen_core.testing import FakeServer
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_completion, chat_stream, models_response


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    await aclose_all()


LOCAL = [
    ("ollama", "http://localhost:11434/v1", "OLLAMA_API_KEY"), ("vllm", "http://localhost:8000/v1", "VLLM_API_KEY"),
    ("lmstudio", "http://localhost:1234/v1", "LMSTUDIO_API_KEY"),
    ("llamacpp", "http://localhost:8080/v1", "LLAMACPP_API_KEY"), ("sglang", "http://localhost:30000/v1", "SGLANG_API_KEY"),
]


@pytest.mark.parametrize(("name", "url", "var"), LOCAL)
def test_local_presets_default_to_their_server_need_no_key_and_cost_nothing(name, url, var, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./.env
    monkeypatch.delenv(var, raising=False)
    cls = PRESET_BACKENDS[name]
    b = cls(BackendConfig(type=name, model="m"))
    assert b.base_url == url and b.key_env[0] == var and b.api_key() is None and b.free
    b.preflight()  # no key is no error


@pytest.mark.parametrize(("name", "url", "var"), LOCAL)
async def test_local_presets_send_the_key_from_their_environment_variable(name, url, var, monkeypatch, server):
    monkeypatch.setenv(var, f"sk-local-{name}")
    server.add("POST", "/v1/chat/completions", chat_stream(["hi"]))
    b = PRESET_BACKENDS[name](BackendConfig(type=name, model="m", base_url=server.url + "/v1"))
    assert (await collect(b))["text"] == "hi"
    assert server.requests[0].header("authorization") == f"Bearer sk-local-{name}"


def test_llamacpp_also_reads_the_variable_llama_server_itself_reads(monkeypatch):
    monkeypatch.delenv("LLAMACPP_API_KEY", raising=False)
    monkeypatch.setenv("LLAMA_API_KEY", "sk-llama")
    b = PRESET_BACKENDS["llamacpp"](BackendConfig(type="llamacpp", model="m"))
    assert b.api_key() == "sk-llama"


@pytest.mark.parametrize(("name", "var"), [
    ("together", "TOGETHER_API_KEY"), ("groq", "GROQ_API_KEY"), ("openrouter", "OPENROUTER_API_KEY"),
    ("deepseek", "DEEPSEEK_API_KEY"), ("mistral", "MISTRAL_API_KEY"), ("cerebras", "CEREBRAS_API_KEY"),
    ("fireworks", "FIREWORKS_API_KEY"),
])
def test_hosted_presets_require_their_key_variable(name, var):
    b = PRESET_BACKENDS[name](BackendConfig(type=name, model="m"))
    assert b.base_url.startswith("https://")
    with pytest.raises(MissingKeyError, match=var):
        b.api_key()


async def test_local_preset_streams_free_of_charge_without_authorization(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["hi"], reasoning_pieces=["hmm"], usage=(10**6, 10**6)))
    b = PRESET_BACKENDS["ollama"](BackendConfig(type="ollama", model="llama3.2", base_url=server.url + "/v1",
                                                max_tokens=64))
    got = await collect(b)
    assert got["text"] == "hi" and got["reasoning"] == "hmm" and got["usage"].cost_usd == 0.0
    assert server.requests[0].header("authorization") is None
    assert server.requests[0].json()["max_tokens"] == 64


async def test_local_preset_sends_a_key_when_one_is_configured(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["hi"]))
    b = PRESET_BACKENDS["vllm"](BackendConfig(type="vllm", model="m", api_key="local-token-1",
                                              base_url=server.url + "/v1"))
    await collect(b)
    assert server.requests[0].header("authorization") == "Bearer local-token-1"


async def test_non_streamed_mode_reads_one_json_answer_with_tool_calls(server):
    server.add("POST", "/v1/chat/completions", chat_completion("", tool_calls=[("c1", "lookup", '{"q": "x"}')]))
    b = ChatCompletionBackend(BackendConfig(type="chatcompletion", model="m", base_url=server.url + "/v1",
                                            options={"stream": False, "reasoning_effort": "low",
                                                     "extra_body": {"top_k": 5}}))
    got = await collect(b)
    body = server.requests[0].json()
    assert body["stream"] is False and "stream_options" not in body
    assert body["reasoning_effort"] == "low" and body["top_k"] == 5
    assert [(c.id, c.name, c.arguments) for c in got["calls"]] == [("c1", "lookup", {"q": "x"})]
    assert got["done"].finish_reason == "tool_calls"


async def test_non_streamed_error_object_is_raised(server):
    from massgen_core.http import BadRequestError
    from massgen_core.testing import Response

    server.add("POST", "/v1/chat/completions", Response.json({"error": {"message": "bad model", "code": 400}}))
    b = ChatCompletionBackend(BackendConfig(type="chatcompletion", model="m", base_url=server.url + "/v1",
                                            max_retries=0, options={"stream": False}))
    with pytest.raises(BadRequestError, match="bad model"):
        await collect(b)
    server.add("POST", "/v1/chat/completions", Response.json([1, 2]))
    with pytest.raises(Exception, match="not a JSON object"):
        await collect(b)


def test_chatcompletion_on_a_known_host_uses_that_host_key_and_prices(monkeypatch):
    b = ChatCompletionBackend(BackendConfig(type="chatcompletion", model="gpt-oss-120b",
                                            base_url="https://api.cerebras.ai/v1"))
    assert b.key_env == ("CEREBRAS_API_KEY",) and b.price_table is PRESETS["cerebras"].prices
    with pytest.raises(MissingKeyError, match="CEREBRAS_API_KEY"):
        b.api_key()
    assert preset_for_url(None) is None and preset_for_url("::") is None


def test_chatcompletion_needs_a_base_url():
    with pytest.raises(MassGenError, match="needs base_url"):
        ChatCompletionBackend(BackendConfig(type="chatcompletion", model="m"))


async def test_health_check_of_a_local_server_lists_its_models(server):
    server.add("GET", "/v1/models", models_response(["llama3.2:latest", "qwen3:0.6b"]))
    b = PRESET_BACKENDS["ollama"](BackendConfig(type="ollama", model="llama3.2", base_url=server.url + "/v1"))
    health = await b.health_check()
    assert health.ok and health.models == ("llama3.2:latest", "qwen3:0.6b")


def test_model_lists_in_ollama_shape_are_read():
    b = PRESET_BACKENDS["ollama"](BackendConfig(type="ollama", model="m"))
    assert b.parse_models({"models": [{"name": "a"}, {"model": "b"}, "junk"]}) == ("a",)
    assert b.parse_models([1]) == ()


def test_legacy_chatcompletion_configs_have_their_endpoint_suffix_stripped(shared_dir, installed_plugins):
    from massgen_core import config as cfg
    from massgen_core.backend_factory import create_backend

    found = 0
    for path in sorted((shared_dir / "legacy-configs").glob("*.yaml")):
        for agent in cfg.load_config(path, manager=installed_plugins).agents:
            if agent.backend is not None and agent.backend.type == "chatcompletion":
                b = create_backend(agent.backend, None, installed_plugins)
                assert b.base_url == "https://api.cerebras.ai/v1"
                found += 1
    assert found == 3


def test_the_lazy_registrations_cover_exactly_the_preset_table():
    import massgen_openai_compatible as plugin

    assert plugin.PRESET_NAMES == tuple(PRESETS)
    assert [lazy.name for lazy in plugin.BACKENDS] == ["chatcompletion", *PRESETS]
    for lazy in plugin.BACKENDS:  # each declaration agrees with the class it names
        assert lazy.load().name == lazy.name and lazy.Options is lazy.load().Options
