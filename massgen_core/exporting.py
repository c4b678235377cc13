"""The exporter interface: a conversation document rendered to one format.

Exporters are plugins registered through ``register_exporters``. The document
they receive is the store's lossless dict form of a conversation (documented
in docs/export-format.md); an exporter that can read its own output back sets
``can_load`` and implements ``load``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar


class Exporter:
    name: ClassVar[str]
    extension: ClassVar[str]
    media_type: ClassVar[str]
    description: ClassVar[str] = ""
    can_load: ClassVar[bool] = False

    def export(self, document: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def load(self, text: str) -> dict[str, Any]:
        raise NotImplementedError(f"the {self.name} format cannot be imported")


def vote_rows(turn: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], bool]]:
    """The turn's recorded votes (discarded ones left out), each with whether it counted.

    A new answer clears the votes cast before it (PROTOCOL.md §5), and a voter's
    later vote replaces its earlier one, so a vote counted when it is its
    voter's last and no answer was submitted after it.
    """
    votes = [v for v in turn.get("votes", ()) if not v.get("discarded")]
    last_answer = max((a.get("ts") or 0.0 for a in turn.get("answers", ())), default=0.0)
    last_by_voter = {v["voter"]: i for i, v in enumerate(votes)}
    return [
        (vote, last_by_voter[vote["voter"]] == i and (vote.get("ts") or 0.0) >= last_answer)
        for i, vote in enumerate(votes)
    ]


ATTACHMENTS_EVENT = "attachments"  # the event row a turn's attachment references are stored in
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024  # bigger images are named, not inlined


def attachment_refs(turn: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The attachment references (name, kind, media_type, size, sha256 or url) of one document turn."""
    out: list[dict[str, Any]] = []
    for event in turn.get("events") or ():
        data = event.get("data")
        if event.get("type") == ATTACHMENTS_EVENT and isinstance(data, Mapping):
            out += [dict(ref) for ref in data.get("attachments") or () if isinstance(ref, Mapping)]
    return out


def attachment_label(ref: Mapping[str, Any]) -> str:
    """``cat.png (image/png, 69 bytes)``, or the URL of a URL attachment; plain text, to be escaped by the caller."""
    if ref.get("url"):
        return str(ref["url"])
    kind = ref.get("media_type") or ref.get("kind") or "file"
    return f"{ref.get('name') or '?'} ({kind}, {ref.get('size') or 0} bytes)"


def thumbnail_data_url(document: Mapping[str, Any], ref: Mapping[str, Any]) -> str | None:
    """A ``data:`` URL of an attached image the document carries, typed from its decoded bytes; else None.

    The bytes are decoded and sniffed again, so a document cannot smuggle
    anything but a PNG, JPEG, GIF or WebP image (in canonical base64) into a page.
    """
    import base64
    import binascii

    from massgen_core.content import IMAGE_TYPES, sniff

    blob = (document.get("attachments") or {}).get(ref.get("sha256") or "")
    if not isinstance(blob, str) or len(blob) > THUMBNAIL_MAX_BYTES * 4 // 3 + 4:
        return None
    try:
        data = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    media_type = sniff(data[:16])
    if media_type not in IMAGE_TYPES:
        return None
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def write_export(text: str, path: Path, conversation_id: str, extension: str, *, force: bool = False) -> Path:
    """Write an export to ``path`` (a folder gets ``massgen-<id8>.<ext>`` inside it); the path written.

    An existing file is refused unless ``force``; a symbolic link at the target
    is never followed (nor replaced), even with ``force``, so an export cannot be
    steered onto another file.
    """
    import os

    from massgen_core.errors import MassGenError

    if path.is_dir() and not path.is_symlink():
        path = path / f"massgen-{conversation_id[:8]}.{extension}"
    if path.is_symlink():
        raise MassGenError(f"{path} is a symbolic link; MassGen does not write through links: choose another path")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_TRUNC if force else os.O_EXCL)
    try:
        with os.fdopen(os.open(path, flags, 0o666), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except FileExistsError:
        raise MassGenError(f"{path} already exists: pass --force to overwrite it, or choose another path") from None
    except OSError as exc:
        raise MassGenError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
