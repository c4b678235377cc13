"""What people type into a conversation search, read as plain words and phrases.

``parse_plain`` turns text such as ``gpt-4o``, ``C++``, ``what's``, ``"exact phrase"`` or
``sky -blue`` into terms that every one must (or, with a leading ``-``, must not) appear in
one text; nothing else in it is query syntax. ``to_fts5`` quotes those terms into an FTS5
MATCH expression. ``parse_fts5`` reads the subset of the FTS5 query language that
``conversations search --fts`` documents (words, "phrases", prefix*, AND/OR/NOT, brackets)
into the same tree, for stores that are not SQLite. The CLI and ``massgen serve`` both read
searches here. Nothing here touches a database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from massgen_core.store.schema import StoreError

# Scripts written without spaces between words: a word index cannot find a substring of them.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
    "\U00020000-\U0002fa1f]"
)
_WORDY = re.compile(r"\w")
_PLAIN_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese, Japanese or Korean characters."""
    return _CJK.search(text) is not None


class PlainQuery(NamedTuple):
    """Terms that must all appear in one text (``include``) and terms that must not (``exclude``)."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @property
    def cjk(self) -> bool:
        """Whether a required term is CJK text, which only a substring search finds."""
        return any(has_cjk(term) for term in self.include)


def parse_plain(text: str) -> PlainQuery:
    """The terms of what someone typed; StoreError when it has no word or number to look for.

    A word or "quoted phrase" is required; one written ``-word`` or ``-"a phrase"`` after the
    first term is excluded. Terms without a letter or digit (``%``, ``--``) are dropped: no
    index holds them.
    """
    include: list[str] = []
    exclude: list[str] = []
    for match in _PLAIN_TERM.finditer(text):
        minus, phrase, word = match.groups()
        term = phrase if word is None else word
        negated = bool(minus)
        if word is not None and word.startswith("-") and len(word) > 1 and (include or exclude):
            term, negated = word[1:], True
        term = " ".join(term.split())
        if not _WORDY.search(term):
            continue
        (exclude if negated and (include or exclude) else include).append(term)
    if not include:
        raise StoreError(f"the search {text!r} has no word or number to look for")
    return PlainQuery(tuple(dict.fromkeys(include)), tuple(dict.fromkeys(exclude)))


def fts5_string(term: str) -> str:
    """``term`` as an FTS5 string: matched as a phrase of its tokens, never read as syntax."""
    return '"' + term.replace('"', '""') + '"'


def to_fts5(query: PlainQuery) -> str:
    """The FTS5 MATCH expression of a plain query."""
    return " ".join(fts5_string(t) for t in query.include) + "".join(
        f" NOT {fts5_string(t)}" for t in query.exclude
    )


# -- the FTS5 query language, for stores that speak another one -----------------------------

# A node: ("phrase", text) | ("prefix", word) | ("and" | "or", left, right) | ("not", left, right)
Node = tuple[Any, ...]


_FTS5_TOKEN = re.compile(r'\s*(?:(")((?:[^"]|"")*)(")?|(\()|(\))|([^\s()"]+))')


def _fts5_tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _FTS5_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        opening, body, closing, lpar, rpar, bare = match.groups()
        if opening:
            if not closing:
                raise StoreError(f"cannot understand the search {text!r} (unterminated string)")
            out.append(("phrase", body.replace('""', '"')))
        elif lpar:
            out.append(("(", "("))
        elif rpar:
            out.append((")", ")"))
        elif bare in ("AND", "OR", "NOT"):
            out.append((bare, bare))
        elif bare.endswith("*") and len(bare) > 1:
            out.append(("prefix", bare[:-1]))
        else:
            out.append(("phrase", bare))
    return out


def parse_fts5(text: str) -> Node:
    """The tree of an FTS5 query (precedence NOT > AND > OR, as in FTS5); StoreError when malformed."""
    tokens = _fts5_tokens(text)
    pos = 0

    def fail(why: str) -> StoreError:
        return StoreError(
            f'cannot understand the search {text!r} ({why}); use words, "exact phrases", prefix* '
            "and AND/OR/NOT, and quote text with punctuation"
        )

    def primary() -> Node:
        nonlocal pos
        if pos >= len(tokens):
            raise fail("it ends too early")
        kind, value = tokens[pos]
        pos += 1
        if kind == "(":
            node = either()
            if pos >= len(tokens) or tokens[pos][0] != ")":
                raise fail("unbalanced brackets")
            pos += 1
            return node
        if kind in ("phrase", "prefix"):
            return (kind, value)
        raise fail(f"unexpected {value}")

    def chain(keyword: str, kind: str, operand: Callable[[], Node]) -> Node:
        nonlocal pos
        node = operand()
        while pos < len(tokens) and tokens[pos][0] == keyword:
            pos += 1
            node = (kind, node, operand())
        return node

    def negation() -> Node:
        return chain("NOT", "not", primary)

    def both() -> Node:
        nonlocal pos
        node = negation()
        while pos < len(tokens) and tokens[pos][0] not in ("OR", ")"):
            if tokens[pos][0] == "AND":
                pos += 1
            node = ("and", node, negation())
        return node

    def either() -> Node:
        return chain("OR", "or", both)

    node = either()
    if pos != len(tokens):
        raise fail(f"unexpected {tokens[pos][1]}")
    return node


def plain_tree(query: PlainQuery) -> Node:
    """A plain query as the same tree ``parse_fts5`` builds."""
    node: Node = ("phrase", query.include[0])
    for term in query.include[1:]:
        node = ("and", node, ("phrase", term))
    for term in query.exclude:
        node = ("not", node, ("phrase", term))
    return node


def highlight(body: str, terms: list[str], mark: tuple[str, str], width: int = 48) -> str:
    """A window of ``body`` around the first term found, every term in it between ``mark``s (case-insensitive)."""
    folded = body.lower()
    found = [(folded.find(t.lower()), t) for t in terms if t and folded.find(t.lower()) >= 0]
    start = max(0, min(pos for pos, _ in found) - width // 3) if found else 0
    end = min(len(body), start + width)
    window, pattern = (
        body[start:end],
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True) if t),
    )
    if pattern:
        window = re.sub(
            pattern, lambda m: mark[0] + m.group(0) + mark[1], window, flags=re.IGNORECASE
        )
    return ("…" if start else "") + window + ("…" if end < len(body) else "")
