"""The ``majority`` voting strategy: MassGen's default (PROTOCOL.md §6).

Most votes wins; ties go to the agent first in config order; with no votes,
the first agent in config order that has an answer wins. Self-votes count.
Consensus: every needed voter has voted on the current answers. This module
only counts; it never talks to agents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from massgen_core.hookspecs import hookimpl
from massgen_core.voting import Decision, Vote, VotingStrategy


def plurality(
    scores: Mapping[str, float], order: list[str], answers: Mapping[str, str]
) -> str | None:
    """The highest score among answered agents; ties to config order; no score at all: first answer."""
    candidates = [agent for agent in order if agent in answers] + [
        a for a in answers if a not in order
    ]
    if not candidates:
        return None
    if not any(scores.get(agent, 0) for agent in candidates):
        return candidates[0]
    best = max(scores.get(agent, 0) for agent in candidates)
    return next(agent for agent in candidates if scores.get(agent, 0) == best)


def describe(
    winner: str | None, tally: Mapping[str, float], votes: Mapping[str, Vote], unit: str = "vote"
) -> str:
    if winner is None:
        return "no answers to choose from"
    if not votes:
        return (
            f"no votes were cast; {winner} wins as the first agent in config order with an answer"
        )
    score = tally.get(winner, 0)
    shown = int(score) if float(score).is_integer() else round(score, 3)
    return f"{winner} wins with {shown} {unit}{'' if shown == 1 else 's'} of {len(votes)} voter(s)"


class MajorityStrategy(VotingStrategy):
    name: ClassVar[str] = "majority"
    description: ClassVar[str] = "Most votes wins; ties to config order (the MassGen default)"
    # What a subclass that weighs votes (``weight_of``) changes: the unit in the explanation
    # and the score of an answer nobody voted for.
    unit: ClassVar[str] = "vote"
    no_votes: ClassVar[float] = 0

    def weight_of(self, voter: str) -> float:
        return 1.0

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        order = [agent.id for agent in self.agents]
        tally: dict[str, float] = {agent: self.no_votes for agent in order if agent in answers}
        for voter, vote in votes.items():
            tally[vote.target] = tally.get(vote.target, self.no_votes) + self.weight_of(voter)
        winner = plurality(tally, order, answers)
        return Decision(
            winner=winner,
            tally=tally,
            reasons={voter: vote.reason for voter, vote in votes.items()},
            explanation=describe(winner, tally, votes, unit=self.unit),
        )


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(MajorityStrategy)


__all__ = ["MajorityStrategy", "describe", "plurality"]
