"""A FakeServer in a child process, so benchmark CPU figures measure only the client side."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any


def _serve(setup: Callable[[Any], None], queue: Any, stop: Any) -> None:
    from massgen_core.testing import FakeServer

    with FakeServer() as server:
        setup(server)
        queue.put(server.url)
        stop.wait()


class ServerProcess:
    def __init__(self, setup: Callable[[Any], None]) -> None:
        ctx = mp.get_context("spawn")
        self._queue = ctx.Queue()
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_serve, args=(setup, self._queue, self._stop), daemon=True)

    def __enter__(self) -> str:
        self._proc.start()
        return self._queue.get(timeout=30)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._proc.join(10)
