"""OpenAI-compatible servers take images as ``image_url`` parts; PDFs and text-only hosts are refused up front."""

from __future__ import annotations

from pathlib import Path

import pytest
from massgen_openai_compatible import PRESET_BACKENDS, ChatCompletionBackend

from massgen_core.backend import BackendContext, Message, Request
from massgen_core.config.schema import BackendConfig
from massgen_core.content import load_attachment, with_attachments
from massgen_core.http.errors import UnsupportedContentError
from massgen_core.testing import media
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_stream


pytestmark = pytest.mark.usefixtures("massgen_http_cleanup")


@pytest.fixture
def server(fake_server):
    return fake_server


def _request(*attachments) -> Request:
    return Request(messages=(Message(role="user", content=with_attachments("Describe it.", attachments)),))


@pytest.mark.parametrize("kind", ["chatcompletion", "ollama", "vllm", "llamacpp"])
async def test_local_servers_get_image_url_parts_with_data_urls(server, tmp_path: Path, kind):
    image = load_attachment(media.write(tmp_path, "cat.gif", media.gif()))
    server.add("POST", "/v1/chat/completions", chat_stream(["A cat."]))
    cls = ChatCompletionBackend if kind == "chatcompletion" else PRESET_BACKENDS[kind]
    b = cls(BackendConfig(type=kind, model="llava", base_url=server.url + "/v1", max_retries=0))
    got = await collect(b, _request(image))
    assert got["text"] == "A cat."
    assert server.requests[0].json()["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "Describe it."},
        {"type": "image_url", "image_url": {"url": "data:image/gif;base64," + image.base64}},
    ]}]


async def test_a_pdf_is_refused_before_any_request(server, tmp_path: Path):
    pdf = load_attachment(media.write(tmp_path, "report.pdf", media.pdf()))
    b = ChatCompletionBackend(BackendConfig(type="chatcompletion", model="llava", base_url=server.url + "/v1"),
                              BackendContext(agent_id="local"))
    with pytest.raises(UnsupportedContentError,
                       match=r"agent local: chatcompletion backend \(model llava.*pdf 'report.pdf'.*sends no PDF documents"):
        await collect(b, _request(pdf))
    assert server.requests == []


def test_deepseek_takes_no_images_even_through_chatcompletion(tmp_path: Path):
    image = load_attachment(media.write(tmp_path, "cat.png", media.png()))
    from massgen_core.http.parts import refusal

    preset = PRESET_BACKENDS["deepseek"](BackendConfig(type="deepseek", model="deepseek-chat", api_key="k"))
    generic = ChatCompletionBackend(BackendConfig(type="chatcompletion", model="deepseek-chat", api_key="k",
                                                  base_url="https://api.deepseek.com/v1"))
    assert refusal(preset, image) == refusal(generic, image) == "model deepseek-chat takes no images"
