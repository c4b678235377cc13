"""The ``openai`` backend's own config keys: which API, built-in tools, reasoning.

A module of its own, importing only attrs, so that ``massgen config validate``
checks these keys without importing the backend (see ``massgen_core.lazy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs


@attrs.frozen(kw_only=True)
class OpenAIOptions:
    api: Literal["responses", "chat_completions"] = attrs.field(
        default="responses", validator=attrs.validators.in_(("responses", "chat_completions"))
    )
    enable_web_search: bool = False
    enable_code_interpreter: bool = False
    text: Mapping[str, Any] | None = None  # {verbosity: low|medium|high} (gpt-5)
    reasoning: Mapping[str, Any] | None = None  # {effort: minimal|low|medium|high, summary: auto}
    store: bool | None = None
    parallel_tool_calls: bool | None = None


__all__ = ["OpenAIOptions"]
