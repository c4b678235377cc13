"""Start-up up to the first model request: what it may import, and the collector it holds.

A session's CPU is almost all start-up, so the boundary is guarded where it is
crossed: the child process below runs a real three-agent session against a
loopback server and records, at the moment the first request is about to go
out, which modules are loaded and whether the cyclic garbage collector is on.
Timings live in benchmarks/bench_cli.py; these checks only read state.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from massgen_core import startup
from massgen_core.testing.openai import coordination_handler
from massgen_core.testing.server import FakeServer

# The child runs the CLI's main() in-process and looks over the shoulder of the pool
# when the first client is asked for (the first request), then once more after main().
CHILD = textwrap.dedent(
    """
    import gc, json, sys
    from massgen_core.http import pool

    seen = {}
    real = pool.get_client

    def spy(*args, **kwargs):
        if not seen:
            seen["gc_before"] = gc.isenabled()
            client = real(*args, **kwargs)
            seen["gc_after"] = gc.isenabled()
            seen["frozen"] = gc.get_freeze_count()
            seen["modules"] = sorted(sys.modules)
            return client
        return real(*args, **kwargs)

    pool.get_client = spy
    from massgen_core.cli.main import main

    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        seen["code"] = exc.code
    seen["gc_at_exit"] = gc.isenabled()
    seen["async_libraries_at_exit"] = sorted(m for m in sys.modules if m.split(".")[0] in ("anyio", "sniffio", "trio"))
    sys.stderr.write("RESULT " + json.dumps(seen) + "\\n")
    """
)

# Nothing a first request needs: the live view's and the exports' libraries, httpx's own
# command-line client (and the pygments it pulls in), other providers' code, and anyio: httpcore
# runs on massgen_core.http.aio_backend's asyncio streams and primitives.
NOT_BEFORE_FIRST_REQUEST = (
    "rich", "pygments", "markdown_it", "nh3", "uvicorn", "starlette", "yaml", "ruamel", "anyio", "trio",
)  # fmt: skip


@pytest.fixture
def gc_state() -> Iterator[None]:
    """Leave the test process's collector as it was, whatever the test did to it."""
    enabled = gc.isenabled()
    try:
        yield
    finally:
        startup._paused = False
        gc.unfreeze()
        (gc.enable if enabled else gc.disable)()


def first_request(tmp_path: Path) -> dict:
    with FakeServer() as server:
        server.add("POST", "/v1/responses", coordination_handler("responses"))
        agents = [
            {"id": n, "backend": {"type": "openai", "model": "gpt-4o-mini", "base_url": f"{server.url}/v1"}}
            for n in ("a", "b", "c")
        ]
        config = tmp_path / "three.json"
        config.write_text(json.dumps({"agents": agents}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MASSGEN_")}
        env.update({"MASSGEN_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": "sk-test"})
        done = subprocess.run(
            [sys.executable, "-c", CHILD, "--config", str(config), "--no-display", "q"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        posts = len(server.requests)
    lines = [line for line in done.stderr.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr
    result = json.loads(lines[-1].removeprefix("RESULT "))
    result["posts"] = posts
    result["stdout"] = done.stdout
    return result


def test_a_session_holds_the_collector_until_its_first_request_and_imports_only_what_that_needs(tmp_path: Path):
    result = first_request(tmp_path)
    assert result["code"] == 0 and "The answer is 42." in result["stdout"] and result["posts"] >= 3
    # start-up ran with the collector off; the first client froze start-up's objects and turned it on
    assert result["gc_before"] is False
    assert result["gc_after"] is True and result["frozen"] > 10_000
    assert result["gc_at_exit"] is True
    modules = result["modules"]
    assert sorted({m.split(".")[0] for m in modules} & set(NOT_BEFORE_FIRST_REQUEST)) == []
    assert "httpx._main" not in modules and "httpx" in modules
    assert "httpcore" in modules and "massgen_core.http.aio_backend" in modules
    # nor later: the whole session (connections, TLS-free loopback streams, pool waits) ran without anyio
    # httpcore asks sniffio which loop runs, nothing more
    assert {m.split(".")[0] for m in result["async_libraries_at_exit"]} == {"sniffio"}
    assert "massgen_core.display.live" not in modules  # --no-display: the plain display only
    assert "massgen_webhooks.delivery" not in modules  # no webhook configured: no delivery threads or code
    assert "backoff" not in modules  # imported at the first wait before a retry, which a first request never has
    # the one backend the config names, and no other provider's, exporter's or tool's code
    implementations = [
        m for m in modules
        if m.startswith("massgen_") and not m.startswith("massgen_core.") and m.endswith((".backend", ".exporter", ".tool"))
    ]
    assert implementations == ["massgen_openai.backend"]


def test_main_turns_the_collector_back_on_when_a_command_ends_without_a_request(gc_state: None):
    from massgen_core.cli.main import main

    gc.enable()
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        main(["--help"])
    assert "Usage: massgen" in out.getvalue()
    assert gc.isenabled() and not startup.paused()


def test_pause_turns_the_collector_off_and_resume_freezes_and_turns_it_on(gc_state: None):
    gc.enable()
    gc.unfreeze()
    startup.pause()
    assert not gc.isenabled() and startup.paused()
    kept = [object() for _ in range(10)]  # alive at resume: frozen with the rest
    startup.resume()
    assert gc.isenabled() and not startup.paused()
    assert gc.get_freeze_count() > len(kept)


def test_resume_without_pause_leaves_a_collector_the_user_turned_off_alone(gc_state: None):
    gc.disable()
    gc.unfreeze()
    startup.pause()  # already off: not start-up's to turn back on
    assert not startup.paused()
    startup.resume()
    assert not gc.isenabled() and gc.get_freeze_count() == 0
