"""MassGen's pytest plugin, as a plugin author's own test suite meets it.

Each test writes a test file into an empty folder (no conftest, no MassGen config) and runs pytest
on it in a subprocess: the fixtures must arrive through the ``pytest11`` entry point alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEADER = "import os\nimport httpx\nimport pytest\n\n"


def _run(tmp_path: Path, body: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_author.py").write_text(HEADER + body)
    # an author's own settings: pytest-asyncio in its default strict mode
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "test_author.py"],
        cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=120,
    )


def _passed(proc: subprocess.CompletedProcess[str], count: int) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{count} passed" in proc.stdout, proc.stdout


def test_massgen_home_is_empty_and_hides_the_developers_keys_and_settings(tmp_path):
    body = '''
def test_home(massgen_home):
    assert os.environ["MASSGEN_HOME"] == str(massgen_home)
    assert list(massgen_home.iterdir()) == []
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MASSGEN_LOAD_PLUGINS", "MASSGEN_WEBHOOK_URL"):
        assert var not in os.environ, var


def test_without_the_fixture_nothing_changes():
    assert os.environ["MASSGEN_HOME"] == "/outer/home"
    assert os.environ["OPENAI_API_KEY"] == "sk-developer-key"
'''
    proc = _run(tmp_path, body, MASSGEN_HOME="/outer/home", OPENAI_API_KEY="sk-developer-key",
                ANTHROPIC_API_KEY="sk-ant-x", MASSGEN_LOAD_PLUGINS="none", MASSGEN_WEBHOOK_URL="http://x")
    _passed(proc, 2)


def test_the_plugin_manager_fixture_is_fresh_and_current(tmp_path):
    body = '''
def test_manager(massgen_plugin_manager):
    from massgen_core import plugins

    assert plugins.get_plugin_manager() is massgen_plugin_manager
    assert massgen_plugin_manager.plugin_infos() == []
'''
    _passed(_run(tmp_path, body), 1)


def test_the_loopback_servers_answer_on_127_0_0_1(tmp_path):
    body = '''
from massgen_core.testing import Response


def test_fake(fake_server):
    fake_server.add("GET", "/ping", Response.json({"pong": True}))
    assert fake_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(fake_server.url + "/ping").json() == {"pong": True}
    assert [r.path for r in fake_server.requests] == ["/ping"]


def test_openai(openai_server):
    models = httpx.get(openai_server.url + "/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["gpt-4o-mini"]


def test_anthropic(anthropic_server):
    anthropic_server.models()
    assert httpx.get(anthropic_server.base_url + "/v1/models").json()["data"][0]["type"] == "model"


def test_gemini(gemini_server):
    assert gemini_server.url.startswith("http://127.0.0.1:")
'''
    _passed(_run(tmp_path, body), 4)


def test_http_cleanup_closes_the_shared_clients_after_an_async_test(tmp_path):
    body = '''
import massgen_core.http as mhttp

OPENED = []


@pytest.mark.asyncio
async def test_opens_a_client(massgen_http_cleanup, openai_server):
    client = mhttp.get_client(openai_server.url + "/v1")
    OPENED.append(client)
    assert (await client.get(openai_server.url + "/v1/models")).status_code == 200


def test_it_was_closed():
    assert OPENED and OPENED[0].is_closed
'''
    _passed(_run(tmp_path, body), 2)
