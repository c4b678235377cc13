"""The {{ cookiecutter.registered_name|tojson }} grader, through MassGen's plugin manager."""

from __future__ import annotations

import asyncio

from massgen_core.grading import EvalItem, GradeContext
from massgen_core.plugins import PluginManager

import {{ cookiecutter.module_name }}

NAME = {{ cookiecutter.registered_name|tojson }}


def grade(answer, expected, **options):
    pm = PluginManager()
    pm.register({{ cookiecutter.module_name }}, name={{ cookiecutter.project_slug|tojson }})
    item = EvalItem(id="i1", question="Name two primary colours.", expected=expected, options=options)
    return asyncio.run(pm.graders.get(NAME).grade(answer, item, GradeContext()))


def test_every_keyword_found_is_right() -> None:
    verdict = grade("Red and blue are primary colours.", ["red", "blue"])
    assert verdict.correct and verdict.score == 1.0


def test_some_keywords_give_partial_credit() -> None:
    verdict = grade("Red, surely.", ["red", "blue"])
    assert not verdict.correct and verdict.score == 0.5
    assert grade("Red, surely.", ["red", "blue"], min_share=0.5).correct


def test_no_answer_is_wrong() -> None:
    verdict = grade(None, ["red"])
    assert not verdict.correct and verdict.score == 0.0
