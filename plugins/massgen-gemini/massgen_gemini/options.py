"""The ``gemini`` backend's own config keys (PROTOCOL.md §9).

A module of its own, importing only attrs and the core's converters, so that
``massgen config validate`` checks these keys without importing the backend
(see ``massgen_core.lazy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from massgen_core.converters import as_tuple, optional_int


@attrs.frozen(kw_only=True)
class GeminiOptions:
    """Keys a ``gemini`` backend entry may carry beyond the shared ones (PROTOCOL.md §9)."""

    enable_web_search: bool = False
    enable_code_execution: bool = False
    return_citations: bool = True
    thinking_budget: int | None = attrs.field(default=None, converter=optional_int)
    include_thoughts: bool | None = None  # None: on for models that think (2.5 and later)
    top_p: float | None = None
    top_k: int | None = attrs.field(default=None, converter=optional_int)
    stop_sequences: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    safety_settings: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=as_tuple)
    stream_format: str = attrs.field(default="sse", validator=attrs.validators.in_(("sse", "json_array")))


__all__ = ["GeminiOptions"]
