"""The ``azure_openai`` backend's own config keys.

A module of its own, importing only attrs, so that ``massgen config validate``
checks these keys without importing the backend (see ``massgen_core.lazy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class AzureOptions:
    api_version: str | None = None  # else AZURE_OPENAI_API_VERSION / OPENAI_API_VERSION, else the GA default
    deployment: str | None = None  # else the model name: Azure routes by deployment, not by model
    deployment_name: str | None = None  # the same, as other tools spell it
    stream: bool = True
    reasoning_effort: str | None = None
    enable_web_search: bool | None = None  # accepted for config compatibility; Azure chat has none
    extra_body: Mapping[str, Any] = attrs.Factory(dict)


__all__ = ["AzureOptions"]
