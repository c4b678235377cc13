"""MassGen plugin ``massgen-azure-openai``: OpenAI models deployed in an Azure OpenAI resource.

``type: azure_openai`` sends Chat Completions to
``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...``
with the ``api-key`` header (``AZURE_OPENAI_API_KEY``) or a Microsoft Entra ID
bearer token (``AZURE_OPENAI_AD_TOKEN``); see ``backend``. Deployment names are
the user's own, so no model pattern is claimed: the type is always written.
Registered as a ``Lazy``: loading the plugin imports only the options class.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

BACKEND = Lazy(
    "massgen_azure_openai.backend:AzureOpenAIBackend",
    name="azure_openai",
    description="Azure OpenAI (deployments; api-key or Entra ID token)",
    model_patterns=(),
    Options="massgen_azure_openai.options:AzureOptions",
)


@hookimpl
def register_backends(register: Callable[..., None]) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # AzureOpenAIBackend, PRICES: imported on first use

__all__ = ["BACKEND", "register_backends"]
