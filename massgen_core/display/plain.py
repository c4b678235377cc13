"""The plain display: progress lines on stderr, the final answer on stdout.

Used for pipes, dumb terminals, ``display_type: simple``/``terminal``,
``--no-display`` and ``-q``. One line per meaningful event, flushed at once so
a reader of the pipe sees progress as it happens. Verbosity 0 prints the final
answer only; 1 the coordination (started, answered, voted, restarted, failed,
winner); 2 adds reasoning, tool calls, rejections, retries and workflow fallbacks,
and each agent's answer as it is written, line by line (``[a] writing: ...``,
so concurrent agents never interleave mid-line); 3 adds every
non-delta event as a JSON debug line. It never colours or redraws. Every
progress line is made inert (``massgen_core.terminal``); the final answer is
too when stdout is a terminal, and is written exactly as given to a pipe.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TextIO

from massgen_core import events as ev
from massgen_core.display.base import Display
from massgen_core.terminal import for_stream, inert

_PREVIEW = 100
# Deltas are the bulk of a stream; their text reaches the answer lines anyway.
_BULK = (ev.TextDelta, ev.FinalAnswerDelta, ev.ReasoningDelta, ev.AnswerDelta)


def preview(text: str, limit: int = _PREVIEW) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def format_tally(tally: dict[str, float] | Any) -> str:
    parts = []
    for agent_id, count in tally.items():
        number = int(count) if float(count).is_integer() else round(float(count), 2)
        parts.append(f"{agent_id} {number}")
    return ", ".join(parts) or "no votes"


def format_summary(finished: ev.SessionFinished, total_tokens: int | None = None) -> str:
    """The closing line of a session, shared by the plain and live displays."""
    tokens = total_tokens
    if tokens is None:
        tokens = int(finished.usage.get("input_tokens", 0)) + int(finished.usage.get("output_tokens", 0))
    cost = f"${finished.cost_usd:.4f}"
    if finished.final_answer is None:
        why = finished.error or finished.ended_by
        return f"no answer ({finished.ended_by}): {why} · {finished.duration_s:.1f}s"
    winner = f"winner {finished.winner}" if finished.winner else "answer"
    line = f"{winner} · ended by {finished.ended_by} · {finished.duration_s:.1f}s · {tokens:,} tokens · {cost}"
    return f"{line} · {finished.error}" if finished.ended_by == "budget" and finished.error else line


class PlainDisplay(Display):
    """Writes one progress line per event on stderr and the answer on stdout."""

    def __init__(self, *, stdout: TextIO, stderr: TextIO, verbosity: int = 1, print_answer: bool = True) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.verbosity = verbosity
        self.print_answer = print_answer
        self._reasoning: dict[str, list[str]] = {}
        self._drafts: dict[str, str] = {}  # per agent: the answer text after its last printed line
        self._tokens = 0
        handlers: dict[type, Callable[[Any], None]] = {}
        if verbosity >= 1:
            handlers.update(
                {
                    ev.SessionStarted: self._session_started,
                    ev.AgentStarted: self._agent_started,
                    ev.AnswerSubmitted: self._answer_submitted,
                    ev.VoteCast: self._vote_cast,
                    ev.AgentRestarted: self._agent_restarted,
                    ev.AgentFailed: self._agent_failed,
                    ev.AgentAdded: self._agent_added,
                    ev.WinnerSelected: self._winner_selected,
                    ev.SessionFinished: self._session_finished,
                    ev.UsageReported: self._usage,
                    ev.BackendFallback: self._fallback,
                }
            )
        if verbosity >= 2:
            handlers.update(
                {
                    ev.ReasoningDelta: self._reasoning_delta,
                    ev.AnswerDelta: self._answer_delta,
                    ev.ToolCalled: self._tool_called,
                    ev.ToolResult: self._tool_result,
                    ev.AnswerRejected: self._answer_rejected,
                    ev.VoteDiscarded: self._vote_discarded,
                    ev.BackendRetry: self._retry,
                    ev.WorkflowFallback: self._workflow_fallback,
                }
            )
        self._handlers = handlers

    def _line(self, text: str) -> None:
        self.stderr.write(inert(text) + "\n")
        self.stderr.flush()

    def handle(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        if self.verbosity >= 3 and not isinstance(event, _BULK):
            self._line("debug: " + json.dumps(ev.event_to_dict(event), default=str))

    def finish(self, finished: ev.SessionFinished | None) -> None:
        self._flush_reasoning()
        if self.print_answer and finished is not None and finished.final_answer is not None:
            answer = for_stream(finished.final_answer, self.stdout)
            self.stdout.write(answer if answer.endswith("\n") else answer + "\n")
            self.stdout.flush()

    # -- verbosity 1 ----------------------------------------------------------

    def _session_started(self, e: ev.SessionStarted) -> None:
        turn = f" · turn {e.turn}" if e.turn > 1 else ""
        self._line(f"[session] {len(e.agent_ids)} agent(s): {', '.join(e.agent_ids)} · strategy {e.strategy}{turn}")

    def _agent_started(self, e: ev.AgentStarted) -> None:
        self._flush_reasoning(e.agent_id)
        attempt = f" (attempt {e.attempt})" if e.attempt > 1 else ""
        self._line(f"[{e.agent_id}] started{attempt}")

    def _answer_submitted(self, e: ev.AnswerSubmitted) -> None:
        self._flush_reasoning(e.agent_id)
        self._line(f"[{e.agent_id}] answered (answer {e.revision}, shown as {e.label}): {preview(e.text)}")

    def _vote_cast(self, e: ev.VoteCast) -> None:
        self._flush_reasoning(e.voter)
        because = f" because {preview(e.reason)}" if e.reason else ""
        self._line(f"[{e.voter}] voted for {e.target} ({e.target_label}){because}")

    def _agent_restarted(self, e: ev.AgentRestarted) -> None:
        self._flush_reasoning(e.agent_id)
        self._line(f"[{e.agent_id}] restarted: {e.reason}")

    def _agent_failed(self, e: ev.AgentFailed) -> None:
        self._flush_reasoning(e.agent_id)
        self._line(f"[{e.agent_id}] failed: {e.error}")

    def _agent_added(self, e: ev.AgentAdded) -> None:
        self._line(f"[{e.agent_id}] added (a copy of {e.copy_of}): {e.reason}")

    def _fallback(self, e: ev.BackendFallback) -> None:
        self._line(f"[{e.agent_id}] switched backend {e.from_backend} -> {e.to_backend}: {e.error}")

    def _workflow_fallback(self, e: ev.WorkflowFallback) -> None:
        self._line(f"[{e.agent_id}] workflow {e.from_transport} -> {e.to_transport} for the rest of the session: {preview(e.reason)}")

    def _winner_selected(self, e: ev.WinnerSelected) -> None:
        line = f"[winner] {e.winner} ({e.strategy}: {format_tally(e.tally)})"
        if e.explanation:
            line += f" {e.explanation}"
        self._line(line)

    def _usage(self, e: ev.UsageReported) -> None:
        usage = e.usage
        self._tokens += usage.input_tokens + usage.output_tokens
        if self.verbosity >= 2:
            self._flush_reasoning(e.agent_id)  # a usage report ends a model call
            self._line(
                f"[{e.agent_id}] usage {e.backend}/{e.model}: {usage.input_tokens} in, {usage.output_tokens} out, ${usage.cost_usd:.4f}"
            )

    def _session_finished(self, e: ev.SessionFinished) -> None:
        self._flush_reasoning()
        tokens = None if e.usage else self._tokens
        self._line(f"[done] {format_summary(e, tokens)}")

    # -- verbosity 2 ----------------------------------------------------------

    def _reasoning_delta(self, e: ev.ReasoningDelta) -> None:
        # Buffered per agent so concurrent agents do not interleave mid-line.
        self._reasoning.setdefault(e.agent_id, []).append(e.text)

    def _answer_delta(self, e: ev.AnswerDelta) -> None:
        text = self._drafts.pop(e.agent_id, "") + e.text
        *lines, rest = text.split("\n")
        if lines:
            self._flush_reasoning(e.agent_id)
        for line in lines:
            self._line(f"[{e.agent_id}] writing: {line}")
        self._drafts[e.agent_id] = rest

    def _flush_reasoning(self, agent_id: str | None = None) -> None:
        ids = [agent_id] if agent_id is not None else list(self._reasoning)
        for key in ids:
            chunks = self._reasoning.pop(key, None)
            if chunks:
                self._line(f"[{key}] reasoning: {preview(''.join(chunks), 400)}")
        for key in [agent_id] if agent_id is not None else list(self._drafts):
            rest = self._drafts.pop(key, "")
            if rest:
                self._line(f"[{key}] writing: {rest}")

    def _tool_called(self, e: ev.ToolCalled) -> None:
        self._flush_reasoning(e.agent_id)
        args = json.dumps(dict(e.arguments), default=str) if e.arguments is not None else ""
        self._line(f"[{e.agent_id}] tool call {e.name} {preview(args)}".rstrip())

    def _tool_result(self, e: ev.ToolResult) -> None:
        kind = "tool error" if e.is_error else "tool result"
        self._line(f"[{e.agent_id}] {kind} {e.name}: {preview(e.result)}")

    def _answer_rejected(self, e: ev.AnswerRejected) -> None:
        self._flush_reasoning(e.agent_id)
        self._line(f"[{e.agent_id}] response rejected: {e.reason}")

    def _vote_discarded(self, e: ev.VoteDiscarded) -> None:
        self._flush_reasoning(e.voter)
        self._line(f"[{e.voter}] vote for {e.target or '?'} discarded: {e.reason}")

    def _retry(self, e: ev.BackendRetry) -> None:
        kind = "restarting" if e.restart else "retrying"
        self._line(f"[{e.agent_id}] {e.backend} {kind} (attempt {e.attempt}) in {e.delay_s:.1f}s: {e.error}")
