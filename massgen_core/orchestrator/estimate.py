"""What a run will cost before it starts: the expected and the worst-case cost (``massgen estimate``).

Prompts are built with the engine's own prompt functions, prices come from
each agent's backend (its price table or the config's overrides), and output
is bounded by each backend's ``max_tokens``.

* **expected**: the usual path of PROTOCOL.md §5: every agent answers once,
  then votes once with every answer in its prompt, then the winner presents.
  Answers are ``answer_tokens`` long (default: the smaller of ``max_tokens``
  and 400).
* **worst case**: what the bounds allow. Every accepted answer relaunches
  every agent, so an agent makes at most ``1 + agents * max_new_answers_per_agent``
  successful launches, each after up to ``max_consecutive_failures - 1``
  failed ones, each of ``max_attempts`` calls (times the tool rounds when
  the agent is offered tools), each with every answer at ``max_tokens`` in its prompt
  and ``max_tokens`` of output; plus the presentation. Without a cap on answers
  that is unbounded, unless a budget caps it (a budget is a hard cap: see
  massgen_core.orchestrator.budget).

It sends nothing and needs no API key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from massgen_core import backend as bk
from massgen_core.http.pricing import Price, cost_usd
from massgen_core.orchestrator import prompts
from massgen_core.orchestrator.accounting import list_price, prompt_chars, tokens_for
from massgen_core.orchestrator.budget import max_output_tokens
from massgen_core.orchestrator.session import MAX_TOOL_ROUNDS, Orchestrator

DEFAULT_ANSWER_TOKENS = 400
VOTE_TOKENS = 40  # a vote call's output: the tool call and a short reason


@attrs.frozen(kw_only=True)
class AgentEstimate:
    agent_id: str
    backend: str
    model: str | None
    price: Price | None  # None: nothing prices this model
    max_tokens: int
    expected_usd: float | None
    worst_case_usd: float | None  # None: unpriced or unbounded


@attrs.frozen(kw_only=True)
class Estimate:
    agents: tuple[AgentEstimate, ...]
    expected_usd: float | None
    expected_calls: int
    worst_case_usd: float | None
    worst_case_calls: int | None
    bound: str  # what bounds the worst case: "limits", "budget" or "unbounded"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected_usd": self.expected_usd,
            "expected_calls": self.expected_calls,
            "worst_case_usd": self.worst_case_usd,
            "worst_case_calls": self.worst_case_calls,
            "bound": self.bound,
            "notes": list(self.notes),
            "agents": [
                {
                    "id": a.agent_id, "backend": a.backend, "model": a.model, "max_tokens": a.max_tokens,
                    "input_price_per_mtok": None if a.price is None else a.price.input,
                    "output_price_per_mtok": None if a.price is None else a.price.output,
                    "expected_usd": a.expected_usd, "worst_case_usd": a.worst_case_usd,
                }  # fmt: skip
                for a in self.agents
            ],
        }


def _call_usd(price: Price | None, request: bk.Request, output_tokens: int) -> float | None:
    if price is None:
        return None
    usage = bk.Usage(input_tokens=tokens_for(prompt_chars(request)), output_tokens=output_tokens)
    return cost_usd(usage, price)


def _coordination(orch: Orchestrator, agent: Any, question: str, answers: dict[str, str]) -> bk.Request:
    labels = prompts.assign_labels(list(answers))
    tools = [prompts.new_answer_spec()]
    if labels:
        tools.append(prompts.vote_spec(orch.strategy.vote_parameters(list(labels))))
    tools.extend(tool.spec() for tool in orch.tools_for(agent).values())
    system = prompts.system_prompt(agent.system_message, has_history=False, instructions=orch.limits.coordination_instructions)
    user = prompts.user_prompt(question, answers, labels, orch.agent_ids)
    return bk.Request(
        messages=(bk.Message(role="system", content=system), bk.Message(role="user", content=user)),
        tools=tuple(tools),
    )


def _presentation(orch: Orchestrator, agent: Any, question: str, answers: dict[str, str]) -> bk.Request:
    messages = prompts.presentation_messages(
        system_message=agent.system_message, winner=agent.id, question=question, answers=answers,
        reasons={a: "a short reason" for a in answers}, votes_for={a: agent.id for a in answers},
        tally={agent.id: float(len(answers))}, instructions=orch.limits.presentation_instructions,
    )  # fmt: skip
    return bk.Request(messages=messages)


def _sum(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def estimate(orch: Orchestrator, question: str, *, answer_tokens: int | None = None) -> Estimate:
    """The expected and worst-case cost of running ``question`` through ``orch`` (see the module docstring)."""
    limits = orch.limits
    agents = orch.agents
    n = len(agents)
    maxes = {a.id: max_output_tokens(a.backend) for a in agents}
    prices = {a.id: list_price(a.backend) for a in agents}
    expected_len = {a.id: answer_tokens or min(maxes[a.id], DEFAULT_ANSWER_TOKENS) for a in agents}
    typical = {a.id: "x" * (expected_len[a.id] * 4) for a in agents}
    longest = {a.id: "x" * (maxes[a.id] * 4) for a in agents}
    direct = n == 1 and not orch.use_orchestrator_for_single_agent
    cap = limits.max_new_answers_per_agent
    per_call = {a.id: max(1, limits.max_attempts) * (MAX_TOOL_ROUNDS if orch.tools_for(a) else 1) for a in agents}
    launches = None if cap is None else (1 + n * cap) * max(1, limits.max_consecutive_failures)
    rows = []
    for agent in agents:
        price, own_max = prices[agent.id], maxes[agent.id]
        if direct:
            request = bk.Request(messages=prompts.direct_messages(agent.system_message, question))
            expected = _call_usd(price, request, expected_len[agent.id])
            worst = _call_usd(price, request, own_max)
        else:
            first = _call_usd(price, _coordination(orch, agent, question, {}), expected_len[agent.id])
            vote = _call_usd(price, _coordination(orch, agent, question, typical), VOTE_TOKENS)
            expected = _sum([first, vote])
            # A retried attempt carries the earlier responses too: up to max_attempts answers of its own.
            heavy = dict(longest, **{agent.id: longest[agent.id] * max(1, limits.max_attempts)})
            one = _call_usd(price, _coordination(orch, agent, question, heavy), own_max)
            worst = None if launches is None or one is None else launches * per_call[agent.id] * one
        rows.append(AgentEstimate(
            agent_id=agent.id, backend=agent.backend_type, model=agent.model, price=price,
            max_tokens=own_max, expected_usd=expected, worst_case_usd=worst,
        ))  # fmt: skip
    notes = [f"agent {a.agent_id}: no price is known for {a.backend} model {a.model!r}" for a in rows if a.price is None]
    expected_total = _sum([a.expected_usd for a in rows])
    worst_total = _sum([a.worst_case_usd for a in rows])
    expected_calls = n if direct else 2 * n
    worst_calls = None if direct or launches is None else launches * sum(per_call.values())
    if direct:
        worst_calls = 1
    elif limits.final_presentation:
        presenting = [_call_usd(prices[a.id], _presentation(orch, a, question, typical), expected_len[a.id]) for a in agents]
        worst_presenting = [_call_usd(prices[a.id], _presentation(orch, a, question, longest), maxes[a.id]) for a in agents]
        # The winner is not known yet: expect the mean presenter, fear the dearest.
        known = [p for p in presenting if p is not None]
        expected_total = None if expected_total is None or len(known) < n else expected_total + sum(known) / n
        worst_known = [p for p in worst_presenting if p is not None]
        worst_total = None if worst_total is None or len(worst_known) < n else worst_total + max(worst_known)
        expected_calls += 1
        worst_calls = None if worst_calls is None else worst_calls + 1
    bound = "limits" if worst_total is not None else "unbounded"
    caps = [c for c in (limits.max_cost_usd, limits.max_conversation_cost_usd) if c is not None]
    if limits.max_cost_usd_per_agent is not None:
        caps.append(limits.max_cost_usd_per_agent * n)
    if caps and (worst_total is None or min(caps) < worst_total):
        worst_total, bound = min(caps), "budget"
    if bound == "unbounded" and not notes:
        notes.append("no bound on answers or cost: set orchestrator.max_new_answers_per_agent or max_cost_usd")
    if any(getattr(a.backend, "config", None) is not None and a.backend.config.max_tokens is None for a in agents):
        notes.append(f"a backend without max_tokens is assumed to write at most {max(maxes.values())} tokens per call")
    return Estimate(
        agents=tuple(rows), expected_usd=expected_total, expected_calls=expected_calls,
        worst_case_usd=worst_total, worst_case_calls=worst_calls, bound=bound, notes=tuple(notes),
    )  # fmt: skip
