"""A loopback team that bills usage: one fake OpenAI-compatible route per agent, priced in its config.

Each agent gets its own path prefix on one ``FakeServer`` (``/a/v1``...), so a
test or benchmark scripts each agent's speed or failure and counts, at the
server, what each was served. Prices are written into the config (USD per
million tokens), so what the server billed and what ``massgen usage`` reports
can be compared exactly. Used by the accounting tests and benchmarks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from massgen_core.testing.openai import coordination_handler
from massgen_core.testing.server import FakeServer

INPUT_PRICE = 2.0  # USD per million tokens
OUTPUT_PRICE = 10.0
SERVED_USAGE = (10, 5)  # (prompt, completion) tokens coordination_handler bills per completed answer


def served_usd(completed: int) -> float:
    """What the server billed for ``completed`` answers whose usage it sent."""
    prompt, completion = SERVED_USAGE
    return completed * (prompt * INPUT_PRICE + completion * OUTPUT_PRICE) / 1e6


def route(server: FakeServer, agent: str, handler: Any) -> str:
    """Serve ``agent``'s chat completions with ``handler`` (a Response or a callable); returns its base URL."""
    server.add("POST", f"/{agent}/v1/chat/completions", handler)
    return f"{server.url}/{agent}/v1"


def agent_entry(agent: str, base_url: str, **backend: Any) -> dict[str, Any]:
    """A config ``agents`` entry on the chatcompletion backend at ``base_url``, at the test prices."""
    return {
        "id": agent,
        "backend": {
            "type": "chatcompletion", "model": "m", "base_url": base_url, "api_key": "sk-test",
            "input_price_per_mtok": INPUT_PRICE, "output_price_per_mtok": OUTPUT_PRICE, **backend,
        },
    }  # fmt: skip


def write_config(path: Path, agents: Sequence[Mapping[str, Any]], **sections: Any) -> Path:
    path.write_text(json.dumps({"agents": list(agents), **sections}))
    return path


def cooperative(delay: float = 0.0) -> Any:
    """A cooperative agent whose answers stream with ``delay`` seconds between events."""
    return coordination_handler("chat", chunk_delay=delay)


class Biller:
    """A cooperative agent that bills like a provider: the prompt and the output it sends, in tokens.

    Tokens are counted at four characters each (the request body's messages and
    tools; the answer text or tool arguments sent). ``billed`` keeps every
    request's (prompt, completion) as the server computed it, whether or not
    the client read the answer to its end.
    """

    def __init__(self, answer: str = "The answer is 42.", delay: float = 0.0) -> None:
        self.billed: list[tuple[int, int]] = []
        self._handler = coordination_handler("chat", answer=answer, chunk_delay=delay, usage=self._usage)

    def _usage(self, body: Any, output: str) -> tuple[int, int]:
        prompt = len(json.dumps(body.get("messages") or [])) + len(json.dumps(body.get("tools") or []))
        tokens = (-(-prompt // 4), -(-len(output) // 4))
        self.billed.append(tokens)
        return tokens

    def __call__(self, request: Any) -> Any:
        return self._handler(request)

    @property
    def usd(self) -> float:
        """What this agent's server billed, at the test prices."""
        return sum(p * INPUT_PRICE + c * OUTPUT_PRICE for p, c in self.billed) / 1e6


def posts(server: FakeServer) -> int:
    """How many model requests the server received."""
    return sum(1 for request in server.requests if request.method == "POST")
