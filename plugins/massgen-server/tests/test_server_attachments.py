"""OpenAI-style content parts on ``/v1/chat/completions``: ``image_url`` and ``file`` parts reach every agent."""

from __future__ import annotations

import base64

import openai
import pytest

from massgen_core.config.loader import config_from_dict
from massgen_core.testing import FakeServer, media
from massgen_core.testing.openai import coordination_handler
from massgen_server.openai_api import ChatError, parse_chat_request

PNG_URL = "data:image/png;base64," + base64.b64encode(media.png()).decode()
PDF_URL = "data:application/pdf;base64," + base64.b64encode(media.pdf()).decode()


def _parse(*parts, role="user"):
    return parse_chat_request({"model": "t", "messages": [{"role": role, "content": [
        {"type": "text", "text": "What is it?"}, *parts]}]})


def test_image_and_file_parts_become_attachments_typed_from_their_bytes():
    chat = _parse({"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
                  {"type": "file", "file": {"filename": "report.pdf", "file_data": PDF_URL}},
                  {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.jpg"}})
    assert chat.question == "What is it?"
    image, pdf, url = chat.attachments
    assert (image.kind, image.media_type, image.name, image.data) == ("image", "image/png", "image1", media.png())
    assert (pdf.kind, pdf.name, pdf.data) == ("pdf", "report.pdf", media.pdf())
    assert (url.url, url.data) == ("https://example.invalid/cat.jpg", b"")
    [unnamed] = _parse({"type": "file", "file": {"file_data": "data:text/plain;base64," + base64.b64encode(b"hi").decode()}}).attachments
    assert (unnamed.name, unnamed.kind, unnamed.text) == ("file1", "text", "hi")


def test_attachments_of_earlier_user_messages_stay_with_the_conversation():
    chat = parse_chat_request({"model": "t", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": PNG_URL}}]},
        {"role": "assistant", "content": "A red pixel."}, {"role": "user", "content": "Which colour?"}]})
    assert chat.history == (("Look", "A red pixel."),) and [a.media_type for a in chat.attachments] == ["image/png"]


@pytest.mark.parametrize(("part", "message"), [
    ({"type": "image_url", "image_url": {"url": "data:image/png," + "x"}}, "must be base64"),
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "not valid base64"),
    ({"type": "image_url", "image_url": {"url": PDF_URL}}, "must hold a PNG, JPEG, GIF or WebP image"),
    ({"type": "image_url", "image_url": {"url": "ftp://example.invalid/x.png"}}, "data: URL or an http(s) URL"),
    ({"type": "image_url", "image_url": {}}, "needs image_url.url"),
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b"\x00\x01").decode()}},
     "unknown content type"),
    ({"type": "file", "file": {"file_id": "file-abc"}}, "file ids are not supported"),
    ({"type": "file", "file": "report.pdf"}, "needs file.file_data"),
    ({"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}, "'input_audio' parts are not supported"),
])
def test_bad_parts_are_400_naming_the_message(part, message):
    with pytest.raises(ChatError) as info:
        _parse(part)
    assert info.value.status == 400 and info.value.param == "messages[0].content" and message in info.value.message


def test_parts_outside_user_messages_are_refused():
    with pytest.raises(ChatError, match="taken in user messages only"):
        parse_chat_request({"model": "t", "messages": [
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": PNG_URL}}]},
            {"role": "user", "content": "q"}]})


def test_the_official_client_sends_an_image_that_every_agent_receives(serve):
    with FakeServer() as backend:
        backend.add("POST", "/v1/chat/completions", coordination_handler("chat", answer="A red pixel."))
        config = config_from_dict({"agents": [
            {"id": f"v{i}", "backend": {"type": "openai", "model": "gpt-4o", "api_key": "sk-test-000000",
                                        "base_url": backend.url + "/v1", "options": {"api": "chat_completions"}}}
            for i in (1, 2)]})
        served = serve(config=config, record=False)
        client = openai.OpenAI(base_url=served.url + "/v1", api_key="unused", max_retries=0, timeout=30)
        reply = client.chat.completions.create(model="massgen", messages=[{"role": "user", "content": [
            {"type": "text", "text": "What colour?"}, {"type": "image_url", "image_url": {"url": PNG_URL}}]}])
        assert reply.choices[0].message.content == "A red pixel."
        sent = [next(m["content"] for m in r.json()["messages"] if m["role"] == "user") for r in backend.requests]
        assert sent and all(parts[1] == {"type": "image_url", "image_url": {"url": PNG_URL}} for parts in sent)
