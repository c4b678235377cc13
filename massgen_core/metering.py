"""What a backend tells the engine about the model request it is sending, out of band.

The engine sets ``current_meter`` to a fresh ``RequestMeter`` around each model
call. A backend that talks to a server marks on it which backend sent the
request (a fallback member, for its price), when the request reached the server
(its body was sent) and when the first byte of the answer arrived. The engine
uses this to record a request that ended without the provider's usage
(cancelled by a restart, failed mid-stream) with an estimate, and for the time
to first byte. Backends that never mark anything still work: the engine then
relies on the chunks it saw. Nothing here performs I/O.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


@attrs.define(eq=False)
class RequestMeter:
    """The facts of one logical model request (all its retries), filled in as they happen."""

    started: float = attrs.Factory(time.monotonic)
    backend: Any = None  # the backend whose request reached a server last
    reached: bool = False  # some attempt's body reached a server
    first_byte: float | None = None  # monotonic time of the first event of an answer body

    def sending(self, backend: Any) -> Callable[[str, Any], Coroutine[Any, Any, None]]:
        """An httpx ``trace`` extension marking ``reached`` once the request body was sent."""
        self.backend = backend

        async def trace(event: str, info: Any) -> None:
            if event.endswith("send_request_body.complete"):
                self.reached = True

        return trace

    def mark_first_byte(self) -> None:
        if self.first_byte is None:
            self.first_byte = time.monotonic()

    async def watch(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """Pass ``events`` through, marking the first one as the answer's first byte."""
        async for event in events:
            self.mark_first_byte()
            yield event


current_meter: ContextVar[RequestMeter | None] = ContextVar("massgen_current_meter", default=None)
