"""The ``chatcompletion`` backend's own config keys (shared by every preset).

A module of its own, importing only attrs, so that ``massgen config validate``
checks these keys without importing the backend (see ``massgen_core.lazy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class CompatOptions:
    stream: bool = True  # also a shared backend key (``stream: false``); kept for Python callers
    json_format: str | None = attrs.field(  # how a JSON schema is sent; None: the preset's default
        default=None, validator=attrs.validators.optional(attrs.validators.in_(("json_schema", "json_object")))
    )
    reasoning_effort: str | None = None
    enable_web_search: bool | None = None  # accepted for config compatibility; generic servers have none
    extra_body: Mapping[str, Any] = attrs.Factory(dict)
    # requests at a time to the server's base URL; None: the preset's (1 for llamacpp, whose
    # llama-cpp-python server cuts a running stream short when another request arrives), 0: no limit
    max_concurrency: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(0))
    )


__all__ = ["CompatOptions"]
