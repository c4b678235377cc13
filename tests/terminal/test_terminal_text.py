"""massgen_core.terminal: control characters made visible, JSON exact but without raw controls."""

from __future__ import annotations

import io
import json
import os

from hypothesis import given
from hypothesis import strategies as st

from massgen_core.terminal import dumps, for_stream, inert, is_terminal

CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]


def _raw_controls(text: str) -> set[str]:
    # A carriage return is allowed only as part of a CRLF line ending.
    return {c for c in text.replace("\r\n", "\n") if c in CONTROLS and c not in "\n\t"}


def test_each_payload_is_spelled_out():
    assert inert("\x1b]0;title\x07") == "\\x1b]0;title\\x07"
    assert inert("\x1b]52;c;Zm9v\x07") == "\\x1b]52;c;Zm9v\\x07"
    assert inert("\x1b[2J") == "\\x1b[2J"
    assert inert("\x9b31m\x9d0;t\x9c") == "\\x9b31m\\x9d0;t\\x9c"
    assert inert("ok\rEVIL") == "ok\\x0dEVIL"
    assert inert("\x7f\x00\x08") == "\\x7f\\x00\\x08"


def test_ordinary_text_is_unchanged():
    text = "Paris\tis the capital.\nLine two\r\nUnicode: é, 東京, ‐, emoji 🙂, U+00A0:\xa0."
    assert inert(text) == text


@given(st.text(alphabet=st.sampled_from(CONTROLS) | st.characters(), max_size=60))
def test_no_raw_control_survives_and_json_keeps_the_exact_text(text):
    assert _raw_controls(inert(text)) == set()
    encoded = dumps({"t": text})
    assert not any(c in CONTROLS for c in encoded)
    assert json.loads(encoded) == {"t": text}


def test_dumps_passes_options_and_keeps_non_ascii_readable():
    assert dumps({"a": "é\x85"}, indent=1) == '{\n "a": "é\\u0085"\n}'


def test_for_stream_escapes_only_for_a_terminal():
    pipe = io.StringIO()
    assert for_stream("\x1b[2J", pipe) == "\x1b[2J"
    master, slave = os.openpty()
    try:
        with open(slave, "w", closefd=False) as tty:
            assert is_terminal(tty)
            assert for_stream("\x1b[2J", tty) == "\\x1b[2J"
    finally:
        os.close(master)
        os.close(slave)


def test_a_closed_or_plain_object_is_not_a_terminal():
    closed = io.StringIO()
    closed.close()
    assert not is_terminal(closed)
    assert not is_terminal(object())
