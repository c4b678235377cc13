"""The rich live view: one panel per agent, a footer, a progress line, then the answer.

Events only update a ``SessionView`` under a lock (O(1) each); rich's refresh
thread renders a snapshot at most ``refresh_per_second`` times a second, so a
flood of text deltas costs appends, not redraws. The view draws on stderr; the
final answer is printed to stdout as Markdown after the view stops. It must
not block the event loop or print while the view is live; log records are
printed through its console while it runs (``live_logging``). Each agent's
spinner and the progress line's are made once and kept, so they turn between
frames. From the second turn of a conversation on, the footer names the turn. Every string from
the session (text, answers, reasons, notes, ids) is made inert before rich
sees it (``massgen_core.terminal``), and the answer's Markdown links are shown
with their address rather than as terminal hyperlinks.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from massgen_core import events as ev
from massgen_core.display import state as st
from massgen_core.display.base import Display
from massgen_core.display.live_logging import route_logging
from massgen_core.display.plain import format_summary, format_tally
from massgen_core.terminal import inert

STATUS_STYLES = {
    st.STATUS_WAITING: "dim",
    st.STATUS_THINKING: "yellow",
    st.STATUS_WRITING: "bold yellow",
    st.STATUS_ANSWERED: "green",
    st.STATUS_VOTED: "cyan",
    st.STATUS_RESTARTING: "magenta",
    st.STATUS_FAILED: "bold red",
    st.STATUS_PRESENTING: "bold green",
    st.STATUS_DONE: "green",
}
_MIN_PANEL_WIDTH = 34
_ACTIVE = frozenset({st.STATUS_THINKING, st.STATUS_WRITING, st.STATUS_RESTARTING, st.STATUS_PRESENTING})


def _wrap_tail(text: str, width: int, lines: int) -> str:
    """The last ``lines`` lines of ``text`` wrapped to ``width``."""
    width = max(8, width)
    wrapped: list[str] = []
    for paragraph in text.splitlines() or [""]:
        wrapped.extend(textwrap.wrap(paragraph, width, replace_whitespace=False, drop_whitespace=True) or [""])
    while wrapped and not wrapped[-1].strip():
        wrapped.pop()
    return "\n".join(wrapped[-lines:])


class LiveDisplay(Display):
    """Panels per agent on a rich ``Live`` (stderr), the final answer as Markdown on stdout."""

    def __init__(
        self,
        *,
        stdout: TextIO,
        stderr: TextIO,
        verbosity: int = 1,
        refresh_per_second: float = 8,
        console: Console | None = None,
        answer_console: Console | None = None,
    ) -> None:
        self.console = console or Console(file=stderr, stderr=True)
        self.answer_console = answer_console or Console(file=stdout)
        self.verbosity = verbosity
        self.refresh_per_second = refresh_per_second
        self.view = st.SessionView()
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._spinners: dict[str, Spinner] = {}  # per agent id; "" is the progress line's
        self._restore_logging: Callable[[], None] | None = None

    # -- Display ---------------------------------------------------------------

    def start(self) -> None:
        if self._live is None:
            self._live = Live(
                get_renderable=self._snapshot,
                console=self.console,
                refresh_per_second=self.refresh_per_second,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
            # rich draws each frame under Live._lock; records printed under it never cut into a frame.
            self._restore_logging = route_logging(self.console, lock=getattr(self._live, "_lock", None))

    def handle(self, event: ev.Event) -> None:
        with self._lock:
            self.view.apply(event)

    def stop(self) -> None:
        restore, self._restore_logging = self._restore_logging, None
        if restore is not None:
            restore()
        live, self._live = self._live, None
        if live is not None:
            live.stop()  # draws the last frame, so the final state stays on screen

    def finish(self, finished: ev.SessionFinished | None) -> None:
        self.stop()
        if finished is None:
            return
        self.console.print(Text(inert(format_summary(finished, self.view.total_tokens)), style="bold"))
        if finished.final_answer is not None:
            self.answer_console.print(Markdown(inert(finished.final_answer), hyperlinks=False))

    # -- rendering ---------------------------------------------------------------

    def _snapshot(self) -> RenderableType:
        with self._lock:
            return self.render()

    def render(self, now: float | None = None) -> RenderableType:
        """The whole view at ``now`` (a time.time() value; default: the current time)."""
        now = time.time() if now is None else now
        view = self.view
        agents = list(view.agents.values())
        width = self.console.width
        columns = max(1, min(len(agents) or 1, width // _MIN_PANEL_WIDTH))
        tail_lines = 6 if len(agents) <= columns * 2 else 2
        inner = width // columns - 4
        grid = Table.grid(expand=True, padding=(0, 0))
        for _ in range(columns):
            grid.add_column(ratio=1)
        panels = [self._panel(a, now, inner, tail_lines) for a in agents]
        for i in range(0, len(panels), columns):
            row = panels[i : i + columns]
            grid.add_row(*row, *([""] * (columns - len(row))))
        parts: list[RenderableType] = []
        if view.question and self.verbosity >= 2:
            parts.append(Text(f"Question: {inert(view.question)}", style="bold"))
        parts.extend([grid, self._footer(now), self._progress()])
        return Group(*parts)

    def _panel(self, agent: st.AgentView, now: float, inner: int, tail_lines: int) -> Panel:
        status_style = STATUS_STYLES.get(agent.status, "")
        if agent.first_ts is None:
            elapsed = 0.0
        elif agent.status == st.STATUS_FAILED:
            elapsed = (agent.last_ts or agent.first_ts) - agent.first_ts
        elif self.view.finished is not None:
            elapsed = self.view.finished.ts - agent.first_ts
        else:
            elapsed = now - agent.first_ts
        header = Text()
        if agent.status in _ACTIVE and self.view.finished is None:
            header.append_text(self._spinner(agent.id).render(self.console.get_time()))  # type: ignore[arg-type]
            header.append(" ")
        header.append(agent.status, style=status_style)
        header.append(f"  answers {agent.answers}")
        if agent.restarts:
            header.append(f"  restarts {agent.restarts}")
        header.append(f"  {max(0.0, elapsed):.1f}s  {agent.tokens:,} tok")
        body = [header]
        if agent.vote is not None:
            vote = Text(inert(f"vote → {agent.vote.target} ({agent.vote.label})"), style="cyan")
            if agent.vote.reason:
                vote.append(f": {inert(agent.vote.reason)}", style="dim")
            body.append(vote)
        if agent.note:
            note_style = "red" if agent.status == st.STATUS_FAILED else "dim"
            body.append(Text(inert(agent.note), style=note_style, overflow="ellipsis", no_wrap=True))
        tail = _wrap_tail(inert(agent.text_tail(max(inner, 8) * tail_lines * 2)), inner, tail_lines)
        if tail:
            body.append(Text(tail, style="dim" if agent.status == st.STATUS_RESTARTING else ""))
        title = Text(inert(agent.id), style="bold")
        if agent.label:
            title.append(f" [{inert(agent.label)}]", style="dim")
        border = "green" if agent.id == self.view.winner else status_style or "white"
        return Panel(Group(*body), title=title, title_align="left", border_style=border)

    def _footer(self, now: float) -> Text:
        view = self.view
        tally = view.tally if view.tally else view.live_tally()
        footer = Text()
        if view.turn > 1:  # interactive mode: which question of the conversation this is
            footer.append(f"turn {view.turn}", style="bold")
            footer.append("  |  ")
        footer.append("votes: ", style="bold")
        footer.append(inert(format_tally(tally)))
        running = view.finished is None
        elapsed = view.elapsed(now if running else None)
        footer.append(f"  |  elapsed {elapsed:.1f}s  |  tokens {view.total_tokens:,}  |  cost ${view.cost_usd:.4f}")
        return footer

    def _spinner(self, key: str) -> Spinner:
        """The one spinner of a panel (or, for "", of the progress line): kept, so its frames advance."""
        spinner = self._spinners.get(key)
        if spinner is None:
            spinner = self._spinners[key] = Spinner("dots", style="yellow" if key else None)
        return spinner

    def _progress_spinner(self, text: str) -> Spinner:
        spinner = self._spinner("")
        spinner.text = Text(inert(text))
        return spinner

    def _progress(self) -> RenderableType:
        view = self.view
        if view.finished is not None:
            return Text(f"finished: {view.finished.ended_by}", style="bold")
        if view.winner is not None:
            return self._progress_spinner(f"{view.winner} presents the final answer…")
        counts: dict[str, int] = {}
        for agent in view.agents.values():
            counts[agent.status] = counts.get(agent.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "starting"
        text = f"coordinating: {summary}"
        if view.last_note:
            text += f" — {view.last_note}"
        return self._progress_spinner(text)
