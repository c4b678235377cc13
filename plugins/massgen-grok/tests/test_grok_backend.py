"""The grok backend: Live Search parameters, citations, key, prices."""

from __future__ import annotations

import pytest
from massgen_grok import GrokBackend

from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.http import MissingKeyError, aclose_all
from massgen_core.testing import FakeServer
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_stream


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    await aclose_all()


def grok(server, **options):
    return GrokBackend(BackendConfig(type="grok", model="grok-3", api_key="xai-test-key-000000",
                                     base_url=server.url + "/v1", max_retries=0, temperature=0.2, options=options))


async def test_web_search_sends_search_parameters_and_keeps_citations(server):
    server.add("POST", "/v1/chat/completions", chat_stream(
        ["Paris."], extra={"citations": ["https://a.example", "https://b.example"]}, usage=(100, 10)))
    got = await collect(grok(server, enable_web_search=True, max_search_results=5))
    body = server.requests[0].json()
    assert body["search_parameters"] == {"mode": "auto", "return_citations": True, "max_search_results": 5}
    assert body["temperature"] == 0.2 and body["model"] == "grok-3"
    assert got["text"] == "Paris."
    assert got["done"].citations == ({"url": "https://a.example"}, {"url": "https://b.example"})
    assert got["usage"].cost_usd == pytest.approx((100 * 3 + 10 * 15) / 1e6)


async def test_explicit_search_mode_and_citations_off(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    await collect(grok(server, search_mode="on", return_citations=False, reasoning_effort="low"))
    body = server.requests[0].json()
    assert body["search_parameters"] == {"mode": "on", "return_citations": False}
    assert body["reasoning_effort"] == "low"


async def test_no_search_options_means_no_search_parameters(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    await collect(grok(server))
    assert "search_parameters" not in server.requests[0].json()


async def test_missing_key_names_xai_api_key(server):
    b = GrokBackend(BackendConfig(type="grok", model="grok-4", base_url=server.url + "/v1"))
    with pytest.raises(MissingKeyError, match="XAI_API_KEY"):
        await collect(b)


def test_defaults_and_validation():
    assert GrokBackend.default_base_url == "https://api.x.ai/v1" and GrokBackend.serves_model("grok-4")
    with pytest.raises(MassGenError):
        GrokBackend(BackendConfig(type="grok", model="grok-3", options={"search_mode": "sometimes"}))


def test_legacy_grok_configs_load_and_build(shared_dir, installed_plugins):
    from massgen_core import config as cfg
    from massgen_core.backend_factory import create_backend

    built = 0
    for path in sorted((shared_dir / "legacy-configs").glob("*.yaml")):
        for agent in cfg.load_config(path, manager=installed_plugins).agents:
            if agent.backend is not None and agent.backend.type == "grok":
                create_backend(agent.backend, None, installed_plugins)
                built += 1
    assert built >= 10


async def test_a_vision_model_gets_image_url_parts_and_grok_3_refuses_images(server, tmp_path):
    from massgen_core.backend import Message, Request
    from massgen_core.content import load_attachment, with_attachments
    from massgen_core.http.errors import UnsupportedContentError
    from massgen_core.testing import media

    image = load_attachment(media.write(tmp_path, "p.png", media.png()))
    request = Request(messages=(Message(role="user", content=with_attachments("What?", [image])),))
    server.add("POST", "/v1/chat/completions", chat_stream(["A pixel."]))
    vision = GrokBackend(BackendConfig(type="grok", model="grok-4", api_key="xai-test-key-000000",
                                       base_url=server.url + "/v1", max_retries=0))
    assert (await collect(vision, request))["text"] == "A pixel."
    assert server.requests[0].json()["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": image.data_url}}
    with pytest.raises(UnsupportedContentError, match="model grok-3 takes no images"):
        await collect(grok(server), request)
    assert len(server.requests) == 1
