"""The texts agents see: labels, coordination prompts, workflow tools, presentation.

Everything here is a pure function of its arguments (PROTOCOL.md §1–3, §7),
so the exact wording can be tested without running a session. Nothing here
performs I/O or mutates session state.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from massgen_core.backend import FunctionSpec, Message
from massgen_core.content import Attachment, Content, with_attachments

NEW_ANSWER = "new_answer"
VOTE = "vote"
WORKFLOW_TOOLS = frozenset({NEW_ANSWER, VOTE})
NO_ANSWERS = "(no answers available yet)"

DEFAULT_COORDINATION_INSTRUCTIONS = (
    "You are evaluating answers from multiple agents for the final response to a message. "
    "Different agents may have different builtin tools and capabilities. "
    "Does the best CURRENT ANSWER address the ORIGINAL MESSAGE well?\n\n"
    "If YES, use the `vote` tool to record your vote and skip the `new_answer` tool.\n"
    "Otherwise, digest existing answers, combine their strengths, and do additional work to "
    "address their weaknesses, then use the `new_answer` tool to record a better answer to the "
    "ORIGINAL MESSAGE. Make sure you actually call `vote` or `new_answer` (in tool call format).\n\n"
    "*Note*: The CURRENT TIME is **{now}**.\n"
    "Always end your response with exactly one call to `vote` or `new_answer`."
)

CONVERSATION_NOTE = (
    "This is the latest message of an ongoing conversation; the CONVERSATION_HISTORY "
    "gives the earlier messages for context."
)

DEFAULT_PRESENTATION_INSTRUCTIONS = (
    "You have been selected as the winning agent to present the final answer. "
    "Using the vote results and all the answers below, present the best possible final answer "
    "to the ORIGINAL MESSAGE. Write the answer itself, with no workflow tool calls and no "
    "commentary about the selection."
)

NO_TOOL_REMINDER = (
    "You did not call a workflow tool. Finish your response by calling exactly one of "
    "`vote` (to vote for the best current answer) or `new_answer` (to submit a better complete answer)."
)


def assign_labels(answered_ids: Sequence[str]) -> dict[str, str]:
    """Label -> real id for the agents that have an answer: sorted ids become agent1, agent2, ..."""
    return {f"agent{i}": real for i, real in enumerate(sorted(answered_ids), start=1)}


def now_text(now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now().astimezone()
    return now.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def system_prompt(
    system_message: str | None,
    *,
    has_history: bool,
    instructions: str | None = None,
    now: _dt.datetime | None = None,
) -> str:
    """The agent's own system message, then the coordination instructions (with the date and time)."""
    template = instructions or DEFAULT_COORDINATION_INSTRUCTIONS
    coordination = template.replace("{now}", now_text(now))
    if "{now}" not in template:
        coordination += f"\n\nThe current date and time is {now_text(now)}."
    parts = [system_message.strip()] if system_message and system_message.strip() else []
    parts.append(coordination)
    if has_history:
        parts.append(CONVERSATION_NOTE)
    return "\n\n".join(parts)


def history_section(history: Sequence[tuple[str, str]]) -> str:
    lines = ["<CONVERSATION_HISTORY>"]
    for question, answer in history:
        lines.append(f"User: {question}")
        lines.append(f"Assistant: {answer}")
    lines.append("<END OF CONVERSATION_HISTORY>")
    return "\n".join(lines)


def user_prompt(
    question: str,
    answers: Mapping[str, str],
    labels: Mapping[str, str],
    order: Sequence[str],
    history: Sequence[tuple[str, str]] = (),
) -> str:
    """The user message of PROTOCOL.md §3; ``answers`` by real id, shown in config ``order``."""
    sections = []
    if history:
        sections.append(history_section(history))
    sections.append(f"<ORIGINAL MESSAGE> {question} <END OF ORIGINAL MESSAGE>")
    by_real = {real: label for label, real in labels.items()}
    lines = ["<CURRENT ANSWERS from the agents>"]
    shown = [agent for agent in order if agent in answers and agent in by_real]
    if shown:
        for agent in shown:
            label = by_real[agent]
            lines.append(f"<{label}> {answers[agent]} <end of {label}>")
    else:
        lines.append(NO_ANSWERS)
    lines.append("<END OF CURRENT ANSWERS>")
    sections.append("\n".join(lines))
    return "\n\n".join(sections)


def user_content(text: str, attachments: Sequence[Attachment] = ()) -> Content:
    """A first user message: ``text`` alone, or followed by the question's attachments as parts.

    Every launch shares the same ``Attachment`` objects, so their bytes are encoded once.
    """
    return with_attachments(text, attachments)


def new_answer_spec() -> FunctionSpec:
    return FunctionSpec(
        name=NEW_ANSWER,
        description="Provide an improved answer to the ORIGINAL MESSAGE",
        parameters={
            "type": "object",
            "properties": {
                "content": {
                    "type": "string",
                    "description": "Your improved answer. If any builtin tools were used, include their results.",
                }
            },
            "required": ["content"],
        },
    )


def vote_spec(parameters: Mapping[str, Any]) -> FunctionSpec:
    return FunctionSpec(
        name=VOTE,
        description="Vote for the best agent to present the final answer",
        parameters=parameters,
    )


def presentation_messages(
    *,
    system_message: str | None,
    winner: str,
    question: str,
    answers: Mapping[str, str],
    reasons: Mapping[str, str],
    votes_for: Mapping[str, str],
    tally: Mapping[str, float],
    history: Sequence[tuple[str, str]] = (),
    instructions: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> tuple[Message, ...]:
    """Messages of the winner's final presentation call (PROTOCOL.md §7): real ids, its own marked."""
    system_parts = [system_message.strip()] if system_message and system_message.strip() else []
    system_parts.append(instructions or DEFAULT_PRESENTATION_INSTRUCTIONS)
    sections = []
    if history:
        sections.append(history_section(history))
    sections.append(f"<ORIGINAL MESSAGE> {question} <END OF ORIGINAL MESSAGE>")
    vote_lines = ["<VOTE RESULTS>"]
    for voter, target in votes_for.items():
        reason = reasons.get(voter, "")
        vote_lines.append(f"{voter} voted for {target}" + (f": {reason}" if reason else ""))
    if not votes_for:
        vote_lines.append("(no votes were cast)")
    if tally:
        vote_lines.append(
            "Tally: " + ", ".join(f"{agent}={_fmt(score)}" for agent, score in tally.items())
        )
    vote_lines.append("<END OF VOTE RESULTS>")
    sections.append("\n".join(vote_lines))
    answer_lines = ["<ALL ANSWERS>"]
    for agent, text in answers.items():
        mark = " (your answer)" if agent == winner else ""
        answer_lines.append(f"<{agent}{mark}> {text} <end of {agent}>")
    answer_lines.append("<END OF ALL ANSWERS>")
    sections.append("\n".join(answer_lines))
    return (
        Message(role="system", content="\n\n".join(system_parts)),
        Message(role="user", content=user_content("\n\n".join(sections), attachments)),
    )


def direct_messages(
    system_message: str | None,
    question: str,
    history: Sequence[tuple[str, str]] = (),
    attachments: Sequence[Attachment] = (),
) -> tuple[Message, ...]:
    """A plain chat for a single agent answering without coordination."""
    messages: list[Message] = []
    if system_message and system_message.strip():
        messages.append(Message(role="system", content=system_message.strip()))
    for asked, answered in history:
        messages.append(Message(role="user", content=asked))
        messages.append(Message(role="assistant", content=answered))
    messages.append(Message(role="user", content=user_content(question, attachments)))
    return tuple(messages)


def _fmt(score: float) -> str:
    return str(int(score)) if float(score).is_integer() else f"{score:.2f}"
