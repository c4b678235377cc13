"""MassGen exporter ``markdown``: a readable transcript of a conversation.

Per turn: the question (and the names of its attachments), the final answer and winner, the vote table and
tally, usage and cost, then each agent's answers in collapsible ``<details>``
sections. Model text stays Markdown but is made safe first (``untrusted``):
no raw HTML, no raw control character, headings below the section they sit
in, no code fence left open; titles, ids and table cells are escaped as plain
text. It reads nothing back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from massgen_core.exporting import Exporter, attachment_label, attachment_refs, vote_rows
from massgen_core.terminal import inert
from massgen_export_markdown.untrusted import block, code, inline


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    import datetime as _dt  # here, not at the top: every massgen command loads this plugin

    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(value: Any) -> str:
    return inline(value) or " "


def _html(value: Any) -> str:
    import html  # here, not at the top: every massgen command loads this plugin

    return html.escape(" ".join(inert(str(value)).split()))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _quote(text: str) -> list[str]:
    return ["> " + line if line else ">" for line in block(text, heading_base=3).splitlines()] or [">"]


def _turn(turn: Mapping[str, Any]) -> list[str]:
    out = [f"## Turn {inline(turn['turn'])}", "", "**Question**", "", *_quote(turn["question"]), ""]
    attached = attachment_refs(turn)
    if attached:
        out += ["**Attachments**", "", *(f"- {inline(attachment_label(ref))}" for ref in attached), ""]
    status = turn.get("ended_by") or "unfinished"
    winner = turn.get("winner")
    out += ["**Final answer**" + (f" (winner: {code(winner)}, ended by {inline(status)})" if winner else f" (ended by {inline(status)})"), ""]
    final = turn.get("final_answer")
    out += [block(final, heading_base=3) if final else "*(no final answer recorded)*", ""]
    if turn.get("error"):
        out += [f"**Error:** {_cell(turn['error'])}", ""]
    votes = vote_rows(turn)
    if votes:
        out += [f"**Votes** ({inline(turn.get('strategy') or 'majority')})", ""]
        out += _table(
            ["voter", "voted for", "reason", "counted"],
            [[v["voter"], f"{v['target']} ({v['target_label']})" if v.get("target_label") else v["target"], v["reason"], "yes" if counted else "superseded"] for v, counted in votes],
        )
        out.append("")
    tally = turn.get("tally") or {}
    if tally:
        out += _table(["agent", "score"], [[agent, f"{score:g}"] for agent, score in tally.items()])
        out.append("")
    if turn.get("explanation"):
        out += [f"*{_cell(turn['explanation'])}*", ""]
    requests = turn.get("requests", [])
    if requests:
        out += ["**Usage**", ""]
        out += _table(
            ["agent", "backend", "model", "input", "output", "cost (USD)", "latency (s)", "status"],
            [
                [r["agent_id"], r["backend"], r["model"], r["input_tokens"], r["output_tokens"], f"{r['cost_usd']:.6f}",
                 "-" if r["latency_s"] is None else f"{r['latency_s']:.2f}", r["status"]]
                for r in requests
            ],
        )  # fmt: skip
        out += ["", f"Turn cost: ${turn.get('cost_usd') or 0:.6f}", ""]
    by_agent: dict[str, list[Mapping[str, Any]]] = {}
    for answer in turn.get("answers", []):
        by_agent.setdefault(answer["agent_id"], []).append(answer)
    if by_agent:
        out += ["### Answers", ""]
    for agent, answers in by_agent.items():
        plural = "s" if len(answers) != 1 else ""
        out += ["<details>", f"<summary>{_html(agent)}: {len(answers)} answer{plural}</summary>", ""]
        for answer in answers:
            label = f" as {inline(answer['label'])}" if answer.get("label") else ""
            out += [f"#### Revision {inline(answer['revision'])}{label}", "", block(answer["text"], heading_base=5), ""]
        out += ["</details>", ""]
    return out


class MarkdownExporter(Exporter):
    name = "markdown"
    extension = "md"
    media_type = "text/markdown"
    description = "Readable transcript: questions, final answers, votes, answers in collapsible sections."

    def export(self, document: Mapping[str, Any]) -> str:
        conv = document["conversation"]
        status = conv.get("ended_by") or "unfinished"
        out = [
            f"# {inline(conv.get('title') or 'Conversation')}",
            "",
            (
                f"Conversation {code(conv['id'])} · started {_when(conv.get('started_at'))} · {inline(status)} · "
                f"cost ${conv.get('cost_usd') or 0:.6f}"
            ),
            "",
        ]
        for turn in document.get("turns", []):
            out += _turn(turn)
        return "\n".join(out).rstrip() + "\n"
