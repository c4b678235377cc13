"""``massgen setup`` as a user runs it: a subprocess answering prompts on stdin."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml


def massgen(args: list[str], home: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    full_env.update(MASSGEN_HOME=str(home), **env)
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        input=stdin, capture_output=True, text=True, env=full_env, timeout=120, cwd=home,
    )


def test_interactive_wizard_writes_a_valid_config_and_keeps_the_key_out_of_it(tmp_path: Path):
    result = massgen(["setup", "--no-probe"], tmp_path, stdin="2\nopenai\n\nscripted\n\n\nsk-secret-123\n")
    assert result.returncode == 0, result.stderr
    config_file = tmp_path / "config" / "config.yaml"
    document = yaml.safe_load(config_file.read_text())
    assert document["agents"] == [
        {"id": "agent1", "backend": {"type": "openai", "model": "gpt-4o-mini"}},
        {"id": "agent2", "backend": {"type": "scripted", "model": "scripted-1"}},
    ]
    assert document["voting"] == {"strategy": "majority"}
    assert "sk-secret-123" not in config_file.read_text()
    env_file = tmp_path / "config" / ".env"
    assert env_file.read_text() == "OPENAI_API_KEY=sk-secret-123\n"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "sk-secret-123" not in result.stderr + result.stdout
    check = massgen(["config", "validate", str(config_file)], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_key_already_in_the_environment_is_not_asked_for(tmp_path: Path):
    result = massgen(["setup", "--no-probe"], tmp_path, stdin="1\nopenai\ngpt-4o\n\n", OPENAI_API_KEY="sk-present")
    assert result.returncode == 0, result.stderr
    assert "OPENAI_API_KEY for openai" not in result.stderr
    assert not (tmp_path / "config" / ".env").exists()


def test_flags_skip_the_questions_and_plain_massgen_then_uses_that_config(tmp_path: Path):
    made = massgen(["setup", "--agent", "scripted:scripted-1", "--agent", "scripted:scripted-2", "--strategy", "majority"], tmp_path)
    assert made.returncode == 0, made.stderr
    assert 'next: massgen "your question"' in made.stderr
    run = massgen(["--no-display", "--no-logs", "What is 2+2?"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip()  # the winner's answer


def test_an_unknown_backend_type_is_one_line_with_a_suggestion(tmp_path: Path):
    result = massgen(["setup", "--agent", "scrpted:x"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("massgen: error: unknown backend 'scrpted' (did you mean 'scripted'?)")
    assert "Traceback" not in result.stderr
    bad_spec = massgen(["setup", "--agent", "openai"], tmp_path)
    assert "write TYPE:MODEL" in bad_spec.stderr


def test_an_existing_config_is_kept_unless_the_user_agrees(tmp_path: Path):
    target = tmp_path / "team.yaml"
    target.write_text("# mine\n")
    refused = massgen(["setup", "-o", str(target), "--agent", "scripted:s"], tmp_path, stdin="n\n")
    assert refused.returncode == 1
    assert target.read_text() == "# mine\n"
    forced = massgen(["setup", "-o", str(target), "--agent", "scripted:s", "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert f"--config {target}" in forced.stderr
    assert yaml.safe_load(target.read_text())["agents"][0]["backend"]["type"] == "scripted"


def test_store_key_replaces_an_older_line(tmp_path: Path, monkeypatch):
    from massgen_core.cli.setup_cmd import store_key

    monkeypatch.setenv("MASSGEN_HOME", str(tmp_path))
    store_key("A_KEY", "one")
    store_key("B_KEY", "two")
    path = store_key("A_KEY", "three")
    assert path.read_text() == "B_KEY=two\nA_KEY=three\n"
