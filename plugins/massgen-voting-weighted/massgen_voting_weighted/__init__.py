"""The ``weighted`` voting strategy: each vote counts the voter's ``weight`` from config.

The answer with the largest weight sum wins; ties go to config order; no
votes: the first agent in config order with an answer. Consensus as in
majority (every voter has voted). Only counts; never talks to agents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from massgen_voting_majority import MajorityStrategy, describe, plurality

from massgen_core.hookspecs import hookimpl
from massgen_core.voting import Decision, Vote


class WeightedStrategy(MajorityStrategy):
    name: ClassVar[str] = "weighted"
    description: ClassVar[str] = "Votes weighted by each agent's configured weight"

    def weight_of(self, voter: str) -> float:
        return next((agent.weight for agent in self.agents if agent.id == voter), 1.0)

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        order = [agent.id for agent in self.agents]
        tally: dict[str, float] = {agent: 0.0 for agent in order if agent in answers}
        for voter, vote in votes.items():
            tally[vote.target] = tally.get(vote.target, 0.0) + self.weight_of(voter)
        winner = plurality(tally, order, answers)
        return Decision(
            winner=winner,
            tally=tally,
            reasons={voter: vote.reason for voter, vote in votes.items()},
            explanation=describe(winner, tally, votes, unit="weighted vote"),
        )


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(WeightedStrategy)


__all__ = ["WeightedStrategy"]
