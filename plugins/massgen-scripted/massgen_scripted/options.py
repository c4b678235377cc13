"""The ``scripted`` backend's config keys: the script, its steps and their checks.

A module of its own (attrs and the core's error class only), so that
``massgen config validate`` checks a script without importing the backend
(see ``massgen_core.lazy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from massgen_core.errors import MassGenError

ACTIONS = ("answer", "vote", "no_tool_call", "invalid_vote", "fail", "stall", "calls")
EXTRAS = ("text", "reasoning", "delay", "reason")
VOTE_TARGETS = ("best", "first", "last", "self")


class ScriptError(MassGenError):
    """The script in the config is malformed."""


@attrs.frozen(kw_only=True)
class Step:
    """One validated script entry."""

    action: str
    value: Any = None
    text: str | None = None
    reasoning: str | None = None
    delay: float = 0.0
    reason: str | None = None

    @classmethod
    def parse(cls, raw: Any, index: int) -> Step:
        where = f"script step {index + 1}"
        if isinstance(raw, str) and raw in ("no_tool_call", "invalid_vote"):
            raw = {raw: True}
        if not isinstance(raw, Mapping):
            raise ScriptError(f"{where}: expected a mapping such as {{answer: TEXT}}, got {raw!r}")
        unknown = [k for k in raw if k not in ACTIONS and k not in EXTRAS]
        if unknown:
            raise ScriptError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                f"actions: {', '.join(ACTIONS)}; extras: {', '.join(EXTRAS)}"
            )
        actions = [k for k in raw if k in ACTIONS]
        if len(actions) != 1:
            if not actions and "text" in raw:  # text alone: a response without a tool call
                actions = ["no_tool_call"]
            else:
                raise ScriptError(
                    f"{where}: needs exactly one action of {', '.join(ACTIONS)}, got {actions or 'none'}"
                )
        action = actions[0]
        value = raw.get(action, True)
        value = _check_value(where, action, value)
        delay = raw.get("delay", 0.0)
        if not isinstance(delay, (int, float)) or delay < 0:
            raise ScriptError(f"{where}: delay must be a number >= 0")
        for key in ("text", "reasoning", "reason"):
            if key in raw and not isinstance(raw[key], str):
                raise ScriptError(f"{where}: {key} must be a string")
        return cls(
            action=action,
            value=value,
            text=raw.get("text"),
            reasoning=raw.get("reasoning"),
            delay=float(delay),
            reason=raw.get("reason"),
        )


def _check_value(where: str, action: str, value: Any) -> Any:
    if action == "answer":
        if not isinstance(value, str) or not value.strip():
            raise ScriptError(f"{where}: answer must be a non-empty string")
        return value
    if action == "vote":
        if isinstance(value, str) or value is True:
            return {"for": "best" if value is True else value}
        if not isinstance(value, Mapping):
            raise ScriptError(
                f"{where}: vote must be a target (best|first|last|self|agentK) or a mapping"
            )
        extra = [k for k in value if k not in ("for", "for_agent", "reason")]
        if extra:
            raise ScriptError(
                f"{where}: vote has unknown key(s) {', '.join(map(str, extra))}; use for, for_agent, reason"
            )
        if "for" in value and "for_agent" in value:
            raise ScriptError(f"{where}: vote takes either `for` or `for_agent`, not both")
        return {"for": "best", **dict(value)} if "for_agent" not in value else dict(value)
    if action == "invalid_vote":
        return value if isinstance(value, str) else "agent99"
    if action == "fail":
        return str(value) if value is not True else "error"
    if action == "stall":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ScriptError(f"{where}: stall must be a number of seconds >= 0")
        return float(value)
    if action == "calls":
        if not isinstance(value, list) or not all(
            isinstance(c, Mapping) and "name" in c for c in value
        ):
            raise ScriptError(f"{where}: calls must be a list of {{name: ..., arguments: {{...}}}}")
        return [
            {"name": str(c["name"]), "arguments": dict(c.get("arguments") or {})} for c in value
        ]
    return value  # no_tool_call


def _structure_script(value: Any, _: Any = None) -> tuple[Step, ...]:
    if isinstance(value, (str, Mapping)):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ScriptError("script must be a non-empty list of steps")
    return tuple(s if isinstance(s, Step) else Step.parse(s, i) for i, s in enumerate(value))


# Without a script an agent answers once, then votes for the best answer.
DEFAULT_SCRIPT = (
    Step(action="answer", value="A scripted answer to: {question}"),
    Step(action="vote", value={"for": "best"}),
)


@attrs.frozen(kw_only=True)
class ScriptedOptions:
    """Keys of a ``scripted`` backend entry (validated; unknown keys are errors)."""

    token_delay: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))
    script: tuple[Step, ...] = attrs.field(default=DEFAULT_SCRIPT, converter=_structure_script)
    final: str | None = None
    # True: the script starts over at each new turn (a new question, or the same one with more
    # history), so one question's moves serve a whole multi-turn conversation.
    per_turn: bool = False


_OPTION_KEYS = ("token_delay", "script", "final", "per_turn")


def parse_options(options: Mapping[str, Any]) -> ScriptedOptions:
    """Validate a backend entry's options into ``ScriptedOptions``, with one clear message on error."""
    unknown = [key for key in options if key not in _OPTION_KEYS]
    if unknown:
        raise ScriptError(
            f"scripted backend: unknown option(s) {', '.join(map(str, unknown))}; known: {', '.join(_OPTION_KEYS)}"
        )
    data = dict(options)
    if "token_delay" in data and (
        isinstance(data["token_delay"], bool) or not isinstance(data["token_delay"], (int, float))
    ):
        raise ScriptError("scripted backend: token_delay must be a number of seconds >= 0")
    if "final" in data and data["final"] is not None and not isinstance(data["final"], str):
        raise ScriptError("scripted backend: final must be a string")
    if "per_turn" in data and not isinstance(data["per_turn"], bool):
        raise ScriptError("scripted backend: per_turn must be true or false")
    try:
        return ScriptedOptions(**data)
    except ValueError as exc:
        raise ScriptError(f"scripted backend: {exc}") from None


__all__ = ["ACTIONS", "DEFAULT_SCRIPT", "EXTRAS", "VOTE_TARGETS", "ScriptError", "ScriptedOptions", "Step", "parse_options"]
