"""``--json``: exactly one JSON object with a session's result, on stdout, at the end.

Progress may still go to stderr (through a plain display without the answer);
stdout carries nothing but the object, so scripts can ``json.loads`` it. The
object is built from the event stream alone; it never contains API keys
because events never do. Under ``--profile`` it carries a ``profile`` object
(massgen_core.profiling).
"""

from __future__ import annotations

from typing import Any, TextIO

from massgen_core import events as ev
from massgen_core import profiling
from massgen_core.display.base import Display
from massgen_core.terminal import dumps
from massgen_core.display.state import SessionView


def session_result(view: SessionView) -> dict[str, Any]:
    """The result object of one session (see docs/cli.md for its fields)."""
    finished = view.finished
    usage: dict[str, Any] = dict(finished.usage) if finished is not None and finished.usage else {}
    usage.setdefault("input_tokens", view.input_tokens)
    usage.setdefault("output_tokens", view.output_tokens)
    return {
        "session_id": view.session_id,
        "question": view.question,
        "turn": view.turn,
        "final_answer": view.final_text if finished is not None else None,
        "winner": view.winner,
        "ended_by": finished.ended_by if finished is not None else "interrupted",
        "error": finished.error if finished is not None else "the session ended without a result",
        "strategy": view.strategy,
        "votes": {
            voter: {"target": vote.target, "label": vote.label, "reason": vote.reason}
            for voter, vote in view.votes.items()
        },
        "tally": dict(view.tally),
        "explanation": view.explanation,
        "answers": {agent_id: a.answer for agent_id, a in view.agents.items() if a.answer is not None},
        "agents": {
            agent_id: {
                "status": a.status,
                "answers": a.answers,
                "restarts": a.restarts,
                "input_tokens": a.input_tokens,
                "output_tokens": a.output_tokens,
                "cost_usd": a.cost_usd,
                "error": a.error,
            }
            for agent_id, a in view.agents.items()
        },
        "usage": usage,
        "cost_usd": finished.cost_usd if finished is not None and finished.cost_usd else view.cost_usd,
        "duration_s": view.elapsed(),
    }


class JsonDisplay(Display):
    """Folds the stream into a ``SessionView``; optionally forwards to a progress display on stderr."""

    def __init__(self, *, stdout: TextIO, progress: Display | None = None, extra: dict[str, Any] | None = None) -> None:
        self.stdout = stdout
        self.progress = progress
        self.extra = extra or {}
        self.view = SessionView()

    def start(self) -> None:
        if self.progress is not None:
            self.progress.start()

    def handle(self, event: ev.Event) -> None:
        self.view.apply(event)
        if self.progress is not None:
            self.progress.handle(event)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()

    def finish(self, finished: ev.SessionFinished | None) -> None:
        if self.progress is not None:
            self.progress.finish(finished)
        result = session_result(self.view)
        result.update(self.extra)
        profile = profiling.current()
        if profile is not None:  # --profile: the run's phases so far (this turn's presentation still to come)
            result["profile"] = profile.as_dict()
        self.stdout.write(dumps(result, default=str) + "\n")
        self.stdout.flush()
