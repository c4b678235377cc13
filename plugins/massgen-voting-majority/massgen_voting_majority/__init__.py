"""The ``majority`` voting strategy: MassGen's default (PROTOCOL.md §6).

Most votes wins; ties go to the agent first in config order; with no votes,
the first agent in config order that has an answer wins. Self-votes count.
Consensus: every needed voter has voted on the current answers. This module
only counts (with the core's ``CountingStrategy``); it never talks to agents.
"""

from __future__ import annotations

from typing import Any, ClassVar

from massgen_core.hookspecs import hookimpl
from massgen_core.voting import CountingStrategy, describe, plurality


class MajorityStrategy(CountingStrategy):
    name: ClassVar[str] = "majority"
    description: ClassVar[str] = "Most votes wins; ties to config order (the MassGen default)"


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(MajorityStrategy)


__all__ = ["MajorityStrategy", "describe", "plurality"]
