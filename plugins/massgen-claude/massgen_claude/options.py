"""The ``claude`` backend's own config keys (PROTOCOL.md §9).

A module of its own, importing only attrs and the core's converters, so that
``massgen config validate`` checks these keys without importing the backend
(see ``massgen_core.lazy``).
"""

from __future__ import annotations

from typing import Any

import attrs

from massgen_core.converters import as_tuple, optional_int


@attrs.frozen(kw_only=True)
class ClaudeOptions:
    """Keys a ``claude`` backend entry may carry beyond the shared ones (PROTOCOL.md §9)."""

    enable_web_search: bool = False
    enable_code_execution: bool = False
    return_citations: bool = True
    thinking_budget: int | None = attrs.field(default=None, converter=optional_int)
    web_search_max_uses: int | None = attrs.field(default=None, converter=optional_int)
    top_p: float | None = None
    top_k: int | None = attrs.field(default=None, converter=optional_int)
    stop_sequences: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    anthropic_beta: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)

    @thinking_budget.validator
    def _check_budget(self, attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and value < 1024:
            raise ValueError("thinking_budget must be at least 1024 tokens (Anthropic's minimum)")


__all__ = ["ClaudeOptions"]
