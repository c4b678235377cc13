"""Loopback fake provider servers for tests of every backend plugin.

``server.FakeServer`` is the scripted HTTP/1.1 server; ``openai`` builds
OpenAI Chat Completions / Responses wire bodies on top of it (other formats
add modules beside it). Nothing here may reach beyond 127.0.0.1.
"""

from __future__ import annotations

from massgen_core.testing.server import FakeServer, RecordedRequest, Response, sse_encode, split_uneven

__all__ = ["FakeServer", "RecordedRequest", "Response", "sse_encode", "split_uneven"]
