"""Fixtures for the accounting tests: a loopback server, and the CLI as a subprocess with the test's MASSGEN_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from massgen_core.testing.openai import openai_server
from massgen_core.testing.server import FakeServer


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = openai_server()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def massgen(_isolated_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, check: bool = True, timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MASSGEN_HOME": str(_isolated_home), "PYTHONIOENCODING": "utf-8", "TZ": "UTC"}
        env.pop("COLUMNS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "massgen_core", *args],
            capture_output=True, text=True, encoding="utf-8", env=env, timeout=timeout, check=False, input=input,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"massgen {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run
