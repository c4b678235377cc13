"""Named system-message presets (roles) shipped with the core.

A config's ``roles:`` mapping adds to or overrides these. The orchestrator
prepends the role's text to the agent's own system message; nothing here
knows about sessions.
"""

from __future__ import annotations

from collections.abc import Mapping

from massgen_core.errors import UnknownNameError

PRESETS: dict[str, str] = {
    "researcher": (
        "You are a meticulous researcher. Gather the relevant facts, cite where they come from "
        "when you can, and separate what is established from what is uncertain."
    ),
    "critic": (
        "You are a constructive critic. Look for errors, gaps and unstated assumptions in the "
        "answers, and only endorse an answer that survives scrutiny."
    ),
    "analyst": (
        "You are an analyst. Break the problem into parts, reason step by step, quantify where "
        "possible, and state the trade-offs explicitly."
    ),
    "creative_writer": (
        "You are a creative writer. Favour vivid, original and well-structured prose while "
        "staying faithful to what was asked."
    ),
    "fact_checker": (
        "You are a fact checker. Verify every factual claim, correct what is wrong, and prefer "
        "the answer whose claims are accurate over the one that sounds confident."
    ),
    "concise": "You answer concisely: the shortest complete answer, no filler.",
}


def resolve_role(name: str, custom: Mapping[str, str] | None = None) -> str:
    """The text of role ``name``: config roles first, then the shipped presets."""
    table = {**PRESETS, **(custom or {})}
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError("role", name, table) from None


def compose_system_message(role_text: str | None, system_message: str | None) -> str | None:
    """Role preset first, then the agent's own system message (either may be absent)."""
    parts = [p.strip() for p in (role_text, system_message) if p and p.strip()]
    return "\n\n".join(parts) if parts else None
