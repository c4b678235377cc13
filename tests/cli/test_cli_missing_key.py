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


def test_every_agent_without_a_key_gets_its_own_line(tmp_path: Path):
    config = tmp_path / "team.yaml"
    config.write_text(
        "agents:\n"
        "  - {id: writer, backend: {type: openai, model: gpt-4o-mini}}\n"
        "  - {id: critic, backend: {type: grok, model: grok-3-mini}}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["MASSGEN_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "massgen_core", "--config", str(config), "--no-display", "hi"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("massgen: error: agent writer: openai backend") and "OPENAI_API_KEY" in lines[0]
    assert lines[1].startswith("massgen: error: agent critic: grok backend") and "XAI_API_KEY" in lines[1]
