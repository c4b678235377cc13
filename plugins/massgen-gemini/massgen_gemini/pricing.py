"""The price table of Google's Gemini models (USD per million tokens).

Standard paid-tier list prices for prompts up to 200k tokens; thinking tokens
are billed as output (the backend adds them when it computes cost), cached
input at the context-cache rate. A config's ``input_price_per_mtok`` /
``output_price_per_mtok`` override these. Data only.
"""

from __future__ import annotations

from massgen_core.http.pricing import Price, PriceTable

PRICES: PriceTable = {
    "gemini-3-pro*": Price(2.0, 12.0, 0.2),
    "gemini-2.5-pro*": Price(1.25, 10.0, 0.125),
    "gemini-2.5-flash*": Price(0.30, 2.50, 0.03),
    "gemini-2.5-flash-lite*": Price(0.10, 0.40, 0.01),
    "gemini-2.0-flash*": Price(0.10, 0.40, 0.025),
    "gemini-2.0-flash-lite*": Price(0.075, 0.30, 0.01875),
    "gemini-1.5-pro*": Price(1.25, 5.0, 0.3125),
    "gemini-1.5-flash*": Price(0.075, 0.30, 0.01875),
    "gemini-flash-latest": Price(0.30, 2.50, 0.03),
    "gemini-flash-lite-latest": Price(0.10, 0.40, 0.01),
}
