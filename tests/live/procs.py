"""Running ``massgen`` as a user does while watching its output arrive: on a pty, or through pipes.

``Watched`` starts the CLI as a subprocess (isolated MASSGEN_HOME) and reads
its output in a thread as it comes, so a test can wait until something is on
the screen while the loopback model still holds the rest of its answer.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WAIT_S = 60  # a deadline for what must happen, not a timing assertion


def cli_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The terminal tests' environment for the CLI: no keys, an isolated home, a real TERM."""
    from ..terminal.conftest import _env

    return _env(home, extra)


class Watched:
    """A running ``massgen ARGS``; ``out``/``err`` hold what it wrote so far (on a pty both are ``out``)."""

    def __init__(self, args: Sequence[str], home: Path, *, terminal: bool, env: dict[str, str] | None = None) -> None:
        self._out = bytearray()
        self._err = bytearray()
        self._lock = threading.Lock()
        command = [sys.executable, "-m", "massgen_core", *args]
        self.readers: list[threading.Thread] = []
        self.master: int | None = None
        if terminal:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            self.proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=cli_env(home, env),
                                         cwd=home, close_fds=True)
            os.close(slave)
            self.master = master
            self._start(lambda: _read_fd(master), self._out)
        else:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=cli_env(home, {"COLUMNS": "120", **(env or {})}), cwd=home)
            self._start(_reader(self.proc.stdout), self._out)
            self._start(_reader(self.proc.stderr), self._err)

    def _start(self, read: Callable[[], bytes], into: bytearray) -> None:
        def pump() -> None:
            while chunk := read():
                with self._lock:
                    into.extend(chunk)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        self.readers.append(thread)

    @property
    def out(self) -> str:
        with self._lock:
            return self._out.decode("utf-8", errors="replace")

    @property
    def err(self) -> str:
        with self._lock:
            return self._err.decode("utf-8", errors="replace")

    @property
    def words(self) -> str:
        """``out`` without rich's own colour and cursor sequences."""
        return CSI.sub("", self.out)

    def type(self, text: str) -> None:
        """What the user types on the terminal."""
        assert self.master is not None, "only a terminal can be typed into"
        os.write(self.master, text.encode())

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            if time.monotonic() > deadline or self.proc.poll() is not None and not condition():
                if self.proc.poll() is None:
                    self.proc.kill()
                raise AssertionError(f"never happened: {what}\n--- out ---\n{self.words[-4000:]}\n--- err ---\n{self.err[-4000:]}")
            time.sleep(0.02)

    def finish(self) -> int:
        code = self.proc.wait(WAIT_S)
        for thread in self.readers:
            thread.join(WAIT_S)
        return code


def _read_fd(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: every writer of the pty has exited
        return b""


def _reader(stream) -> Callable[[], bytes]:  # type: ignore[no-untyped-def]
    return lambda: stream.read1(65536)
