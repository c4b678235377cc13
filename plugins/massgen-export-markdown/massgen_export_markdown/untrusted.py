"""Untrusted text (model output, imported titles and ids) as CommonMark that renders as text.

``block`` keeps a model's Markdown readable and rendered, but what a CommonMark
renderer with raw HTML on makes of it can no longer run anything or break the
transcript around it: control characters are spelled out, raw HTML (blocks and
inline tags, as markdown-it-py's CommonMark parser finds them) is escaped to
``&lt;``, headings are moved below the section they sit in, and a code fence
left open is closed so it cannot swallow the tables after it. The result is
parsed again to check all of that; if anything still fails, the whole text is
shown as a code block whose fence is longer than any backtick run inside it.
``inline`` and ``code`` do the same for one-line values (table cells, titles, ids).
"""

from __future__ import annotations

import re
from typing import Any

from massgen_core.terminal import inert

_ACTIVE = re.compile(r"([\\`*_\[\]<>&|#~])")  # characters that can start Markdown or HTML inline
_TICKS = re.compile(r"`+")
_HTML = ("html_block", "html_inline")
_SENTINEL = "massgen-end-of-untrusted-text"
_MAX_PASSES = 4


def _parser() -> Any:
    from markdown_it import MarkdownIt  # here, not at the top: every massgen command loads this plugin

    return MarkdownIt("commonmark", {"html": True})


def _one_line(text: str) -> str:
    return " ".join(inert(str(text)).split())


def inline(value: Any) -> str:
    """``value`` on one line with every Markdown/HTML-active character backslash-escaped."""
    return _ACTIVE.sub(r"\\\1", _one_line("" if value is None else value))


def _fence_for(text: str) -> str:
    return "`" * max([3] + [len(run) + 1 for run in _TICKS.findall(text)])


def code(value: Any) -> str:
    """``value`` on one line as a code span whose delimiters are longer than any backtick run in it."""
    text = _one_line(value)
    ticks = "`" * max([1] + [len(run) + 1 for run in _TICKS.findall(text)])
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _escape_html(md: Any, text: str) -> str:
    """Escape every raw HTML block and inline tag; re-parse, since escaping can expose another."""
    for _ in range(_MAX_PASSES):
        lines = text.split("\n")
        changed = False
        for tok in md.parse(text):
            if tok.type == "html_block" and tok.map:
                for i in range(*tok.map):
                    lines[i] = lines[i].replace("<", "&lt;")
                changed = True
            elif tok.type == "inline" and tok.map and any(c.type == "html_inline" for c in tok.children or ()):
                start, end = tok.map
                chunk = "\n".join(lines[start:end])
                for child in tok.children:
                    if child.type == "html_inline":
                        chunk = chunk.replace(child.content, child.content.replace("<", "&lt;"))
                lines[start:end] = chunk.split("\n")
                changed = True
        text = "\n".join(lines)
        if not changed:
            return text
    return text.replace("<", "&lt;")


def _demote_headings(md: Any, text: str, base: int) -> str:
    """Rewrite every heading as an ATX heading at ``base`` or below, keeping the relative levels."""
    tokens = md.parse(text)
    heads = [(tok, tokens[i + 1]) for i, tok in enumerate(tokens) if tok.type == "heading_open" and tok.map]
    if not heads:
        return text
    top = min(int(tok.tag[1]) for tok, _ in heads)
    lines = text.split("\n")
    for tok, content in reversed(heads):  # from the end, so earlier line numbers stay valid
        start, end = tok.map
        line = lines[start]
        if tok.markup.startswith("#"):  # ATX: container prefixes (quote, list marker) hold no '#'
            prefix = line[: line.index("#")]
        else:  # setext: the prefix is whatever precedes the first line of the content
            prefix = line[: max(0, line.find(content.content.split("\n", 1)[0]))]
        level = min(6, int(tok.tag[1]) - top + base)
        title = content.content.replace("\n", " ")
        closing = " #" * (title.endswith("#"))
        lines[start:end] = [f"{prefix}{'#' * level} {title}{closing}".rstrip()]
    return "\n".join(lines)


def _tail(md: Any, text: str) -> tuple[list[Any], bool]:
    """The tokens of ``text`` followed by a sentinel paragraph, and whether that paragraph stayed on its own."""
    tokens = md.parse(f"{text}\n\n{_SENTINEL}")
    last = tokens[-3:]
    alone = (
        len(last) == 3
        and [t.type for t in last] == ["paragraph_open", "inline", "paragraph_close"]
        and last[0].level == 0
        and last[1].content == _SENTINEL
    )
    return tokens, alone


def _close_fence(md: Any, text: str) -> str:
    tokens, alone = _tail(md, text)
    if alone:
        return text
    fences = [t for t in tokens if t.type == "fence" and t.level == 0]
    return f"{text}\n{fences[-1].markup}" if fences else text


def _safe(md: Any, text: str, base: int) -> bool:
    tokens, alone = _tail(md, text)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    return alone and not any(t.type in _HTML for t in tokens) and all(level >= min(base, 6) for level in levels)


def block(text: str, *, heading_base: int) -> str:
    """Untrusted Markdown made safe to embed under a heading of level ``heading_base - 1``."""
    visible = inert(text).replace("\r\n", "\n")
    md = _parser()
    safe = _close_fence(md, _demote_headings(md, _escape_html(md, visible), heading_base))
    if _safe(md, safe, heading_base):
        return safe
    fence = _fence_for(visible)
    return f"{fence}text\n{visible}\n{fence}"


__all__ = ["block", "code", "inline"]
