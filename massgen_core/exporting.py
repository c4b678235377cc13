"""The exporter interface: a conversation document rendered to one format.

Exporters are plugins registered through ``register_exporters``. The document
they receive is the store's lossless dict form of a conversation (documented
in docs/export-format.md); an exporter that can read its own output back sets
``can_load`` and implements ``load``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
