"""Reading server-sent events from an httpx response, with httpx-sse.

Comment lines (``: keep-alive``) are skipped and LF, CR and CRLF framing
(Gemini uses CRLF) all work, because httpx-sse's decoder handles them. The
content type is not enforced: some OpenAI-compatible servers label their
streams wrongly. This module does not interpret event payloads.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from massgen_core.http._httpx import httpx
from httpx_sse import EventSource, ServerSentEvent

__all__ = ["ServerSentEvent", "aiter_events", "event_json"]


class _LenientEventSource(EventSource):
    def _check_content_type(self) -> None:
        return None


async def aiter_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """The events of a streamed response, in order."""
    async for event in _LenientEventSource(response).aiter_sse():
        yield event


def event_json(event: ServerSentEvent) -> Any:
    """The event's data parsed as JSON (raises ``ValueError`` when it is not JSON)."""
    return json.loads(event.data)
