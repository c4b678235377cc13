"""Attachments on ``streamGenerateContent``: ``inline_data`` (base64) and ``file_data`` (a URL) parts."""

from __future__ import annotations

from pathlib import Path

from massgen_core.backend import Message, Request
from massgen_core.content import load_attachment, with_attachments
from massgen_core.testing import media
from massgen_core.testing.gemini import response_chunks, stream_response

MODEL = "gemini-2.5-flash"


async def test_images_pdfs_text_files_and_urls_become_parts(server, make_backend, collect, tmp_path: Path):
    image = load_attachment(media.write(tmp_path, "cat.webp", media.webp()))
    pdf = load_attachment(media.write(tmp_path, "report.pdf", media.pdf()))
    notes = load_attachment(media.write(tmp_path, "notes.txt", b"remember the milk"))
    url = load_attachment("https://example.invalid/dog.jpg", expect="image")
    bare = load_attachment("https://example.invalid/photo", expect="image")
    content = with_attachments("What is this?", [image, pdf, notes, url, bare])
    server.stream(MODEL, stream_response(response_chunks(text="A cat.")))
    await collect(make_backend(), Request(messages=(Message(role="user", content=content),)))
    body = server.received(MODEL)[-1]
    assert body["contents"] == [{"role": "user", "parts": [
        {"text": "What is this?"},
        {"inline_data": {"mime_type": "image/webp", "data": image.base64}},
        {"inline_data": {"mime_type": "application/pdf", "data": pdf.base64}},
        {"text": "<FILE notes.txt>\nremember the milk\n<END OF FILE notes.txt>"},
        {"file_data": {"file_uri": "https://example.invalid/dog.jpg", "mime_type": "image/jpeg"}},
        {"file_data": {"file_uri": "https://example.invalid/photo"}},
    ]}]
