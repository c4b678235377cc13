"""MassGen exporter ``html``: one self-contained, phone-friendly page per conversation.

Final answers and agent answers are rendered from Markdown (markdown-it-py)
and then sanitised with nh3, because model output is untrusted: no script,
event-handler attribute or ``javascript:`` URL survives, and a
Content-Security-Policy forbids scripts and external loads besides. Headings
in model text are moved below the section they sit in, and control characters
are spelled out (massgen_core.terminal), so a page printed to a terminal acts
on nothing. Every other value is HTML-escaped. The page links to nothing outside itself:
an attached image appears only as a ``data:`` thumbnail of bytes the export carries,
typed again from those bytes (``massgen_core.exporting.thumbnail_data_url``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from massgen_core.exporting import Exporter, attachment_label, attachment_refs, thumbnail_data_url, vote_rows

# markdown-it-py and nh3 are imported in render_markdown, not here: every massgen command loads
# this plugin, and only an export renders anything.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { color-scheme: light dark; --fg: #1d1f23; --bg: #fdfdfc; --muted: #5b6170; --line: #d9dce3; --accent: #2457c5; --box: #f3f4f7; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e7ea; --bg: #16181c; --muted: #a2a7b3; --line: #363a43; --accent: #8fb0ff; --box: #1f2228; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; line-height: 1.25; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; border-top: 1px solid var(--line); padding-top: 1rem; margin-top: 2rem; }
.meta { color: var(--muted); font-size: .9rem; }
.question { border-left: 4px solid var(--accent); background: var(--box); padding: .5rem 1rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.answer { overflow-wrap: anywhere; }
.answer pre, pre { overflow-x: auto; background: var(--box); padding: .75rem; border-radius: 6px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0; min-width: 50%; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem; margin: .5rem 0; }
summary { cursor: pointer; font-weight: 600; }
.winner { color: var(--accent); font-weight: 600; }
.error { color: #c0392b; }
.attachments { list-style: none; padding: 0; }
.thumb { max-width: 8rem; max-height: 8rem; vertical-align: middle; border: 1px solid var(--line); }
"""


def render_markdown(text: str, heading_base: int = 4) -> str:
    """Untrusted Markdown to safe HTML, its top heading at level ``heading_base`` (at most h6)."""
    import nh3
    from markdown_it import MarkdownIt

    from massgen_core.terminal import inert

    md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable("strikethrough")
    tokens = md.parse(inert(text))
    heads = [t for t in tokens if t.type in ("heading_open", "heading_close")]
    top = min((int(t.tag[1]) for t in heads), default=1)
    for t in heads:
        t.tag = f"h{min(6, int(t.tag[1]) - top + heading_base)}"
    # Images would be fetched from wherever the model pointed them: not self-contained, and a tracking pixel.
    tags = set(nh3.ALLOWED_TAGS) - {"img", "area", "map"}
    return nh3.clean(md.renderer.render(tokens, md.options, {}), tags=tags, link_rel="noopener noreferrer nofollow")


def _e(value: Any) -> str:
    import html  # here, not at the top: every massgen command loads this plugin; exports are rare

    from massgen_core.terminal import inert

    return html.escape(inert("" if value is None else str(value)))


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


_NUM = ' class="num"'


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td{_NUM if i in numeric else ''}>{_e(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _attachments(document: Mapping[str, Any], turn: Mapping[str, Any]) -> str:
    """The turn's attachments by name; an image the document carries also as a small inline thumbnail."""
    items = []
    for ref in attachment_refs(turn):
        thumb = thumbnail_data_url(document, ref)
        image = f'<img class="thumb" src="{thumb}" alt="{_e(ref.get("name"))}"> ' if thumb else ""
        items.append(f"<li>{image}{_e(attachment_label(ref))}</li>")
    return f'<ul class="attachments">{"".join(items)}</ul>' if items else ""


def _turn(turn: Mapping[str, Any], document: Mapping[str, Any] | None = None) -> str:
    parts = [f"<section class=\"turn\"><h2>Turn {_e(turn['turn'])}</h2>"]
    parts.append(f'<p class="question">{_e(turn["question"])}</p>')
    attached = _attachments(document or {}, turn)
    if attached:
        parts.append(attached)
    winner = turn.get("winner")
    status = turn.get("ended_by") or "unfinished"
    who = f' by <span class="winner">{_e(winner)}</span>' if winner else ""
    parts.append(f'<h3>Final answer{who}</h3><p class="meta">ended by {_e(status)}</p>')
    final = turn.get("final_answer")
    parts.append(f'<div class="answer final">{render_markdown(final)}</div>' if final else "<p><em>No final answer recorded.</em></p>")
    if turn.get("error"):
        parts.append(f'<p class="error">{_e(turn["error"])}</p>')
    votes = vote_rows(turn)
    if votes:
        parts.append(f"<h3>Votes ({_e(turn.get('strategy') or 'majority')})</h3>")
        parts.append(
            _table(
                ["voter", "voted for", "reason", "counted"],
                [[v["voter"], f"{v['target']} ({v['target_label']})" if v.get("target_label") else v["target"], v["reason"], "yes" if counted else "superseded"] for v, counted in votes],
            )
        )
    tally = turn.get("tally") or {}
    if tally:
        parts.append(_table(["agent", "score"], [[a, f"{s:g}"] for a, s in tally.items()], frozenset({1})))
    if turn.get("explanation"):
        parts.append(f'<p class="meta">{_e(turn["explanation"])}</p>')
    requests = turn.get("requests", [])
    if requests:
        parts.append("<h3>Usage and cost</h3>")
        parts.append(
            _table(
                ["agent", "backend", "model", "input", "output", "cost (USD)", "latency (s)", "status"],
                [
                    [r["agent_id"], r["backend"], r["model"] or "-", r["input_tokens"], r["output_tokens"],
                     f"{r['cost_usd']:.6f}", "-" if r["latency_s"] is None else f"{r['latency_s']:.2f}", r["status"]]
                    for r in requests
                ],
                frozenset({3, 4, 5, 6}),
            )
        )  # fmt: skip
        parts.append(f'<p class="meta">Turn cost: ${turn.get("cost_usd") or 0:.6f}</p>')
    by_agent: dict[str, list[Mapping[str, Any]]] = {}
    for answer in turn.get("answers", []):
        by_agent.setdefault(answer["agent_id"], []).append(answer)
    if by_agent:
        parts.append("<h3>Answers</h3>")
    for agent, answers in by_agent.items():
        plural = "s" if len(answers) != 1 else ""
        parts.append(f"<details><summary>{_e(agent)}: {len(answers)} answer{plural}</summary>")
        for answer in answers:
            label = f" as {_e(answer['label'])}" if answer.get("label") else ""
            parts.append(f"<h4>Revision {_e(answer['revision'])}{label}</h4>")
            parts.append(f'<div class="answer">{render_markdown(answer["text"], heading_base=5)}</div>')
        parts.append("</details>")
    parts.append("</section>")
    return "\n".join(parts)


class HtmlExporter(Exporter):
    name = "html"
    extension = "html"
    media_type = "text/html"
    description = "One self-contained, mobile-friendly HTML page; model output sanitised."

    def export(self, document: Mapping[str, Any]) -> str:
        conv = document["conversation"]
        title = conv.get("title") or "Conversation"
        status = conv.get("ended_by") or "unfinished"
        turns = "\n".join(_turn(t, document) for t in document.get("turns", []))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="generator" content="MassGen">
<title>{_e(title)} · MassGen</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{_e(title)}</h1>
<p class="meta">Conversation <code>{_e(conv["id"])}</code> · started {_e(_when(conv.get("started_at")))} · {_e(status)} · cost ${conv.get("cost_usd") or 0:.6f}</p>
{turns}
</main>
</body>
</html>
"""
