"""The ``judge`` voting strategy: one designated agent picks the winner.

Option ``judge: AGENT_ID`` (required). The judge never answers (it is only
offered the ``vote`` tool and is launched once answers exist). The other
agents answer and refine; their votes mean "I have nothing to add" and are
needed to end coordination, but they do not count: the judge's vote alone
decides. If the judge has not voted (it failed, or a bound ended the
session), the first answer in config order wins. Only counts; never talks
to agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from massgen_core.errors import MassGenError
from massgen_core.voting import AgentInfo, Decision, Vote, VotingStrategy, plurality


@attrs.frozen(kw_only=True)
class JudgeOptions:
    judge: str


class JudgeStrategy(VotingStrategy):
    name: ClassVar[str] = "judge"
    description: ClassVar[str] = "A designated agent (which does not answer) picks the winner"
    Options: ClassVar[type | None] = JudgeOptions

    def __init__(self, agents: Sequence[AgentInfo], options: JudgeOptions | None = None) -> None:
        super().__init__(agents, options)
        ids = [agent.id for agent in self.agents]
        if options is None or not options.judge:
            raise MassGenError("voting strategy 'judge' needs the option `judge: AGENT_ID`")
        if options.judge not in ids:
            raise MassGenError(
                f"judge {options.judge!r} is not an agent of this team ({', '.join(ids)})"
            )
        if len(ids) < 2:
            raise MassGenError("voting strategy 'judge' needs at least one agent besides the judge")
        self.judge = options.judge

    def may_answer(self, agent_id: str) -> bool:
        return agent_id != self.judge

    def decide(self, votes: Mapping[str, Vote], answers: Mapping[str, str]) -> Decision:
        order = [agent.id for agent in self.agents]
        vote = votes.get(self.judge)
        tally: dict[str, float] = {agent: 0 for agent in order if agent in answers}
        if vote is not None and vote.target in answers:
            tally[vote.target] = 1
            return Decision(
                winner=vote.target,
                tally=tally,
                reasons={self.judge: vote.reason},
                explanation=f"the judge {self.judge} chose {vote.target}",
            )
        winner = plurality({}, order, answers)
        return Decision(
            winner=winner,
            tally=tally,
            reasons={},
            explanation=f"the judge {self.judge} did not vote; {winner} wins as the first answer in config order",
        )


__all__ = ["JudgeOptions", "JudgeStrategy"]
