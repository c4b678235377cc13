"""Bad-input tests: the CLI as a subprocess, optionally with MASSGEN_HOME on a read-only file system.

A read-only file system is made honestly: ``unshare -m`` gives the command its
own mount namespace, where MASSGEN_HOME is bind-mounted onto itself read-only
(root cannot write there either, unlike a chmod'ed directory). Where the
machine cannot do that the tests that need it are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Run inside the new mount namespace: make "$1" read-only, then run the rest of the command line.
READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def _read_only_unavailable(scratch: Path) -> str | None:
    """Why this machine cannot mount a directory read-only for one command (None when it can)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare(1) or mount(8) is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", READ_ONLY, "sh", str(scratch), "touch", str(scratch / "x")],
        capture_output=True,
        text=True,
        check=False,
    )
    if (scratch / "x").exists() or "Read-only file system" not in probe.stderr:
        return f"unshare -m with a read-only bind mount is not permitted here: {probe.stderr.strip()[:200]}"
    return None


@pytest.fixture(scope="session")
def read_only_mounts(tmp_path_factory: pytest.TempPathFactory) -> None:
    reason = _read_only_unavailable(tmp_path_factory.mktemp("ro-probe"))
    if reason is not None:
        pytest.skip(f"needs a read-only mount: {reason}")


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def massgen(_isolated_home: Path) -> Run:
    """``massgen ARGS`` in a subprocess; ``read_only=True`` runs it with MASSGEN_HOME mounted read-only."""

    def run(*args: str, stdin: str | bytes = "", read_only: bool = False, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "MASSGEN_DEBUG"}
        env.update(MASSGEN_HOME=str(_isolated_home), PYTHONIOENCODING="utf-8", COLUMNS="120")
        command = [sys.executable, "-m", "massgen_core", *args]
        if read_only:
            command = ["unshare", "-m", "sh", "-c", READ_ONLY, "sh", str(_isolated_home), *command]
        proc = subprocess.run(
            command,
            input=stdin.encode("utf-8") if isinstance(stdin, str) else stdin,
            capture_output=True,
            env=env,
            cwd=_isolated_home,
            timeout=timeout,
            check=False,
        )
        return subprocess.CompletedProcess(
            proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
        )

    return run


ONE_AGENT = """
agents:
  - id: solo
    backend:
      type: scripted
      script: [{answer: "Paris is the capital of France."}, {vote: {for: self, reason: "only answer"}}]
"""


@pytest.fixture
def one_agent(_isolated_home: Path) -> Path:
    """MASSGEN_HOME/one.yaml: one scripted agent that answers "Paris is the capital of France." and votes for it."""
    path = _isolated_home / "one.yaml"
    path.write_text(ONE_AGENT, encoding="utf-8")
    return path
