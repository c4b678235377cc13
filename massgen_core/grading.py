"""The grader contract: how ``massgen eval`` decides whether an answer is right.

A grader is registered by a plugin through ``register_graders(register)``: an
object with a ``name``, a one-line ``description`` and
``async grade(answer, item, context) -> Grade``. ``answer`` is the team's final
answer (None when there was none), ``item`` the dataset item (``expected``,
``options``), and ``context`` what a grader may need from outside, such as a
judge model (``GradeContext.judge``). Graders are pure otherwise: no printing,
no files. The first-party graders live in the ``massgen-graders`` plugin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import attrs


@attrs.frozen(kw_only=True)
class Grade:
    """A grader's verdict on one answer."""

    correct: bool
    score: float  # 0..1 (a partial-credit grader may give between)
    detail: str = ""  # what was compared, for the report

    @classmethod
    def of(cls, correct: bool, detail: str = "") -> Grade:
        """A right-or-wrong verdict (score 1 or 0)."""
        return cls(correct=correct, score=1.0 if correct else 0.0, detail=detail)


@attrs.frozen(kw_only=True)
class EvalItem:
    """One dataset item: a question and what a right answer is."""

    id: str
    question: str
    expected: Any
    grader: str | None = None
    options: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen(kw_only=True)
class GradeContext:
    """What graders may use beyond the answer: ``judge(prompt)`` asks the configured judge model."""

    judge: Callable[[str], Awaitable[str]] | None = None


class Grader(Protocol):
    name: str
    description: str

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade: ...


__all__ = ["EvalItem", "Grade", "GradeContext", "Grader"]
