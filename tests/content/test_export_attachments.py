"""Markdown and HTML exports name a turn's attachments; HTML inlines only images it can type from their bytes."""

from __future__ import annotations

import base64
import hashlib

from massgen_core.exporting import attachment_label, thumbnail_data_url
from massgen_core.testing import media
from massgen_export_html.exporter import HtmlExporter
from massgen_export_markdown.exporter import MarkdownExporter


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _document(refs, blobs=None):
    turn = {"turn": 1, "question": "What?", "final_answer": "It.", "winner": "a", "ended_by": "consensus",
            "answers": [], "votes": [], "requests": [], "tally": {},
            "events": [{"seq": 1, "ts": 0.0, "type": "attachments", "data": {"attachments": refs}},
                       {"seq": 2, "ts": 0.0, "type": "agent_failed", "data": {"error": "x"}}]}
    document = {"conversation": {"id": "c1", "title": "T", "started_at": 0.0}, "turns": [turn]}
    if blobs is not None:
        document["attachments"] = blobs
    return document


PNG_SHA = hashlib.sha256(media.png()).hexdigest()
PDF_SHA = hashlib.sha256(media.pdf()).hexdigest()


def test_markdown_lists_the_names_escaped():
    refs = [{"name": "a*b<i>.png", "kind": "image", "media_type": "image/png", "size": 69, "sha256": PNG_SHA},
            {"name": "https://example.invalid/x.png", "kind": "image", "media_type": "", "url": "https://example.invalid/x.png"}]
    text = MarkdownExporter().export(_document(refs))
    assert "**Attachments**" in text and "<i>" not in text
    assert "https://example.invalid/x.png" in text
    assert "**Attachments**" not in MarkdownExporter().export(_document([]))


def test_html_inlines_a_real_image_and_only_names_the_rest():
    refs = [{"name": "p.png", "kind": "image", "media_type": "image/png", "size": 69, "sha256": PNG_SHA},
            # claims to be an image, but its bytes are a PDF: named, never inlined
            {"name": "fake.png\" onerror=\"x", "kind": "image", "media_type": "image/png", "size": 9, "sha256": PDF_SHA},
            {"name": "gone.gif", "kind": "image", "media_type": "image/gif", "size": 5, "sha256": "f" * 64}]
    page = HtmlExporter().export(_document(refs, {PNG_SHA: _b64(media.png()), PDF_SHA: _b64(media.pdf())}))
    assert page.count("<img ") == 1
    assert f'<img class="thumb" src="data:image/png;base64,{_b64(media.png())}" alt="p.png">' in page
    assert "fake.png&quot; onerror=&quot;x (image/png, 9 bytes)" in page and 'onerror="' not in page
    assert "gone.gif (image/gif, 5 bytes)" in page


def test_thumbnail_refuses_bad_base64_and_oversized_images():
    ref = {"sha256": PNG_SHA}
    assert thumbnail_data_url({"attachments": {PNG_SHA: "not base64!"}}, ref) is None
    assert thumbnail_data_url({"attachments": {PNG_SHA: "A" * (3 * 1024 * 1024)}}, ref) is None
    assert thumbnail_data_url({}, ref) is None
    assert thumbnail_data_url({"attachments": {PNG_SHA: _b64(media.png())}}, ref).startswith("data:image/png;base64,")


def test_labels():
    assert attachment_label({"url": "https://x.invalid/a"}) == "https://x.invalid/a"
    assert attachment_label({"name": "n.txt", "kind": "text", "size": 3}) == "n.txt (text, 3 bytes)"
    assert attachment_label({}) == "? (file, 0 bytes)"
