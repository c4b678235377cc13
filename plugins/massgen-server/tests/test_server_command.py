"""``massgen serve`` as users run it: a subprocess of the real CLI, reached over loopback HTTP with httpx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import massgen_scripted
import pytest

from massgen_core.config.loader import config_from_dict
from massgen_core.errors import MassGenError
from massgen_core.plugins import PluginManager
from massgen_server.command import check_bind, is_loopback, startup_problems

WAIT_S = 15.0

TINY = """
agents:
  - id: a1
    backend: {type: scripted, model: s-1, token_delay: 0, script: [{answer: "A1 says {question}"}, {vote: best}]}
  - id: a2
    backend: {type: scripted, model: s-2, token_delay: 0, script: [{answer: "A2 says {question} at length"}, {vote: best}]}
"""

NO_KEY = """
agents:
  - id: gpt
    backend: {type: openai, model: gpt-4o-mini}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def massgen(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "massgen_core", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def start(config_text: str, *extra: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[str]]:
        config = tmp_path / "config.yaml"
        config.write_text(config_text)
        port = free_port()
        proc = massgen("serve", "--config", str(config), "--port", str(port), *extra, env=env)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT_S
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return url, proc
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "massgen serve did not come up in time"
            time.sleep(0.05)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=WAIT_S)


def test_serve_runs_a_session_over_http(server):
    url, proc = server(TINY)
    response = httpx.post(f"{url}/v1/sessions", json={"question": "Why?"}, timeout=WAIT_S)
    assert response.status_code == 200
    assert response.json()["winner"] == "a2"
    assert response.json()["final_answer"] == "A2 says Why? at length"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0  # Ctrl-C is a normal stop
    assert "serving the API on http://127.0.0.1:" in stderr
    assert "the API server stopped" in stderr
    assert "auth: none" in stderr


def test_serve_with_a_token_and_a_missing_key_warns_then_answers_503(server):
    url, proc = server(NO_KEY, "--no-logs", "--max-sessions", "2", env={"MY_TOKEN": "tok-123"})
    # the token comes from MASSGEN_API_TOKEN unless --token-env says otherwise
    assert httpx.get(f"{url}/v1/backends", timeout=WAIT_S).status_code == 200
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=WAIT_S)
    assert "sessions will fail (503)" in stderr and "OPENAI_API_KEY" in stderr

    url, proc = server(NO_KEY, "--token-env", "MY_TOKEN", env={"MY_TOKEN": "tok-123"})
    assert httpx.get(f"{url}/v1/backends", timeout=WAIT_S).status_code == 401
    response = httpx.post(
        f"{url}/v1/sessions", json={"question": "q"}, headers={"Authorization": "Bearer tok-123"}, timeout=WAIT_S
    )
    assert response.status_code == 503
    assert "OPENAI_API_KEY" in response.json()["error"]["message"]
    assert httpx.get(f"{url}/health", timeout=WAIT_S).json() == {"ok": True}  # no token: nothing but "up"
    status = httpx.get(f"{url}/v1/status", headers={"Authorization": "Bearer tok-123"}, timeout=WAIT_S)
    assert status.json()["sessions"]["max"] == 4
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=WAIT_S)
    assert "bearer token from $MY_TOKEN" in stderr
    assert "tok-123" not in stderr


def test_serve_checks_host_and_origin_with_the_allow_lists_given(server):
    url, proc = server(TINY, "--allow-host", "massgen.proxy.test", "--allow-origin", "http://tool.test:3000")
    backends = f"{url}/v1/backends"
    assert httpx.get(backends, headers={"Host": "massgen.proxy.test"}, timeout=WAIT_S).status_code == 200
    assert httpx.get(backends, headers={"Host": "rebind.test"}, timeout=WAIT_S).status_code == 421
    allowed = httpx.get(backends, headers={"Origin": "http://tool.test:3000"}, timeout=WAIT_S)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://tool.test:3000"
    assert httpx.get(backends, headers={"Origin": "http://evil.test"}, timeout=WAIT_S).status_code == 403
    form = httpx.post(f"{url}/v1/sessions", data={"question": "q"}, timeout=WAIT_S)
    assert form.status_code == 415
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=WAIT_S)
    assert "massgen: refused GET '/v1/backends' (421)" in stderr


def test_serve_refuses_a_non_loopback_host_without_a_token(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(TINY)
    proc = massgen("serve", "--config", str(config), "--host", "0.0.0.0", "--port", str(free_port()))
    _, stderr = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 1
    assert "refusing to listen on 0.0.0.0 without an API token" in stderr
    assert "MASSGEN_API_TOKEN" in stderr


def test_serve_help_lists_its_options_and_massgen_help_does_not_import_starlette():
    proc = massgen("serve", "--help")
    stdout, _ = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0
    for option in ("--config", "--preset", "--host", "--port", "--token-env", "--max-sessions", "--no-logs", "--allow-host", "--allow-origin"):
        assert option in stdout
    code = (
        "import sys\nfrom massgen_core.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('STARLETTE' if 'starlette' in sys.modules or 'uvicorn' in sys.modules else 'LEAN', file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT_S)
    assert proc.stderr.strip().endswith("LEAN")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_need_no_token(host):
    assert is_loopback(host)
    check_bind(host, None, "T")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com"])
def test_other_hosts_need_a_token(host):
    assert not is_loopback(host)
    with pytest.raises(MassGenError, match="set T"):
        check_bind(host, None, "T")
    check_bind(host, "a-token", "T")


def test_startup_problems_reports_a_config_that_cannot_build():
    manager = PluginManager()
    manager.register(massgen_scripted, name="massgen-scripted")
    config = config_from_dict({"agents": [{"id": "a", "backend": {"type": "scripted"}}], "voting": {"strategy": "majority"}}, manager=_with_majority())
    problems = startup_problems(config, manager)
    assert problems and problems[0].startswith("sessions will fail (422)")
    assert startup_problems(config, _with_majority()) == []


def _with_majority() -> PluginManager:
    import massgen_voting_majority

    manager = PluginManager()
    manager.register(massgen_scripted, name="massgen-scripted")
    manager.register(massgen_voting_majority, name="massgen-voting-majority")
    return manager


def _first_request_tools(server, agent_extra: str) -> list[str]:
    """The tools array of the first model request of a session served from a one-agent config."""
    from massgen_core.testing import FakeServer
    from massgen_core.testing.openai import coordination_handler

    with FakeServer() as model:
        model.add("POST", "/v1/chat/completions", coordination_handler("chat"))
        url, _ = server(
            f"agents:\n  - id: a1\n{agent_extra}"
            f"    backend: {{type: chatcompletion, model: m, base_url: '{model.url}/v1'}}\n"
        )
        response = httpx.post(f"{url}/v1/sessions", json={"question": "q"}, timeout=WAIT_S)
        assert response.status_code == 200, response.text
        first = model.requests_to("/v1/chat/completions")[0].json()
    return [t["function"]["name"] for t in first.get("tools") or []]


def test_serve_does_not_offer_an_installed_tool_its_config_does_not_name(server):
    assert _first_request_tools(server, "") == ["new_answer"]


def test_serve_offers_the_tools_its_config_names(server):
    assert _first_request_tools(server, "    tools: [python]\n") == ["new_answer", "python"]


def test_port_zero_env_team_name_and_the_access_log(tmp_path):
    """``--port 0`` prints the port it got; ``--env`` picks an overlay; the access log is JSON lines."""
    import json as _json

    config = tmp_path / "team.yaml"
    config.write_text(TINY + "environments:\n  quiet:\n    ui: {logging_enabled: false}\n")
    proc = massgen("serve", "--config", str(config), "--port", "0", "--env", "quiet", "--team-name", "duo",
                   "--access-log", env={"MASSGEN_HOME": str(tmp_path)})
    try:
        first = proc.stderr.readline()
        port = int(first.split("http://127.0.0.1:")[1].split(" ")[0])
        assert port > 0 and "team 'duo'" in first
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert [m["id"] for m in httpx.get(f"{url}/v1/models").json()["data"]][0] == "duo"
        reply = httpx.post(f"{url}/v1/chat/completions", timeout=WAIT_S,
                           json={"model": "duo", "messages": [{"role": "user", "content": "Q?"}]})
        assert reply.json()["choices"][0]["message"]["content"] == "A2 says Q? at length"
    finally:
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=WAIT_S)
    lines = [_json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    chat = next(line for line in lines if line["path"] == "/v1/chat/completions")
    assert chat["method"] == "POST" and chat["status"] == 200 and chat["route"] == "/v1/chat/completions"
    assert chat["ms"] > 0 and chat["bytes"] > 0 and chat["client"].startswith("127.0.0.1:")
    assert not (tmp_path / "data" / "conversations.db").exists()  # the 'quiet' environment turned recording off
