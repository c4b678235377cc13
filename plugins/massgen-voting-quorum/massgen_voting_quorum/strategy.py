"""The ``quorum`` voting strategy: coordination may end as soon as one answer has enough votes.

Option ``fraction`` (default 2/3): consensus is reached when one answer holds
at least that fraction of the active voters' votes (rounded up), or when
everyone has voted. The decision is the quorum answer, else plain majority.
Only counts; never talks to agents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from massgen_core.converters import as_float
from massgen_core.voting import CountingStrategy, Decision, Vote


def _fraction(instance: Any, attribute: Any, value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {value}")


@attrs.frozen(kw_only=True)
class QuorumOptions:
    fraction: float = attrs.field(default=2 / 3, converter=as_float, validator=_fraction)


class QuorumStrategy(CountingStrategy):
    name: ClassVar[str] = "quorum"
    description: ClassVar[str] = (
        "Ends as soon as a fraction (default 2/3) of agents agree; else majority"
    )
    Options: ClassVar[type | None] = QuorumOptions

    def __init__(self, agents: Sequence[Any], options: QuorumOptions | None = None) -> None:
        super().__init__(agents, options or QuorumOptions())

    def needed(self, active: int) -> int:
        """Votes one answer needs among ``active`` voters (at least one)."""
        # A small epsilon keeps 2/3 of 3 at 2 despite float rounding.
        return max(1, math.ceil(self.options.fraction * active - 1e-9))

    def quorum_target(self, votes: Mapping[str, Vote], active: Sequence[str]) -> str | None:
        counts: dict[str, int] = {}
        for voter in active:
            if voter in votes:
                target = votes[voter].target
                counts[target] = counts.get(target, 0) + 1
        need = self.needed(len(active))
        order = [agent.id for agent in self.agents]
        reached = [t for t, n in counts.items() if n >= need]
        reached.sort(key=lambda t: (-counts[t], order.index(t) if t in order else len(order)))
        return reached[0] if reached else None

    def consensus_reached(self, votes: Mapping[str, Vote], active: Sequence[str]) -> bool:
        if active and self.quorum_target(votes, active) is not None:
            return True
        return all(agent in votes for agent in active)

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        decision = super().decide(votes, answers)
        voters = [agent.id for agent in self.agents]
        target = self.quorum_target(votes, voters)
        if target is not None and target in answers:
            need = self.needed(len(voters))
            explanation = f"{target} reached the quorum ({need} of {len(voters)} votes, fraction {self.options.fraction:.3g})"
            return attrs.evolve(decision, winner=target, explanation=explanation)
        return attrs.evolve(decision, explanation="no quorum; majority: " + decision.explanation)


__all__ = ["QuorumOptions", "QuorumStrategy"]
