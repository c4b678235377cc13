"""The ``grok`` backend's own config keys (Live Search and reasoning effort).

A module of its own, importing only attrs, so that ``massgen config validate``
checks these keys without importing the backend (see ``massgen_core.lazy``).
"""

from __future__ import annotations

from typing import Literal

import attrs


@attrs.frozen(kw_only=True)
class GrokOptions:
    enable_web_search: bool = False
    search_mode: Literal["auto", "on", "off"] | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(("auto", "on", "off")))
    )
    return_citations: bool | None = None
    max_search_results: int | None = None
    reasoning_effort: str | None = None  # grok-3-mini


__all__ = ["GrokOptions"]
