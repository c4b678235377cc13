"""MassGen plugin ``massgen-export-markdown``: the ``markdown`` export format.

``MarkdownExporter`` lives in ``exporter``. It is registered as a ``Lazy``, so loading the
plugin (which every massgen command does) imports nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

EXPORTER = Lazy("massgen_export_markdown.exporter:MarkdownExporter", name="markdown")


@hookimpl
def register_exporters(register: Callable[..., None]) -> None:
    register(EXPORTER)


__getattr__ = forward_to(__name__, "exporter")  # MarkdownExporter and the rest: imported on first use

__all__ = ["EXPORTER", "register_exporters"]
