"""Cost budgets as caps: each model call reserves its worst case before it is sent.

Three scopes: the session (``orchestrator.max_cost_usd``), each agent
(``orchestrator.max_cost_usd_per_agent``) and the conversation
(``orchestrator.max_conversation_cost_usd``, what earlier turns spent counts).
Before a call, ``Budgets.reserve`` holds its worst case (the prompt at a
generous token estimate plus ``max_tokens`` of output, at list price). A call
that would take a scope past its cap waits while other calls hold
reservations (they may come in under), and is refused once none do: an agent
cap drops that agent, a session or conversation cap ends the session. While a
call streams, its output is priced as it arrives; a scope crossed that way
cancels in-flight work. ``settle`` replaces the hold with what the call cost
(its whole reservation when the provider's usage never arrived).
This module knows no events and no backend wire format.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs

from massgen_core import backend as bk
from massgen_core.errors import MassGenError
from massgen_core.http.pricing import Price, cost_usd
from massgen_core.orchestrator.accounting import list_price, prompt_chars, tokens_for

WORST_CHARS_PER_TOKEN = 3  # fewer characters per token than usual text: a reservation must not fall short
DEFAULT_MAX_OUTPUT_TOKENS = 8192  # assumed when a backend sets no max_tokens (Claude's default)


class BudgetExceeded(MassGenError):
    """A call would take a scope past its cap; ``fatal`` (an agent's own cap) drops just that agent."""

    def __init__(self, message: str, *, scope: str) -> None:
        super().__init__(message)
        self.scope = scope
        self.fatal = scope == "agent"


def max_output_tokens(backend: Any) -> int:
    config = getattr(backend, "config", None)
    return getattr(config, "max_tokens", None) or DEFAULT_MAX_OUTPUT_TOKENS


def worst_case_usd(backend: Any, request: bk.Request, *, price: Price | None = None) -> float:
    """The most one call of ``request`` can cost: generous prompt estimate plus ``max_tokens``, at list price."""
    price = list_price(backend) if price is None else price
    tokens = bk.Usage(
        input_tokens=tokens_for(prompt_chars(request), WORST_CHARS_PER_TOKEN),
        output_tokens=max_output_tokens(backend),
    )
    return cost_usd(tokens, price)


@attrs.define(eq=False)
class Hold:
    """One call's reservation, and the cost of what it has streamed so far."""

    agent_id: str
    reserved: float
    input_usd: float  # the prompt, at the usual estimate
    output_per_char: float
    streamed_chars: int = 0

    @property
    def running_usd(self) -> float:
        return self.input_usd + self.streamed_chars * self.output_per_char


@attrs.define(eq=False)
class Budgets:
    """The caps of one session and what is spent and held against them."""

    session: float | None = None
    per_agent: float | None = None
    conversation: float | None = None
    spent_before: float = 0.0  # earlier turns of the conversation
    spent: float = 0.0
    by_agent: dict[str, float] = attrs.Factory(dict)
    holds: list[Hold] = attrs.Factory(list)
    _changed: asyncio.Event | None = None

    @property
    def active(self) -> bool:
        return any(cap is not None for cap in (self.session, self.per_agent, self.conversation))

    def _scopes(self, agent_id: str) -> list[tuple[str, float, float, float]]:
        """(scope, cap, spent, held) of every capped scope ``agent_id``'s calls count against."""
        held = sum(h.reserved for h in self.holds)
        scopes = []
        if self.session is not None:
            scopes.append(("session", self.session, self.spent, held))
        if self.conversation is not None:
            scopes.append(("conversation", self.conversation, self.spent_before + self.spent, held))
        if self.per_agent is not None:
            own = sum(h.reserved for h in self.holds if h.agent_id == agent_id)
            scopes.append(("agent", self.per_agent, self.by_agent.get(agent_id, 0.0), own))
        return scopes

    async def reserve(self, agent_id: str, backend: Any, request: bk.Request) -> Hold:
        """Hold the call's worst case, waiting for other holds to settle; ``BudgetExceeded`` when it cannot fit."""
        price = list_price(backend)
        worst = worst_case_usd(backend, request, price=price)
        input_usd = cost_usd(bk.Usage(input_tokens=tokens_for(prompt_chars(request))), price)
        per_char = cost_usd(bk.Usage(output_tokens=1_000_000), price) / 1_000_000 / 4
        while True:
            over = [s for s in self._scopes(agent_id) if s[2] + s[3] + worst > s[1]]
            if not over:
                hold = Hold(agent_id, worst, input_usd, per_char)
                self.holds.append(hold)
                return hold
            scope, cap, spent, held = over[0]
            if held <= 0 or scope == "agent":  # nothing that could free room is running
                raise BudgetExceeded(
                    f"the next call could cost up to ${worst:.4f}, which would take {_name(scope, agent_id)} "
                    f"past its ${cap:.4f} budget (spent ${spent:.4f})",
                    scope=scope,
                )
            self._changed = self._changed or asyncio.Event()
            await self._changed.wait()

    def crossed(self, hold: Hold) -> str | None:
        """The scope the streamed output has taken past its cap, if any."""
        running = sum(h.running_usd for h in self.holds)
        if self.session is not None and self.spent + running > self.session:
            return "session"
        if self.conversation is not None and self.spent_before + self.spent + running > self.conversation:
            return "conversation"
        if self.per_agent is not None:
            own = sum(h.running_usd for h in self.holds if h.agent_id == hold.agent_id)
            if self.by_agent.get(hold.agent_id, 0.0) + own > self.per_agent:
                return "agent"
        return None

    def settle(self, hold: Hold, cost: float) -> None:
        self.holds.remove(hold)
        self.spent += cost
        self.by_agent[hold.agent_id] = self.by_agent.get(hold.agent_id, 0.0) + cost
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def exhausted(self) -> str | None:
        """The session-wide scope whose cap is already spent, if any."""
        if self.session is not None and self.spent >= self.session:
            return "session"
        if self.conversation is not None and self.spent_before + self.spent >= self.conversation:
            return "conversation"
        return None

    def summary(self) -> str:
        """Spent vs budget, for the session's report."""
        parts = []
        if self.session is not None:
            parts.append(f"session: spent ${self.spent:.4f} of ${self.session:.4f}")
        if self.conversation is not None:
            parts.append(f"conversation: spent ${self.spent_before + self.spent:.4f} of ${self.conversation:.4f}")
        if self.per_agent is not None:
            for agent_id, spent in sorted(self.by_agent.items()):
                parts.append(f"{agent_id}: spent ${spent:.4f} of ${self.per_agent:.4f}")
        return "; ".join(parts)


def settled_cost(hold: Hold, fields: dict[str, Any] | None) -> float:
    """What a finished call counts against its budgets: the provider's figure, else its whole reservation.

    Without the provider's usage (a call cancelled or cut off mid-stream) what
    the provider bills is unknown, so a cap keeps counting the worst case.
    """
    if fields is None:
        return 0.0  # never sent
    cost = float(fields["usage"].cost_usd)
    return max(hold.reserved, cost) if fields["estimated"] else cost


def _name(scope: str, agent_id: str) -> str:
    return f"agent {agent_id}" if scope == "agent" else f"the {scope}"
