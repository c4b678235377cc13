"""`massgen config validate/show/set`, run as a user runs them: a subprocess with its own MASSGEN_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

GOOD = """\
# my team
agents:
  - id: writer  # the writer
    system_message: "Write clearly."
    backend:
      type: openai
      model: gpt-4o-mini
      api_key: sk-do-not-print
      temperature: 0.2
environments:
  prod:
    agents:
      - id: prod-writer
        backend: {type: openai, model: gpt-4o}
"""
BAD = """\
agents:
  - backend:
      type: openai
      model: gpt-4o
      temprature: 0.7
orchestrater: {}
"""


@pytest.fixture
def massgen(tmp_path):
    home = tmp_path / "home"

    def run(*args, cwd=None):
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update(MASSGEN_HOME=str(home), MASSGEN_LOAD_PLUGINS="openai")
        return subprocess.run(
            [sys.executable, "-m", "massgen_core", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd or tmp_path,
            check=False,
            timeout=60,
        )

    return run


def test_validate_exits_0_and_says_ok_for_a_valid_file(massgen, write):
    path = write(GOOD)
    result = massgen("config", "validate", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{path}: ok"]


def test_validate_exits_1_with_located_lines_for_an_invalid_file(massgen, write):
    path = write(BAD, "bad.yaml")
    result = massgen("config", "validate", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:5:7: agents[0].backend.temprature: unknown key 'temprature' for backend type 'openai' (did you mean 'temperature'?)",
        f"{path}:6:1: orchestrater: unknown key 'orchestrater' (did you mean 'orchestrator'?)",
    ]


def test_validate_json_prints_problem_objects(massgen, write):
    path = write(BAD, "bad.yaml")
    result = massgen("config", "validate", "--json", str(path))
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert problems[0] == {
        "file": str(path),
        "line": 5,
        "col": 7,
        "key_path": "agents[0].backend.temprature",
        "message": "unknown key 'temprature' for backend type 'openai'",
        "severity": "error",
        "suggestion": "temperature",
    }


def test_validate_marks_warnings_and_still_exits_0(massgen, write):
    path = write("agent: {backend: {type: openai, model: gpt-4o}}\ndisplay: {type: simple}\n")
    result = massgen("config", "validate", str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith(
        f"{path}:2:1: warning: display: the top-level 'display' block is deprecated"
    )


def test_validate_a_missing_file_exits_1(massgen, tmp_path):
    result = massgen("config", "validate", str(tmp_path / "none.yaml"))
    assert result.returncode == 1
    assert "no such file" in result.stdout


def test_show_prints_the_effective_config_with_keys_redacted(massgen, write):
    path = write(GOOD)
    result = massgen("config", "show", str(path))
    assert result.returncode == 0, result.stderr
    assert "sk-do-not-print" not in result.stdout + result.stderr
    assert "api_key: '***'" in result.stdout
    assert "id: writer" in result.stdout and "orchestrator_timeout_seconds: 1800.0" in result.stdout


def test_show_applies_the_named_environment(massgen, write):
    result = massgen("config", "show", str(write(GOOD)), "--env", "prod")
    assert result.returncode == 0, result.stderr
    assert "id: prod-writer" in result.stdout and "id: writer" not in result.stdout


def test_show_without_file_and_without_default_config_is_one_clear_error(massgen):
    result = massgen("config", "show")
    assert result.returncode == 1
    assert result.stderr.startswith("massgen: error: no FILE given and no default config at")
    assert "Traceback" not in result.stderr


def test_set_rewrites_one_value_keeping_comments(massgen, write):
    path = write(GOOD)
    result = massgen("config", "set", str(path), "agents[0].backend.temperature", "0.9")
    assert result.returncode == 0, result.stderr
    text = path.read_text()
    assert "temperature: 0.9" in text
    assert "# my team" in text and "# the writer" in text and '"Write clearly."' in text
    assert text.replace("temperature: 0.9", "temperature: 0.2") == GOOD


def test_set_refuses_an_invalid_result_and_leaves_the_file_untouched(massgen, write):
    path = write(GOOD)
    result = massgen("config", "set", str(path), "agents.0.backend.temprature", "0.1")
    assert result.returncode == 1
    assert "not written" in result.stderr and "did you mean 'temperature'?" in result.stderr
    assert path.read_text() == GOOD


def test_set_works_on_json_files(massgen, write):
    path = write(
        json.dumps({"agent": {"backend": {"type": "openai", "model": "gpt-4o"}}}), "c.json"
    )
    result = massgen("config", "set", str(path), "ui.display_type", "simple")
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text())["ui"] == {"display_type": "simple"}


def test_show_without_file_uses_the_default_config_in_the_user_config_dir(massgen, tmp_path):
    default = tmp_path / "home" / "config" / "config.yaml"
    default.parent.mkdir(parents=True)
    default.write_text(
        "agent: {id: home-agent, backend: {type: openai, model: gpt-4o}}\ndisplay: {type: simple}\n"
    )
    result = massgen("config", "show")
    assert result.returncode == 0, result.stderr
    assert "id: home-agent" in result.stdout and "display_type: simple" in result.stdout
    assert f"{default}:2:1: warning: display:" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.yaml", None, "cannot read"),
        ("broken.yaml", "agents: [\n", "invalid YAML"),
        ("broken.json", "{", "invalid JSON"),
    ],
)
def test_set_on_an_unreadable_file_is_one_clear_error(massgen, tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = massgen("config", "set", str(path), "ui.display_type", "simple")
    assert result.returncode == 1
    assert result.stderr.startswith("massgen: error:") and expected in result.stderr
    assert "Traceback" not in result.stderr
    assert (path.read_text() if content is not None else None) == content
