"""``massgen backends check`` speed: five loopback backends (one server, five servers), then one that hangs.

Runs the real command (``python -m massgen_core backends check --config ... --json``)
against FakeServers in child processes and reports, over ``--runs`` runs, the
median wall time and CPU time (user + sys) of the command, and the median
latency the command itself reports for the backends (what it says about the
servers). Target (issue 11, item 8): the whole command for 5 loopback
backends <= 500 ms wall, median of 7. On a loaded machine compare the CPU
column, which the load does not inflate; the load average is printed first.
One warm-up run per case writes the bytecode caches, so that a stale or
missing ``.pyc`` (``PYTHONDONTWRITEBYTECODE=1``) does not count as startup.

    uv run python benchmarks/bench_health.py [--runs 7]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fake_process import ServerProcess  # noqa: E402

TYPES = ["ollama", "vllm", "lmstudio", "llamacpp", "sglang"]


def setup(server):
    from massgen_core.testing import Response
    from massgen_core.testing.openai import models_response

    server.add("GET", "/ok/v1/models", models_response(["m1", "m2"]))
    server.add("GET", "/hang/v1/models", Response(hang=True))


def write_config(urls: list[str], hang: bool) -> str:
    lines = ["agents:"]
    for i, t in enumerate(TYPES):
        url = urls[i % len(urls)]
        lines.append(f"  - id: a{i}\n    backend: {{type: {t}, model: m1, base_url: '{url}/ok/v1'}}")
    if hang:
        lines.append(f"  - id: hanging\n    backend: {{type: vllm, model: m1, base_url: '{urls[0]}/hang/v1', health_timeout: 1.0}}")
    fd, path = tempfile.mkstemp(suffix=".yaml")
    os.write(fd, "\n".join(lines).encode())
    os.close(fd)
    return path


def run_once(path: str, env: dict[str, str]) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "massgen_core", "backends", "check", "--config", path, "--json"],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads(r.stdout)
    report["exit"] = r.returncode
    return wall, cpu, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ, MASSGEN_HOME=tempfile.mkdtemp())
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; runs {args.runs}; "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(ServerProcess(setup)) for _ in range(5)]
        cases = [("5 backends, one server", urls[:1], False), ("5 backends, five servers", urls, False),
                 ("5 + 1 hanging (health_timeout 1 s)", urls[:1], True)]
        for label, where, hang in cases:
            path = write_config(where, hang)
            # Warm-up with bytecode writing allowed, as any installed Python does: what is measured is
            # the command, not compiling massgen_core for the first time (PYTHONDONTWRITEBYTECODE=1).
            run_once(path, {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"})
            walls, cpus, latencies, report = [], [], [], {}
            for _ in range(args.runs):
                wall, cpu, report = run_once(path, env)
                walls.append(wall)
                cpus.append(cpu)
                latencies += [b["latency_ms"] for b in report["backends"] if b["status"] == "ok"]
            statuses = ",".join(b["status"] for b in report["backends"])
            print(f"{label:<36} wall {statistics.median(walls) * 1e3:6.0f} ms   cpu {statistics.median(cpus) * 1e3:6.0f} ms"
                  f"   reported latency {statistics.median(latencies):6.1f} ms   exit {report['exit']}   {statuses}")


if __name__ == "__main__":
    main()
