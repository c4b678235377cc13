"""CPU time of the ``massgen`` command: start-up, ``config validate``, a session's first request.

    uv run python benchmarks/bench_cli.py [--runs R] [--wall]

Runs the CLI as a user does: the installed console script as a subprocess, a
throwaway MASSGEN_HOME, ``.pyc`` files allowed (as an installed user has them).
For each case it prints the median of R runs (interleaved, so a load spike
hits every case alike) of the child's CPU time, user + system, each minus the
median of a bare ``python -c pass``:

- ``massgen --help``;
- ``massgen config validate FILE`` on a three-agent file and on a 200-agent one;
- a three-agent session (OpenAI Responses API, on a loopback fake server):
  the CPU the process had used when its first model request reached the
  server (read from ``/proc/PID/stat`` by the server's handler as the request
  arrives), and the CPU of the whole session (``os.wait4``).

The issue 17 targets: first request <= 150 ms, ``config validate`` and
``--help`` <= 100 ms, all beyond bare interpreter start. ``--wall`` adds the
wall-clock medians of the same runs. The first-request figure comes from the
scheduler's per-thread nanosecond counts (``/proc/PID/task/*/schedstat``).
To see where the time goes: ``uv run python -X importtime -m massgen_core --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from massgen_core.testing.openai import coordination_handler, models_response
from massgen_core.testing.server import FakeServer, RecordedRequest, Response

CLOCK_TICK = 1.0 / os.sysconf("SC_CLK_TCK")
TYPES = [
    ("openai", "gpt-4o-mini"),
    ("claude", "claude-3-5-haiku-20241022"),
    ("gemini", "gemini-2.5-flash"),
    ("grok", "grok-3-mini"),
]


def validate_config(agents: int) -> str:
    lines = ["agents:"]
    for i in range(agents):
        kind, model = TYPES[i % len(TYPES)]
        lines += [
            f"  - id: agent{i + 1}",
            f"    backend: {{type: {kind}, model: {model}, temperature: 0.5, max_tokens: 2000}}",
            f'    system_message: "You are agent number {i + 1}."',
        ]
    return "\n".join(lines) + "\n"


def session_config(base_url: str) -> str:
    agents = [
        {"id": name, "backend": {"type": "openai", "model": "gpt-4o-mini", "base_url": base_url}}
        for name in ("a", "b", "c")
    ]
    return json.dumps({"agents": agents})


def cpu_of(pid: int) -> float:
    """Seconds of CPU (user + system, every live thread) process ``pid`` has used so far.

    The scheduler's nanosecond count (``/proc/PID/task/*/schedstat``) where the kernel
    keeps one, else ``/proc/PID/stat``'s clock ticks (usually 10 ms each, rounded down).
    """
    try:
        return sum(
            int((task / "schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir()
        ) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * CLOCK_TICK  # utime, stime (fields 14, 15)


class FirstRequest:
    """A route handler that notes the child's CPU when the first request arrives, then answers."""

    def __init__(self, answer: Callable[[RecordedRequest], Response]) -> None:
        self.answer = answer
        self.pid: int | None = None
        self.cpu: float | None = None
        self.lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Response:
        with self.lock:
            if self.cpu is None and self.pid is not None:
                self.cpu = cpu_of(self.pid)
        return self.answer(request)


def run(argv: list[str], env: dict[str, str], probe: FirstRequest | None = None) -> tuple[float, float, float | None]:
    """(CPU seconds, wall seconds, CPU at the first request) of one run of ``argv``."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
        if probe is not None:
            with probe.lock:
                probe.pid, probe.cpu = child.pid, None
        _, status, usage = os.wait4(child.pid, 0)  # the child's own rusage, not every child's
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            output.seek(0)
            raise SystemExit(f"{' '.join(argv)} exited {child.returncode}: {output.read().decode()}")
    return usage.ru_utime + usage.ru_stime, wall, None if probe is None else probe.cpu


def massgen_command() -> list[str]:
    """The installed ``massgen`` console script next to this interpreter, else ``python -m massgen_core``."""
    script = Path(sys.executable).with_name("massgen")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "massgen_core"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--wall", action="store_true", help="also print wall-clock medians")
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs must be at least 7")
    massgen = massgen_command()
    probe = FirstRequest(coordination_handler("responses"))
    with tempfile.TemporaryDirectory() as tmp, FakeServer() as server:
        server.add("POST", "/v1/responses", probe)
        server.add("GET", "/v1/models", models_response())
        root = Path(tmp)
        (root / "three.yaml").write_text(validate_config(3))
        (root / "many.yaml").write_text(validate_config(200))
        (root / "session.json").write_text(session_config(f"{server.url}/v1"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MASSGEN_", "PYTHONDONTWRITEBYTECODE"))}
        env.update({"MASSGEN_HOME": str(root / "home"), "OPENAI_API_KEY": "sk-bench", "NO_COLOR": "1"})
        cases: dict[str, tuple[list[str], FirstRequest | None]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "massgen --help": ([*massgen, "--help"], None),
            "config validate (3 agents)": ([*massgen, "config", "validate", str(root / "three.yaml")], None),
            "config validate (200 agents)": ([*massgen, "config", "validate", str(root / "many.yaml")], None),
            "3-agent session": ([*massgen, "--config", str(root / "session.json"), "--no-display", "q"], probe),
        }
        for argv, case_probe in cases.values():  # warm the page cache and write the .pyc files
            run(argv, env, case_probe)
        samples: dict[str, list[tuple[float, float, float | None]]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (argv, case_probe) in cases.items():
                samples[name].append(run(argv, env, case_probe))
    report(samples, args.runs, args.wall)


def report(samples: dict[str, list[tuple[float, float, float | None]]], runs: int, wall: bool) -> None:
    def median(values: list[Any]) -> float:
        return statistics.median(values) * 1000

    bare = median([cpu for cpu, _, _ in samples["python -c pass"]])
    bare_wall = median([w for _, w, _ in samples["python -c pass"]])
    print(f"median of {runs} runs; CPU = user + sys of the child, minus bare `python -c pass` ({bare:.1f} ms)")
    targets = {"massgen --help": 100, "config validate (3 agents)": 100, "config validate (200 agents)": 100}
    for name, rows in samples.items():
        if name == "python -c pass":
            continue
        line = f"  {name:30s} {median([c for c, _, _ in rows]) - bare:7.1f} ms CPU"
        if name in targets:
            line += f"  (target <= {targets[name]})"
        if wall:
            line += f"  {median([w for _, w, _ in rows]) - bare_wall:7.1f} ms wall"
        print(line)
        firsts = [first for _, _, first in rows if first is not None]
        if firsts:
            print(f"  {'  before the first request':30s} {median(firsts) - bare:7.1f} ms CPU  (target <= 150)")


if __name__ == "__main__":
    main()
