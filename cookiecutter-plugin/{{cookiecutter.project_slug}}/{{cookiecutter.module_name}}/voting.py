"""The {{ cookiecutter.registered_name|tojson }} voting strategy: a unanimous vote wins, otherwise the first answer.

When every vote names the same agent, that agent wins. When votes are split
(or nobody voted), the first agent in config order that has an answer wins,
and the explanation says so. It reads only the votes and answers it is given
and keeps no state between sessions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import ClassVar

from massgen_core.voting import Decision, Vote, VotingStrategy


class UnanimousOrFirst(VotingStrategy):
    """Unanimity decides; anything less falls back to config order."""

    name: ClassVar[str] = {{ cookiecutter.registered_name|tojson }}
    description: ClassVar[str] = (
        "A unanimous vote wins; otherwise the first agent (config order) with an answer"
    )

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        counts = Counter(vote.target for vote in votes.values())
        tally = {agent: float(n) for agent, n in counts.items()}
        reasons = {voter: vote.reason for voter, vote in votes.items()}
        if len(counts) == 1:
            (chosen,) = counts
            return Decision(
                winner=chosen,
                tally=tally,
                reasons=reasons,
                explanation=f"unanimous: all {len(votes)} vote(s) went to {chosen}",
            )
        winner = next((a.id for a in self.agents if a.id in answers), None)
        why = "no votes were cast" if not votes else f"votes were split over {len(counts)} agents"
        explanation = (
            f"{why}; the first agent in config order with an answer wins: {winner}"
            if winner
            else f"{why} and nobody answered: no winner"
        )
        return Decision(winner=winner, tally=tally, reasons=reasons, explanation=explanation)
