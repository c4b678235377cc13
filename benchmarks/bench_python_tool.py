"""How long one call of the ``python`` tool takes, against a bare interpreter start.

Run: uv run python benchmarks/bench_python_tool.py [RUNS]
Prints medians (and min/max) over RUNS calls (default 20), for every sandbox
level this machine allows. The tool's own overhead is the difference from the
bare interpreter: temp dir, the jail process (namespaces, mounts, seccomp),
pipes. Nothing here is asserted; it is a measurement.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

from massgen_python_tool import Limits, make_tool
from massgen_python_tool.sandbox import LEVELS


def _summary(label: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"{label:<32} median {statistics.median(ms):7.1f} ms"
        f"   min {min(ms):7.1f}   max {max(ms):7.1f}   (n={len(ms)})"
    )


async def _tool_runs(runs: int, code: str, level: str = "auto") -> list[float]:
    tool = make_tool(Limits(sandbox=level))
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await tool(code=code)
        samples.append(time.perf_counter() - started)
    return samples


def _bare_runs(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "print('hi')"], capture_output=True, check=True)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(_summary("bare `python -I -c print`", _bare_runs(runs)))
    for level in LEVELS:
        samples = asyncio.run(_tool_runs(runs, "print('hi')", level))
        print(_summary(f"python tool ({level}): print('hi')", samples))
    big = "import sys\nsys.stdout.write('x' * 5_000_000)"
    print(_summary("python tool (auto): 5 MB of output", asyncio.run(_tool_runs(runs, big))))


if __name__ == "__main__":
    main()
