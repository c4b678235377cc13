"""Counting every model request the engine makes: the provider's usage, else an estimate.

``CallRecord`` follows one model call of the session (all of its retries). When
the call ends, however it ends, ``report`` gives the ``UsageReported`` fields:
the provider's usage when it arrived; otherwise, when the request reached a
server (the backend said so through ``massgen_core.metering``, or content
arrived), an estimate from the prompt's size and the streamed output, marked
``estimated``. A server's HTTP error before any output is counted as a failed
request with no tokens (providers do not bill those); a call cancelled before
its request was sent is not a request. It also measures the time to the first
byte of any content (text, reasoning or a tool call) and output tokens per
second. Prices come from ``list_price``. It emits nothing and performs no I/O.
"""

from __future__ import annotations

import json
import time
from typing import Any

import attrs

from massgen_core import backend as bk
from massgen_core.content import Content, TextPart
from massgen_core.http.pricing import FREE, Price, cost_usd
from massgen_core.metering import RequestMeter

CHARS_PER_TOKEN = 4  # the usual English-text ratio; estimates only, never billed figures


def tokens_for(chars: int, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    return int(-(-chars // chars_per_token))


# What an attachment adds to a prompt, in characters of text: providers bill an image as roughly
# a thousand-odd tokens whatever its bytes, and a PDF as its pages (about 1 token per 3 bytes of file).
IMAGE_CHARS = 1_600 * CHARS_PER_TOKEN


def content_chars(content: Content) -> int:
    if isinstance(content, str):
        return len(content)
    total = 0
    for part in content:
        if isinstance(part, TextPart):
            total += len(part.text)
        elif part.kind == "image":
            total += IMAGE_CHARS
        elif part.kind == "pdf":
            total += part.size // 3 * CHARS_PER_TOKEN
        else:
            total += part.size
    return total


def prompt_chars(request: bk.Request) -> int:
    """The size of everything a request sends the model: messages, tool calls and tool schemas."""
    total = 0
    for message in request.messages:
        total += content_chars(message.content)
        for call in message.tool_calls:
            total += len(call.name) + len(call.arguments_raw or json.dumps(call.arguments or {}))
    for tool in request.tools:
        total += len(tool.name) + len(tool.description) + len(json.dumps(tool.parameters))
    return total


def list_price(backend: Any) -> Price | None:
    """What ``backend``'s model costs: its own price; for a fallback or pool the dearest member's.

    None when a billing backend has no price for its model. A backend without
    any notion of price (scripted, a nested team) prices its own usage: FREE here.
    """
    own = getattr(backend, "list_price", None)
    if own is not None:
        return own()  # type: ignore[no-any-return]
    members = getattr(backend, "members", None)
    if members:
        prices = [list_price(member) for member in members]
        if any(price is None for price in prices):
            return None
        return max(prices, key=lambda p: (p.input, p.output))  # type: ignore[union-attr]
    return FREE


@attrs.define(eq=False)
class CallRecord:
    """One call's facts as the session streams it; ``report`` turns them into usage fields."""

    backend: Any
    request: bk.Request
    retries_before: int
    meter: RequestMeter = attrs.Factory(RequestMeter)
    usage: bk.Usage | None = None
    first_content: float | None = None  # monotonic time of the first chunk with content
    first_text: float | None = None
    served: tuple[str | None, str | None] = (None, None)  # backend type and model the provider's usage named

    def add_usage(self, usage: bk.Usage, *, served: tuple[str | None, str | None] = (None, None)) -> None:
        self.usage = usage if self.usage is None else self.usage + usage
        if served != (None, None):
            self.served = served

    def served_by(self) -> tuple[str | None, str | None]:
        """Who served the request: as its usage said, else the member of a fallback or pool that sent it."""
        if self.served != (None, None):
            return self.served
        sender = self.meter.backend
        if sender is None or sender is self.backend:
            return (None, None)
        return (getattr(sender, "name", None), getattr(sender, "model", None))

    def report(
        self, status: str, output_chars: int, retries_now: int, error: BaseException | None = None
    ) -> dict[str, Any] | None:
        """The ``UsageReported`` fields of this call, or None when it was no request at all."""
        meter = self.meter
        now = time.monotonic()
        first = min((t for t in (meter.first_byte, self.first_content) if t is not None), default=None)
        reached = meter.reached or first is not None
        usage = self.usage
        estimated = False
        if usage is None:
            if not reached and status != "failed":
                return None  # cancelled before it was sent, or a backend that reports nothing
            refused = getattr(error, "status", None) is not None and output_chars == 0
            if not reached or refused:
                usage = bk.Usage()
            else:
                estimated = True
                tokens = bk.Usage(
                    input_tokens=tokens_for(prompt_chars(self.request)),
                    output_tokens=tokens_for(output_chars),
                )
                price = list_price(meter.backend or self.backend)
                usage = attrs.evolve(tokens, cost_usd=cost_usd(tokens, price))
        latency = now - meter.started
        generating = None if first is None else now - first
        tokens_per_s = (
            usage.output_tokens / generating
            if usage.output_tokens and generating is not None and generating > 0
            else None
        )
        return {
            "usage": usage,
            "latency_s": latency,
            "ttft_s": None if self.first_text is None else self.first_text - meter.started,
            "ttfb_s": None if first is None else first - meter.started,
            "tokens_per_s": tokens_per_s,
            "retries": max(0, retries_now - self.retries_before),
            "status": status,
            "estimated": estimated,
        }
