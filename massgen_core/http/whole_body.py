"""Servers that answer a streaming request with one complete JSON body.

Some OpenAI-compatible servers (and proxies in front of any provider) ignore
``stream: true`` in some cases, e.g. when tools are present, and send the
whole answer at once with ``content-type: application/json``. Such an answer
is read as the non-streamed answer it is (the backend's ``parse_body``), for
every wire format, instead of being taken for a broken event stream.
"""

from __future__ import annotations

from collections.abc import Mapping


def answered_whole(headers: Mapping[str, str]) -> bool:
    """Whether a successful answer to a streaming request is one JSON document rather than events."""
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")
