"""``has_cjk`` decides which texts go to the substring index, without compiling its pattern for plain text.

The question is indexed as a session starts, before its first model request, and
compiling the CJK pattern costs about 2 ms of that start-up (issue 17).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from massgen_core.store.query import has_cjk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", False),
        ("plain words, C++ and 100%", False),
        ("café, naïve, Ελληνικά, русский", False),  # above ASCII, below every CJK range
        ("\u2014 an em dash \u20ac", False),  # above the lowest range's start, in none of the ranges
        ("日本の首都", True),
        ("ひらがな", True),
        ("한국어", True),
        ("mixed: the word 首都 inside", True),
        ("\u1100", True),  # the lowest character of the lowest range
        ("\U00020000", True),  # beyond the basic plane
    ],
)
def test_has_cjk(text: str, expected: bool):
    assert has_cjk(text) is expected


def test_plain_text_is_checked_without_compiling_the_pattern():
    child = textwrap.dedent(
        """
        import re
        from massgen_core.store import query
        compiled = []
        real = re._compile
        re._compile = lambda pattern, flags: compiled.append(pattern) or real(pattern, flags)
        assert query.has_cjk("What is the capital of France?") is False
        print(query._CJK_PATTERN in compiled)
        assert query.has_cjk("日本") is True
        print(query._CJK_PATTERN in compiled)
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
