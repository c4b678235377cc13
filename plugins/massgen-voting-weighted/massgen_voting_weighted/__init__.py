"""The ``weighted`` voting strategy: each vote counts the voter's ``weight`` from config.

The answer with the largest weight sum wins; ties go to config order
(``tie_break: first``, the default) or to reverse config order
(``tie_break: last``); no votes: the first (or last) agent in config order
with an answer. Consensus as in majority (every voter has voted). Only
counts; never talks to agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from massgen_core.hookspecs import hookimpl
from massgen_core.voting import CountingStrategy, Decision, Vote

TIE_BREAKS = ("first", "last")


def _tie_break(instance: Any, attribute: Any, value: str) -> None:
    if value not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {', '.join(TIE_BREAKS)}, got {value!r}")


@attrs.frozen(kw_only=True)
class WeightedOptions:
    tie_break: str = attrs.field(default="first", validator=_tie_break)


class WeightedStrategy(CountingStrategy):
    name: ClassVar[str] = "weighted"
    description: ClassVar[str] = "Votes weighted by each agent's configured weight"
    unit: ClassVar[str] = "weighted vote"
    no_votes: ClassVar[float] = 0.0
    Options: ClassVar[type | None] = WeightedOptions

    def __init__(self, agents: Sequence[Any], options: WeightedOptions | None = None) -> None:
        super().__init__(agents, options or WeightedOptions())

    def weight_of(self, voter: str) -> float:
        return next((agent.weight for agent in self.agents if agent.id == voter), 1.0)

    def tie_order(self) -> list[str]:
        order = super().tie_order()
        return order[::-1] if self.options.tie_break == "last" else order

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        decision = super().decide(votes, answers)
        if not votes and decision.winner is not None and self.options.tie_break == "last":
            explanation = f"no votes were cast; {decision.winner} wins as the last agent in config order with an answer"
            return attrs.evolve(decision, explanation=explanation)
        return decision


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(WeightedStrategy)


__all__ = ["WeightedOptions", "WeightedStrategy"]
