"""``massgen serve`` offers a model only the tools its config names, with every plugin installed.

The real CLI runs ``serve`` as a subprocess; its agent's backend is a loopback
server speaking Chat Completions, whose recorded requests show the ``tools``
array a model would be offered.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from massgen_core.testing import FakeServer
from massgen_core.testing.openai import coordination_handler

WAIT_S = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _offered_through_serve(tmp_path: Path, agent_extra: str) -> list[str]:
    with FakeServer() as model:
        model.add("POST", "/v1/chat/completions", coordination_handler("chat"))
        config = tmp_path / "serve.yaml"
        config.write_text(
            f"agents:\n  - id: a1\n{agent_extra}"
            f"    backend: {{type: chatcompletion, model: m, base_url: '{model.url}/v1'}}\n"
        )
        port = _free_port()
        env = {**os.environ, "MASSGEN_HOME": str(tmp_path / "home")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "massgen_core", "serve", "--config", str(config), "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + WAIT_S
            while True:
                assert proc.poll() is None, proc.communicate()[1]
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "massgen serve did not come up in time"
                time.sleep(0.05)
            response = httpx.post(f"{url}/v1/sessions", json={"question": "q"}, timeout=WAIT_S)
            assert response.status_code == 200, response.text
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=WAIT_S)
        first = model.requests_to("/v1/chat/completions")[0].json()
        return [t["function"]["name"] for t in first.get("tools") or []]


def test_serve_does_not_offer_an_installed_tool_its_config_does_not_name(tmp_path):
    assert _offered_through_serve(tmp_path, "") == ["new_answer"]


def test_serve_offers_the_tools_its_config_names(tmp_path):
    assert _offered_through_serve(tmp_path, "    tools: [python]\n") == ["new_answer", "python"]
