"""Log records during the rich live view: printed through its console, above the view, not across it.

A ``logging.StreamHandler`` writing to the terminal under a rich ``Live`` tears
the view (``--debug``/``-vv`` logs every HTTP exchange). ``route_logging``
swaps each such handler (on the root logger and the loggers MassGen configures)
for a ``RichHandler`` on the live console, keeping its level, filters and
formatter (so redaction still applies), and returns a function that puts the
originals back. Messages are made inert (``massgen_core.terminal``) and never
read as rich markup. Only the live view uses this; it never configures
logging itself.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from massgen_core.terminal import inert

# The loggers that get handlers of their own (massgen_core.http.debug).
LOGGERS = ("", "massgen.http")


class InertRichHandler(RichHandler):
    """A RichHandler that shows the formatted record as plain, inert text, printed under the view's lock.

    rich's ``Live`` places printed output above the view from where its last
    frame ended; its refresh thread draws under the Live's lock, so a record
    printed under the same lock cannot interleave with a frame (which would
    leave the view drawn twice, or the record overwritten).
    """

    def __init__(self, *args: Any, lock: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.print_lock = lock if lock is not None else contextlib.nullcontext()

    def emit(self, record: logging.LogRecord) -> None:
        with self.print_lock:
            super().emit(record)

    def render_message(self, record: logging.LogRecord, message: str) -> Text:
        return Text(inert(message))


def _to_terminal(handler: logging.Handler, streams: tuple[Any, ...]) -> bool:
    return (
        type(handler) is logging.StreamHandler  # not FileHandler or anything more particular
        and any(handler.stream is s for s in streams)
    )


def route_logging(console: Console, streams: tuple[Any, ...] = (), *, lock: Any = None) -> Callable[[], None]:
    """Send terminal log handlers through ``console`` until the returned function is called.

    ``lock`` is what the live view draws under (a rich ``Live``'s own lock).
    """
    targets = (*streams, console.file, sys.stderr, sys.__stderr__)
    swapped: list[tuple[logging.Logger, logging.Handler, logging.Handler]] = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if not _to_terminal(handler, targets):
                continue
            rich_handler = InertRichHandler(
                console=console, show_time=False, show_level=False, show_path=False, markup=False,
                rich_tracebacks=False, lock=lock,
            )
            rich_handler.setLevel(handler.level)
            rich_handler.setFormatter(handler.formatter or logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            for log_filter in handler.filters:
                rich_handler.addFilter(log_filter)
            index = logger.handlers.index(handler)
            logger.handlers[index] = rich_handler
            swapped.append((logger, handler, rich_handler))

    def restore() -> None:
        for logger, original, replacement in reversed(swapped):
            if replacement in logger.handlers:
                logger.handlers[logger.handlers.index(replacement)] = original
        swapped.clear()

    return restore
