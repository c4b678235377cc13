"""``massgen conversations ...`` and ``massgen export``: the recorded conversations.

list (with filters), search (FTS5, ranked, highlighted), show, delete and
import; ``export`` renders one conversation with any installed exporter.
Ids may be given as unambiguous prefixes. This module only parses options
and prints; the store (massgen_core.store) answers every question, and it
imports no plugin code except for ``export``/``import``. Everything it prints
can come from a model or an imported document, so tables and transcripts are
made inert (``massgen_core.terminal``); ``--json`` keeps the exact text, and an
export written to a terminal is made inert while a pipe or file gets it exactly.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from massgen_core.errors import MassGenError
from massgen_core.terminal import dumps, for_stream, inert, is_terminal

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(value: str, *, now: float | None = None) -> float:
    """A point in time: ``7d``/``12h``/``30m`` ago, or an ISO date/datetime (local time unless it says)."""
    match = _RELATIVE.match(value)
    if match:
        return (time.time() if now is None else now) - float(match.group(1)) * _UNIT_S[match.group(2)]
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time; use e.g. 2026-11-24, 2026-11-24T09:30, 2026-11-24T09:30Z or 7d, 12h, 30m"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.timestamp()


def _when(ts: float | None) -> str:
    return "-" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--since", metavar="WHEN", help="Started at or after WHEN (2026-11-24, 2026-11-24T09:30Z, 7d, 12h)."),
        click.option("--until", metavar="WHEN", help="Started before WHEN."),
        click.option("--model", metavar="NAME", help="A request used this model."),
        click.option("--backend", metavar="TYPE", help="A request used this backend type."),
        click.option("--agent", metavar="ID", help="This agent took part."),
        click.option("--winner", metavar="ID", help="This agent won a turn."),
        click.option("--min-cost", type=float, metavar="USD", help="Total cost at least USD."),
        click.option("--max-cost", type=float, metavar="USD", help="Total cost at most USD."),
        click.option("--unfinished", is_flag=True, help="Only conversations whose last turn never finished."),
        click.option("--limit", type=click.IntRange(min=1, max=2**63 - 1), default=50, show_default=True, help="At most this many."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(kw: dict[str, Any]) -> Any:
    from massgen_core.store import Filters

    return Filters(
        since=parse_when(kw["since"]) if kw.get("since") else None,
        until=parse_when(kw["until"]) if kw.get("until") else None,
        model=kw.get("model"),
        backend=kw.get("backend"),
        agent=kw.get("agent"),
        winner=kw.get("winner"),
        min_cost=kw.get("min_cost"),
        max_cost=kw.get("max_cost"),
        unfinished=bool(kw.get("unfinished")),
        limit=kw.get("limit"),
    )


def _open_store(*, read_only: bool = False) -> Any:
    from massgen_core.store import Store

    return Store(read_only=read_only)


def _status(summary: Any) -> str:
    return "unfinished" if summary.finished_at is None else (summary.ended_by or "finished")


def _usd(value: float) -> str:
    return f"${value:.4f}"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def conversations() -> None:
    """List, search, show, delete and import recorded conversations."""


@conversations.command("list")
@_filter_options
def list_(as_json: bool, **kw: Any) -> None:
    """List recorded conversations, newest first."""
    with _open_store(read_only=True) as store:
        rows = store.list_conversations(_filters(kw))
    if as_json:
        click.echo(dumps([r.to_dict() for r in rows], indent=2))
        return
    if not rows:
        filtered = any(v not in (None, False) for k, v in kw.items() if k != "limit")
        click.echo("No conversations match." if filtered else "No conversations recorded yet.")
        return
    click.echo(f"{'ID':<8}  {'STARTED':<16}  {'TURNS':>5}  {'COST':>10}  {'STATUS':<12}  {'WINNER':<12}  TITLE")
    for r in rows:
        click.echo(
            inert(
                f"{r.id[:8]:<8}  {_when(r.started_at):<16}  {r.turns:>5}  {_usd(r.cost_usd):>10}  {_status(r):<12}  "
                f"{_short(r.winner or '-', 12):<12}  {_short(r.title, 60)}"
            )
        )


# ignore_unknown_options: ``sky -blue`` excludes a word; it is not an option.
@conversations.command(context_settings={"ignore_unknown_options": True})
@click.argument("terms", nargs=-1, required=True)
@click.option("--fts", "raw", is_flag=True, help='Read TERMS as an FTS5 query: "a phrase", prefix*, AND/OR/NOT, NEAR.')
@_filter_options
def search(terms: tuple[str, ...], raw: bool, as_json: bool, **kw: Any) -> None:
    """Search questions, answers and final answers for words and "phrases"; -word excludes a word.

    Every word must appear (gpt-4o, C++, what's and e-mail are words); Chinese, Japanese and
    Korean text is found as a substring. --fts takes the FTS5 query language instead.
    """
    from massgen_core.store.query import parse_plain

    query = " ".join(terms)
    parsed: Any = query if raw else parse_plain(query)
    bold = is_terminal(sys.stdout) and not as_json
    # Marks no stored text can contain, so the snippet is made inert around them; then bold or brackets.
    nonce = secrets.token_hex(8)
    mark = ("[", "]") if as_json else (f"\ue000{nonce}<", f">{nonce}\ue000")
    with _open_store(read_only=True) as store:
        hits = store.search(parsed, _filters(kw), mark=mark)
    if as_json:
        click.echo(dumps([h.to_dict() for h in hits], indent=2))
        return
    if not hits:
        click.echo(inert(f"No conversations match {query!r}."))
        return
    for h in hits:
        where = f"{h.kind} from {h.agent_id}" if h.agent_id else h.kind
        click.echo(inert(f"{h.summary.id[:8]}  {_when(h.summary.started_at)}  {_short(h.summary.title, 60)}"))
        click.echo(inert(f"    [{where}] ") + _marked(" ".join(h.snippet.split()), nonce, bold))


def _marked(snippet: str, nonce: str, bold: bool) -> str:
    """A search snippet made inert, its matches between the store's marks shown bold (or in brackets)."""
    on, off = ("\x1b[1m", "\x1b[0m") if bold else ("[", "]")
    parts = [part.split(f">{nonce}\ue000") for part in snippet.split(f"\ue000{nonce}<")]
    out = [inert(parts[0][0])]
    for piece in parts[1:]:
        match, rest = piece[0], "".join(piece[1:])
        out.append(on + inert(match) + off + inert(rest))
    return "".join(out)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in (text.splitlines() or [""]))


def _render_show(doc: dict[str, Any]) -> str:
    conv = doc["conversation"]
    status = "unfinished" if conv["finished_at"] is None else (conv["ended_by"] or "finished")
    out = [
        f"Conversation {conv['id']}",
        f"  {conv['title']}",
        f"  started {_when(conv['started_at'])}, {status}, {len(doc['turns'])} turn(s), cost ${conv['cost_usd']:.6f}",
    ]
    for turn in doc["turns"]:
        t_status = "unfinished" if turn["finished_at"] is None else (turn["ended_by"] or "finished")
        out += ["", f"Turn {turn['turn']} ({t_status}, strategy {turn['strategy'] or '-'}, session {turn['session_id']})"]
        out += ["  Question:", _indent(turn["question"])]
        if turn["answers"]:
            out.append("  Answers:")
            for a in turn["answers"]:
                label = f" as {a['label']}" if a["label"] else ""
                out += [f"    {a['agent_id']}, revision {a['revision']}{label}:", _indent(a["text"], "      ")]
        if turn["votes"]:
            out.append("  Votes:")
            for v in turn["votes"]:
                if v["discarded"]:
                    out.append(f"    {v['voter']} -> {v['target'] or '-'} (discarded: {v['discard_reason']})")
                else:
                    label = f" ({v['target_label']})" if v["target_label"] else ""
                    out.append(f"    {v['voter']} -> {v['target']}{label}: {v['reason']}")
        if turn["tally"]:
            out.append("  Tally: " + ", ".join(f"{a} {s:g}" for a, s in turn["tally"].items()))
        if turn["winner"]:
            out.append(f"  Winner: {turn['winner']}")
        if turn["error"]:
            out.append(f"  Error: {turn['error']}")
        if turn["final_answer"] is not None:
            out += ["  Final answer:", _indent(turn["final_answer"])]
        if turn["requests"]:
            out.append("  Usage:")
            for r in turn["requests"]:
                timing = "" if r["latency_s"] is None else f", {r['latency_s']:.2f}s"
                timing += "" if r["ttft_s"] is None else f" (first token {r['ttft_s']:.2f}s)"
                retries = f", {r['retries']} retries" if r["retries"] else ""
                out.append(
                    f"    {r['agent_id']}: {r['backend']}/{r['model'] or '-'} in {r['input_tokens']} out {r['output_tokens']}"
                    f" tokens, ${r['cost_usd']:.6f}{timing}{retries}, {r['status']}"
                )
        out.append(f"  Turn cost: ${turn['cost_usd']:.6f}")
    return "\n".join(out)


@conversations.command()
@click.argument("conversation_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the full JSON document.")
def show(conversation_id: str, as_json: bool) -> None:
    """Show a conversation: turns, answers, votes, usage and cost."""
    with _open_store(read_only=True) as store:
        doc = store.document(store.resolve_id(conversation_id))
    click.echo(dumps(doc, indent=2) if as_json else inert(_render_show(doc)))


@conversations.command()
@click.argument("conversation_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete(conversation_id: str, yes: bool) -> None:
    """Delete a conversation and everything recorded with it."""
    with _open_store() as store:
        full = store.resolve_id(conversation_id)
        if not yes:
            click.confirm(f"Delete conversation {full}?", abort=True)
        store.delete(full)
    click.echo(inert(f"Deleted conversation {full}."))


def _exporter(name: str) -> Any:
    from massgen_core.plugins import get_plugin_manager

    return get_plugin_manager().exporters.get(name)()


@conversations.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "-f", "fmt", default="json", show_default=True, help="Format of FILE (an exporter that can load).")
@click.option("--replace", is_flag=True, help="Replace a conversation with the same id.")
def import_(file: str, fmt: str, replace: bool) -> None:
    """Import a conversation from an export (the json format round-trips)."""
    exporter = _exporter(fmt)
    if not exporter.can_load:
        raise MassGenError(f"the {fmt} format cannot be imported; use a format that can (e.g. json)")
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise MassGenError(f"cannot read {file}: {exc.strerror or exc}") from None
    document = exporter.load(text)
    with _open_store() as store:
        cid = store.import_document(document, replace=replace)
    click.echo(inert(f"Imported conversation {cid}."))


@conversations.command()
@click.option("--to", "target", required=True, metavar="URL", help="The PostgreSQL store: postgresql://user:password@host/db")
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True), help="The SQLite file (default: yours).")
@click.option("--replace", is_flag=True, help="Replace conversations the target already has (default: keep them).")
def migrate(target: str, source: str | None, replace: bool) -> None:
    """Copy every conversation of the SQLite store into a PostgreSQL store, and check each copy."""
    from massgen_core.redaction import redact_url
    from massgen_core.store import Filters, Store, StoreError, default_path
    from massgen_core.store.pg import is_url

    if not is_url(target):
        raise click.UsageError("--to must be a postgresql:// URL")
    path = Path(source) if source else default_path()
    if not path.exists():
        raise MassGenError(f"there is no SQLite store at {path} to migrate")
    copied = kept = 0
    with Store(path, read_only=True) as old, Store(url=target) as new:
        ids = [row.id for row in reversed(old.list_conversations(Filters(limit=None)))]  # oldest first
        for cid in ids:
            document = old.document(cid)
            try:
                new.import_document(document, replace=replace)
            except StoreError:
                if replace or new.conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
                    raise
                kept += 1
                continue
            if new.document(cid) != document:
                raise MassGenError(f"conversation {cid} did not copy losslessly; the copy is left for inspection")
            copied += 1
    more = f"; {kept} already there were kept (--replace overwrites them)" if kept else ""
    click.echo(inert(f"Copied {copied} conversation(s) from {path} to {redact_url(target)}{more}."))


@click.command()
@click.argument("conversation_id", metavar="ID", required=False)
@click.option("--format", "-f", "fmt", default="json", show_default=True, help="Export format (see --list-formats).")
@click.option("--output", "-o", type=click.Path(), help="Write to this file (or into this directory); default stdout.")
@click.option("--force", is_flag=True, help="Overwrite an existing file at --output (a symbolic link is never followed).")
@click.option("--list-formats", is_flag=True, help="List the installed export formats and exit.")
def export(conversation_id: str | None, fmt: str, output: str | None, force: bool, list_formats: bool) -> None:
    """Export a recorded conversation: massgen export ID --format FORMAT [-o PATH]."""
    if list_formats:
        from massgen_core.plugins import get_plugin_manager

        registry = get_plugin_manager().exporters
        if not len(registry):
            click.echo("No export formats installed (install massgen-export-json, -markdown or -html).")
        for name, cls in registry.items():
            load = ", importable" if cls.can_load else ""
            click.echo(inert(f"{name:<10} .{cls.extension:<5} {cls.media_type}{load}  {cls.description}"))
        return
    if not conversation_id:
        raise click.UsageError("give the conversation ID to export (or --list-formats)")
    exporter = _exporter(fmt)
    with _open_store(read_only=True) as store:
        cid = store.resolve_id(conversation_id)
        text = exporter.export(store.document(cid))
    if output is None:
        click.echo(for_stream(text, sys.stdout), nl=not text.endswith("\n"))
        return
    from massgen_core.exporting import write_export

    path = write_export(text, Path(output), cid, exporter.extension, force=force)
    click.echo(inert(f"Wrote {path}"), err=True)
