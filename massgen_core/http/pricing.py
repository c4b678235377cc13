"""Token usage from providers' own fields, and its cost from per-model price tables.

Each plugin ships a ``PriceTable`` (fnmatch model pattern -> ``Price`` in USD
per million tokens); the most specific matching pattern wins, and a backend's
``input_price_per_mtok`` / ``output_price_per_mtok`` override it. Cached input
tokens are billed at ``cached_input`` when the table gives it. A model no
table prices costs $0 and is reported once per process on stderr
(``warn_unpriced``), never silently. Nothing here knows about HTTP.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # plugins' price tables import this module, so it stays light
    from massgen_core.backend import Usage


@attrs.frozen
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens
    cached_input: float | None = None


PriceTable = Mapping[str, Price]
FREE = Price(0.0, 0.0, 0.0)


def lookup_price(table: PriceTable, model: str | None) -> Price | None:
    """The price of the most specific pattern matching ``model`` (longest pattern wins)."""
    if not model:
        return None
    model = model.lower()
    if model in table:
        return table[model]
    matches = [p for p in table if fnmatch.fnmatchcase(model, p.lower())]
    if not matches:
        return None
    return table[max(matches, key=len)]


def effective_price(
    table: PriceTable, model: str | None, input_override: float | None, output_override: float | None
) -> Price | None:
    base = lookup_price(table, model)
    if input_override is None and output_override is None:
        return base
    return Price(
        input=input_override if input_override is not None else (base.input if base else 0.0),
        output=output_override if output_override is not None else (base.output if base else 0.0),
        cached_input=base.cached_input if base and input_override is None else None,
    )


_warned: set[tuple[str, str | None]] = set()


def warn_unpriced(backend: str, model: str | None) -> bool:
    """Say once per (backend, model) that its requests are counted at $0; True when this call said it."""
    if (backend, model) in _warned:
        return False
    _warned.add((backend, model))
    print(
        f"massgen: warning: no price is known for {backend} model {model or '?'!r}; its requests are "
        "counted at $0 (set input_price_per_mtok and output_price_per_mtok on the backend)",
        file=sys.stderr,
    )
    return True


def cost_usd(usage: Usage, price: Price | None) -> float:
    if price is None:
        return 0.0
    cached = min(usage.cached_tokens, usage.input_tokens)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    total = (usage.input_tokens - cached) * price.input + cached * cached_rate + usage.output_tokens * price.output
    return total / 1_000_000


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def usage_from_openai(data: Mapping[str, Any] | None) -> Usage:
    """Usage from an OpenAI Chat (``prompt_tokens``...) or Responses (``input_tokens``...) usage object."""
    from massgen_core.backend import Usage

    if not data:
        return Usage()
    inp = data.get("input_tokens", data.get("prompt_tokens"))
    out = data.get("output_tokens", data.get("completion_tokens"))
    in_details = data.get("input_tokens_details") or data.get("prompt_tokens_details") or {}
    out_details = data.get("output_tokens_details") or data.get("completion_tokens_details") or {}
    cached = in_details.get("cached_tokens") if isinstance(in_details, Mapping) else None
    if cached is None:
        cached = data.get("prompt_cache_hit_tokens")  # DeepSeek's spelling
    reasoning = out_details.get("reasoning_tokens") if isinstance(out_details, Mapping) else None
    return Usage(
        input_tokens=_int(inp),
        output_tokens=_int(out),
        cached_tokens=_int(cached),
        reasoning_tokens=_int(reasoning),
    )
