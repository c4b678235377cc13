"""The CLI offers a model only the tools its config names, with every plugin installed.

A real ``massgen`` subprocess talks to a loopback server speaking Chat
Completions; the ``tools`` array of each request it receives is what a model
would be offered. The python tool plugin is installed in this workspace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from massgen_core.testing import FakeServer
from massgen_core.testing.openai import coordination_handler


@pytest.fixture
def server():
    with FakeServer() as srv:
        srv.add("POST", "/v1/chat/completions", coordination_handler("chat"))
        yield srv


def _run(tmp_path: Path, srv: FakeServer, agent_extra: str = "", top_extra: str = "") -> list[list[str]]:
    config = tmp_path / "config.yaml"
    config.write_text(
        "agents:\n"
        "  - id: a1\n"
        f"{agent_extra}"
        f"    backend: {{type: chatcompletion, model: m, base_url: '{srv.url}/v1'}}\n"
        f"{top_extra}"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["MASSGEN_HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "-m", "massgen_core", "--config", str(config), "--json", "q"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["final_answer"] == "The answer is 42."
    bodies = [r.json() for r in srv.requests_to("/v1/chat/completions")]
    return [[t["function"]["name"] for t in body.get("tools") or []] for body in bodies]


def test_an_installed_tool_is_not_offered_by_a_config_that_does_not_name_it(tmp_path, server):
    offered = _run(tmp_path, server)
    assert offered[0] == ["new_answer"]
    assert not any("python" in names for names in offered)


def test_a_config_that_names_the_python_tool_offers_it(tmp_path, server):
    offered = _run(tmp_path, server, agent_extra="    tools: [python]\n")
    assert offered[0] == ["new_answer", "python"]


def test_the_orchestrator_default_offers_it_to_every_agent(tmp_path, server):
    offered = _run(tmp_path, server, top_extra="orchestrator: {tools: [python]}\n")
    assert offered[0] == ["new_answer", "python"]


def test_a_misspelled_tool_is_a_config_error_with_a_suggestion(tmp_path, server):
    config = tmp_path / "config.yaml"
    config.write_text(
        "agents:\n  - id: a1\n    tools: [pyton]\n"
        f"    backend: {{type: chatcompletion, model: m, base_url: '{server.url}/v1'}}\n"
    )
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "massgen_core", "config", "validate", str(config)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 1
    assert "unknown tool 'pyton'" in proc.stdout + proc.stderr
    assert "did you mean 'python'?" in proc.stdout + proc.stderr
    assert server.requests_to("/v1/chat/completions") == []


def test_the_offline_demo_names_the_python_tool_for_carol_alone_and_carol_uses_it(tmp_path):
    from massgen_core.config.loader import load_config, resolve_config_path

    config = load_config(resolve_config_path("offline-demo.yaml"))
    assert {a.id: a.tools for a in config.agents} == {"alice": None, "bob": None, "carol": ("python",)}
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path / "home")}
    # As shipped: its pauses give the schedule the demo describes (carol checks before her last vote).
    proc = subprocess.run(
        [sys.executable, "-m", "massgen_core", "--config", "offline-demo.yaml", "--jsonl", "Why review code?"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    results = [(e["agent_id"], e["result"]) for e in events if e["type"] == "tool_result"]
    assert results == [("carol", "exit status 0\n--- stdout ---\n3 points added\n")]
    assert events[-1]["winner"] == "bob"
