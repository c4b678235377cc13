"""Content parts: the text, images and documents a message may carry besides plain text.

``Message.content`` is a string, or a tuple of parts: ``TextPart`` and
``Attachment``. An attachment is read once (``load_attachment``), hashed
(sha256), typed from its first bytes (PNG, JPEG, GIF, WebP, PDF, UTF-8 text —
never from its name), checked against its kind's size limit before any request,
and base64-encoded once: every agent and every request shares the same string.
A URL (``http``/``https``) stays a URL for the providers that take one; MassGen
never fetches it. Backends turn parts into their wire format; nothing here knows
a provider, and nothing here writes files.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import mimetypes
import os
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from massgen_core.errors import MassGenError

Kind = Literal["image", "pdf", "text"]

MB = 1024 * 1024
# What the providers accept per part (OpenAI: 20 MB images, 32 MB PDFs; Gemini: 20 MB inline data);
# a text file goes into the prompt, so it is held to what a context window can take.
LIMITS: Mapping[str, int] = {"image": 20 * MB, "pdf": 32 * MB, "text": 2 * MB}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SNIFF_BYTES = 16


class AttachmentError(MassGenError):
    """An attachment that cannot be sent: missing, unreadable, of an unknown type or too big."""


@attrs.frozen(kw_only=True)
class TextPart:
    text: str


@attrs.frozen(kw_only=True, slots=False, eq=False)
class Attachment:
    """One image or document, read and encoded once; ``data`` is empty for a URL."""

    name: str  # the file's name (or the URL with any credentials masked), as users see it
    kind: Kind
    media_type: str  # "" for a URL whose type its name does not say
    size: int = 0
    sha256: str | None = None  # None for a URL
    url: str | None = None
    data: bytes = attrs.field(default=b"", repr=False)

    @functools.cached_property
    def base64(self) -> str:
        """The bytes in base64, computed on first use and then shared by every request."""
        return base64.b64encode(self.data).decode("ascii")

    @functools.cached_property
    def data_url(self) -> str:
        """A ``data:`` URL of the bytes (the URL itself for a URL attachment), built once."""
        if self.url is not None:
            return self.url
        return f"data:{self.media_type};base64,{self.base64}"

    @property
    def text(self) -> str:
        """A text file's contents (it was checked to be UTF-8 when loaded)."""
        return self.data.decode("utf-8")

    def describe(self) -> str:
        """``'cat.png' (image/png, 12.3 KB)``: what an error message says about it."""
        if self.url is not None:
            return f"{self.kind} {self.name!r}"
        return f"{self.kind} {self.name!r} ({self.media_type}, {_size(self.size)})"

    def ref(self) -> dict[str, Any]:
        """The small JSON reference kept in events and in the store (never the bytes)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "media_type": self.media_type, "size": self.size}
        if self.sha256 is not None:
            out["sha256"] = self.sha256
        if self.url is not None:
            out["url"] = self.name  # redacted
        return out


Part = TextPart | Attachment
Content = str | tuple[Part, ...]

# sha256 -> the attachment loaded in this process, so the store can keep its bytes without a copy.
_LOADED: weakref.WeakValueDictionary[str, Attachment] = weakref.WeakValueDictionary()


def loaded(sha256: str) -> Attachment | None:
    """The attachment with this hash that this process loaded and still holds, if any."""
    return _LOADED.get(sha256)


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} bytes"


def sniff(head: bytes) -> str | None:
    """The media type the first bytes announce (images and PDF), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def url_attachment(url: str, kind: Kind = "image") -> Attachment:
    """An attachment that stays a URL: passed to providers as is, never fetched."""
    from massgen_core.redaction import redact_url

    from urllib.parse import urlsplit

    shown = redact_url(url)  # a signed URL's credentials go to the provider, never into messages or the store
    if not urlsplit(url).hostname or any(ch.isspace() for ch in url):
        raise AttachmentError(f"{shown}: not a usable URL (it needs a host and no spaces: https://host/path)")
    guessed = mimetypes.guess_type(url.split("?", 1)[0])[0] or ""
    if kind == "image" and guessed and not guessed.startswith("image/"):
        raise AttachmentError(
            f"{shown}: a URL attachment must be an image, and this one names a {guessed} file"
            " (download it and attach the file instead)"
        )
    return Attachment(name=shown, kind=kind, media_type=guessed if guessed in IMAGE_TYPES else "", url=url)


def load_attachment(
    source: str | os.PathLike[str],
    *,
    expect: Kind | None = None,
    limits: Mapping[str, int] = LIMITS,
) -> Attachment:
    """Read, type and check one file (or take an http(s) URL); ``expect="image"`` refuses anything else.

    The file is opened once: its first bytes decide its kind, its size is checked
    against that kind's limit before the rest is read.
    """
    text = os.fspath(source)
    if is_url(text):
        return url_attachment(text, expect or "image")
    path = Path(text).expanduser()
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(_SNIFF_BYTES)
            media_type = sniff(head)
            kind: Kind
            if media_type is None:
                kind, media_type = "text", "text/plain"
            else:
                kind = "pdf" if media_type == "application/pdf" else "image"
            if expect == "image" and kind != "image":
                what = "a PDF" if kind == "pdf" else "not an image"
                raise AttachmentError(
                    f"{text}: --image takes PNG, JPEG, GIF or WebP images, and this file is {what} (use --file)"
                )
            limit = limits[kind]
            if size > limit:
                raise AttachmentError(f"{text}: {_size(size)} is over the {_size(limit)} limit for a {kind} attachment")
            data = head + handle.read()
    except AttachmentError:
        raise
    except FileNotFoundError:
        raise AttachmentError(f"{text}: no such file") from None
    except IsADirectoryError:
        raise AttachmentError(f"{text}: is a folder, not a file") from None
    except OSError as exc:
        raise AttachmentError(f"{text}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if kind == "text" and not _is_text(data):
        raise AttachmentError(
            f"{text}: unknown file type (not PNG, JPEG, GIF, WebP, PDF or UTF-8 text); nothing was sent"
        )
    if not data:
        raise AttachmentError(f"{text}: the file is empty")
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(name=path.name, kind=kind, media_type=media_type, size=len(data), sha256=digest, data=data)
    _LOADED[digest] = attachment
    return attachment


def from_bytes(data: bytes, *, name: str, limits: Mapping[str, int] = LIMITS) -> Attachment:
    """An attachment from bytes already in memory (a ``data:`` URL, a stored blob), checked like a file."""
    media_type = sniff(data[:_SNIFF_BYTES])
    kind: Kind
    if media_type is None:
        if not data or not _is_text(data):
            raise AttachmentError(f"{name}: unknown content type (not PNG, JPEG, GIF, WebP, PDF or UTF-8 text)")
        kind, media_type = "text", "text/plain"
    else:
        kind = "pdf" if media_type == "application/pdf" else "image"
    if len(data) > limits[kind]:
        raise AttachmentError(f"{name}: {_size(len(data))} is over the {_size(limits[kind])} limit for a {kind} attachment")
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(name=name, kind=kind, media_type=media_type, size=len(data), sha256=digest, data=data)
    _LOADED[digest] = attachment
    return attachment


def as_attachments(items: Iterable[Attachment | str | os.PathLike[str]]) -> tuple[Attachment, ...]:
    """Attachments from ``Attachment`` values, file paths and http(s) URLs (URLs taken as images)."""
    return tuple(item if isinstance(item, Attachment) else load_attachment(item) for item in items)


def with_attachments(text: str, attachments: Iterable[Attachment]) -> Content:
    """``text`` alone when there are no attachments, else the parts: the text first, then each attachment."""
    extra = tuple(attachments)
    if not extra:
        return text
    return (TextPart(text=text), *extra)


def text_of(content: Content) -> str:
    """The text of a content: a string as is, the text parts joined for a tuple of parts."""
    if isinstance(content, str):
        return content
    return "\n\n".join(part.text for part in content if isinstance(part, TextPart))


def attachments_of(content: Content) -> tuple[Attachment, ...]:
    if isinstance(content, str):
        return ()
    return tuple(part for part in content if isinstance(part, Attachment))


def render_parts(
    parts: tuple[Part, ...],
    *,
    text: Callable[[str], dict[str, Any]],
    image: Callable[[Attachment], dict[str, Any]],
    pdf: Callable[[Attachment], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Parts in a wire format whose text files go as text: one builder per kind of part."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            out.append(text(part.text))
        elif part.kind == "image":
            out.append(image(part))
        elif part.kind == "pdf":
            out.append(pdf(part))
        else:
            out.append(text(file_text_block(part)))
    return out


def file_text_block(attachment: Attachment) -> str:
    """A text file as prompt text, for wire formats that have no document part for it."""
    return f"<FILE {attachment.name}>\n{attachment.text}\n<END OF FILE {attachment.name}>"


__all__ = [
    "LIMITS",
    "Attachment",
    "AttachmentError",
    "Content",
    "Part",
    "TextPart",
    "as_attachments",
    "attachments_of",
    "file_text_block",
    "from_bytes",
    "is_url",
    "load_attachment",
    "loaded",
    "render_parts",
    "sniff",
    "text_of",
    "url_attachment",
    "with_attachments",
]
