"""Loading attachments: read once, typed from their bytes, size-checked per kind, encoded once."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from massgen_core import content
from massgen_core.content import AttachmentError, TextPart, load_attachment
from massgen_core.testing import media


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(media.png(), "image/png"), (media.jpeg(), "image/jpeg"), (media.gif(), "image/gif"), (media.webp(), "image/webp")],
)
def test_images_are_typed_from_their_bytes_not_their_name(tmp_path: Path, data: bytes, media_type: str):
    path = media.write(tmp_path, "picture.txt", data)  # a misleading extension
    attachment = load_attachment(path)
    assert (attachment.kind, attachment.media_type, attachment.name) == ("image", media_type, "picture.txt")
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert base64.b64decode(attachment.base64) == data


def test_a_pdf_and_a_utf8_text_file(tmp_path: Path):
    pdf = load_attachment(media.write(tmp_path, "report.bin", media.pdf()))
    assert (pdf.kind, pdf.media_type) == ("pdf", "application/pdf")
    notes = load_attachment(media.write(tmp_path, "notes.md", "café ☕ notes\n".encode()))
    assert (notes.kind, notes.media_type, notes.text) == ("text", "text/plain", "café ☕ notes\n")


def test_base64_and_the_data_url_are_built_once_and_shared(tmp_path: Path):
    attachment = load_attachment(media.write(tmp_path, "a.png", media.png()))
    assert attachment.data_url is attachment.data_url  # the same string object for every request
    assert attachment.base64 is attachment.base64
    assert attachment.data_url == "data:image/png;base64," + base64.b64encode(media.png()).decode()


def test_a_loaded_attachment_can_be_found_by_its_hash(tmp_path: Path):
    attachment = load_attachment(media.write(tmp_path, "a.png", media.png((1, 2, 3))))
    assert content.loaded(attachment.sha256) is attachment
    assert content.loaded("0" * 64) is None


def test_an_unknown_binary_type_is_refused(tmp_path: Path):
    path = media.write(tmp_path, "archive.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\xff\xfe")
    with pytest.raises(AttachmentError, match=r"archive.zip: unknown file type .*nothing was sent"):
        load_attachment(path)


def test_a_file_over_its_kinds_limit_is_refused_before_it_is_read(tmp_path: Path):
    path = media.write(tmp_path, "big.png", media.png() + b"\x00" * 2000)
    with pytest.raises(AttachmentError, match=r"big.png: 2.0 KB is over the 1.0 KB limit for a image attachment"):
        load_attachment(path, limits={**content.LIMITS, "image": 1024})
    # the same size is fine for a kind with a bigger limit
    assert load_attachment(path, limits={**content.LIMITS, "image": 4096}).size == path.stat().st_size


def test_missing_folder_empty_and_unreadable_files_say_so(tmp_path: Path):
    with pytest.raises(AttachmentError, match="nope.png: no such file"):
        load_attachment(tmp_path / "nope.png")
    with pytest.raises(AttachmentError, match="is a folder"):
        load_attachment(tmp_path)
    with pytest.raises(AttachmentError, match="the file is empty"):
        load_attachment(media.write(tmp_path, "empty.txt", b""))
    with pytest.raises(AttachmentError, match=r"cannot be read \(Input/output error\)"):
        load_attachment("/proc/self/mem")  # opens, then every read fails


def test_image_only_refuses_documents(tmp_path: Path):
    with pytest.raises(AttachmentError, match="--image takes .* this file is a PDF .use --file"):
        load_attachment(media.write(tmp_path, "r.pdf", media.pdf()), expect="image")
    with pytest.raises(AttachmentError, match="this file is not an image"):
        load_attachment(media.write(tmp_path, "n.txt", b"hello"), expect="image")


def test_a_url_stays_a_url_and_is_never_fetched():
    attachment = load_attachment("https://example.invalid/cat.png?size=big", expect="image")
    assert (attachment.kind, attachment.url, attachment.media_type, attachment.data) == (
        "image", "https://example.invalid/cat.png?size=big", "image/png", b"")
    assert attachment.data_url == attachment.url
    assert attachment.ref() == {"name": attachment.url, "kind": "image", "media_type": "image/png", "size": 0,
                                "url": attachment.url}
    assert load_attachment("http://example.invalid/photo").media_type == ""
    with pytest.raises(AttachmentError, match="names a application/pdf file"):
        load_attachment("https://example.invalid/report.pdf", expect="image")


def test_from_bytes_checks_like_a_file():
    assert content.from_bytes(media.gif(), name="g").media_type == "image/gif"
    assert content.from_bytes(b"plain words", name="t").kind == "text"
    assert content.from_bytes(media.pdf(), name="p").kind == "pdf"
    with pytest.raises(AttachmentError, match="x: unknown content type"):
        content.from_bytes(b"\x00\x01\x02", name="x")
    with pytest.raises(AttachmentError, match="over the 10 bytes limit for a image"):
        content.from_bytes(media.png(), name="p", limits={**content.LIMITS, "image": 10})


def test_parts_and_text(tmp_path: Path):
    image = load_attachment(media.write(tmp_path, "a.png", media.png()))
    assert content.with_attachments("hi", []) == "hi"
    parts = content.with_attachments("hi", [image])
    assert parts == (TextPart(text="hi"), image)
    assert content.text_of(parts) == "hi" and content.text_of("plain") == "plain"
    assert content.attachments_of(parts) == (image,) and content.attachments_of("plain") == ()
    assert image.describe() == "image 'a.png' (image/png, 69 bytes)"
    assert "'a.png' (image/png, 2.0 KB)" in content.Attachment(
        name="a.png", kind="image", media_type="image/png", size=2048).describe()
    assert "(application/pdf, 3.0 MB)" in content.Attachment(
        name="b.pdf", kind="pdf", media_type="application/pdf", size=3 * content.MB).describe()
    text = load_attachment(media.write(tmp_path, "n.txt", b"line"))
    assert content.file_text_block(text) == "<FILE n.txt>\nline\n<END OF FILE n.txt>"


def test_text_that_is_not_utf8_is_an_unknown_type_and_a_url_describes_itself(tmp_path: Path):
    with pytest.raises(AttachmentError, match="unknown file type"):
        load_attachment(media.write(tmp_path, "latin1.txt", "café".encode("latin-1")))
    assert load_attachment("https://example.invalid/a.png").describe() == "image 'https://example.invalid/a.png'"


def test_a_backend_without_url_support_refuses_an_image_url(tmp_path: Path):
    from massgen_core.config.schema import BackendConfig
    from massgen_core.http.openai_chat import ChatCompletionsBackend
    from massgen_core.http.parts import refusal

    class Local(ChatCompletionsBackend):
        name = "local"
        accepts_urls = False

    backend = Local(BackendConfig(type="local", model="m", base_url="http://127.0.0.1:9/v1"))
    assert refusal(backend, load_attachment("https://example.invalid/a.png")) == (
        "the local backend takes no image URLs (give a local file instead)")
    assert refusal(backend, load_attachment(media.write(tmp_path, "a.png", media.png()))) is None


def test_a_signed_urls_credentials_go_to_the_provider_only():
    url = "https://user:hunter2@example.invalid/cat.png?token=s3cr3tvalue&size=big"
    attachment = load_attachment(url, expect="image")
    assert attachment.url == url and attachment.data_url == url  # sent as given
    shown = attachment.describe() + repr(attachment.ref())
    assert "hunter2" not in shown and "s3cr3tvalue" not in shown and "size=big" in shown
    with pytest.raises(AttachmentError) as caught:
        load_attachment("https://example.invalid/r.pdf?token=s3cr3tvalue", expect="image")
    assert "s3cr3tvalue" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://", "https:///cat.png", "https://exa mple.com/cat.png", "https://example.com/a cat.png"])
def test_a_url_without_a_host_or_with_spaces_is_refused_before_anything_runs(url: str):
    with pytest.raises(AttachmentError, match="not a usable URL"):
        load_attachment(url, expect="image")


def test_a_non_image_url_is_refused_without_blaming_a_flag_that_was_not_used():
    with pytest.raises(AttachmentError) as caught:
        load_attachment("https://example.com/report.pdf")
    assert "--image" not in str(caught.value)
    assert "must be an image" in str(caught.value) and "application/pdf" in str(caught.value)
