"""Helpers for the python tool's tests: finding the processes a snippet left behind."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest


def _running_with(marker: str) -> list[int]:
    """Host pids whose command line carries ``marker`` and which still run (not zombies)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(int(entry))
    return found


@pytest.fixture
def running_with() -> Callable[[str], list[int]]:
    """``running_with(marker)``: the host pids still running with ``marker`` in their command line."""
    return _running_with
