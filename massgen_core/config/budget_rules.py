"""The config rule that a cost budget can price every model it caps.

A budget (``orchestrator.max_cost_usd``, ``max_cost_usd_per_agent``,
``max_conversation_cost_usd``) is a promise about dollars; a model that no
price table knows would count as $0 and the promise would be empty. So a config
with a budget is refused when any agent's backend (fallbacks and pool members
included) has no price, unless the backend says how to price it
(``input_price_per_mtok`` / ``output_price_per_mtok``). Backends that do not
bill through the core's price tables (scripted, plugins that price their own
usage) and free local servers pass. Works on the checked dicts of the rules;
reads no files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

BUDGET_KEYS = ("max_cost_usd", "max_cost_usd_per_agent", "max_conversation_cost_usd")


def _backends(backend: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield backend
    for key in ("fallback", "pool"):
        for member in backend.get(key) or ():
            yield from _backends(member)


def unpriced(agents: Sequence[Mapping[str, Any]], manager: Any) -> Iterator[tuple[str, str, str]]:
    """(agent id, backend type, model) of every backend a budget could not price."""
    from massgen_core.http.pricing import effective_price

    for agent in agents:
        if agent.get("agents"):
            yield from unpriced(agent["agents"], manager)
            continue
        for backend in _backends(agent.get("backend") or {}):
            type_name = backend.get("type")
            cls = manager.backends.get(type_name)  # the backend rules let only known types through
            table = getattr(cls, "price_table", None)
            if table is None or getattr(cls, "free", False):
                continue
            price = effective_price(
                table, backend.get("model"), backend.get("input_price_per_mtok"), backend.get("output_price_per_mtok")
            )
            if price is None:
                yield str(agent.get("id")), str(type_name), str(backend.get("model"))


def budget_problems(orchestrator: Mapping[str, Any] | None, agents: Sequence[Mapping[str, Any]], manager: Any) -> list[tuple[str, str]]:
    """(budget key, message) for a budget that cannot price some agent's model."""
    keys = [key for key in BUDGET_KEYS if (orchestrator or {}).get(key) is not None]
    if not keys:
        return []
    return [
        (
            keys[0],
            f"a cost budget needs a price for every model, but agent {agent_id!r} uses {type_name} model "
            f"{model!r}, which no price table knows; set input_price_per_mtok and output_price_per_mtok "
            "on its backend",
        )
        for agent_id, type_name, model in unpriced(agents, manager)
    ]
