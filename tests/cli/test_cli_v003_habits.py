"""What v0.0.3 users type still works: ``python -m massgen.cli``, ``--create-samples``, default models.

The CLI runs as a subprocess with an isolated MASSGEN_HOME; the default-model
cases talk to a loopback server speaking OpenAI's Responses API, which records
the ``model`` each request asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from massgen_core.testing import FakeServer
from massgen_core.testing.openai import coordination_handler

from .conftest import REPO

RESPONSES = "/v1/responses"


@pytest.fixture
def openai_server():
    with FakeServer() as srv:
        srv.add("POST", RESPONSES, coordination_handler("responses"))
        yield srv


def models_asked(srv: FakeServer) -> set[str | None]:
    return {request.json().get("model") for request in srv.requests_to(RESPONSES)}


def test_python_dash_m_massgen_cli_runs_a_config_as_in_v003(_isolated_home):
    proc = subprocess.run(
        [sys.executable, "-m", "massgen.cli", "--config", "offline-demo.yaml", "-q", "What is a code review?"],
        capture_output=True, text=True, env=_env(_isolated_home), cwd=_isolated_home, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "You asked: *What is a code review?*" in proc.stdout


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"MASSGEN_HOME": str(home), "PYTHONIOENCODING": "utf-8"})
    return env


def test_the_core_wheel_ships_the_massgen_compatibility_package(tmp_path):
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV (./uvw's uv is not on PATH)
    assert uv, "uv builds the wheel (it is how this workspace is installed)"
    subprocess.run([uv, "build", "--wheel", "--offline", "-q", "-o", str(tmp_path), str(REPO)], check=True, timeout=300,
                   capture_output=True)
    (wheel,) = tmp_path.glob("massgen_core-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"massgen/__init__.py", "massgen/cli.py", "massgen/__main__.py"} <= names


def test_create_samples_says_where_the_samples_are_and_writes_nothing(cli, _isolated_home):
    before = sorted(p.name for p in _isolated_home.iterdir())
    done = cli(["--create-samples"])
    assert done.returncode == 0, done.stderr
    assert "offline-demo.yaml" in done.stdout and "three_agents_default.yaml" in done.stdout
    folder = next(line for line in done.stdout.splitlines() if line.startswith("They are in ")).removeprefix("They are in ")
    assert (Path(folder) / "offline-demo.yaml").is_file()
    assert 'massgen --config offline-demo.yaml "your question"' in done.stdout
    assert sorted(p.name for p in _isolated_home.iterdir()) == before


def test_a_bare_question_with_an_openai_key_runs_the_default_model(cli, openai_server):
    done = cli(["--base-url", f"{openai_server.url}/v1", "--json", "q"], env={"OPENAI_API_KEY": "sk-test"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["final_answer"] == "The answer is 42."
    assert models_asked(openai_server) == {"gpt-4o-mini"}
    assert "no config given and OPENAI_API_KEY is set: one openai agent with gpt-4o-mini" in done.stderr
    assert "sk-test" not in done.stderr + done.stdout


def test_an_openai_key_in_the_user_env_file_counts_too(cli, openai_server, _isolated_home):
    (_isolated_home / "config").mkdir(exist_ok=True)
    (_isolated_home / "config" / ".env").write_text("OPENAI_API_KEY=sk-from-file\n")
    done = cli(["--base-url", f"{openai_server.url}/v1", "-q", "q"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The answer is 42.\n"
    assert models_asked(openai_server) == {"gpt-4o-mini"}


def test_a_bare_question_without_a_key_says_how_to_start(cli):
    done = cli(["q"])
    assert done.returncode == 1
    assert "no agents configured" in done.stderr and "offline-demo.yaml" in done.stderr


def test_backend_openai_without_model_sends_the_documented_default(cli, openai_server):
    done = cli(["--backend", "openai", "--base-url", f"{openai_server.url}/v1", "-q", "q"], env={"OPENAI_API_KEY": "k"})
    assert done.returncode == 0, done.stderr
    assert models_asked(openai_server) == {"gpt-4o-mini"}
    assert "--backend openai without --model: using its default model gpt-4o-mini" in done.stderr


def test_an_explicit_model_is_sent_as_given(cli, openai_server):
    done = cli(["--backend", "openai", "--model", "gpt-4.1-mini", "--base-url", f"{openai_server.url}/v1", "-q", "q"],
               env={"OPENAI_API_KEY": "k"})
    assert done.returncode == 0, done.stderr
    assert models_asked(openai_server) == {"gpt-4.1-mini"}
    assert "default model" not in done.stderr


@pytest.mark.parametrize(
    ("text", "summary"),
    [("# Two agents.\n# More.\nagents: []\n", "Two agents."), ("\n\n#   Spaced  \n", "Spaced"), ("agents: []\n# late\n", ""), ("", "")],
)
def test_a_sample_is_summed_up_by_the_first_line_of_its_leading_comment(tmp_path, text, summary):
    from massgen_core.cli.samples import _summary

    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    assert _summary(path) == summary


def test_a_backend_without_a_default_model_is_left_to_the_config_rules(monkeypatch):
    from massgen_core.cli.options import RunOptions
    from massgen_core.cli.run_impl import resolve_config

    from massgen_core.config.problems import ConfigError

    # no default is invented for it: the config rules refuse a backend that would send no model
    with pytest.raises(ConfigError, match="backend type 'chatcompletion' needs 'model'"):
        resolve_config(RunOptions(backend="chatcompletion", base_url="http://127.0.0.1:9/v1"))
