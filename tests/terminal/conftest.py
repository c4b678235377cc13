"""A real pseudo-terminal for the CLI, and the hostile payloads the terminal tests feed through it.

``in_pty`` (fixture ``pty_cli``) runs ``massgen ARGS`` as a subprocess whose stdin, stdout and stderr
are the slave side of a fresh pty (so ``isatty()`` is true and rich draws its
live view), and returns every byte the terminal received: the screen. The
``hostile`` fixture carries the payloads and the checks of a screen.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The attacks of issue 9: each would act on a real terminal if it arrived raw.
TITLE = "\x1b]0;pwned-title\x07"  # OSC 0: retitle the window
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4K\x07"  # OSC 52: write the clipboard
CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
LINK = "\x1b]8;;https://evil.example/\x1b\\innocent text\x1b]8;;\x1b\\"  # OSC 8: a hidden link
C1 = "\x9b31mred\x9b0m \x9d0;c1-title\x9c"  # CSI and OSC as single C1 characters
OVERWRITE = "benign\rEVIL"  # a lone carriage return rewrites the line
PAYLOAD = f"start {TITLE}{CLIPBOARD}{CLEAR}{LINK}{C1} {OVERWRITE} end"
# What a reader sees instead: the same bytes, spelled out.
VISIBLE_TITLE = "\\x1b]0;pwned-title\\x07"
VISIBLE_C1 = "\\x9b31mred\\x9b0m"


def hostile_bytes(screen: str) -> list[str]:
    """The payloads' active sequences found raw on ``screen`` (rich's own colours and cursor moves are allowed)."""
    found = [s for s in ("\x1b]", "\x07", "\x1b[2J", "\x1b\\", "\r" + "EVIL") if s in screen]
    found += [f"U+{ord(c):04X}" for c in sorted(set(screen)) if 0x80 <= ord(c) <= 0x9F]
    return found


def raw_controls(screen: str) -> list[str]:
    """Every raw control character on ``screen`` besides newline, carriage return and tab."""
    return sorted({f"U+{ord(c):04X}" for c in screen if (ord(c) < 0x20 and c not in "\n\r\t") or 0x7F <= ord(c) <= 0x9F})


def hostile_config(tmp: Path, *, display: str = "simple") -> Path:
    """Two scripted agents whose answers, reasons, reasoning and final answer all carry ``PAYLOAD``."""
    config = {
        "agents": [
            {
                "id": "alice",
                "backend": {
                    "type": "scripted",
                    "script": [
                        {"reasoning": f"thinking {PAYLOAD}", "text": f"draft {PAYLOAD}", "answer": f"answer {PAYLOAD}"},
                        {"vote": {"for": "self", "reason": f"reason {PAYLOAD}"}},
                    ],
                    "final": f"# Final\n\nfinal {PAYLOAD}\n\n[docs](https://evil.example/phish)\n",
                },
            },
            {
                "id": "bob",
                "backend": {
                    "type": "scripted",
                    "script": [{"delay": 0.1, "vote": {"for": "first", "reason": f"bob says {PAYLOAD}"}}],
                },
            },
        ],
        "ui": {"display_type": display},
    }
    path = tmp / f"hostile-{display}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@attrs.frozen
class Screen:
    code: int
    raw: bytes

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")

    @property
    def words(self) -> str:
        """``text`` without the CSI colour and cursor sequences rich writes itself."""
        return _CSI.sub("", self.text)


def _env(home: Path, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k not in ("NO_COLOR", "MASSGEN_DEBUG")}
    env.update({"MASSGEN_HOME": str(home), "PYTHONIOENCODING": "utf-8", "TERM": "xterm-256color"})
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.update(extra or {})
    return env


def in_pty(
    args: Sequence[str], home: Path, *, typed: bytes = b"", env: dict[str, str] | None = None, timeout: float = 60
) -> Screen:
    """Run ``massgen ARGS`` on a 120x40 pseudo-terminal; ``typed`` is what the user types into it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "massgen_core", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(home, env),
        cwd=home,
        close_fds=True,
    )
    os.close(slave)
    if typed:
        os.write(master, typed)
    screen = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:  # a safety net against a hung child, not a timing assertion
                proc.kill()
                raise AssertionError(f"massgen {' '.join(args)} produced nothing for {timeout}s:\n{screen.decode(errors='replace')}")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the slave side has exited
                break
            if not chunk:
                break
            screen += chunk
    finally:
        os.close(master)
        code = proc.wait(timeout)
    return Screen(code=code, raw=bytes(screen))


class Hostile:
    """The payloads and checks, for test modules (which cannot import a conftest under importlib mode)."""

    PAYLOAD = PAYLOAD
    VISIBLE_TITLE = VISIBLE_TITLE
    VISIBLE_C1 = VISIBLE_C1
    bytes_on = staticmethod(hostile_bytes)
    controls_on = staticmethod(raw_controls)
    config = staticmethod(hostile_config)


@pytest.fixture
def hostile() -> type[Hostile]:
    return Hostile


@pytest.fixture
def cli(_isolated_home: Path):
    """Run ``massgen ARGS`` with stdout and stderr captured through pipes (no terminal), byte for byte."""

    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "massgen_core", *args]
        done = subprocess.run(command, input=b"", capture_output=True, env=_env(_isolated_home, None), cwd=_isolated_home, timeout=60)
        # Decoded by hand: text mode would turn a lone carriage return into a newline.
        return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())

    return run


@pytest.fixture
def pty_cli(_isolated_home: Path):
    """Run ``massgen ARGS`` on a pseudo-terminal with this test's MASSGEN_HOME."""

    def run(args: Sequence[str], **kwargs: object) -> Screen:
        return in_pty(args, _isolated_home, **kwargs)  # type: ignore[arg-type]

    return run
