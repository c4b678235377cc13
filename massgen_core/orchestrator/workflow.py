"""Workflow actions over three transports: native tool calls, a JSON schema, or a marked line of text.

A coordination launch ends with one action: a new answer, or a vote in the
shape the voting strategy asks for. The core owns that shape: ``offer``
states what a launch may do (from the strategy's vote schema), and each
transport is built from it here, never by a backend:

- ``tools``: the ``new_answer`` and ``vote`` function tools (PROTOCOL.md §1);
- ``json``: one JSON schema (``action_schema``) the backend sends as its
  provider's structured-output option; the reply is one JSON object;
- ``text``: no help from the server at all; the reply is the answer itself,
  or a vote written as one marked line, ``VOTE: agent2 - short reason``
  (``read_text`` documents how leniently that is read).

Whatever the transport, the reply is read back into workflow ``ToolCall``
values, so the rules of PROTOCOL.md §4 are checked once, in the session.
When only ``new_answer`` is possible a plain-text reply is the answer on
every transport. ``Choice`` is the transport of the agents on one model
(same backend type, base URL and model) for a session: ``auto`` starts from
what the backend declares and falls back (tools → json → text) when a reply
carries no valid action, or when tools were offered and the model answered
in plain text, remembering it. Pure functions and one small mutable value;
no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from massgen_core.backend import FunctionSpec, ResponseSchema, ToolCall, WorkflowOffer
from massgen_core.orchestrator import prompts

TOOLS, JSON, TEXT = "tools", "json", "text"
TRANSPORTS = (TOOLS, JSON, TEXT)
MODES = ("auto", *TRANSPORTS)
SCHEMA_NAME = "workflow_action"

_VOTE_LINE = re.compile(
    r"^[ \t>*_#`\-]*(?:(?P<marked>vote[ \t*_`]*:)|(?:i[ \t]+)?vote[sd]?[ \t]+for\b)(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_LABEL = re.compile(r"agent[ _\-#]*(\d+)", re.IGNORECASE)
_REASON_LEAD = re.compile(r"^[\s\-–—:|,;.()>*_`]*(?:because\b\s*)?", re.IGNORECASE)
_ANSWER_MARK = re.compile(r"^\s*[*_#`]*\s*(?:new[\s_]+)?answer\s*[*_`]*\s*:\s*", re.IGNORECASE)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```\s*$")


# -- what a launch may do ----------------------------------------------------------


def offer(
    *, may_answer: bool, labels: Sequence[str], vote_parameters: Mapping[str, Any] | None,
    transport: str = TOOLS,
) -> WorkflowOffer:
    """The offer of one launch; ``vote_parameters`` is ignored when nothing can be voted for."""
    return WorkflowOffer(
        may_answer=may_answer,
        labels=tuple(labels),
        vote_parameters=dict(vote_parameters) if labels and vote_parameters is not None else None,
        transport=transport,
    )


def only_answer(offer: WorkflowOffer) -> bool:
    return offer.may_answer and not offer.can_vote


def tool_specs(offer: WorkflowOffer) -> list[FunctionSpec]:
    """The native workflow tools of the ``tools`` transport."""
    specs = [prompts.new_answer_spec()] if offer.may_answer else []
    if offer.vote_parameters is not None:
        specs.append(prompts.vote_spec(offer.vote_parameters))
    return specs


def action_schema(offer: WorkflowOffer) -> dict[str, Any]:
    """The JSON schema of the ``json`` transport: one object whose ``action`` names what it is."""
    choices = []
    if offer.may_answer:
        choices.append(
            {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": [prompts.NEW_ANSWER]},
                    "content": {
                        "type": "string",
                        "minLength": 1,
                        "description": "Your complete improved answer to the ORIGINAL MESSAGE",
                    },
                },
                "required": ["action", "content"],
                "additionalProperties": False,
            }
        )
    if offer.vote_parameters is not None:
        params = offer.vote_parameters
        choices.append(
            {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": [prompts.VOTE]},
                    **dict(params.get("properties") or {}),
                },
                "required": ["action", *[k for k in params.get("required") or () if k != "action"]],
                "additionalProperties": False,
            }
        )
    return choices[0] if len(choices) == 1 else {"anyOf": choices}


def response_schema(offer: WorkflowOffer) -> ResponseSchema | None:
    return ResponseSchema(name=SCHEMA_NAME, schema=action_schema(offer)) if offer.transport == JSON else None


# -- what the model is told ----------------------------------------------------------

_NO_TOOLS_INSTRUCTIONS = (
    "You are evaluating answers from multiple agents for the final response to a message. "
    "Does the best CURRENT ANSWER address the ORIGINAL MESSAGE well?\n\n"
    "If YES, vote for it. Otherwise, digest existing answers, combine their strengths, and do "
    "additional work to address their weaknesses, then give a better complete answer to the "
    "ORIGINAL MESSAGE.\n\n"
    "*Note*: The CURRENT TIME is **{now}**."
)


def instructions(offer: WorkflowOffer, custom: str | None) -> str | None:
    """The coordination instructions for this transport (None: the default of ``prompts``)."""
    if offer.transport == TOOLS:
        return custom
    return (custom or _NO_TOOLS_INSTRUCTIONS) + "\n\n" + reply_format(offer)


def reply_format(offer: WorkflowOffer) -> str:
    """How to write the action on the ``json`` or ``text`` transport, from the vote schema."""
    labels = ", ".join(offer.labels)
    if offer.transport == JSON:
        forms = []
        if offer.can_vote:
            example = {"action": prompts.VOTE, **_placeholders(offer)}
            forms.append(json.dumps(example))
        if offer.may_answer:
            forms.append(json.dumps({"action": prompts.NEW_ANSWER, "content": "<your complete answer>"}))
        head = "Reply with exactly one JSON object and nothing else: "
        text = head + " or ".join(forms) + "."
        return text + (f" Labels you can vote for: {labels}." if offer.can_vote else "")
    if not offer.can_vote:
        return "Reply with your complete answer to the ORIGINAL MESSAGE as plain text."
    line = "VOTE: " + (" > ".join(["<label>", "<label>"]) if _ranking_key(offer) else "<label>")
    text = (
        f"To vote, reply with one line `{line} - <short reason>`, where a label is one of {labels}"
        + (", best first." if _ranking_key(offer) else ".")
    )
    if offer.may_answer:
        text += " To give a better answer instead, reply with your complete answer as plain text."
    return text


def reminder(offer: WorkflowOffer) -> str:
    """The retry message after a reply that carried no action."""
    if offer.transport == TOOLS:
        return prompts.NO_TOOL_REMINDER
    return "Your reply did not contain a valid action. " + reply_format(offer)


def _placeholders(offer: WorkflowOffer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in (offer.vote_parameters or {}).get("properties", {}).items():
        if _is_label(spec):
            out[key] = f"<one of {', '.join(offer.labels)}>"
        elif _is_label_list(spec):
            out[key] = ["<label>", "..."]
        else:
            out[key] = f"<{key}>"
    return out


# -- reading a reply back ------------------------------------------------------------


def read(offer: WorkflowOffer, text: str, calls: Sequence[ToolCall]) -> list[ToolCall]:
    """The workflow calls a reply carries on ``offer.transport`` (empty: no action)."""
    if offer.transport == JSON:
        found = read_json(offer, text)
    elif offer.transport == TEXT:
        found = read_text(offer, text)
    else:
        found = [c for c in calls if c.name in prompts.WORKFLOW_TOOLS]
    if not found and only_answer(offer) and text.strip():
        return [_call(prompts.NEW_ANSWER, {"content": text.strip()}, "text")]
    return found


def answered_in_text(offer: WorkflowOffer, action: Sequence[ToolCall]) -> bool:
    """Whether tools were offered and the model answered in plain text instead (it does not call tools)."""
    return offer.transport == TOOLS and any(call.id == f"text_{prompts.NEW_ANSWER}" for call in action)


def read_json(offer: WorkflowOffer, text: str) -> list[ToolCall]:
    """The action of a structured reply: one JSON object (code fences and text around it tolerated)."""
    data = _json_object(text)
    if data is None:
        return []
    data = dict(data)
    action = data.pop("action", None)
    if action not in prompts.WORKFLOW_TOOLS:
        action = prompts.NEW_ANSWER if "content" in data else prompts.VOTE if data else None
    if action is None:
        return []
    if action == prompts.NEW_ANSWER:
        data = {"content": data.get("content")}
    return [_call(action, data, "json")]


def read_text(offer: WorkflowOffer, text: str) -> list[ToolCall]:
    """The action of a plain-text reply.

    A vote is the last line that starts (after Markdown marks, any case) with
    ``VOTE:``, or with ``Vote for`` / ``I vote for`` followed by a label; its
    labels (``agent2``, ``Agent 2``) in order, then the reason after the last
    label (a leading dash, colon, comma or ``because`` dropped), or else the
    rest of the reply.
    Anything else is a new answer (a leading ``ANSWER:`` is dropped).
    """
    matches = [
        m
        for m in (_VOTE_LINE.finditer(text) if offer.can_vote else ())
        if m.group("marked") or _LABEL.search(m.group("rest"))
    ]
    if matches:
        match = matches[-1]
        rest = match.group("rest")
        labels = [f"agent{n}" for n in _LABEL.findall(rest)]
        tail = _LABEL.split(rest)[-1] if labels else rest
        reason = _REASON_LEAD.sub("", tail, count=1).strip(" \t*_`")
        if not reason:
            reason = (text[: match.start()] + text[match.end():]).strip()
        return [_call(prompts.VOTE, vote_arguments(offer, labels, reason), "text")]
    if not offer.may_answer:
        return []
    answer = _ANSWER_MARK.sub("", text.strip(), count=1).strip()
    return [_call(prompts.NEW_ANSWER, {"content": answer}, "text")] if answer else []


def vote_arguments(offer: WorkflowOffer, labels: Sequence[str], reason: str) -> dict[str, Any]:
    """Vote arguments in the strategy's shape: a label field gets the first label, a list all, text the reason."""
    ordered = list(dict.fromkeys(labels))
    out: dict[str, Any] = {}
    for key, spec in (offer.vote_parameters or {}).get("properties", {}).items():
        if _is_label(spec):
            out[key] = ordered[0] if ordered else None
        elif _is_label_list(spec):
            out[key] = ordered
        elif spec.get("type") == "string":
            out[key] = reason
    return out


def _ranking_key(offer: WorkflowOffer) -> bool:
    props = (offer.vote_parameters or {}).get("properties", {})
    return any(_is_label_list(spec) for spec in props.values())


def _is_label(spec: Mapping[str, Any]) -> bool:
    return spec.get("type") == "string" and "enum" in spec


def _is_label_list(spec: Mapping[str, Any]) -> bool:
    return spec.get("type") == "array" and "enum" in (spec.get("items") or {})


def _json_object(text: str) -> Mapping[str, Any] | None:
    body = _FENCE.sub("", text.strip())
    start = body.find("{")
    while start != -1:
        try:
            value, _end = json.JSONDecoder().raw_decode(body, start)
        except ValueError:
            start = body.find("{", start + 1)
            continue
        return value if isinstance(value, Mapping) else None
    return None


def _call(name: str, arguments: Mapping[str, Any], transport: str) -> ToolCall:
    return ToolCall(id=f"{transport}_{name}", name=name, arguments=dict(arguments))


# -- an agent's transport for a session -------------------------------------------------


@attrs.define(kw_only=True)
class Choice:
    """An agent's workflow transport: ``mode`` from config, ``current`` as negotiated so far."""

    mode: str = "auto"
    supported: tuple[str, ...] = (TOOLS,)
    current: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown workflow {self.mode!r}; use one of {', '.join(MODES)}")
        if not self.current:
            native = [t for t in TRANSPORTS if t in self.supported and t != TEXT]
            self.current = self.mode if self.mode != "auto" else (native[0] if native else TEXT)

    def fall_back(self) -> str | None:
        """Under ``auto``, move to the next transport (tools → json → text) and return it; else None."""
        if self.mode != "auto":
            return None
        later = TRANSPORTS[TRANSPORTS.index(self.current) + 1 :]
        nxt = next((t for t in later if t in self.supported or t == TEXT), None)
        if nxt is not None:
            self.current = nxt
        return nxt


__all__ = [
    "JSON",
    "MODES",
    "SCHEMA_NAME",
    "TEXT",
    "TOOLS",
    "TRANSPORTS",
    "Choice",
    "action_schema",
    "answered_in_text",
    "instructions",
    "offer",
    "only_answer",
    "read",
    "read_json",
    "read_text",
    "reminder",
    "reply_format",
    "response_schema",
    "tool_specs",
    "vote_arguments",
]
