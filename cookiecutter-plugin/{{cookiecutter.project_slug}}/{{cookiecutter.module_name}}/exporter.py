"""The {{ cookiecutter.registered_name|tojson }} exporter: every vote of a conversation as CSV rows.

It walks the conversation document (the store's dict form, see MassGen's
docs/export-format.md) and writes one row per vote it finds, with the turn it
belongs to. It only reads the document; it cannot import its output back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from massgen_core.exporting import Exporter

COLUMNS = ("turn", "voter", "target", "reason")


def _votes(node: Any, turn: Any = "") -> Iterator[dict[str, Any]]:
    """Every vote-shaped mapping (with ``voter`` and ``target``) under ``node``, with its turn."""
    if isinstance(node, Mapping):
        if isinstance(node.get("turn"), int):
            turn = node["turn"]
        if "voter" in node and "target" in node:
            yield {"turn": turn, **{k: node.get(k, "") for k in COLUMNS[1:]}}
            return
        for value in node.values():
            yield from _votes(value, turn)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _votes(item, turn)


class VotesCsvExporter(Exporter):
    name: ClassVar[str] = {{ cookiecutter.registered_name|tojson }}
    extension: ClassVar[str] = "csv"
    media_type: ClassVar[str] = "text/csv"
    description: ClassVar[str] = "Every vote (turn, voter, target, reason) as CSV"

    def export(self, document: Mapping[str, Any]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in _votes(document):
            writer.writerow(row)
        return out.getvalue()
