"""The ``grok`` backend: xAI Grok through its OpenAI-compatible Chat Completions API.

``type: grok`` serves ``grok-*`` at ``https://api.x.ai/v1`` with the key from
``XAI_API_KEY``. Live Search options go in the request body as
``search_parameters`` (mode, return_citations, max_search_results); the
citations the answer comes with are kept on ``Done.citations``. The wire
format itself is ``massgen_core.http.openai_chat``'s.
"""

from __future__ import annotations

from typing import Any, ClassVar

from massgen_core.backend import Request
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.http.pricing import Price
from massgen_grok.options import GrokOptions

PRICES: dict[str, Price] = {
    "grok-4*": Price(3.00, 15.00, 0.75),
    "grok-4-fast*": Price(0.20, 0.50, 0.05),
    "grok-3*": Price(3.00, 15.00, 0.75),
    "grok-3-mini*": Price(0.30, 0.50, 0.075),
    "grok-code-fast*": Price(0.20, 1.50, 0.02),
    "grok-2*": Price(2.00, 10.00),
}


class GrokBackend(ChatCompletionsBackend):
    name: ClassVar[str] = "grok"
    required_keys: ClassVar[tuple[str, ...]] = ("model",)
    also_known_as: ClassVar[tuple[str, ...]] = ("xai",)
    model_patterns: ClassVar[tuple[str, ...]] = ("grok-*",)
    Options = GrokOptions
    key_env: ClassVar[tuple[str, ...]] = ("XAI_API_KEY",)
    default_base_url: ClassVar[str] = "https://api.x.ai/v1"
    description: ClassVar[str] = "xAI Grok (OpenAI-compatible, Live Search)"
    price_table = PRICES
    # image_url parts on the vision models; grok-3 and the code models take text only
    text_only_models: ClassVar[tuple[str, ...]] = ("grok-3*", "grok-code*", "grok-beta")

    def search_parameters(self) -> dict[str, Any] | None:
        o = self.options
        if not (o.enable_web_search or o.search_mode or o.return_citations is not None or o.max_search_results):
            return None
        mode = o.search_mode or ("auto" if o.enable_web_search else "off")
        params: dict[str, Any] = {"mode": mode}
        params["return_citations"] = True if o.return_citations is None else o.return_citations
        if o.max_search_results is not None:
            params["max_search_results"] = o.max_search_results
        return params

    def extra_body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {}
        search = self.search_parameters()
        if search is not None:
            body["search_parameters"] = search
        if self.options.reasoning_effort:
            body["reasoning_effort"] = self.options.reasoning_effort
        return body
