"""Assembling complete tool calls from the fragments a stream sends.

Providers stream a call's id and name once and its JSON arguments in pieces,
keyed by an index (Chat Completions), an item id (Responses) or a content
block index (Anthropic). ``ToolCallAssembler`` collects them in first-seen
order and parses the arguments at the end: an empty string means ``{}``,
invalid JSON gives ``arguments=None`` with the raw text kept. ``add`` returns
each arguments fragment as a ``ToolCallDelta`` for the backend to pass on, so
the answer a call carries can be shown while it streams.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any

from massgen_core.backend import ToolCall, ToolCallDelta


def parse_arguments(raw: str) -> Mapping[str, Any] | None:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ToolCallAssembler:
    def __init__(self) -> None:
        self._order: list[Hashable] = []
        self._ids: dict[Hashable, str] = {}
        self._names: dict[Hashable, str] = {}
        self._args: dict[Hashable, list[str]] = {}

    def add(
        self, key: Hashable, *, id: str | None = None, name: str | None = None, arguments: str | None = None
    ) -> ToolCallDelta | None:
        """Note what a piece says; its arguments fragment, if any, as a ``ToolCallDelta``."""
        if key not in self._args:
            self._order.append(key)
            self._args[key] = []
        if id:
            self._ids[key] = id
        if name:
            self._names[key] = name
        if arguments:
            self._args[key].append(arguments)
            return ToolCallDelta(self._id(key), self._names.get(key, ""), arguments)
        return None

    def _id(self, key: Hashable) -> str:
        return self._ids.get(key) or f"call_{key}"

    def set_arguments(self, key: Hashable, arguments: str) -> None:
        """Replace the fragments with the complete argument string (a provider's ``done`` event)."""
        self.add(key)
        self._args[key] = [arguments]

    def __bool__(self) -> bool:
        return bool(self._order)

    def calls(self) -> list[ToolCall]:
        out = []
        for key in self._order:
            raw = "".join(self._args[key])
            out.append(
                ToolCall(
                    id=self._id(key),
                    name=self._names.get(key, ""),
                    arguments=parse_arguments(raw),
                    arguments_raw=raw,
                )
            )
        return out
