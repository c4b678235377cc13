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
