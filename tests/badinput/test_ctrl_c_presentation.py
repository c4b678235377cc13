"""Ctrl-C during the final presentation: back at once, the turn stored as ``cancelled`` with what streamed.

A real OpenAI-compatible backend talks to a loopback server that answers and
votes at once and then streams the presentation slowly (200 pieces, 0.2 s
apart: 40 s in all). The CLI runs as a subprocess; SIGINT arrives once the
store shows the first presentation text. The bound on each wait is only a
guard against a hang, never the assertion.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from massgen_core.testing.openai import CHAT_PATH, chat_events, coordination_handler
from massgen_core.testing.server import FakeServer, Response

PIECES = [f"word{i} " for i in range(200)]
FULL = "".join(PIECES)
GUARD_S = 30.0  # a hang guard for every wait


@pytest.fixture
def slow_server():
    coordinate = coordination_handler(answer="The short answer.")

    def handler(request):
        if request.json().get("tools"):  # coordination: answer, then vote
            return coordinate(request)
        return Response.sse(chat_events(PIECES, model="fake-model"), chunk_delay=0.2)  # the presentation

    with FakeServer() as server:
        server.add("POST", CHAT_PATH, handler)
        yield server


@pytest.fixture
def config(slow_server, _isolated_home) -> Path:
    path = _isolated_home / "slow.yaml"
    path.write_text(
        "agents:\n  - id: solo\n    backend:\n      type: chatcompletion\n      model: fake-model\n"
        f"      base_url: {slow_server.url}/v1\n      api_key: sk-test-not-a-real-key\n",
        encoding="utf-8",
    )
    return path


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "MASSGEN_DEBUG"}
    env.update(MASSGEN_HOME=str(home), PYTHONIOENCODING="utf-8", COLUMNS="120", LINES="40")
    return env


def _turn(home: Path) -> tuple[str | None, str | None, float | None] | None:
    db = home / "data" / "conversations.db"
    if not db.exists():
        return None
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT ended_by, final_answer, finished_at FROM turns ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return None
    finally:
        conn.close()


def _wait_for_presentation_text(home: Path) -> None:
    guard = time.monotonic() + GUARD_S
    while time.monotonic() < guard:
        turn = _turn(home)
        if turn is not None and turn[1]:
            return
        time.sleep(0.05)
    raise AssertionError("the presentation never started streaming")


def _assert_cancelled_with_a_prefix(home: Path) -> str:
    ended_by, final, finished_at = _turn(home)  # type: ignore[misc]
    assert ended_by == "cancelled"
    assert finished_at is not None  # a finished turn, not one left "unfinished"
    assert final and FULL.startswith(final) and len(final) < len(FULL)  # what streamed, not the whole text
    return final


def test_ctrl_c_in_the_presentation_stores_a_cancelled_turn_and_json_says_so(config, _isolated_home):
    proc = subprocess.Popen(
        [sys.executable, "-m", "massgen_core", "--no-display", "-q", "--json", "--config", str(config), "Explain."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(_isolated_home),
        cwd=_isolated_home,
    )
    try:
        _wait_for_presentation_text(_isolated_home)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=GUARD_S)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    final = _assert_cancelled_with_a_prefix(_isolated_home)
    result = json.loads(out)
    assert result["ended_by"] == "cancelled"
    assert result["final_answer"] == final
    assert result["error"] == "cancelled during the final presentation; the text streamed so far is the answer"
    assert "internal error" not in err.decode()


def _read_until(fd: int, needle: bytes, seen: bytearray) -> None:
    guard = time.monotonic() + GUARD_S
    while needle not in seen:
        if time.monotonic() > guard:
            raise AssertionError(f"never saw {needle!r}; the terminal showed: {bytes(seen[-2000:])!r}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                raise AssertionError(f"the terminal closed before {needle!r}: {bytes(seen[-2000:])!r}") from None


def test_ctrl_c_in_the_presentation_returns_to_the_interactive_prompt(config, _isolated_home):
    args = [sys.executable, "-m", "massgen_core", "--config", str(config)]
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child: becomes massgen on the pseudo-terminal
        os.chdir(_isolated_home)
        os.execve(sys.executable, args, _env(_isolated_home))
    seen = bytearray()
    reaped = False
    try:
        _read_until(fd, b"> ", seen)
        os.write(fd, b"Explain.\n")
        _wait_for_presentation_text(_isolated_home)
        os.write(fd, b"\x03")  # Ctrl-C, as typed: the terminal sends SIGINT to massgen
        _read_until(fd, b"massgen: interrupted; the question was cancelled\r\n> ", seen)  # the prompt is back
        os.write(fd, b"/quit\n")
        guard = time.monotonic() + GUARD_S
        while (status := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < guard:
            try:
                if select.select([fd], [], [], 0.1)[0]:
                    seen += os.read(fd, 65536)
            except OSError:
                pass
        reaped = status[0] == pid
        assert reaped, "massgen did not leave after /quit"
        assert os.waitstatus_to_exitcode(status[1]) == 0
    finally:
        if not reaped:  # only our own child, never a reused pid
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    _assert_cancelled_with_a_prefix(_isolated_home)
    assert b"internal error" not in seen
