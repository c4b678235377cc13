"""Attachments on the Messages API: ``image`` blocks (base64 or url source) and ``document`` blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from massgen_core.backend import Message, Request
from massgen_core.content import load_attachment, with_attachments
from massgen_core.http import BadRequestError
from massgen_core.http.errors import UnsupportedContentError
from massgen_core.testing import media
from massgen_core.testing.anthropic import error_response, message_events, stream_response


def _request(*attachments) -> Request:
    return Request(messages=(Message(role="system", content="Be brief."),
                             Message(role="user", content=with_attachments("What is this?", attachments))))


async def test_images_documents_and_text_files_become_blocks(server, make_backend, collect, tmp_path: Path):
    image = load_attachment(media.write(tmp_path, "cat.png", media.png()))
    pdf = load_attachment(media.write(tmp_path, "report.pdf", media.pdf()))
    notes = load_attachment(media.write(tmp_path, "notes.txt", b"remember the milk"))
    url = load_attachment("https://example.invalid/dog.jpg", expect="image")
    server.messages(stream_response(message_events(text="A cat.")))
    chunks = await collect(make_backend(), _request(image, pdf, notes, url))
    body = server.received()[-1]
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image.base64}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf.base64},
         "title": "report.pdf"},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "remember the milk"},
         "title": "notes.txt"},
        {"type": "image", "source": {"type": "url", "url": "https://example.invalid/dog.jpg"}},
    ]}]
    assert "".join(getattr(c, "text", "") for c in chunks) == "A cat."


async def test_an_old_text_only_model_refuses_an_image_before_any_request(server, make_backend, collect, tmp_path):
    image = load_attachment(media.write(tmp_path, "cat.png", media.png()))
    with pytest.raises(UnsupportedContentError) as caught:
        await collect(make_backend(model="claude-2.1"), _request(image))
    message = str(caught.value)
    assert "agent agent1: claude backend (model claude-2.1" in message
    assert "cannot take this attachment: image 'cat.png'" in message and "model claude-2.1 takes no images" in message
    assert caught.value.fatal and server.requests == []


async def test_the_providers_own_refusal_of_an_image_is_a_fatal_bad_request(server, make_backend, collect, tmp_path):
    image = load_attachment(media.write(tmp_path, "cat.png", media.png()))
    server.messages(error_response(400, "messages.0.content.1.image.source.base64: image exceeds 5 MB maximum",
                                   error_type="invalid_request_error"))
    with pytest.raises(BadRequestError, match="image exceeds 5 MB maximum") as caught:
        await collect(make_backend(), _request(image))
    assert caught.value.fatal
