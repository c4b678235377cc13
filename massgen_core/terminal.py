"""Text that is safe to show on a terminal: every control character made visible.

Text MassGen did not write itself (model output, conversation titles, imported
documents, config keys quoted in errors) may carry terminal control sequences:
``ESC ]0;title BEL`` retitles the window, OSC 52 writes the clipboard,
``ESC [2J`` clears the screen, OSC 8 plants a link, a lone carriage return
overwrites a line, and the C1 controls (U+0080-U+009F) do the same in one
character. Every display passes such text through ``inert`` on its way to a
person, which replaces each control character (C0 except tab and newline, a
carriage return not followed by a newline, DEL, C1) with its visible ``\\xNN``
escape; nothing else is changed. ``for_stream`` does that only when the stream
is a terminal, so a pipe or a file still receives the exact text; ``dumps``
writes JSON whose strings decode to the exact text but whose bytes hold no raw
control character (the standard library already escapes C0; this adds DEL and C1).
"""

from __future__ import annotations

import re
from typing import Any, TextIO

_CONTROL = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_JSON_RAW = re.compile("[\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def inert(text: str) -> str:
    """``text`` with every terminal control character replaced by its visible ``\\xNN`` escape."""
    return _CONTROL.sub(_visible, text)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an open terminal (False for pipes, files, StringIO and closed streams)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def for_stream(text: str, stream: TextIO) -> str:
    """``inert(text)`` when ``stream`` is a terminal, else ``text`` unchanged (scripts get the exact text)."""
    return inert(text) if is_terminal(stream) else text


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` with DEL and C1 written as ``\\u`` escapes.

    Outside strings JSON is ASCII, so every such character sits inside a
    string, where the escape decodes back to the same text.
    """
    import json  # here: the CLI imports this module for every command, most print no JSON

    return _JSON_RAW.sub(_json_escape, json.dumps(value, ensure_ascii=False, **kwargs))


__all__ = ["dumps", "for_stream", "inert", "is_terminal"]
