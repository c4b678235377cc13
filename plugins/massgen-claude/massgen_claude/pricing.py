"""The price table of Anthropic's Claude models (USD per million tokens).

Most specific pattern wins (see ``massgen_core.http.pricing``); cached input
is billed at the cache-read rate, a tenth of the input price. Prices are list
prices; a config's ``input_price_per_mtok`` / ``output_price_per_mtok``
override them. Data only.
"""

from __future__ import annotations

from massgen_core.http.pricing import Price, PriceTable


def _price(inp: float, out: float) -> Price:
    return Price(inp, out, round(inp / 10, 4))


PRICES: PriceTable = {
    "claude-opus-4-5*": _price(5.0, 25.0),
    "claude-opus-4-1*": _price(15.0, 75.0),
    "claude-opus-4-2*": _price(15.0, 75.0),  # claude-opus-4-20250514
    "claude-opus-4*": _price(15.0, 75.0),
    "claude-sonnet-4*": _price(3.0, 15.0),
    "claude-haiku-4*": _price(1.0, 5.0),
    "claude-3-7-sonnet*": _price(3.0, 15.0),
    "claude-3-5-sonnet*": _price(3.0, 15.0),
    "claude-3-5-haiku*": _price(0.8, 4.0),
    "claude-3-opus*": _price(15.0, 75.0),
    "claude-3-haiku*": _price(0.25, 1.25),
}
