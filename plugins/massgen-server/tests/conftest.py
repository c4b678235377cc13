"""Fixtures for the massgen-server tests: ``serve(**settings)`` starts a real server and stops it afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from massgen_server.app import Settings
from massgen_server.testing import Served, make_manager, scripted_config


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(**kw: Any) -> Served:
        manager = kw.pop("manager", None) or make_manager()
        config = kw.pop("config", None) or scripted_config(manager)
        served = Served(Settings(config=config, manager=manager, **kw))
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()
