"""The first-party graders: exact, normalized, numeric, regex, choice and llm_judge.

Each compares a team's final answer with a dataset item's ``expected`` value
(a list means "any of these") and says what it compared in ``Grade.detail``.
The text graders read answers the way models write them: ``normalized``
finds the expected words inside a sentence, ``numeric`` takes the number the
answer gives (after "answer is" / "=" when present, else the last one),
``choice`` finds the letter of a multiple-choice answer. ``llm_judge`` asks the
judge model configured for the run (``massgen eval --judge CONFIG``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from massgen_core.errors import MassGenError
from massgen_core.grading import EvalItem, Grade, GradeContext


class GradingError(MassGenError):
    """A dataset item a grader cannot use (a bad pattern, a non-number, no judge)."""


def expected_values(item: EvalItem) -> list[Any]:
    value = item.expected
    return list(value) if isinstance(value, list | tuple) else [value]


def _first(verdicts: Iterable[Grade]) -> Grade:
    last = Grade.of(False, "no expected value")
    for verdict in verdicts:
        if verdict.correct:
            return verdict
        last = verdict
    return last


def _shown(text: str | None, limit: int = 60) -> str:
    if text is None:
        return "no answer"
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# -- exact ---------------------------------------------------------------------------


class Exact:
    name = "exact"
    description = "the answer, trimmed, equals the expected text (case_sensitive: false to ignore case)"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        fold = (lambda s: s) if item.options.get("case_sensitive", True) else str.casefold
        got = fold(answer.strip())
        return _first(
            Grade.of(got == fold(str(e).strip()), f"{_shown(answer)} vs {str(e)!r}") for e in expected_values(item)
        )


# -- normalized ----------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_NOT_WORD = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    """Lower case, no accents, no punctuation, no articles, single spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _NOT_WORD.sub(" ", text)
    return " ".join(_ARTICLES.sub(" ", text).split())


class Normalized:
    name = "normalized"
    description = "the expected words appear in the answer, ignoring case, accents, punctuation and articles"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        got = normalize(answer)
        whole = not item.options.get("contains", True)

        def one(expected: Any) -> Grade:
            want = normalize(str(expected))
            if not want:
                return Grade.of(False, f"expected {expected!r} is empty once normalized")
            hit = got == want if whole else f" {want} " in f" {got} "
            return Grade.of(hit, f"{want!r} {'in' if hit else 'not in'} {_shown(got)}")

        return _first(one(e) for e in expected_values(item))


# -- numeric -------------------------------------------------------------------------

_NUMBER = r"(?:[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+−]?\.\d+)"
_FRACTION = re.compile(rf"({_NUMBER})\s*/\s*({_NUMBER})")
_NUMBERS = re.compile(_NUMBER)
_MARKED = re.compile(rf"(?:answer\s*(?:is|:|=)?|=|result\s*(?:is|:)?)\s*\**\s*({_NUMBER}(?:\s*/\s*{_NUMBER})?)", re.IGNORECASE)


def _to_float(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _value(text: str) -> float:
    fraction = _FRACTION.fullmatch(text.strip())
    if fraction:
        denominator = _to_float(fraction[2])
        return _to_float(fraction[1]) / denominator if denominator else math.nan
    return _to_float(text)


def extract_number(answer: str) -> float | None:
    """The number an answer gives: the last one marked by "answer is"/"=", else the last one in it."""
    marked = _MARKED.findall(answer)
    if marked:
        return _value(marked[-1])
    fractions = list(_FRACTION.finditer(answer))
    numbers = list(_NUMBERS.finditer(answer))
    if not numbers:
        return None
    if fractions and fractions[-1].end() >= numbers[-1].end():
        return _value(fractions[-1][0])
    return _to_float(numbers[-1][0])


class Numeric:
    name = "numeric"
    description = "the number in the answer equals the expected number (rel_tol / abs_tol options)"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        got = extract_number(answer)
        rel = float(item.options.get("rel_tol", 1e-9))
        absolute = float(item.options.get("abs_tol", 0.0))

        def one(expected: Any) -> Grade:
            try:
                want = _value(str(expected)) if not isinstance(expected, int | float) else float(expected)
            except ValueError:
                raise GradingError(f"item {item.id}: expected {expected!r} is not a number (numeric grader)") from None
            if got is None:
                return Grade.of(False, f"no number in {_shown(answer)}")
            hit = math.isclose(got, want, rel_tol=rel, abs_tol=absolute)
            return Grade.of(hit, f"{got:g} {'=' if hit else '≠'} {want:g}")

        return _first(one(e) for e in expected_values(item))


# -- regex ---------------------------------------------------------------------------


class Regex:
    name = "regex"
    description = "the answer matches the expected regular expression (case-insensitive unless case_sensitive)"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        flags = 0 if item.options.get("case_sensitive", False) else re.IGNORECASE

        def one(pattern: Any) -> Grade:
            try:
                compiled = re.compile(str(pattern), flags)
            except re.error as exc:
                raise GradingError(f"item {item.id}: expected {pattern!r} is not a valid regular expression: {exc}") from None
            hit = compiled.search(answer) is not None
            return Grade.of(hit, f"/{pattern}/ {'matches' if hit else 'does not match'} {_shown(answer)}")

        return _first(one(e) for e in expected_values(item))


# -- choice --------------------------------------------------------------------------

_CHOICE_PATTERNS = (
    re.compile(r"answer\s*(?:is|:)?\s*(?:option\s*)?\**\(?([A-J])\)?(?![A-Za-z])", re.IGNORECASE),
    re.compile(r"^\s*\**\(?([A-J])(?:[.):*]|\s*$)"),
    re.compile(r"\(([A-J])\)"),
)
_LONE = re.compile(r"(?<![A-Za-z'])([A-J])(?![A-Za-z'])")


def extract_choice(answer: str) -> str | None:
    """The letter of a multiple-choice answer ("Answer: B", "(B)", "B. Paris"), or None when unclear."""
    for pattern in _CHOICE_PATTERNS:
        found = pattern.findall(answer)
        if found:
            return found[-1].upper()
    lone = set(_LONE.findall(answer))
    return lone.pop() if len(lone) == 1 else None


class Choice:
    name = "choice"
    description = "the letter the answer picks (A, B, ...) is the expected letter"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        got = extract_choice(answer)
        return _first(
            Grade.of(got == str(e).strip().upper(), f"picked {got or 'no clear letter'}, expected {str(e).upper()}")
            for e in expected_values(item)
        )


# -- llm_judge -----------------------------------------------------------------------

JUDGE_PROMPT = """You are grading an answer to a question against a reference answer.

Question:
{question}

Reference answer:
{expected}

Answer to grade:
{answer}

Is the answer to grade correct, meaning it agrees with the reference answer on what the question asks?
Reply with exactly one word: CORRECT or INCORRECT."""


class LLMJudge:
    name = "llm_judge"
    description = "a judge model (massgen eval --judge CONFIG) says whether the answer agrees with the reference"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        if context.judge is None:
            raise GradingError(f"item {item.id}: the llm_judge grader needs a judge model: pass --judge CONFIG")
        expected = " or ".join(str(e) for e in expected_values(item))
        prompt = str(item.options.get("prompt") or JUDGE_PROMPT).format(
            question=item.question, expected=expected, answer=answer
        )
        said = await context.judge(prompt)
        verdict = said.upper()
        if "INCORRECT" in verdict or "NOT CORRECT" in verdict:
            return Grade.of(False, "judge: INCORRECT")
        if "CORRECT" in verdict:
            return Grade.of(True, "judge: CORRECT")
        return Grade.of(False, f"judge gave no verdict: {_shown(said)}")


__all__ = [
    "Choice",
    "Exact",
    "GradingError",
    "LLMJudge",
    "Normalized",
    "Numeric",
    "Regex",
    "extract_choice",
    "extract_number",
    "normalize",
]
