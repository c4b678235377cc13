"""A team's ``scale: {min, max}``: when to add an agent to a running turn, and which one.

While the current answers disagree (two or more different texts), the team
grows by one agent per new answer, up to ``max`` active agents; when agents
that keep failing are dropped and fewer than ``min`` remain active, copies
of the healthy ones replace them. A turn adds at most ``max`` agents in all,
none once a bound is stopping it, and the session reports each one as an
``agent_added`` event (a drop is the ``agent_failed`` event). New agents are
copies of the active agents in config order, round robin, named
``scaled-1``, ``scaled-2``, ... Pure and synchronous: it reads the
coordination state and returns a decision; the session builds the agent.
"""

from __future__ import annotations

import attrs

from massgen_core.orchestrator.coordination import Coordination


@attrs.frozen
class Growth:
    copy_of: str
    agent_id: str
    reason: str


@attrs.define
class Scaler:
    low: int
    high: int
    added: int = 0
    _grown_at: int = -1  # the snapshot version that last made the team grow because answers disagreed

    def next(self, coordination: Coordination, *, stopping: bool) -> Growth | None:
        """The agent to add now, or None; call again until None (several may replace dropped agents)."""
        active = coordination.active()
        if stopping or not active or self.added >= self.high or len(active) >= self.high:
            return None
        if len(active) < self.low:
            reason = f"fewer than {self.low} agents are active (scale min)"
        elif coordination.distinct_answers() >= 2 and coordination.version != self._grown_at:
            self._grown_at = coordination.version
            reason = f"the answers disagree ({coordination.distinct_answers()} different answers)"
        else:
            return None
        template = active[self.added % len(active)]
        self.added += 1
        agent_id = f"scaled-{self.added}"
        while agent_id in coordination.records:  # a configured agent already has that id
            agent_id += "'"
        return Growth(template, agent_id, reason)


__all__ = ["Growth", "Scaler"]
