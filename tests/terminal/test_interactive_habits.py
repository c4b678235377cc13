"""Interactive mode at a terminal, as v0.0.3 users type it: bare quit/exit/reset, /h, turn separators.

Each test runs ``massgen`` on a pseudo-terminal with the built-in offline-demo
preset (scripted agents: no key, no network) and types its lines at once;
the terminal echoes what was typed, so assertions look for what only MassGen writes.
"""

from __future__ import annotations

import pytest

DEMO = ["--preset", "offline-demo", "--no-display", "--no-logs"]


def test_the_offline_demo_preset_answers_every_question_of_a_conversation(pty_cli):
    screen = pty_cli(DEMO, typed=b"first one\nsecond one\nthird one\n/quit\n")
    assert screen.code == 0, screen.text
    for question in ("first one", "second one", "third one"):
        assert f'you asked "{question}", alice answered first' in screen.text
    assert "no answer could be produced" not in screen.text


def test_turns_after_the_first_get_a_numbered_separator(pty_cli):
    screen = pty_cli(DEMO, typed=b"first one\nsecond one\nthird one\nquit\n")
    assert screen.code == 0, screen.text
    assert "--- turn 2 ---" in screen.text and "--- turn 3 ---" in screen.text
    assert "--- turn 1 " not in screen.text
    assert screen.text.index("--- turn 2 ---") < screen.text.index('you asked "second one"')


@pytest.mark.parametrize("word", [b"quit", b"exit", b"QUIT"])
def test_a_bare_quit_or_exit_leaves_as_in_v003(pty_cli, word):
    screen = pty_cli(DEMO, typed=word + b"\nnever asked\n")
    assert screen.code == 0, screen.text
    assert "[session]" not in screen.text  # no question was run


def test_a_bare_reset_forgets_the_history(pty_cli):
    screen = pty_cli(DEMO, typed=b"first one\nreset\n/status\nexit\n")
    assert screen.code == 0, screen.text
    assert "history cleared" in screen.text
    assert "turns in history: 0" in screen.text


def test_slash_h_lists_the_commands(pty_cli):
    screen = pty_cli(DEMO, typed=b"/h\n/q\n")
    assert screen.code == 0, screen.text
    assert "Commands:" in screen.text and "/status" in screen.text and "/reset" in screen.text
    assert "without the slash" in screen.text
