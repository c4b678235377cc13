"""`conversations search` takes what people type, on both backends, through the CLI on a real store."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from massgen_core.store import Store
from massgen_core.store.query import PlainQuery, parse_plain, to_fts5

TEXTS = {
    "gpt": "Use gpt-4o for this, not gpt-3.5.",
    "cpp": "C++ templates are resolved at compile time.",
    "whats": "Here is what's new in this release.",
    "email": "Send an e-mail to the team.",
    "percent": "I am 100% sure of it.",
    "blue": "The sky is blue today.",
    "grey": "The sky is grey today.",
    "tokyo": "日本の首都は東京です。",
    "seoul": "한국의 수도는 서울입니다.",
}


@pytest.fixture
def corpus(record_home, make_events):
    return {
        name: record_home(make_events(name, question=text, answers=(("a", "ok"),), final=None))
        for name, text in TEXTS.items()
    }


def _found(massgen, *terms: str) -> list[str]:
    proc = massgen("conversations", "search", *terms, "--json")
    return sorted(hit["id"] for hit in json.loads(proc.stdout))


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        (("gpt-4o",), ["gpt"]),
        (("C++",), ["cpp"]),
        (("what's",), ["whats"]),
        (("e-mail",), ["email"]),
        (("100%",), ["percent"]),
        (("sky", "-blue"), ["grey"]),
        (("sky -grey",), ["blue"]),
        (('"sky is"',), ["blue", "grey"]),
        (("日本",), ["tokyo"]),
        (("首都",), ["tokyo"]),
        (("首都は東京",), ["tokyo"]),
        (("서울",), ["seoul"]),
        (("日本", "-東京"), []),
    ],
)
def test_what_people_type_is_found(massgen, corpus, terms, expected):
    assert _found(massgen, *terms) == sorted(corpus[name] for name in expected)


def test_cjk_matches_are_highlighted(massgen, corpus):
    out = massgen("conversations", "search", "首都").stdout
    assert corpus["tokyo"][:8] in out and "[首都]" in out


def test_fts_takes_the_fts5_query_language(massgen, corpus):
    assert _found(massgen, "--fts", "templ*") == [corpus["cpp"]]
    assert _found(massgen, "--fts", "blue OR grey") == sorted([corpus["blue"], corpus["grey"]])
    proc = massgen("conversations", "search", "--fts", '"unterminated', check=False)
    assert proc.returncode == 1 and "cannot understand the search" in proc.stderr


def test_a_search_with_nothing_to_look_for_is_a_clear_error(massgen, corpus):
    proc = massgen("conversations", "search", "%", check=False)
    assert proc.returncode == 1 and "no word or number to look for" in proc.stderr


def test_plain_text_is_quoted_into_fts5_strings():
    assert parse_plain('sky -blue "a ""b" x') == PlainQuery(("sky", "a", "b", "x"), ("blue",))
    assert parse_plain("-first counts") == PlainQuery(("-first", "counts"))
    assert to_fts5(parse_plain('say "hi there" -no')) == '"say" "hi there" NOT "no"'
    assert parse_plain("C++ -%").include == ("C++",)


@pytest.mark.sqlite_only
def test_a_version_3_store_is_migrated_and_its_cjk_text_found(
    db_path, record, make_events, backend
):
    cid = record(make_events(question="東京の天気は？"))
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TABLE fts_cjk")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Store(db_path) as store:
        assert store.schema_version == 4
        assert [h.summary.id for h in store.search(parse_plain("天気"))] == [cid]


def test_the_fts5_language_is_read_into_a_tree_with_fts5_precedence():
    from massgen_core.store.query import parse_fts5

    assert parse_fts5("a OR b c NOT d") == (
        "or",
        ("phrase", "a"),
        ("and", ("phrase", "b"), ("not", ("phrase", "c"), ("phrase", "d"))),
    )
    assert parse_fts5('(a OR "b ""c""") AND pre*') == (
        "and",
        ("or", ("phrase", "a"), ("phrase", 'b "c"')),
        ("prefix", "pre"),
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [('"open', "unterminated string"), ("(a OR b", "unbalanced brackets"), ("a OR", "ends too early"),
     ("a )", "unexpected )"), ("AND a", "unexpected AND")],
)  # fmt: skip
def test_a_malformed_fts5_query_says_why(text, why):
    from massgen_core.store import StoreError
    from massgen_core.store.query import parse_fts5

    with pytest.raises(StoreError, match=re.escape(why)):
        parse_fts5(text)


def test_fts_queries_find_the_same_on_both_stores(massgen, corpus):
    assert _found(massgen, "--fts", "(sky AND blue) OR templ*") == sorted(
        [corpus["blue"], corpus["cpp"]]
    )
    assert _found(massgen, "--fts", "sky NOT grey") == [corpus["blue"]]
