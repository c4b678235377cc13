"""The first-party graders, as massgen eval uses them: through the plugin registry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from massgen_graders.graders import GradingError, extract_choice, extract_number, normalize

from massgen_core.grading import EvalItem, Grade, GradeContext


@pytest.fixture
def graders(installed_plugins):
    return installed_plugins.graders


def item(expected, **options):
    return EvalItem(id="i1", question="Q?", expected=expected, options=options)


async def grade(graders, name, answer, expected, context=GradeContext(), **options) -> Grade:
    return await graders.get(name).grade(answer, item(expected, **options), context)


def test_every_grader_is_registered_with_a_description(graders):
    assert graders.names() == ["choice", "exact", "llm_judge", "normalized", "numeric", "regex"]
    assert all(graders.get(n).description for n in graders.names())


@pytest.mark.parametrize("name", ["exact", "normalized", "numeric", "regex", "choice", "llm_judge"])
async def test_no_answer_is_wrong(graders, name):
    verdict = await grade(graders, name, None, "x")
    assert not verdict.correct and verdict.score == 0.0 and verdict.detail == "no answer"


async def test_exact(graders):
    assert (await grade(graders, "exact", "  Paris \n", "Paris")).correct
    assert not (await grade(graders, "exact", "paris", "Paris")).correct
    assert (await grade(graders, "exact", "paris", "Paris", case_sensitive=False)).correct
    assert (await grade(graders, "exact", "Lyon", ["Paris", "Lyon"])).correct


@pytest.mark.parametrize(("answer", "expected", "right"), [
    ("The capital of France is Paris.", "Paris", True),
    ("PARÍS", "paris", True),
    ("It's the Pacific Ocean!", "Pacific", True),
    ("Parisian food", "Paris", False),  # whole words only
    ("carbon dioxide (CO2)", ["CO2"], True),
    ("Lyon", "Paris", False),
])
async def test_normalized(graders, answer, expected, right):
    assert (await grade(graders, "normalized", answer, expected)).correct is right


async def test_normalized_whole_answer_and_empty_expectation(graders):
    assert not (await grade(graders, "normalized", "It is Paris", "Paris", contains=False)).correct
    assert (await grade(graders, "normalized", "the Paris", "Paris", contains=False)).correct
    verdict = await grade(graders, "normalized", "anything", "the")
    assert not verdict.correct and "empty" in verdict.detail


def test_normalize():
    assert normalize("  The  Ébène, a café! ") == "ebene cafe"


@pytest.mark.parametrize(("answer", "number"), [
    ("42", 42), ("The answer is 42.", 42), ("17 + 25 = 42", 42), ("1,234,567 people", 1234567),
    ("about -3.5 degrees", -3.5), ("−7", -7), ("3/4", 0.75), ("Answer: **1/8**", 0.125), ("2.5e3", 2500),
    ("from 3 to 9 the answer is 6, not 7", 6), ("no digits here", None), (".5", 0.5),
])
def test_extract_number(answer, number):
    assert extract_number(answer) == (pytest.approx(number) if number is not None else None)


@given(st.one_of(st.integers(-10**9, 10**9), st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3))),
       st.sampled_from(["{}", "The answer is {}.", "I think it is {}", "So, {} in total", "= {}"]))
def test_extract_number_finds_any_number_a_sentence_gives(value, template):
    assert extract_number(template.format(value)) == pytest.approx(float(value))


async def test_numeric_tolerances_and_bad_expectations(graders):
    assert (await grade(graders, "numeric", "It is 3.14159", 3.14, abs_tol=0.01)).correct
    assert not (await grade(graders, "numeric", "It is 3.14159", 3.14)).correct
    assert (await grade(graders, "numeric", "about 1000", 990, rel_tol=0.02)).correct
    assert (await grade(graders, "numeric", "0.25", "1/4")).correct
    verdict = await grade(graders, "numeric", "no idea", 4)
    assert not verdict.correct and "no number" in verdict.detail
    with pytest.raises(GradingError, match="not a number"):
        await grade(graders, "numeric", "4", "four")
    assert extract_number("1/0") != extract_number("1/0")  # nan: a zero denominator matches nothing


async def test_regex(graders):
    assert (await grade(graders, "regex", "Colour: RED", r"colou?r:\s*red")).correct
    assert not (await grade(graders, "regex", "Colour: RED", r"colou?r:\s*red", case_sensitive=True)).correct
    with pytest.raises(GradingError, match="not a valid regular expression"):
        await grade(graders, "regex", "x", "(")


@pytest.mark.parametrize(("answer", "letter"), [
    ("B", "B"), ("The answer is (C).", "C"), ("Answer: d", "D"), ("B) 23 is prime", "B"),
    ("I pick (A) over (B)... final (B)", "B"), ("Option B, because 23 is prime", "B"),
    ("A or B, hard to say", None), ("no letters", None), ("**C**", "C"),
])
def test_extract_choice(answer, letter):
    assert extract_choice(answer) == letter


async def test_choice(graders):
    assert (await grade(graders, "choice", "The answer is B", "b")).correct
    verdict = await grade(graders, "choice", "hmm", "B")
    assert not verdict.correct and "no clear letter" in verdict.detail


async def test_llm_judge_asks_the_judge_and_reads_its_verdict(graders):
    prompts: list[str] = []

    def judge_saying(text):
        async def judge(prompt: str) -> str:
            prompts.append(prompt)
            return text
        return GradeContext(judge=judge)

    right = await grade(graders, "llm_judge", "It is Paris.", ["Paris", "Paris, France"], judge_saying("CORRECT"))
    assert right.correct and "Reference answer:\nParis or Paris, France" in prompts[0] and "It is Paris." in prompts[0]
    assert not (await grade(graders, "llm_judge", "Lyon", "Paris", judge_saying("Incorrect."))).correct
    unsure = await grade(graders, "llm_judge", "Lyon", "Paris", judge_saying("maybe"))
    assert not unsure.correct and "no verdict" in unsure.detail
    custom = await grade(graders, "llm_judge", "x", "y", judge_saying("CORRECT"), prompt="Q={question} A={answer}")
    assert custom.correct and prompts[-1] == "Q=Q? A=x"
    with pytest.raises(GradingError, match="--judge"):
        await grade(graders, "llm_judge", "x", "y")
