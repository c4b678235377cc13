"""A missing provider key stops the run with one line naming the variable, before any request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_missing_key_is_one_line_naming_the_variable(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["MASSGEN_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "massgen_core", "--model", "claude-sonnet-4-20250514", "--no-display", "hi"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("massgen: error: agent agent1: claude backend (model claude-sonnet-4-20250514")
    assert "set ANTHROPIC_API_KEY" in lines[0]
    assert not (tmp_path / "data" / "conversations.db").exists()  # nothing ran, nothing recorded
