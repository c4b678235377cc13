"""The ``weighted`` voting strategy: each vote counts the voter's ``weight`` from config.

The answer with the largest weight sum wins; ties go to config order; no
votes: the first agent in config order with an answer. Consensus as in
majority (every voter has voted). Only counts; never talks to agents.
"""

from __future__ import annotations

from typing import Any, ClassVar

from massgen_core.hookspecs import hookimpl
from massgen_core.voting import CountingStrategy


class WeightedStrategy(CountingStrategy):
    name: ClassVar[str] = "weighted"
    description: ClassVar[str] = "Votes weighted by each agent's configured weight"
    unit: ClassVar[str] = "weighted vote"
    no_votes: ClassVar[float] = 0.0

    def weight_of(self, voter: str) -> float:
        return next((agent.weight for agent in self.agents if agent.id == voter), 1.0)


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(WeightedStrategy)


__all__ = ["WeightedStrategy"]
