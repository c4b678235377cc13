"""The ``azure_openai`` backend: an Azure OpenAI deployment's Chat Completions endpoint.

What Azure changes from OpenAI's own API, and all this module adds to
``massgen_core.http.openai_chat``:

- the URL: ``{endpoint}/openai/deployments/{deployment}/chat/completions`` with
  an ``api-version`` query parameter; the endpoint is ``base_url`` or
  ``AZURE_OPENAI_ENDPOINT`` (a whole deployment URL pasted as ``base_url`` is
  taken apart into endpoint, deployment and api-version);
- the credentials: the ``api-key`` header (``api_key`` or ``AZURE_OPENAI_API_KEY``),
  else a Microsoft Entra ID token as ``Authorization: Bearer``
  (``AZURE_OPENAI_AD_TOKEN``);
- the errors: codes such as ``DeploymentNotFound`` and ``"401"``, content-filter
  verdicts per category (in error bodies and in the stream), ``retry-after-ms``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import attrs

from massgen_azure_openai.options import AzureOptions
from massgen_core.backend import Chunk, Done, Request
from massgen_core.errors import MassGenError
from massgen_core.http.base import HttpCall
from massgen_core.http.errors import (
    AuthenticationError,
    BackendError,
    ContentFilterError,
    MissingKeyError,
    NotFoundError,
    error_for_status,
    parse_openai_error_body,
    parse_retry_after,
)
from massgen_core.http.keys import find_key
from massgen_core.http.openai_chat import ChatCompletionsBackend, is_reasoning_model
from massgen_core.http.pricing import Price

if TYPE_CHECKING:
    from massgen_core.http.sse import ServerSentEvent

DEFAULT_API_VERSION = "2024-10-21"  # the newest generally-available data-plane version
KEY_ENV = ("AZURE_OPENAI_API_KEY",)
TOKEN_ENV = ("AZURE_OPENAI_AD_TOKEN",)
ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
VERSION_ENV = ("AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION")

# Deployments are named by their owners; one named after its model is priced from this table
# (USD per million tokens: input, output, cached input). Others: input_price_per_mtok/output_...
PRICES: dict[str, Price] = {
    "gpt-4o*": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini*": Price(0.15, 0.60, 0.075),
    "gpt-4.1*": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini*": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano*": Price(0.10, 0.40, 0.025),
    "gpt-5*": Price(1.25, 10.00, 0.125),
    "gpt-5-mini*": Price(0.25, 2.00, 0.025),
    "gpt-5-nano*": Price(0.05, 0.40, 0.005),
    "o4-mini*": Price(1.10, 4.40, 0.275),
    "o3-mini*": Price(1.10, 4.40, 0.55),
}

_DEPLOYMENT_URL = re.compile(r"^(?P<endpoint>.*?)/openai/deployments/(?P<deployment>[^/]+)(?:/.*)?$")
_FILTERED = re.compile(r'"filtered"\s*:\s*true')


def split_endpoint(url: str) -> tuple[str, str | None, str | None]:
    """(endpoint, deployment, api-version) from a resource endpoint or a whole deployment URL."""
    parts = urlsplit(url.strip())
    version: str | None = (parse_qs(parts.query).get("api-version") or [None])[0]  # type: ignore[list-item]
    path = parts.path.rstrip("/")
    deployment = None
    match = _DEPLOYMENT_URL.match(path)
    if match:
        path, deployment = match["endpoint"], match["deployment"]
    elif path.endswith("/openai"):
        path = path[: -len("/openai")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")), deployment, version


def filtered_categories(results: Any) -> list[str]:
    """The categories a content-filter verdict (``{"violence": {"filtered": true, ...}}``) blocked."""
    if not isinstance(results, Mapping):
        return []
    return sorted(
        f"{name} ({verdict.get('severity')})" if verdict.get("severity") else str(name)
        for name, verdict in results.items()
        if isinstance(verdict, Mapping) and verdict.get("filtered") is True
    )


class AzureOpenAIBackend(ChatCompletionsBackend):
    """``type: azure_openai`` (see the module docstring)."""

    name: ClassVar[str] = "azure_openai"
    model_patterns: ClassVar[tuple[str, ...]] = ()
    Options = AzureOptions
    key_env: ClassVar[tuple[str, ...]] = KEY_ENV
    description: ClassVar[str] = "Azure OpenAI (deployments; api-key or Entra ID token)"
    price_table = PRICES

    def __init__(self, config: Any, context: Any = None) -> None:
        super().__init__(config, context)
        raw = config.base_url or os.environ.get(ENDPOINT_ENV) or ""
        if not raw.strip():
            raise MassGenError(
                f"agent {self.context.agent_id}: azure_openai backend needs base_url, the resource's endpoint "
                f"(https://RESOURCE.openai.azure.com), or {ENDPOINT_ENV} in the environment"
            )
        self.base_url, url_deployment, url_version = split_endpoint(raw)
        o = self.options
        self.deployment = o.deployment or o.deployment_name or url_deployment or config.model
        if not self.deployment:
            raise MassGenError(
                f"agent {self.context.agent_id}: azure_openai backend needs the deployment's name "
                "(model: or deployment: in the backend config)"
            )
        self.model = config.model or self.deployment
        self.api_version = (
            o.api_version or url_version
            or next((os.environ[v] for v in VERSION_ENV if os.environ.get(v)), None)
            or DEFAULT_API_VERSION
        )
        # per deployment: the class defaults overridden for this instance
        self.chat_path = f"/openai/deployments/{quote(self.deployment, safe='')}/chat/completions"  # type: ignore[misc]
        self.health_path = f"/openai/models?api-version={quote(self.api_version, safe='')}"  # type: ignore[misc]
        self.bearer = False  # True when the credential is an Entra ID token
        reasoning = is_reasoning_model(self.model) or is_reasoning_model(self.deployment)
        self.token_limit_field = "max_completion_tokens" if reasoning else "max_tokens"  # type: ignore[misc]
        self._reasoning = reasoning

    # -- credentials -----------------------------------------------------------

    def api_key(self) -> str | None:
        key = find_key(self.config.api_key, KEY_ENV)
        if key is not None:
            self.bearer = False
            return key
        token = find_key(None, TOKEN_ENV)
        if token is not None:
            self.bearer = True
            return token
        raise MissingKeyError(context=attrs.evolve(self.error_context, key_env=KEY_ENV + TOKEN_ENV))

    def auth_headers(self, key: str | None) -> dict[str, str]:
        if not key:
            return {}
        return {"authorization": f"Bearer {key}"} if self.bearer else {"api-key": key}

    # -- the request -------------------------------------------------------------

    def sends_temperature(self) -> bool:
        return not self._reasoning

    def extra_body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.options.reasoning_effort:
            body["reasoning_effort"] = self.options.reasoning_effort
        body.update(self.options.extra_body)
        return body

    def build_http_request(self, request: Request) -> HttpCall:
        # ``stream: false`` (the shared key or this plugin's option) is the base class's to honour.
        return attrs.evolve(super().build_http_request(request), params={"api-version": self.api_version})

    # -- the answer ----------------------------------------------------------------

    async def parse_events(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        blocked: list[str] = []

        async def watched() -> AsyncIterator[ServerSentEvent]:
            async for event in events:
                if _FILTERED.search(event.data):
                    blocked.extend(_stream_verdicts(event.data))
                yield event

        async for chunk in super().parse_events(watched()):
            if isinstance(chunk, Done) and chunk.finish_reason == "content_filter":
                raise self._filtered("the answer was stopped by Azure's content filter", blocked)
            yield chunk

    def parse_body(self, data: Any) -> list[Chunk]:
        chunks = super().parse_body(data)
        done = chunks[-1]
        if isinstance(done, Done) and done.finish_reason == "content_filter":
            choices = data.get("choices") or [{}]
            raise self._filtered(
                "the answer was stopped by Azure's content filter",
                filtered_categories(choices[0].get("content_filter_results")),
            )
        return chunks

    def _filtered(self, message: str, categories: list[str]) -> ContentFilterError:
        detail = f" (filtered: {', '.join(dict.fromkeys(categories))})" if categories else ""
        return ContentFilterError(message + detail, context=self.error_context, code="content_filter")

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> BackendError:
        message, etype, code = parse_openai_error_body(body)
        categories = filtered_categories(_inner_error(body).get("content_filter_result"))
        if categories:
            message = f"{message or 'content filtered'} (filtered: {', '.join(categories)})"
        retry_after = _retry_after_ms(headers.get("retry-after-ms")) or parse_retry_after(headers.get("retry-after"))
        cls = error_for_status(status, etype, code, message)
        hint = None
        if code == "DeploymentNotFound":
            cls = NotFoundError
            hint = (
                f"this resource has no deployment named {self.deployment!r}: set model (or deployment) to the "
                "deployment's name as Azure AI Foundry shows it, or wait a few minutes after creating it"
            )
        elif cls is NotFoundError:
            hint = (
                f"check base_url (the resource endpoint, https://RESOURCE.openai.azure.com, now {self.base_url}) "
                f"and api_version ({self.api_version})"
            )
        elif issubclass(cls, AuthenticationError):
            hint = (
                f"check the key ({KEY_ENV[0]} or api_key, sent as the api-key header) or the Entra ID token "
                f"({TOKEN_ENV[0]}), and that base_url is this key's resource"
            )
        return cls(message, context=self.error_context, status=status, retry_after=retry_after,
                   code=code or etype, hint=hint)


def _inner_error(body: bytes | str | None) -> Mapping[str, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return {}
    err = data.get("error") if isinstance(data, Mapping) else None
    inner = err.get("innererror") if isinstance(err, Mapping) else None
    return inner if isinstance(inner, Mapping) else {}


def _stream_verdicts(data: str) -> list[str]:
    try:
        payload = json.loads(data)
    except ValueError:
        return []
    found: list[str] = []
    choices = payload.get("choices") if isinstance(payload, Mapping) else None
    for choice in choices if isinstance(choices, list) else []:
        if isinstance(choice, Mapping):
            found += filtered_categories(choice.get("content_filter_results"))
    return found


def _retry_after_ms(value: str | None) -> float | None:
    try:
        return max(0.0, float(value) / 1000) if value else None
    except ValueError:
        return None


__all__ = ["DEFAULT_API_VERSION", "PRICES", "AzureOpenAIBackend", "filtered_categories", "split_endpoint"]
