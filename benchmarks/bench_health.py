"""``massgen backends check`` latency: five prompt backends, then five plus one that hangs.

Runs the real command (``python -m massgen_core backends check --config ...``)
against FakeServers in a child process and reports the median wall time of
the command and of the probes themselves (in-process ``check_all``).

    uv run python benchmarks/bench_health.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fake_process import ServerProcess  # noqa: E402


def setup(server):
    from massgen_core.testing import Response
    from massgen_core.testing.openai import models_response

    server.add("GET", "/ok/v1/models", models_response(["m1", "m2"]))
    server.add("GET", "/hang/v1/models", Response(hang=True))


def write_config(url: str, hang: bool) -> str:
    lines = ["agents:"]
    types = ["ollama", "vllm", "lmstudio", "llamacpp", "sglang"]
    for i, t in enumerate(types):
        lines.append(f"  - id: a{i}\n    backend: {{type: {t}, model: m1, base_url: '{url}/ok/v1'}}")
    if hang:
        lines.append(f"  - id: hanging\n    backend: {{type: vllm, model: m1, base_url: '{url}/hang/v1', health_timeout: 1.0}}")
    fd, path = tempfile.mkstemp(suffix=".yaml")
    os.write(fd, "\n".join(lines).encode())
    os.close(fd)
    return path


async def probes(path: str) -> float:
    from massgen_core.cli.backends_cmd import _check
    from massgen_core.config import load_config

    config = load_config(path)
    t0 = time.perf_counter()
    await _check(config)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, MASSGEN_HOME=tempfile.mkdtemp())
    with ServerProcess(setup) as url:
        for hang in (False, True):
            path = write_config(url, hang)
            walls, inner, statuses = [], [], None
            for _ in range(args.runs):
                t0 = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "massgen_core", "backends", "check", "--config", path, "--json"],
                                   capture_output=True, text=True, env=env)
                walls.append(time.perf_counter() - t0)
                statuses = [b["status"] for b in json.loads(r.stdout)["backends"]]
                inner.append(asyncio.run(probes(path)))
            label = "5 prompt + 1 hanging (health_timeout 1 s)" if hang else "5 prompt backends"
            print(f"{label:<44} command {statistics.median(walls)*1e3:7.0f} ms   probes {statistics.median(inner)*1e3:7.1f} ms"
                  f"   exit {r.returncode}   statuses {','.join(statuses)}")


if __name__ == "__main__":
    main()
