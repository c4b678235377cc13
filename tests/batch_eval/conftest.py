"""A loopback Chat Completions server whose model does arithmetic, for batch and eval tests.

``ArithmeticModel`` answers "What is A + B?" questions through the real
coordination protocol: offered ``new_answer`` it submits "The answer is N",
offered a ``vote`` it votes for the first label, and asked to present (no
tools) it writes the answer again. ``wrong_when`` makes it err on chosen
questions (a weaker baseline); ``delay_s`` slows every answer (for kills
mid-batch). Usage is billed per request so costs are real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from massgen_core.testing import FakeServer, Response
from massgen_core.testing.openai import chat_events

QUESTION = re.compile(r"What is (-?\d+) \+ (-?\d+)\?")


class ArithmeticModel:
    def __init__(self, server: FakeServer, *, wrong_when: Callable[[int, int], bool] = lambda a, b: False,
                 delay_s: float = 0.0) -> None:
        self.server, self.wrong_when, self.delay_s = server, wrong_when, delay_s
        server.add("POST", "/v1/chat/completions", self.handle)

    def answer_for(self, text: str) -> str:
        found = list(QUESTION.finditer(text))  # the last: earlier turns come first in the prompt
        match = found[-1] if found else None
        if match is None:
            return "I cannot tell."
        a, b = int(match[1]), int(match[2])
        return f"The answer is {a + b + (1 if self.wrong_when(a, b) else 0)}."

    def handle(self, request: Any) -> Response:
        body = request.json()
        text = "\n".join(str(m.get("content") or "") for m in body["messages"])
        tools = {t["function"]["name"]: t["function"] for t in body.get("tools", [])}
        answer = self.answer_for(text)
        if not tools:
            return Response.sse(chat_events([answer], usage=(100, 20)), first_byte_delay=self.delay_s)
        labels = tools.get("vote", {}).get("parameters", {}).get("properties", {}).get("agent_id", {}).get("enum")
        if labels:
            call = ("c2", "vote", [json.dumps({"agent_id": labels[0], "reason": "it adds up"})])
        else:
            call = ("c1", "new_answer", [json.dumps({"content": answer})])
        return Response.sse(chat_events([], tool_calls=[call], usage=(100, 20)), first_byte_delay=self.delay_s)


def team_config(path: Path, server: FakeServer, *, agents: int = 2, price: float = 1.0) -> Path:
    lines = ["agents:"]
    for i in range(agents):
        lines.append(textwrap.indent(textwrap.dedent(f"""\
            - id: agent{i + 1}
              backend:
                type: chatcompletion
                model: arith-1
                base_url: {server.url}/v1
                max_retries: 0
                input_price_per_mtok: {price}
                output_price_per_mtok: {2 * price}
            """), "  "))
    path.write_text("\n".join(lines))
    return path


def questions_file(path: Path, pairs: list[tuple[int, int]], **extra: Any) -> Path:
    with path.open("w") as handle:
        for i, (a, b) in enumerate(pairs):
            handle.write(json.dumps({"id": f"q{i}", "question": f"What is {a} + {b}?", **extra,
                                     **({"expected": a + b} if "grader" in extra else {})}) + "\n")
    return path


@pytest.fixture
def fake_server():
    with FakeServer() as server:
        yield server


def browser_dom(page: Path, profile: Path) -> str:
    """The DOM a real headless Chromium builds from ``page`` (skips with the reason when there is none)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90,
    ).stdout


def run_massgen(args: list[str], home: Path, env: dict[str, str] | None = None, *, unset: tuple[str, ...] = (),
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``massgen ARGS`` as a user runs it, with MASSGEN_HOME (and the working directory) at ``home``."""
    full = {**os.environ, "MASSGEN_HOME": str(home), "PYTHONIOENCODING": "utf-8", **(env or {})}
    for name in unset:
        full.pop(name, None)
    return subprocess.run([sys.executable, "-m", "massgen_core", *args], capture_output=True, text=True, env=full,
                          timeout=timeout, cwd=home)
