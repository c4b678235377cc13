"""Fixtures for the massgen-server tests: ``serve(**settings)`` starts a real server and stops it afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from massgen_server.app import Settings
from massgen_server.testing import SECRET, Observer, Served, make_manager, scripted_config


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


@pytest.fixture
def watched(serve: Callable[..., Served]) -> Callable[..., tuple[Served, Observer]]:
    """``watched(**settings)``: a server with one recorded conversation (SECRET) and an observer of its sessions."""

    def start(**settings: Any) -> tuple[Served, Observer]:
        manager = make_manager()
        observer = Observer()
        manager.register(observer, name="observer")
        served = serve(manager=manager, **settings)
        assert served.client.post("/v1/sessions", json={"question": SECRET}).status_code == 200
        observer.events.clear()
        return served, observer

    return start
