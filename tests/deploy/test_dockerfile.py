"""The Dockerfile: no container engine runs here, so its install step and its entry command are run as written.

The install step (``pip install . plugins/*/``) runs in a fresh virtual
environment from a copy of the files the Dockerfile copies; the entry command
(``ENTRYPOINT`` + ``CMD``) runs with the demo config and a free port in place
of the fixed one, with the token it requires, and answers ``/health``,
``/ready`` and a chat completion.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    match = re.search(rf"^{name} (\[.*\])$", DOCKERFILE, re.M)
    assert match, f"no {name} in exec form"
    return json.loads(match[1])


def test_the_entry_command_serves_on_all_interfaces_and_needs_a_token(tmp_path):
    entry, cmd = instruction("ENTRYPOINT"), instruction("CMD")
    assert entry[:2] == ["massgen", "serve"] and "0.0.0.0" in entry and cmd[0] == "--config"
    args = [*entry[1:], *cmd]
    args[args.index("--port") + 1] = "0"  # any free port here; the image listens on 8765
    args[args.index("--config") + 1] = "offline-demo.yaml"
    env = {k: v for k, v in os.environ.items() if k != "MASSGEN_API_TOKEN"}
    env["MASSGEN_HOME"] = str(tmp_path)
    refused = subprocess.run([sys.executable, "-m", "massgen_core", *args], env=env, capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 1 and "without an API token" in refused.stderr
    env["MASSGEN_API_TOKEN"] = "container-token-123456"
    proc = subprocess.Popen([sys.executable, "-m", "massgen_core", *args], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        line = proc.stderr.readline()
        port = int(re.search(r"http://0\.0\.0\.0:(\d+)", line)[1])
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).json() == {"ok": True}:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert httpx.get(url + "/ready").json() == {"ready": True}
        auth = {"authorization": "Bearer container-token-123456"}
        reply = httpx.post(url + "/v1/chat/completions", headers=auth, timeout=60, json={
            "model": "offline-demo", "messages": [{"role": "user", "content": "Hi?"}]})
        assert reply.status_code == 200 and reply.json()["massgen"]["ended_by"] == "consensus"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_the_install_step_installs_massgen_with_every_plugin(tmp_path):
    copied = tmp_path / "src"
    copied.mkdir()
    for line in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M):
        for name in line.split():
            source = REPO / name
            target = copied / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "tests", ".venv"))
            else:
                shutil.copy(source, target)
    step = re.search(r"^RUN (pip install [^\\\n]+)", DOCKERFILE, re.M)[1].strip()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(f"{python} -m {step}", shell=True, cwd=copied, capture_output=True, text=True,
                             timeout=900)
    assert install.returncode == 0, install.stderr[-2000:]
    listed = subprocess.run([str(python), "-m", "massgen_core", "plugins", "--json"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "MASSGEN_HOME": str(tmp_path / "home")})
    names = {p["name"] for p in json.loads(listed.stdout) if p["error"] is None}
    assert {"massgen-server", "massgen-openai", "massgen-claude", "massgen-scripted"} <= names
    assert len(names) == len(list((REPO / "plugins").iterdir()))
