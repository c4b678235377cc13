"""Shared helpers for the webhooks tests: a loopback receiver and bounded waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from massgen_core.testing.server import FakeServer, Response

PATH = "/hook"


@pytest.fixture
def receiver() -> Iterator[FakeServer]:
    """A loopback server answering 204 on POST /hook unless a test routes it otherwise."""
    with FakeServer() as server:
        server.add("POST", PATH, Response(status=204))
        yield server


@pytest.fixture(autouse=True)
def _fresh_plugin_state() -> Iterator[None]:
    import massgen_webhooks

    massgen_webhooks.reset()
    yield
    massgen_webhooks.reset()


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def wait_for() -> Callable[..., bool]:
    """Poll a predicate until true or a bounded timeout (default 5 s)."""
    return _wait_for
