"""``--jsonl``: every event of a session as one JSON object per line on stdout.

For scripts that follow a session as it runs (DESIGN.md §6). Each line is
``massgen_core.events.event_to_dict`` of one event, flushed at once, so a
reader sees it immediately; the last line of a session is its
``session_finished`` event, which carries the final answer (exact text; DEL and
C1 characters as JSON escapes, see massgen_core.terminal). Nothing else is
written to stdout; it never reformats or filters events.
"""

from __future__ import annotations

from typing import TextIO

from massgen_core import events as ev
from massgen_core.display.base import Display
from massgen_core.terminal import dumps


class JsonLinesDisplay(Display):
    def __init__(self, *, stdout: TextIO) -> None:
        self.stdout = stdout

    def handle(self, event: ev.Event) -> None:
        self.stdout.write(dumps(ev.event_to_dict(event), default=str) + "\n")
        self.stdout.flush()
