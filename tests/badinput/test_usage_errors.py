"""Unknown flags, bad option values and missing arguments are one-line usage errors with exit 1."""

from __future__ import annotations

import pytest

CASES = [
    (("--bogus-flag",), "No such option '--bogus-flag'", "massgen run --help"),
    (("--no-display", "--bogus", "hi"), "No such option '--bogus'", "massgen run --help"),
    (("conversations", "list", "--bogus"), "No such option '--bogus'", "massgen conversations list --help"),
    (("conversations", "list", "--limit", "lots"), "'lots' is not a valid integer", "massgen conversations list --help"),
    (("conversations", "frobnicate"), "No such command 'frobnicate'", "massgen conversations --help"),
    (("usage", "--by", "week"), "'week' is not one of", "massgen usage --help"),
    (("conversations", "list", "--limit", "9" * 30), "is not in the range 1<=x<=9223372036854775807", "massgen conversations list --help"),
    (("conversations", "import", "-f", "json"), "Missing argument 'FILE'", "massgen conversations import --help"),
]


@pytest.mark.parametrize(("args", "message", "help_hint"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_usage_error_is_one_line_and_exit_1(massgen, args, message, help_hint):
    proc = massgen(*args)
    assert proc.returncode == 1, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("massgen: error: ") and message in line
    assert line.endswith(f"(see: {help_hint})")
    assert proc.stdout == ""


def test_a_group_without_its_command_prints_its_help(massgen):
    proc = massgen("conversations")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: massgen conversations [OPTIONS] COMMAND")
    assert "search" in proc.stdout and proc.stderr == ""
