"""Agents that only retry: when the decision stops waiting for them, and when they are given up.

An agent is *retrying* from its first backend retry or failed launch until it
makes progress again (content streams, or a launch answers or votes). Two rules
bound what such an agent costs the session in wall time: once every other
agent the strategy needs has voted, the decision may leave the retrying ones
out (``left_out``); and an agent retrying for longer than its bound is dropped
(``overdue``). Pure functions of the session's state; nothing here awaits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs


@attrs.frozen
class Retrying:
    since: float  # monotonic time of the first retry or failure since the agent last made progress
    reason: str  # the latest error


def left_out(
    needed: Sequence[str], voted: Mapping[str, object], retrying: Mapping[str, Retrying | None]
) -> dict[str, str]:
    """The needed voters still missing, with why, when every one of them is only retrying and someone voted."""
    missing = [agent for agent in needed if agent not in voted]
    if not missing or len(missing) == len(needed):
        return {}
    reasons = {agent: retrying.get(agent) for agent in missing}
    if any(state is None for state in reasons.values()):
        return {}
    return {agent: f"only retrying ({state.reason})" for agent, state in reasons.items() if state is not None}


def next_deadline(retrying: Mapping[str, Retrying | None], bound: float | None) -> float | None:
    """When the first retrying agent runs out of its wall-time bound (None: never)."""
    if bound is None:
        return None
    return min((state.since + bound for state in retrying.values() if state is not None), default=None)


def overdue(retrying: Mapping[str, Retrying | None], bound: float | None, now: float) -> dict[str, str]:
    """The agents that have retried past ``bound`` seconds, with why they are given up."""
    if bound is None:
        return {}
    return {
        agent: f"gave up after {bound:g}s of retries and relaunches without progress (last error: {state.reason})"
        for agent, state in retrying.items()
        if state is not None and now >= state.since + bound
    }
