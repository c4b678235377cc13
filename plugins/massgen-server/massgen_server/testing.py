"""Running ``massgen serve``'s app for real in tests: uvicorn on a free 127.0.0.1 port, on its own thread and loop.

``Served(settings)`` starts the app exactly as the command does (the same
uvicorn options, so the same protocol and timeouts) and gives an httpx client
for it; ``make_manager`` and ``scripted_config`` make a team of scripted agents
that needs no network; an ``Observer`` plugin records every event, so a test
can tell whether a session started. Test support only: nothing in the server imports it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from massgen_core.config.loader import config_from_dict
from massgen_core.hookspecs import hookimpl
from massgen_core.plugins import PluginManager
from massgen_server.app import Settings, create_app
from massgen_server.serving import uvicorn_options

WAIT_S = 10.0


def make_manager(*, voting: bool = True) -> PluginManager:
    """A plugin manager with the scripted and OpenAI backends and (unless ``voting`` is false) majority voting."""
    manager = PluginManager()
    wanted = {"massgen-scripted", "massgen-openai"} | ({"massgen-voting-majority"} if voting else set())
    manager.load_entrypoints(only=wanted)  # found as installed plugins: a plugin never imports another
    missing = wanted - set(manager.infos)
    if missing:  # pragma: no cover - the test environment lacks a workspace plugin
        raise RuntimeError(f"the server's tests need these plugins installed: {', '.join(sorted(missing))}")
    return manager


def scripted_config(manager: PluginManager, *, first_delay: float = 0.0) -> Any:
    """Two scripted agents: a1 answers, a2 answers longer; both vote for the longest (a2 wins).

    ``first_delay`` makes both first answers wait that long, so the session is slow to finish.
    """
    first: dict[str, Any] = {"answer": "A1 says {question}"}
    second: dict[str, Any] = {"answer": "A2 says {question}, at length"}
    if first_delay:  # both, or the quick one's answer would restart the slow one past its delay
        first["delay"] = second["delay"] = first_delay
    return config_from_dict(
        {
            "agents": [
                {"id": "a1", "backend": {"type": "scripted", "model": "s-1", "token_delay": 0, "script": [first, {"vote": "best"}]}},
                {
                    "id": "a2",
                    "backend": {
                        "type": "scripted",
                        "model": "s-2",
                        "token_delay": 0,
                        "script": [second, {"vote": "best"}],
                    },
                },
            ]
        },
        manager=manager,
    )


class Served:
    """A real uvicorn server on a free loopback port, run on its own thread and loop."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, **uvicorn_options(settings.header_timeout_s)))
        self.loop: asyncio.AbstractEventLoop | None = None

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve(sockets=[sock])

        self.thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.01)
        self.client = httpx.Client(base_url=self.url, timeout=WAIT_S)

    def tasks(self) -> int:
        """How many asyncio tasks the server's loop has, besides the one counting."""

        async def count() -> int:
            return len(asyncio.all_tasks()) - 1

        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(WAIT_S)

    def wait_idle(self) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while True:
            health = self.client.get("/v1/status").json()
            if health["sessions"]["active"] == 0:
                return health
            assert time.monotonic() < deadline, f"sessions still active: {health}"
            time.sleep(0.02)

    def stop(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


# The question of the conversation a test records first, so that it can check an attack read none of it.
SECRET = "a private question"


class Observer:
    """An ``on_event`` plugin that keeps every event it receives."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def questions(self) -> list[str]:
        """The question of each session started, in order."""
        return [e.question for e in self.events if e.type == "session_started"]


def chromium(purpose: str) -> str:
    """Debian's chromium for a browser test; under CI its absence fails the test, elsewhere it skips."""
    import os
    import shutil

    import pytest

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"CI needs Debian's chromium for the {purpose} (.ci/run installs it)")
    pytest.skip(f"no chromium found: apt-get install chromium to run the {purpose}")

