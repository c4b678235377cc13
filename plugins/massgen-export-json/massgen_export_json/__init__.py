"""MassGen exporter ``json``: the lossless conversation document, and reading it back.

The document is the store's dict form (format ``massgen-conversation``,
versioned; see docs/export-format.md). Export writes it unchanged; ``load``
checks format and version so ``massgen conversations import`` refuses other
JSON. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from massgen_core.errors import MassGenError
from massgen_core.exporting import Exporter
from massgen_core.hookspecs import hookimpl


class JsonExporter(Exporter):
    name = "json"
    extension = "json"
    media_type = "application/json"
    description = "Lossless JSON document of the whole conversation; can be imported back."
    can_load = True

    def export(self, document: Mapping[str, Any]) -> str:
        from massgen_core.terminal import dumps  # json loads when used: every massgen command loads this plugin

        # Lossless, and no raw control character in the file (C0, DEL and C1 are JSON escapes).
        return dumps(document, indent=2) + "\n"

    def load(self, text: str) -> dict[str, Any]:
        import json

        from massgen_core.store.document import FORMAT, VERSION  # the store package brings sqlite3

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MassGenError(f"not a JSON document: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise MassGenError(f"not a MassGen conversation export (expected \"format\": \"{FORMAT}\")")
        version = data.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise MassGenError(
                f"conversation export version {version!r} is newer than this MassGen reads ({VERSION}); upgrade massgen-core"
            )
        return data


@hookimpl
def register_exporters(register: Callable[..., None]) -> None:
    register(JsonExporter)
