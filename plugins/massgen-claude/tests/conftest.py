"""Fixtures for the claude backend tests: a loopback Anthropic server and a backend pointed at it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from massgen_core.backend import Chunk, Message, Request
from massgen_core.testing.anthropic import AnthropicServer
from massgen_core.testing.collect import backend_maker

TEST_KEY = "sk-ant-test-0123456789abcdef"


@pytest.fixture
def server(anthropic_server: AnthropicServer) -> AnthropicServer:
    """The loopback server of MassGen's pytest plugin (massgen_core.testing.pytest_plugin)."""
    return anthropic_server


@pytest.fixture(autouse=True)
def _close_clients(massgen_http_cleanup: None) -> None:
    """Every test closes the shared HTTP clients when it ends."""


@pytest.fixture
def make_backend(server: AnthropicServer) -> Callable[..., Any]:
    from massgen_claude import ClaudeBackend

    return backend_maker(ClaudeBackend, type="claude", model="claude-sonnet-4-20250514", base_url=server.base_url, key=TEST_KEY)


def _ask(text: str = "Hi", **kw: Any) -> Request:
    return Request(messages=(Message(role="user", content=text),), **kw)


async def _collect(backend: Any, request: Request | None = None) -> list[Chunk]:
    return [chunk async for chunk in backend.stream(request or _ask())]


@pytest.fixture
def ask() -> Callable[..., Request]:
    """Build a one-message user request."""
    return _ask


@pytest.fixture
def collect() -> Callable[..., Any]:
    """Run a backend's stream to the end and return its chunks."""
    return _collect
