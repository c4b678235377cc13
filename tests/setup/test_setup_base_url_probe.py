"""``massgen setup`` asks for a server's base_url, probes every backend, and never writes a config that cannot run.

The CLI runs as a subprocess with its own MASSGEN_HOME, answering prompts on
stdin; the servers are loopback fakes speaking the OpenAI wire format.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from massgen_core.testing.openai import openai_server


def massgen(args: list[str], home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(MASSGEN_HOME=str(home), MASSGEN_LOAD_PLUGINS="openai-compatible,scripted,majority")
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=120, cwd=home, check=False,
    )


@pytest.fixture
def server():
    server = openai_server(models=("local-model",))
    yield server
    server.stop()


@pytest.fixture
def closed_url():
    """A loopback URL nothing listens on (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def written(home: Path) -> dict:
    return yaml.safe_load((home / "config" / "config.yaml").read_text())


def test_the_wizard_asks_chatcompletion_for_its_url_and_probes_it(tmp_path, server):
    url = server.url + "/v1"
    done = massgen(["setup"], tmp_path, stdin=f"1\nchatcompletion\nlocal-model\n{url}\n\n")
    assert done.returncode == 0, done.stderr
    assert "Agent 1 server URL (base_url" in done.stderr
    assert written(tmp_path)["agents"] == [
        {"id": "agent1", "backend": {"type": "chatcompletion", "model": "local-model", "base_url": url}}
    ]
    assert len(server.requests_to("/v1/models")) == 1  # probed before writing


def test_a_server_that_does_not_answer_is_reported_and_nothing_is_written_unless_asked(tmp_path, closed_url):
    done = massgen(["setup"], tmp_path, stdin=f"1\nchatcompletion\nm\n{closed_url}\n\nn\n")
    assert done.returncode == 1
    assert f"agent1 (chatcompletion at {closed_url}) does not answer: " in done.stderr
    assert "Write the config anyway?" in done.stderr
    assert "not written" in done.stderr
    assert not (tmp_path / "config" / "config.yaml").exists()


def test_the_user_may_write_it_anyway_when_the_server_is_down_for_now(tmp_path, closed_url):
    done = massgen(["setup"], tmp_path, stdin=f"1\nchatcompletion\nm\n{closed_url}\n\ny\n")
    assert done.returncode == 0, done.stderr
    assert written(tmp_path)["agents"][0]["backend"]["base_url"] == closed_url


def test_a_local_preset_offers_its_default_url_and_keeps_it_out_of_the_file(tmp_path):
    done = massgen(["setup", "--no-probe"], tmp_path, stdin="1\nollama\nllama3.2\n\n\n")
    assert done.returncode == 0, done.stderr
    assert "[http://localhost:11434/v1]" in done.stderr
    assert written(tmp_path)["agents"][0]["backend"] == {"type": "ollama", "model": "llama3.2"}


def test_a_local_preset_takes_another_url(tmp_path, server):
    url = server.url + "/v1"
    done = massgen(["setup"], tmp_path, stdin=f"1\nollama\nlocal-model\n{url}\n\n")
    assert done.returncode == 0, done.stderr
    assert written(tmp_path)["agents"][0]["backend"]["base_url"] == url
    assert server.requests_to("/v1/models")


def test_a_url_a_run_would_refuse_is_refused_before_anything_is_written(tmp_path):
    done = massgen(["setup"], tmp_path, stdin="1\nchatcompletion\nm\nlocalhost:8000/v1\n\n")
    assert done.returncode == 1
    assert "must be an http:// or https:// URL with a host" in done.stderr
    assert not (tmp_path / "config" / "config.yaml").exists()


def test_flags_need_base_url_for_chatcompletion(tmp_path):
    done = massgen(["setup", "--agent", "chatcompletion:m"], tmp_path)
    assert done.returncode == 1
    assert "give its URL with --base-url" in done.stderr


def test_flags_probe_and_refuse_a_server_that_is_down(tmp_path, closed_url):
    done = massgen(["setup", "--agent", "chatcompletion:m", "--base-url", closed_url], tmp_path)
    assert done.returncode == 1
    assert "does not answer" in done.stderr and "--no-probe" in done.stderr
    assert not (tmp_path / "config" / "config.yaml").exists()


def test_flags_with_a_live_server_write_a_config_that_runs(tmp_path, server):
    url = server.url + "/v1"
    done = massgen(["setup", "--agent", "chatcompletion:local-model", "--base-url", url], tmp_path)
    assert done.returncode == 0, done.stderr
    check = massgen(["config", "validate", str(tmp_path / "config" / "config.yaml")], tmp_path)
    assert check.returncode == 0, check.stdout


def test_no_probe_writes_without_asking_the_server(tmp_path, closed_url):
    done = massgen(["setup", "--no-probe", "--agent", "chatcompletion:m", "--base-url", closed_url], tmp_path)
    assert done.returncode == 0, done.stderr
    assert written(tmp_path)["agents"][0]["backend"]["base_url"] == closed_url
