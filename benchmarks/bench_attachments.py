"""Attachments (issue 16): reading and checking a file, and what a big image costs a 3-agent session.

* load: ``load_attachment`` of a 20 MB PNG (read once, sniffed, hashed) and the
  first ``data_url`` (base64 once), median of ``--runs``;
* session: a 3-agent team of OpenAI-compatible agents on a loopback server (in
  a child process, so CPU figures are the client's) answering with and without
  a 5 MB image: wall time, client CPU time, model calls and the base64
  strings built (1: every request of every agent shares it).

    uv run python benchmarks/bench_attachments.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _fake_process import ServerProcess


def _setup(server: Any) -> None:
    from massgen_core.testing.openai import coordination_handler

    server.add("POST", "/v1/chat/completions", coordination_handler("chat", answer="A red square."))


def _png(size: int) -> bytes:
    from massgen_core.testing import media

    return media.png() + b"\0" * (size - len(media.png()))


def load(folder: Path, runs: int) -> dict[str, float]:
    from massgen_core.content import load_attachment

    path = folder / "big.png"
    path.write_bytes(_png(20 * 1024 * 1024))
    read, encode = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        attachment = load_attachment(path)
        t1 = time.perf_counter()
        _ = attachment.data_url
        read.append(t1 - t0)
        encode.append(time.perf_counter() - t1)
    return {"load_20mb_ms": statistics.median(read) * 1000, "base64_20mb_ms": statistics.median(encode) * 1000}


async def _session(url: str, attachments: list[Any]) -> int:
    from massgen_core.config import config_from_dict
    from massgen_core.http import aclose_all
    from massgen_core.orchestrator.builder import build_orchestrator

    agents = [{"id": f"v{i}", "backend": {"type": "ollama", "model": "llava", "base_url": url + "/v1"}} for i in range(3)]
    orch = build_orchestrator(config_from_dict({"agents": agents}))
    events = [e async for e in orch.run("What colour?", attachments=attachments)]
    await orch.aclose()
    await aclose_all()
    return sum(1 for e in events if type(e).__name__ == "UsageReported")


def session(folder: Path, runs: int) -> dict[str, float]:
    from massgen_core.content import load_attachment

    encodings = 0
    original = base64.b64encode

    def counting(data: Any, *a: Any) -> bytes:
        nonlocal encodings
        encodings += len(data) > 1_000_000
        return original(data, *a)

    base64.b64encode = counting  # type: ignore[assignment]
    path = folder / "five.png"
    path.write_bytes(_png(5 * 1024 * 1024))
    out: dict[str, float] = {}
    with ServerProcess(_setup) as url:
        for label, make in (("none", lambda: []), ("5mb_image", lambda: [load_attachment(path)])):
            walls, cpus, requests = [], [], 0
            for _ in range(runs):
                attachments = make()
                w0, c0 = time.perf_counter(), time.process_time()
                requests = asyncio.run(_session(url, attachments))
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
            out[f"{label}_wall_s"] = statistics.median(walls)
            out[f"{label}_cpu_s"] = statistics.median(cpus)
            out[f"{label}_model_calls"] = requests
    base64.b64encode = original  # type: ignore[assignment]
    out["base64_encodings_per_session"] = encodings / runs
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, value in {**load(folder, runs), **session(folder, runs)}.items():
            print(f"{name:32} {value:10.3f}")


if __name__ == "__main__":
    main()
