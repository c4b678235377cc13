"""Fixtures of the HTTP layer tests: a fake server per test and a stream collector."""

from __future__ import annotations

import pytest

from massgen_core.testing import FakeServer


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    from massgen_core.http import aclose_all, pool

    await aclose_all()
    pool._gates.clear()  # a Retry-After hold must not outlive its test
