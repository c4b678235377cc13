"""Empty, whitespace-only and non-UTF-8 questions are refused before anything runs."""

from __future__ import annotations

import json

import pytest

from massgen_core.errors import MassGenError
from massgen_core.questions import check_question


@pytest.fixture
def run(massgen, one_agent):
    return lambda *args, **kw: massgen("--no-display", "--config", str(one_agent), *args, **kw)


@pytest.mark.parametrize("question", ["", "   ", " \t\n ", "\u3000"], ids=["empty", "spaces", "mixed", "ideographic"])
def test_an_empty_question_is_refused_and_nothing_runs(run, _isolated_home, question):
    proc = run("--json", question)
    assert proc.returncode == 1
    assert proc.stderr == "massgen: error: the question is empty: give some text to ask\n"
    assert proc.stdout == ""
    assert not (_isolated_home / "data").exists()  # no session was recorded, none started


def test_a_question_that_is_not_utf8_is_refused_with_the_bad_byte(run, _isolated_home):
    proc = run("--json", b"caf\xe9 au lait")
    assert proc.returncode == 1
    assert proc.stderr == (
        "massgen: error: the question is not valid UTF-8 text (byte 0xe9 at character 4); "
        "check the terminal's or file's encoding\n"
    )
    assert proc.stdout == ""  # no JSON at all rather than invalid JSON
    assert not (_isolated_home / "data").exists()


def test_interactive_mode_refuses_a_non_utf8_line_and_carries_on(run):
    proc = run("-q", stdin=b"caf\xe9\n   \nWhat is the capital of France?\n/quit\n")
    assert proc.returncode == 0, proc.stderr
    assert "massgen: error: the question is not valid UTF-8 text (byte 0xe9 at character 4)" in proc.stderr
    assert "warning" not in proc.stderr  # the store stays on
    assert proc.stdout.count("Paris is the capital of France.") == 1  # the blank line asked nothing


def test_the_valid_question_after_a_refused_one_is_recorded(run, massgen):
    run("-q", stdin=b"caf\xe9\nWhat is the capital of France?\n/quit\n")
    listed = json.loads(massgen("conversations", "list", "--json").stdout)
    assert [c["title"] for c in listed] == ["What is the capital of France?"]


def test_an_unpaired_surrogate_from_elsewhere_is_named():
    with pytest.raises(MassGenError, match=r"not valid UTF-8 text \(an unpaired surrogate U\+D800 at character 2\)"):
        check_question("a\ud800b")


def test_a_good_question_is_returned_unchanged():
    assert check_question("  café? ") == "  café? "
