"""Fixtures for the gemini backend tests: a loopback Gemini server and a backend pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from massgen_core.backend import BackendContext, Chunk, Message, Request
from massgen_core.config.schema import BackendConfig
from massgen_core.http import aclose_all
from massgen_core.testing.gemini import GeminiServer

TEST_KEY = "AIzaSyTEST-0123456789abcdefghijklmnop"
MODEL = "gemini-2.5-flash"


@pytest.fixture
def server() -> Iterator[GeminiServer]:
    with GeminiServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    await aclose_all()


@pytest.fixture
def make_backend(server: GeminiServer) -> Callable[..., Any]:
    from massgen_gemini import GeminiBackend

    def make(*, events: list[Any] | None = None, key: str | None = TEST_KEY, **fields: Any) -> GeminiBackend:
        config = BackendConfig(
            type="gemini",
            model=fields.pop("model", MODEL),
            api_key=key,
            base_url=fields.pop("base_url", server.base_url),
            max_retries=fields.pop("max_retries", 0),
            retry_initial_delay=fields.pop("retry_initial_delay", 0.0),
            options=fields.pop("options", {}),
            **fields,
        )
        emit = events.append if events is not None else None
        return GeminiBackend(config, BackendContext(agent_id="agent1", emit=emit))

    return make


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
