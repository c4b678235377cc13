"""The voting-strategy interface.

A strategy owns its part of the protocol: the ``vote`` tool's parameter
schema, turning a vote call's arguments into a ``Vote``, deciding whether
consensus has been reached, and the final decision with its tally and
explanation. Strategies are plugins registered through
``register_voting_strategies``; the core ships none, only the counting
helpers strategies build on (``plurality``, ``describe``, ``CountingStrategy``),
so that no strategy plugin imports another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from massgen_core.errors import MassGenError


@attrs.frozen(kw_only=True)
class AgentInfo:
    """What a strategy may know about an agent."""

    id: str
    weight: float = 1.0
    role: str | None = None


@attrs.frozen(kw_only=True)
class Vote:
    voter: str
    target: str  # real agent id
    reason: str = ""
    ranking: tuple[str, ...] = ()  # real ids, best first, for ranked strategies


@attrs.frozen(kw_only=True)
class Decision:
    winner: str | None
    tally: Mapping[str, float] = attrs.Factory(dict)
    reasons: Mapping[str, str] = attrs.Factory(dict)
    explanation: str = ""


class InvalidVote(MassGenError, ValueError):
    """The vote call's arguments do not form a valid vote; the message is fed back to the model."""


class VotingStrategy:
    """Base class for voting strategies; the defaults are simple plurality."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Options: ClassVar[type | None] = None  # attrs class of the strategy's config options

    def __init__(self, agents: Sequence[AgentInfo], options: Any = None) -> None:
        self.agents = list(agents)
        self.options = options

    def vote_parameters(self, labels: Sequence[str]) -> dict[str, Any]:
        """JSON schema of the ``vote`` tool's parameters, given the labels that can be voted for."""
        return {
            "type": "object",
            "properties": {
                "agent_id": {"type": "string", "enum": list(labels), "description": "Anonymous label of the best answer"},
                "reason": {"type": "string", "description": "A short reason for the vote"},
            },
            "required": ["agent_id", "reason"],
        }

    def parse_vote(self, voter: str, arguments: Mapping[str, Any], labels: Mapping[str, str]) -> Vote:
        """Turn a vote call into a ``Vote`` with real ids (``labels`` maps label -> real id); raise InvalidVote."""
        label = arguments.get("agent_id")
        if label not in labels:
            raise InvalidVote(f"Invalid agent_id {label!r}. Valid agents: {', '.join(labels) or 'none'}")
        return Vote(voter=voter, target=labels[str(label)], reason=str(arguments.get("reason", "")))

    def voters(self) -> list[str]:
        """Ids of the agents whose votes are needed."""
        return [a.id for a in self.agents]

    def may_answer(self, agent_id: str) -> bool:
        """Whether ``agent_id`` may submit answers (a judge may not)."""
        return True

    def consensus_reached(self, votes: Mapping[str, Vote], active: Sequence[str]) -> bool:
        """Whether coordination may end: by default, every active agent has voted."""
        return all(agent in votes for agent in active)

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        raise NotImplementedError


def plurality(scores: Mapping[str, float], order: Sequence[str], answers: Mapping[str, str]) -> str | None:
    """The highest score among answered agents; ties to config order; no score at all: first answer."""
    candidates = [agent for agent in order if agent in answers] + [a for a in answers if a not in order]
    if not candidates:
        return None
    if not any(scores.get(agent, 0) for agent in candidates):
        return candidates[0]
    best = max(scores.get(agent, 0) for agent in candidates)
    return next(agent for agent in candidates if scores.get(agent, 0) == best)


def describe(winner: str | None, tally: Mapping[str, float], votes: Mapping[str, Vote], unit: str = "vote") -> str:
    """The one-line explanation of a counted decision (``a2 wins with 2 votes of 3 voter(s)``)."""
    if winner is None:
        return "no answers to choose from"
    if not votes:
        return f"no votes were cast; {winner} wins as the first agent in config order with an answer"
    score = tally.get(winner, 0)
    shown = int(score) if float(score).is_integer() else round(score, 3)
    return f"{winner} wins with {shown} {unit}{'' if shown == 1 else 's'} of {len(votes)} voter(s)"


class CountingStrategy(VotingStrategy):
    """A strategy that sums each vote's weight per answer: most wins, ties to config order.

    Subclasses set ``name`` and may weigh votes (``weight_of``), rename the ``unit`` the explanation
    counts in, and give an answer nobody voted for a starting score (``no_votes``).
    """

    unit: ClassVar[str] = "vote"
    no_votes: ClassVar[float] = 0

    def weight_of(self, voter: str) -> float:
        return 1.0

    def tie_order(self) -> list[str]:
        """Agent ids in the order ties are broken (config order; a ``tie_break`` option may reverse it)."""
        return [agent.id for agent in self.agents]

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        order = self.tie_order()
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
