"""Credentials written into a base_url never reach errors, checks, config show, the store, exports or webhooks.

``http://user:secret@host/v1?key=secret`` is how some gateways take their
credentials. Every test runs the CLI as a subprocess against a loopback server
and looks for the planted secrets in everything the user or a third party sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from massgen_core.testing import FakeServer, Response

PASSWORD = "pw-in-userinfo-7731"
QUERY_SECRET = "q-param-secret-5528"
SECRETS = (PASSWORD, QUERY_SECRET)


def _cli(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    full.update(MASSGEN_HOME=str(home), PYTHONIOENCODING="utf-8", **(env or {}))
    return subprocess.run([sys.executable, "-m", "massgen_core", *args], capture_output=True, text=True,
                          env=full, timeout=60, encoding="utf-8")  # fmt: skip


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked into {where}:\n{text}"


@pytest.fixture
def server():
    with FakeServer() as srv:  # every route unrouted: 404 with an OpenAI-style error body
        srv.add("GET", "/v1/models", Response.json({"error": {"message": "no"}}, status=401))
        yield srv


@pytest.fixture
def config(tmp_path: Path, server: FakeServer) -> Path:
    base_url = f"http://alice:{PASSWORD}@{server.url.removeprefix('http://')}/v1?key={QUERY_SECRET}"
    path = tmp_path / "gateway.yaml"
    path.write_text(
        "agents:\n  - id: solo\n    backend: " + json.dumps({"type": "ollama", "model": "llama3.2", "base_url": base_url}) + "\n",
        encoding="utf-8",
    )
    return path


def test_a_failing_run_leaks_nothing_into_errors_the_debug_log_the_store_exports_or_webhooks(tmp_path, config):
    home = tmp_path / "home"
    with FakeServer() as receiver:
        receiver.add("POST", "/hook", Response(status=204))
        hooks = home / "config" / "webhooks.yaml"
        hooks.parent.mkdir(parents=True)
        hooks.write_text(f"hooks:\n  - url: {receiver.url}/hook\n    events: ['*']\n", encoding="utf-8")
        run = _cli("--debug", "--config", str(config), "--no-display", "Which gateway?", home=home)
        payloads = [r.body.decode() for r in receiver.requests_to("/hook")]
    assert run.returncode == 1, run.stderr
    assert "not found" in run.stderr and "http://***@127.0.0.1" in run.stderr  # the error still names the URL
    _assert_clean(run.stdout + run.stderr, "the run's output and debug log")
    assert any('"agent_failed"' in p for p in payloads)
    _assert_clean("\n".join(payloads), "webhook payloads")

    listed = _cli("conversations", "list", "--json", home=home)
    (conversation,) = json.loads(listed.stdout)
    for fmt in ("json", "markdown", "html"):
        exported = _cli("export", conversation["id"], "--format", fmt, home=home)
        assert exported.returncode == 0, exported.stderr
        _assert_clean(exported.stdout, f"the {fmt} export")
    document = json.loads(_cli("export", conversation["id"], home=home).stdout)
    backend = document["conversation"]["config"]["agents"][0]["backend"]
    assert backend["base_url"].startswith("http://***@127.0.0.1:") and backend["base_url"].endswith("/v1?key=***")
    shown = _cli("conversations", "show", conversation["id"], home=home)
    _assert_clean(shown.stdout + shown.stderr, "conversations show")
    for file in (home / "data").iterdir():  # the database, its WAL: every byte on disk
        data = file.read_bytes()
        assert all(secret.encode() not in data for secret in SECRETS), file


def test_config_show_and_backends_check_mask_the_base_url(tmp_path, config):
    home = tmp_path / "home"
    shown = _cli("config", "show", str(config), home=home)
    assert shown.returncode == 0, shown.stderr
    assert "http://***@127.0.0.1:" in shown.stdout and "key=***" in shown.stdout
    _assert_clean(shown.stdout + shown.stderr, "config show")
    for args in ((), ("--json",)):
        checked = _cli("backends", "check", "--config", str(config), *args, home=home)
        assert checked.returncode == 1, checked.stderr
        _assert_clean(checked.stdout + checked.stderr, f"backends check {' '.join(args)}")
    rows = json.loads(_cli("backends", "check", "--config", str(config), "--json", home=home).stdout)["backends"]
    assert rows[0]["endpoint"].startswith("http://***@127.0.0.1:") and rows[0]["endpoint"].endswith("key=***")


def test_a_validation_problem_about_the_base_url_does_not_quote_its_credentials(tmp_path, server):
    home = tmp_path / "home"
    path = tmp_path / "legacy.yaml"
    base_url = f"http://alice:{PASSWORD}@{server.url.removeprefix('http://')}/v1/chat/completions"
    path.write_text("agents:\n  - backend: " + json.dumps({"type": "chatcompletion", "model": "m", "base_url": base_url})
                    + "\n", encoding="utf-8")  # fmt: skip
    checked = _cli("config", "validate", str(path), home=home)
    assert "base_url names the endpoint" in checked.stdout + checked.stderr
    _assert_clean(checked.stdout + checked.stderr, "config validate")
