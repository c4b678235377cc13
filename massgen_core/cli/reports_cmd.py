"""``massgen usage`` and ``massgen stats``: usage/cost reports and statistics over recorded conversations.

This module only parses options and prints (rich tables or one JSON object);
massgen_core.store.reports answers every question. It imports no plugin code,
and rich only when a table is printed. Names in the tables come from the store
(imported documents included), so they enter rich as inert ``Text``, never as markup.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from massgen_core.cli.conversations_cmd import parse_when
from massgen_core.terminal import dumps, inert

# massgen_core.store.reports.GROUPS, repeated so that ``massgen --help`` does not import the store.
_BY = ("day", "model", "backend", "agent", "conversation")


def _window_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--since", metavar="WHEN", help="From WHEN on (2026-11-24, 2026-11-24T09:30Z, 7d, 12h)."),
        click.option("--until", metavar="WHEN", help="Before WHEN."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _window(since: str | None, until: str | None) -> Any:
    from massgen_core.store.reports import Window

    return Window(
        since=parse_when(since) if since else None,
        until=parse_when(until) if until else None,
    )


def _open_store() -> Any:
    from massgen_core.store import Store

    return Store(read_only=True)


def _console() -> Any:
    from rich.console import Console

    # Piped output gets a wide table rather than rich's 80-column default, so columns are not wrapped.
    return Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)


def _plain(text: str) -> Any:
    """A table cell showing ``text`` as written: control characters visible, no rich markup."""
    from rich.text import Text

    return Text(inert(text))


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _empty_message(window: Any, what: str) -> str:
    return f"No {what} recorded yet." if window.is_open else f"No {what} recorded in that period."


def _group_label(by: str, row: Any) -> str:
    if row.key is None:
        return "-"
    if by == "conversation":
        return f"{row.key[:8]} {_short(row.title or '', 40)}".rstrip()
    return str(row.key)


@click.command()
@_window_options
@click.option(
    "--by", type=click.Choice(_BY), default="model", show_default=True, help="Group requests by this."
)
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=2**63 - 1),  # SQLite integers are 64-bit
    default=50,
    show_default=True,
    help="Show at most this many groups (the latest days, else the costliest); 0 shows all. The total covers all.",
)
def usage(since: str | None, until: str | None, as_json: bool, by: str, limit: int) -> None:
    """Requests, tokens, cost, latency and failures of recorded model requests, grouped."""
    from massgen_core.store.reports import usage_report

    window = _window(since, until)
    with _open_store() as store:
        report = usage_report(store.conn, by, window, limit or None)
    if as_json:
        click.echo(dumps(report.to_dict(), indent=2))
        return
    if not report.total.requests:
        click.echo(_empty_message(window, "model requests"))
        return
    from rich.table import Table

    table = Table(title=f"Usage by {by}")
    table.add_column(by)
    for name in ("requests", "input", "output", "cached", "reasoning", "cost", "median latency", "median TTFT", "retries", "failed"):
        table.add_column(name, justify="right")

    def cells(label: str, row: Any) -> list[Any]:
        return [
            _plain(label), str(row.requests), str(row.input_tokens), str(row.output_tokens), str(row.cached_tokens),
            str(row.reasoning_tokens), _usd(row.cost_usd), _secs(row.median_latency_s), _secs(row.median_ttft_s),
            str(row.retries), str(row.failed),
        ]  # fmt: skip

    for i, row in enumerate(report.groups):
        table.add_row(*cells(_group_label(by, row), row), end_section=i == len(report.groups) - 1)
    table.add_row(*cells("total", report.total), style="bold")
    if report.omitted:
        table.caption = f"{report.omitted} more {by} group(s) not shown (--limit 0 shows all)"
    _console().print(table)


@click.command()
@_window_options
def stats(since: str | None, until: str | None, as_json: bool) -> None:
    """How turns ended, per-agent wins, answers and votes, and turn duration and cost."""
    from massgen_core.store.reports import stats_report

    window = _window(since, until)
    with _open_store() as store:
        report = stats_report(store.conn, window)
    if as_json:
        click.echo(dumps(report.to_dict(), indent=2))
        return
    if not report.turns:
        click.echo(_empty_message(window, "conversations"))
        return
    from rich.table import Table

    overview = Table(title="Conversations", show_header=False)
    overview.add_column("what")
    overview.add_column("value", justify="right")
    overview.add_row("conversations", str(report.conversations))
    overview.add_row("turns", str(report.turns))
    overview.add_row("finished", str(report.finished))
    overview.add_row("unfinished", str(report.unfinished))
    overview.add_row("turn duration (mean / median)", f"{_secs(report.mean_duration_s)} / {_secs(report.median_duration_s)}")
    overview.add_row("turn cost (mean / median)", f"{_usd(report.mean_cost_usd)} / {_usd(report.median_cost_usd)}")
    overview.add_row("total cost", _usd(report.total_cost_usd))
    overview.add_row(
        "winner answered first",
        f"{report.winner_first} of {report.decided_turns} ({_pct(report.winner_first_rate)})",
    )

    endings = Table(title="How turns ended")
    endings.add_column("ended by")
    endings.add_column("turns", justify="right")
    endings.add_column("share", justify="right")
    for name, count in report.ended_by.items():
        if count:
            endings.add_row(_plain(name), str(count), _pct(count / report.finished))

    agents = Table(title="Agents")
    agents.add_column("agent")
    for name in ("turns", "wins", "win rate", "answers", "votes cast", "votes received"):
        agents.add_column(name, justify="right")
    for a in report.agents:
        agents.add_row(
            _plain(a.agent_id), str(a.turns), str(a.wins), _pct(a.win_rate), str(a.answers), str(a.votes_cast), str(a.votes_received)
        )

    console = _console()
    console.print(overview)
    if report.finished:
        console.print(endings)
    console.print(agents)
