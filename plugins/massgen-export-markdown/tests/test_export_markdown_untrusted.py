"""The Markdown export of hostile model text, rendered by a CommonMark renderer with raw HTML on.

Each test renders the whole export with markdown-it-py (``html: True``, tables
on, as GitHub-like renderers do) and inspects the resulting HTML: nothing from
the model may become a tag, the export's own tables must survive an unclosed
code fence, and the model's headings must sit below the section they are in.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from massgen_export_markdown import MarkdownExporter, untrusted

HOSTILE = (
    "Intro <script>alert(1)</script> and <img src=x onerror=alert(2)>\n\n"
    '<iframe src="https://evil.example/"></iframe>\n\n'
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">\n\n'
    "<svg onload=alert(3)><circle/></svg>\n\n"
    '<div onclick="alert(4)">\n\n**still bold** inside\n\n</div>\n\n'
    "<!-- an unterminated comment\n\n"
    "ESC \x1b]0;pwned\x07 and C1 \x9b2J done"
)
# Tags the export itself produces once rendered; anything else came from the model.
OWN_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "em", "code", "pre", "blockquote", "table", "thead",
            "tbody", "tr", "th", "td", "details", "summary", "ul", "ol", "li", "a", "br", "hr"}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.headings: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append((self.stack[-1], data))


def render(markdown: str) -> _Tags:
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    parsed = _Tags()
    parsed.feed(page)
    return parsed


def _doc(final: str = "Fine.", answer: str = "Draft.", **conversation):
    turn = {
        "turn": 1, "session_id": "s", "question": "Q?", "agent_ids": ["alice"], "strategy": "majority",
        "started_at": 0.0, "finished_at": 1.0, "ended_by": "consensus", "error": None, "final_answer": final,
        "winner": "alice", "tally": {"alice": 1.0}, "reasons": {}, "explanation": "1 of 1 votes", "usage": {},
        "cost_usd": 0.0, "duration_s": 1.0,
        "answers": [{"agent_id": "alice", "label": "agent1", "revision": 1, "text": answer, "ts": 0.1}],
        "votes": [{"voter": "alice", "target": "alice", "target_label": "agent1", "reason": "mine", "ranking": [],
                   "discarded": False, "discard_reason": None, "ts": 0.2}],
        "requests": [{"agent_id": "alice", "backend": "scripted", "model": "s", "input_tokens": 1, "output_tokens": 2,
                      "cached_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.0, "latency_s": 0.5, "ttft_s": None,
                      "retries": 0, "status": "ok", "ts": 0.3}],
        "events": [],
    }  # fmt: skip
    conv = {"id": "abc123", "title": "Q?", "config": None, "started_at": 0.0, "finished_at": 1.0, "ended_by": "consensus", "cost_usd": 0.0}
    conv.update(conversation)
    return {"format": "massgen-conversation", "version": 1, "conversation": conv, "turns": [turn]}


def _foreign(parsed: _Tags) -> list[str]:
    bad = [tag for tag, _ in parsed.tags if tag not in OWN_TAGS]
    bad += [f"{tag}[{name}]" for tag, attrs in parsed.tags for name, _ in attrs if name.startswith("on") or name == "style"]
    return bad


def test_raw_html_in_answers_is_shown_as_text_never_as_tags():
    md = MarkdownExporter().export(_doc(final=HOSTILE, answer=HOSTILE))
    parsed = render(md)
    assert _foreign(parsed) == []
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text  # visible, not lost
    assert '<meta http-equiv="refresh"' in text and "<svg onload=alert(3)>" in text
    assert any(tag == "strong" for tag, _ in parsed.tags)  # the model's own Markdown still renders


def test_no_raw_control_character_is_written():
    md = MarkdownExporter().export(_doc(final=HOSTILE, answer=HOSTILE, title="T \x1b]0;x\x07"))
    assert not [c for c in md if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert "\\x1b]0;pwned\\x07" in md and "\\x9b2J" in md


def test_an_unclosed_code_fence_does_not_swallow_the_tables_after_it():
    md = MarkdownExporter().export(_doc(final="Here:\n\n```python\nprint('never closed')\n", answer="````\nopen too"))
    parsed = render(md)
    assert sum(tag == "table" for tag, _ in parsed.tags) == 3  # votes, tally, usage
    assert ("h3", "Answers") in parsed.headings and ("h4", "Revision 1 as agent1") in parsed.headings
    assert "print('never closed')" in "".join(parsed.text)


def test_model_headings_stay_below_the_section_they_are_in():
    final = "# Big\n\ntext\n\n## Smaller\n\nSetext\n======\n\n> ### quoted\n\n- # in a list"
    md = MarkdownExporter().export(_doc(final=final, answer="# Answer title\n\n###### deepest"))
    headings = render(md).headings
    assert [h for h in headings if h[0] in ("h1", "h2")] == [("h1", "Q?"), ("h2", "Turn 1")]
    assert ("h3", "Big") in headings and ("h4", "Smaller") in headings and ("h3", "Setext") in headings
    assert ("h5", "quoted") in headings and ("h3", "in a list") in headings
    assert ("h5", "Answer title") in headings and ("h6", "deepest") in headings  # clamped at h6


def test_titles_ids_and_cells_from_an_imported_document_are_plain_text():
    doc = _doc(title="<script>alert(1)</script> # [x](javascript:alert(2))", id="ab`c<i>")
    doc["turns"][0]["answers"][0]["agent_id"] = "<img src=x onerror=alert(3)>"
    doc["turns"][0]["votes"][0]["reason"] = "<b onmouseover=alert(4)>x</b> | *y*"
    doc["turns"][0]["winner"] = "``<i>"
    parsed = render(MarkdownExporter().export(doc))
    assert _foreign(parsed) == []
    assert not [attrs for tag, attrs in parsed.tags if tag == "a"]  # no link from the title
    text = "".join(parsed.text)
    assert "<script>alert(1)</script> # [x](javascript:alert(2))" in text
    assert "<img src=x onerror=alert(3)>: 1 answer" in text and "ab`c<i>" in text


PIECES = ["<script>", "</script>", "<img src=x onerror=alert(1)>", "```", "~~~", "````", "# ", "## ", "\n", "\n\n", "> ",
          "- ", "1. ", "   ", "===", "---", "text", "<!--", "-->", "`", '<div onclick="x">', "</div>", "\t", "<?",
          "<![CDATA[", "<a href='javascript:x'>", "*", "[r]: /u", "    ", "\x1b]0;t\x07"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16), st.lists(st.sampled_from(PIECES), max_size=8))
def test_whatever_the_model_writes_the_export_keeps_its_shape(final, answer):
    parsed = render(MarkdownExporter().export(_doc(final="".join(final) or "x", answer="".join(answer) or "y")))
    assert _foreign(parsed) == []
    assert sum(tag == "table" for tag, _ in parsed.tags) == 3
    assert [h for h in parsed.headings if h[0] in ("h1", "h2")] == [("h1", "Q?"), ("h2", "Turn 1")]


def test_when_a_repair_fails_the_text_becomes_a_code_block_longer_than_any_fence_in_it(monkeypatch):
    monkeypatch.setattr(untrusted, "_close_fence", lambda md, text: text)  # as if the repair had missed
    text = "a <b>tag</b>\n\n`````\nnever closed ``` <script>"
    safe = untrusted.block(text, heading_base=3)
    assert safe == f"``````text\n{text}\n``````"
    parsed = render(safe + "\n\n| a |\n|---|\n| 1 |")
    assert _foreign(parsed) == [] and ("table", []) in parsed.tags


@pytest.mark.parametrize(("value", "span"), [("plain", "`plain`"), ("a``b", "```a``b```"), ("`x", "`` `x ``")])
def test_code_spans_are_longer_than_any_backtick_run(value, span):
    assert untrusted.code(value) == span
    assert html.unescape(MarkdownIt("commonmark").renderInline(span)) == f"<code>{value}</code>"


def test_a_tag_split_across_quoted_lines_is_escaped_too():
    # The parser reports the tag without the "> " between its lines, so it is found by escaping every "<".
    safe = untrusted.block('> quoted <span\n> onclick="alert(1)">text</span>', heading_base=3)
    parsed = render(safe)
    assert _foreign(parsed) == [] and [tag for tag, _ in parsed.tags] == ["blockquote", "p"]
    assert '<span\nonclick="alert(1)">text</span>' in "".join(parsed.text)
