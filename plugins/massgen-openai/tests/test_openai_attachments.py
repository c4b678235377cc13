"""Attachments on both OpenAI APIs: Responses ``input_image``/``input_file``, Chat ``image_url``/``file``."""

from __future__ import annotations

from pathlib import Path

import pytest
from massgen_openai import OpenAIBackend

from massgen_core.backend import BackendContext, Message, Request
from massgen_core.config.schema import BackendConfig
from massgen_core.content import load_attachment, with_attachments
from massgen_core.http.errors import UnsupportedContentError
from massgen_core.testing import media
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_stream, responses_stream


pytestmark = pytest.mark.usefixtures("massgen_http_cleanup")


@pytest.fixture
def server(fake_server):
    return fake_server


def backend(server, model="gpt-4o", api="responses"):
    return OpenAIBackend(BackendConfig(type="openai", model=model, api_key="sk-openai-test-0123456789",
                                       base_url=server.url + "/v1", max_retries=0, options={"api": api}),
                         BackendContext(agent_id="vision"))


@pytest.fixture
def parts(tmp_path: Path):
    image = load_attachment(media.write(tmp_path, "cat.jpg", media.jpeg()))
    pdf = load_attachment(media.write(tmp_path, "report.pdf", media.pdf()))
    notes = load_attachment(media.write(tmp_path, "notes.txt", b"remember the milk"))
    url = load_attachment("https://example.invalid/dog.png", expect="image")
    return image, pdf, notes, url


def _request(attachments) -> Request:
    return Request(messages=(Message(role="user", content=with_attachments("What is this?", attachments)),))


async def test_responses_api_sends_input_image_and_input_file(server, parts):
    image, pdf, notes, url = parts
    server.add("POST", "/v1/responses", responses_stream(["A cat."]))
    got = await collect(backend(server), _request(parts))
    assert got["text"] == "A cat."
    assert server.requests[0].json()["input"] == [{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": "data:image/jpeg;base64," + image.base64},
        {"type": "input_file", "filename": "report.pdf", "file_data": "data:application/pdf;base64," + pdf.base64},
        {"type": "input_text", "text": "<FILE notes.txt>\nremember the milk\n<END OF FILE notes.txt>"},
        {"type": "input_image", "image_url": "https://example.invalid/dog.png"},
    ]}]


async def test_chat_completions_sends_image_url_and_file_parts(server, parts):
    image, pdf, notes, url = parts
    server.add("POST", "/v1/chat/completions", chat_stream(["A cat."]))
    await collect(backend(server, api="chat_completions"), _request(parts))
    assert server.requests[0].json()["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + image.base64}},
        {"type": "file", "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64," + pdf.base64}},
        {"type": "text", "text": "<FILE notes.txt>\nremember the milk\n<END OF FILE notes.txt>"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/dog.png"}},
    ]}]


async def test_a_text_only_model_refuses_images_naming_agent_and_model(server, parts):
    with pytest.raises(UnsupportedContentError) as caught:
        await collect(backend(server, model="gpt-3.5-turbo"), _request(parts[:1]))
    assert "agent vision: openai backend (model gpt-3.5-turbo" in str(caught.value)
    assert "image 'cat.jpg' (image/jpeg" in str(caught.value) and "model gpt-3.5-turbo takes no images" in str(caught.value)
    assert server.requests == []


async def test_a_text_file_goes_even_to_a_text_only_model(server, parts):
    server.add("POST", "/v1/responses", responses_stream(["ok"]))
    await collect(backend(server, model="gpt-3.5-turbo"), _request(parts[2:3]))
    assert server.requests[0].json()["input"][0]["content"][1]["type"] == "input_text"
