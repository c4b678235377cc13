"""Displays: consumers of a session's events that show it to a person or a script.

``choose_display`` picks one from the run's flags, the config's
``ui.display_type`` and whether the streams are terminals: ``--jsonl`` -> every
event as a JSON line on stdout; ``--json`` -> one JSON object on stdout; a rich live view only when both stdout and stderr are
terminals and ``display_type`` is ``rich_terminal``; otherwise the plain
display. Displays never drive the session; rich is imported only for the
live view. Every text a person reads passes through ``massgen_core.terminal``
(control characters made visible); the JSON displays keep the exact text.
"""

from __future__ import annotations

import os
from typing import Any, TextIO

from massgen_core.display.base import Display
from massgen_core.display.json_result import JsonDisplay
from massgen_core.display.plain import PlainDisplay
from massgen_core.terminal import is_terminal

RICH_TYPES = {"rich_terminal", "rich"}
PLAIN_TYPES = {"simple", "terminal", "plain"}


def wants_live(*, display_type: str, no_display: bool, verbosity: int, stdout: TextIO, stderr: TextIO) -> bool:
    """Whether the rich live view fits: asked for, not suppressed, and drawn on real terminals."""
    if no_display or verbosity < 1 or display_type not in RICH_TYPES:
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stdout) and is_terminal(stderr)


def choose_display(
    *,
    stdout: TextIO,
    stderr: TextIO,
    display_type: str = "rich_terminal",
    no_display: bool = False,
    json_output: bool = False,
    verbosity: int = 1,
    json_extra: dict[str, Any] | None = None,
    json_lines: bool = False,
) -> Display:
    """The display for one session; ``json_extra`` adds fields to the ``--json`` object."""
    if json_lines:
        from massgen_core.display.jsonl import JsonLinesDisplay

        return JsonLinesDisplay(stdout=stdout)
    if json_output:
        progress = PlainDisplay(stdout=stdout, stderr=stderr, verbosity=verbosity, print_answer=False)
        return JsonDisplay(stdout=stdout, progress=progress, extra=json_extra)
    if wants_live(display_type=display_type, no_display=no_display, verbosity=verbosity, stdout=stdout, stderr=stderr):
        from massgen_core.display.live import LiveDisplay

        return LiveDisplay(stdout=stdout, stderr=stderr, verbosity=verbosity)
    return PlainDisplay(stdout=stdout, stderr=stderr, verbosity=verbosity)


__all__ = ["Display", "JsonDisplay", "PlainDisplay", "choose_display", "wants_live"]
