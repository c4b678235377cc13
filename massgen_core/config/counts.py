"""Agent counts: one config entry (or ``--model NAME:N``) that stands for N identical agents.

An agent entry may say ``count: N``: it becomes N agents with the ids
``ID-1`` … ``ID-N`` (``ID`` is the entry's ``id``, by default its position,
``agent1``…), each with the same backend, system message, role and weight.
On the command line ``--model gpt-4o-mini:3`` makes three agents ``a1``,
``a2``, ``a3``. Pure functions over checked config data; the config rules
validate the count and the ids the copies get.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_COUNT = 64  # more is surely a typo (each agent is a concurrent model call on every round)
_MODEL_COUNT = re.compile(r"^(?P<model>.+):(?P<count>\d+)$")


def copy_ids(agent_id: str, count: int) -> list[str]:
    """The ids of the ``count`` agents an entry with ``agent_id`` stands for."""
    return [f"{agent_id}-{k}" for k in range(1, count + 1)]


def expand(agents: Sequence[Any]) -> list[Any]:
    """The checked agent entries with every ``count`` replaced by that many copies, in place, in order."""
    out: list[Any] = []
    for agent in agents:
        if not isinstance(agent, dict) or "count" not in agent:
            out.append(agent)
            continue
        entry = {key: value for key, value in agent.items() if key != "count"}
        out.extend({**entry, "id": copy_id} for copy_id in copy_ids(entry["id"], agent["count"]))
    return out


def split_model(model: str | None) -> tuple[str | None, int | None]:
    """``NAME:N`` (N digits only) → (NAME, N); anything else is the model name as given.

    Tags such as Ollama's ``llama3.1:8b`` keep their colon: only an all-digit
    suffix is a count.
    """
    if model is None:
        return None, None
    match = _MODEL_COUNT.match(model)
    if match is None:
        return model, None
    return match.group("model"), int(match.group("count"))


def cli_ids(count: int) -> list[str]:
    """The ids of the agents ``--model NAME:N`` makes."""
    return [f"a{k}" for k in range(1, count + 1)]


__all__ = ["MAX_COUNT", "cli_ids", "copy_ids", "expand", "split_model"]
