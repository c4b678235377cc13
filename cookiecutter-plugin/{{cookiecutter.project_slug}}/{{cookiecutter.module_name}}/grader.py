"""The {{ cookiecutter.registered_name|tojson }} grader: partial credit for the expected keywords an answer mentions.

A grader for ``massgen eval``: ``grade(answer, item, context)`` compares a
team's final answer with the dataset item's ``expected`` value and returns a
``Grade`` (right or wrong, a score from 0 to 1, and what was compared). Here
``expected`` is a list of keywords; the score is the share found, and the
answer is right when at least ``item.options["min_share"]`` (default: all) are.
It is pure: no files, no network, no printing.
"""

from __future__ import annotations

from massgen_core.grading import EvalItem, Grade, GradeContext


class KeywordsGrader:
    name = {{ cookiecutter.registered_name|tojson }}
    description = "the share of the expected keywords the answer mentions (case-insensitive)"

    async def grade(self, answer: str | None, item: EvalItem, context: GradeContext) -> Grade:
        if answer is None:
            return Grade.of(False, "no answer")
        keywords = item.expected if isinstance(item.expected, list) else [item.expected]
        text = answer.casefold()
        found = [k for k in keywords if str(k).casefold() in text]
        share = len(found) / len(keywords) if keywords else 0.0
        needed = float(item.options.get("min_share", 1.0))
        return Grade(correct=share >= needed, score=share, detail=f"found {len(found)} of {len(keywords)}: {found}")


KEYWORDS = KeywordsGrader()
