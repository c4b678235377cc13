"""The html exporter: one self-contained, sanitised page, checked in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from massgen_export_html import HtmlExporter, render_markdown

# Each would change the title or add a <pwned-*> element if it ran.
HOSTILE = "\n\n".join(
    [
        "<script>document.title='pwned-script';document.body.appendChild(document.createElement('pwned-script'))</script>",
        "<img src=x onerror=\"document.title='pwned-img';document.body.appendChild(document.createElement('pwned-img'))\">",
        "<svg onload=\"document.body.appendChild(document.createElement('pwned-svg'))\"></svg>",
        "<iframe srcdoc=\"<script>parent.document.title='pwned-iframe'</script>\"></iframe>",
        "<a href=\"javascript:document.title='pwned-link'\" id=\"jslink\">click</a>",
        "[md link](javascript:alert(1))",
        "<details open ontoggle=\"document.body.appendChild(document.createElement('pwned-toggle'))\"><summary>x</summary></details>",
        "</details></div><script>document.body.appendChild(document.createElement('pwned-breakout'))</script>",
        "<style>body{display:none}</style>",
    ]
)


def _doc(answer: str = "Plain answer", final: str = "# Result\n\nThe **answer** is `42`.\n\n| a | b |\n|---|---|\n| 1 | 2 |", question: str = "What is 6 x 7?"):
    return {
        "format": "massgen-conversation", "version": 1,
        "conversation": {"id": "c0ffee", "title": question, "config": None, "started_at": 0.0, "finished_at": 1.0,
                         "ended_by": "consensus", "cost_usd": 0.0125},
        "turns": [{
            "turn": 1, "session_id": "s", "question": question, "agent_ids": ["alice", "bob"], "strategy": "majority",
            "started_at": 0.0, "finished_at": 1.0, "ended_by": "consensus", "error": None, "final_answer": final,
            "winner": "bob", "tally": {"bob": 2.0}, "reasons": {}, "explanation": "bob has 2 votes", "usage": {},
            "cost_usd": 0.0125, "duration_s": 1.0,
            "answers": [{"agent_id": "alice", "label": "agent1", "revision": 1, "text": answer, "ts": 0.1},
                        {"agent_id": "bob", "label": "agent2", "revision": 1, "text": "Forty-two.", "ts": 0.2}],
            "votes": [{"voter": "alice", "target": "bob", "target_label": "agent2", "reason": "<b>clear</b>", "ranking": [],
                       "discarded": False, "discard_reason": None, "ts": 0.3}],
            "requests": [{"agent_id": "alice", "backend": "openai", "model": "gpt-4o-mini", "input_tokens": 12,
                          "output_tokens": 34, "cached_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.0125,
                          "latency_s": 0.8, "ttft_s": 0.2, "retries": 0, "status": "ok", "ts": 0.4}],
            "events": [],
        }],
    }  # fmt: skip


def test_model_markdown_is_rendered_to_html():
    page = HtmlExporter().export(_doc())
    assert "<strong>answer</strong>" in page and "<code>42</code>" in page
    # The model's "# Result" sits below the page's "Final answer" heading (h3), not beside the page title.
    assert "<h4>Result</h4>" in page and page.count("<h1>") == 1
    assert "<td>1</td>" in page  # tables


def test_hostile_html_in_answers_is_removed_by_the_sanitiser():
    html = render_markdown(HOSTILE)
    assert "<script" not in html and "onerror" not in html and "onload" not in html and "ontoggle" not in html
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.IGNORECASE)  # as text it is harmless
    assert "<iframe" not in html and "<style" not in html


def test_control_characters_are_spelled_out_and_answer_headings_sit_below_their_revision():
    doc = _doc(answer="# Heading\n\nESC \x1b]0;pwned\x07 and C1 \x9b2J", final="plain \x1b[2J")
    doc["conversation"]["title"] = "title \x1b]52;c;eA==\x07"
    page = HtmlExporter().export(doc)
    assert not [c for c in page if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert "\\x1b]0;pwned\\x07" in page and "\\x9b2J" in page and "plain \\x1b[2J" in page
    assert "title \\x1b]52;c;eA==\\x07" in page
    assert "<h4>Revision 1 as agent1</h4>" in page and "<h5>Heading</h5>" in page


def test_metadata_is_escaped_not_interpreted():
    page = HtmlExporter().export(_doc(question="<script>alert(1)</script>"))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;clear&lt;/b&gt;" in page  # vote reasons are text


def test_the_page_is_self_contained_and_mobile_friendly():
    page = HtmlExporter().export(_doc(answer="![tracker](https://example.com/pixel.png) see <img src='https://example.com/x.png'>"))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(link|script|img|iframe)\b", page)
    assert not re.search(r"""\bsrc\s*=""", page)
    assert "@media" in page and "max-width" in page


def test_votes_answers_usage_and_cost_are_on_the_page():
    page = HtmlExporter().export(_doc())
    assert "<th>voter</th><th>voted for</th><th>reason</th><th>counted</th>" in page and "<td>bob (agent2)</td>" in page
    assert "<td>yes</td>" in page
    assert '<details><summary>alice: 1 answer</summary>' in page and "Forty-two." in page
    assert '<td class="num">0.012500</td>' in page and "Turn cost: $0.012500" in page and "cost $0.012500" in page


def test_unfinished_and_failed_turns_render():
    doc = _doc()
    doc["turns"][0].update(final_answer=None, winner=None, ended_by=None, error="all agents failed", votes=[], tally={}, requests=[], answers=[], explanation="")
    doc["conversation"].update(title="", ended_by=None)
    page = HtmlExporter().export(doc)
    assert "No final answer recorded." in page and "all agents failed" in page and "unfinished" in page
    assert "<title>Conversation · MassGen</title>" in page


def test_the_plugin_registers_the_html_format(installed_plugins):
    cls = installed_plugins.exporters.get("html")
    assert (cls.extension, cls.media_type) == ("html", "text/html")


# -- in a real browser ------------------------------------------------------------


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless browser found (looked for chromium, chromium-browser, google-chrome): install Debian's chromium to run this test")


def _dump_dom(browser: str, page: Path, profile: Path) -> str:
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _title(dom: str) -> str:
    match = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)
    assert match, dom[:500]
    return match.group(1)


@pytest.mark.slow
def test_hostile_answers_do_not_run_in_a_real_browser_and_the_page_renders(tmp_path):
    browser = _browser()
    page = HtmlExporter().export(_doc(answer=HOSTILE, final="Safe **final**\n\n" + HOSTILE, question="Hostile <script>document.title='pwned-q'</script>"))
    # The sanitiser alone must hold: test the page without its CSP too (the CSP is a second fence).
    bare = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert bare != page
    control = "<!DOCTYPE html><html><head><title>before</title></head><body><script>document.title='ran'</script></body></html>"
    files = {"page.html": page, "bare.html": bare, "control.html": control}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    # The control proves this browser runs scripts, so a quiet page means the payloads were defused.
    assert _title(_dump_dom(browser, tmp_path / "control.html", tmp_path / "p0")) == "ran"
    for i, name in enumerate(("page.html", "bare.html"), start=1):
        dom = _dump_dom(browser, tmp_path / name, tmp_path / f"p{i}")
        assert _title(dom) == "Hostile &lt;script&gt;document.title='pwned-q'&lt;/script&gt; · MassGen"
        assert not re.search(r"<pwned-", dom), name
        # and it rendered: headings, the sanitised final answer, the vote table and the collapsible answers
        assert "<strong>final</strong>" in dom and "<td>bob (agent2)</td>" in dom
        assert dom.count("<details>") >= 2 and "Forty-two." in dom
