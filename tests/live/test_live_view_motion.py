"""The live view's spinners turn, log records print above it instead of tearing it, turns are separated."""

from __future__ import annotations

import io
import itertools
import logging
import re

from rich.console import Console

from massgen_core import events as ev
from massgen_core.display.live import LiveDisplay
from massgen_core.display.live_logging import InertRichHandler

_TOKEN = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]+")


def screen_of(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: text, CR, LF, cursor up/down, erase in line (rich's Live uses no more)."""
    lines, row, col = [""], 0, 0
    for m in _TOKEN.finditer(raw):
        token = m.group(0)
        if m.group(2):
            arg, code = m.group(1), m.group(2)
            if code == "A":
                row = max(0, row - int(arg or 1))
            elif code == "B":
                row += int(arg or 1)
            elif code == "K":
                lines[row] = "" if arg == "2" else lines[row][:col]
            continue  # colours, cursor visibility
        if token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token):]
            col += len(token)
        while len(lines) <= row:
            lines.append("")
    return [line.rstrip() for line in lines]


def _events(turn: int = 1) -> list[ev.Event]:
    clock = itertools.count(1000.0, 0.25)
    f = ev.EventFactory("s", clock=lambda: next(clock))
    return [
        f(ev.SessionStarted, question="q?", agent_ids=("a", "b"), turn=turn),
        f(ev.AgentStarted, agent_id="a"),
        f(ev.AgentStarted, agent_id="b"),
        f(ev.AnswerDelta, agent_id="a", text="Paris is"),
    ]


def _display(console: Console) -> LiveDisplay:
    return LiveDisplay(stdout=io.StringIO(), stderr=io.StringIO(), console=console,
                       answer_console=Console(file=io.StringIO()), refresh_per_second=0.5)


def _plain_render(display: LiveDisplay) -> str:
    """One frame, drawn by the display's own console as rich's Live draws it."""
    console = display.console
    console.begin_capture()
    console.print(display.render(now=1005.0))
    return console.end_capture()


def test_spinners_turn_from_one_frame_to_the_next() -> None:
    now = [0.0]
    display = _display(Console(file=io.StringIO(), width=100, color_system=None, get_time=lambda: now[0]))
    for event in _events():
        display.handle(event)
    frames = []
    for step in range(4):
        now[0] = step * 0.1  # the dots spinner shows a new frame every 80 ms
        frames.append(_plain_render(display))
    progress = [frame.rstrip().splitlines()[-1][0] for frame in frames]
    panels = [next(line for line in frame.splitlines() if "writing" in line) for frame in frames]
    assert len(set(progress)) == 4  # the progress line's spinner moved at every frame
    assert len(set(panels)) == 4  # and so did the writing agent's
    assert "Paris is" in frames[-1]


def test_a_log_record_during_the_live_view_prints_above_it_without_tearing_it() -> None:
    stream = io.StringIO()
    console = Console(file=stream, width=100, force_terminal=True, color_system=None)
    original = logging.StreamHandler(stream)
    original.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(original)
    display = _display(console)
    try:
        display.start()
        events = _events()
        for event in events[:3]:
            display.handle(event)
        display._live.refresh()  # type: ignore[union-attr]
        assert any(isinstance(h, InertRichHandler) for h in root.handlers) and original not in root.handlers
        logging.getLogger("massgen.http").warning("POST http://127.0.0.1/v1 200 in 0.1 s \x1b]0;title\x07")
        display.handle(events[3])
        display._live.refresh()  # type: ignore[union-attr]
        display.stop()
        restored = original in root.handlers and not any(isinstance(h, InertRichHandler) for h in root.handlers)
    finally:
        root.removeHandler(original)
    screen = screen_of(stream.getvalue())
    logged = [line for line in screen if "POST http://127.0.0.1/v1 200" in line]
    assert logged == ["WARNING massgen.http: POST http://127.0.0.1/v1 200 in 0.1 s \\x1b]0;title\\x07"]
    assert sum(line.startswith("╭─ a") for line in screen) == 1  # the view drawn once, whole, below the record
    assert screen.index(logged[0]) < next(i for i, line in enumerate(screen) if line.startswith("╭─ a"))
    assert restored


def test_handlers_that_do_not_write_to_the_terminal_are_left_alone(tmp_path) -> None:
    to_file = logging.FileHandler(tmp_path / "log.txt")
    elsewhere = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    for handler in (to_file, elsewhere):
        root.addHandler(handler)
    display = _display(Console(file=io.StringIO(), width=100, force_terminal=True))
    try:
        display.start()
        assert to_file in root.handlers and elsewhere in root.handlers
        display.stop()
        display.stop()  # idempotent
    finally:
        for handler in (to_file, elsewhere):
            root.removeHandler(handler)
        to_file.close()


def test_a_later_turn_is_named_in_the_footer() -> None:
    first, later = _display(Console(file=io.StringIO(), width=100)), _display(Console(file=io.StringIO(), width=100))
    for event in _events(turn=1):
        first.handle(event)
    for event in _events(turn=3):
        later.handle(event)
    assert "turn" not in _plain_render(first)
    footer = next(line for line in _plain_render(later).splitlines() if "votes:" in line)
    assert footer.startswith("turn 3  |  votes:")


def test_a_routed_handler_keeps_its_filters_and_a_removed_one_is_not_put_back() -> None:
    from massgen_core.display.live_logging import route_logging

    stream = io.StringIO()
    console = Console(file=stream, width=100, force_terminal=True, color_system=None)
    original = logging.StreamHandler(stream)
    original.addFilter(lambda record: "secret" not in record.getMessage())
    logger = logging.getLogger("massgen.http")
    logger.addHandler(original)
    try:
        restore = route_logging(console)
        routed = next(h for h in logger.handlers if isinstance(h, InertRichHandler))
        logger.warning("a secret line")
        logger.warning("a public line")
        logger.removeHandler(routed)  # someone else took it away meanwhile
        restore()
        assert original not in logger.handlers
    finally:
        logger.removeHandler(original)
    assert "a public line" in stream.getvalue() and "secret" not in stream.getvalue()
