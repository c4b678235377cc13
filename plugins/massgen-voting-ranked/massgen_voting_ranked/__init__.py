"""The ``ranked`` voting strategy: agents rank the answers; Borda count decides.

The vote tool asks for ``ranking`` (labels, best first, no repeats, at least
one) and ``reason``. With N answers, the answer ranked at position i (0-based)
earns N - i points; unranked answers earn nothing. Ties go to config order;
no votes: the first agent in config order with an answer. Consensus as in
majority. Only counts; never talks to agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from massgen_core.hookspecs import hookimpl
from massgen_core.voting import Decision, InvalidVote, Vote, VotingStrategy, describe, plurality


class RankedStrategy(VotingStrategy):
    name: ClassVar[str] = "ranked"
    description: ClassVar[str] = "Agents rank the answers; Borda count; ties to config order"

    def vote_parameters(self, labels: Sequence[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "ranking": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(labels)},
                    "minItems": 1,
                    "uniqueItems": True,
                    "description": "Anonymous labels of the answers, best first",
                },
                "reason": {"type": "string", "description": "A short reason for the ranking"},
            },
            "required": ["ranking", "reason"],
        }

    def parse_vote(
        self, voter: str, arguments: Mapping[str, Any], labels: Mapping[str, str]
    ) -> Vote:
        ranking = arguments.get("ranking")
        if isinstance(ranking, str):
            ranking = [ranking]
        if not isinstance(ranking, list) or not ranking:
            raise InvalidVote("`ranking` must be a non-empty list of labels, best first")
        unknown = [label for label in ranking if label not in labels]
        if unknown:
            raise InvalidVote(
                f"Invalid label(s) {', '.join(map(repr, unknown))}. Valid agents: {', '.join(labels)}"
            )
        if len(set(ranking)) != len(ranking):
            raise InvalidVote("`ranking` lists a label more than once")
        real = tuple(labels[label] for label in ranking)
        return Vote(
            voter=voter, target=real[0], reason=str(arguments.get("reason", "")), ranking=real
        )

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        order = [agent.id for agent in self.agents]
        size = len(answers)
        tally: dict[str, float] = {agent: 0 for agent in order if agent in answers}
        for vote in votes.values():
            ranking = vote.ranking or (vote.target,)
            for position, agent in enumerate(ranking):
                if agent in answers:
                    tally[agent] = tally.get(agent, 0) + max(size - position, 0)
        winner = plurality(tally, order, answers)
        return Decision(
            winner=winner,
            tally=tally,
            reasons={voter: vote.reason for voter, vote in votes.items()},
            explanation=describe(winner, tally, votes, unit="Borda point"),
        )


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(RankedStrategy)


__all__ = ["RankedStrategy"]
