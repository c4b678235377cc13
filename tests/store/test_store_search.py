"""Full-text search (FTS5) over questions, answers and final answers, and the list filters."""

from __future__ import annotations

import pytest

from massgen_core.store import Filters, StoreError


@pytest.fixture
def corpus(record, make_events):
    ids = {}
    ids["paris"] = record(make_events("s1", question="What is the capital of France?", start=1000.0, cost=0.01,
                                      answers=(("alice", "Paris is the capital."), ("bob", "The capital city of France is Paris."))))  # fmt: skip
    ids["cafe"] = record(make_events("s2", question="Où trouver un bon café à Lyon?", start=2000.0, backend="claude",
                                     model="claude-3-5-haiku", cost=0.5, winner="alice", final="Le café des Halles, près de la gare.",
                                     answers=(("alice", "Essayez le café des Halles."), ("carol", "Большое спасибо за вопрос о кофе."))))  # fmt: skip
    ids["strasse"] = record(make_events("s3", question="Wie lang ist die Straße?", start=3000.0, backend="gemini",
                                        model="gemini-2.0-flash", cost=2.0, final=None, winner=None, finish=False,
                                        answers=(("dave", "Die Straße ist zwölf Kilometer lang."),)))  # fmt: skip
    return ids


def _ids(hits):
    return [h.summary.id for h in hits]


def test_a_word_finds_the_conversations_that_contain_it(store, corpus):
    assert _ids(store.search("capital")) == [corpus["paris"]]


def test_phrases_match_only_adjacent_words(store, corpus):
    assert _ids(store.search('"capital city"')) == [corpus["paris"]]
    assert store.search('"city capital"') == []


def test_prefixes_match_word_beginnings(store, corpus):
    assert _ids(store.search("capit*")) == [corpus["paris"]]


def test_accented_text_matches_with_or_without_accents(store, corpus):
    assert _ids(store.search("café")) == [corpus["cafe"]]
    assert _ids(store.search("cafe")) == [corpus["cafe"]]


def test_cyrillic_and_german_words_are_found(store, corpus):
    assert _ids(store.search("спасибо")) == [corpus["cafe"]]
    assert _ids(store.search("большое")) == [corpus["cafe"]]  # case-folded
    assert _ids(store.search('"zwölf kilometer"')) == [corpus["strasse"]]


def test_the_snippet_highlights_the_matched_terms(store, corpus):
    (hit,) = store.search("спасибо", mark=("<<", ">>"))
    assert "<<спасибо>>" in hit.snippet
    assert (hit.kind, hit.agent_id) == ("answer", "carol")


def test_the_hit_names_where_the_text_was_found(store, corpus):
    assert store.search("trouver")[0].kind == "question"
    assert store.search("gare")[0].kind == "final answer"


def test_results_are_ranked_by_relevance(record, store, make_events):
    weak = record(make_events("w", question="unrelated", answers=(("a", "one mention of zebra among many other words here"),)))
    strong = record(make_events("s", question="zebra zebra", answers=(("a", "zebra"),)))
    assert _ids(store.search("zebra")) == [strong, weak]


def test_search_combines_with_filters(store, corpus):
    assert _ids(store.search("capital OR café", Filters(backend="claude"))) == [corpus["cafe"]]
    assert _ids(store.search("capital OR café", Filters(max_cost=0.1))) == [corpus["paris"]]


def test_a_malformed_query_is_a_clear_error(store, corpus):
    with pytest.raises(StoreError, match="cannot understand the search"):
        store.search('"unterminated')


def test_deleted_conversations_are_no_longer_found(store, corpus):
    before = store.conn.execute("SELECT COUNT(*) FROM fts").fetchone()[0]
    store.delete(corpus["paris"])
    assert store.search("capital") == []
    assert store.conn.execute("SELECT COUNT(*) FROM fts").fetchone()[0] == before - 4  # question, 2 answers, final


# -- list filters ------------------------------------------------------------------


def test_list_shows_newest_first_with_turns_cost_and_winner(store, corpus):
    rows = store.list_conversations()
    assert [r.id for r in rows] == [corpus["strasse"], corpus["cafe"], corpus["paris"]]
    assert (rows[1].turns, rows[1].winner, rows[1].cost_usd) == (1, "alice", pytest.approx(1.0))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(since=1500.0), ["strasse", "cafe"]),
        (Filters(until=2500.0), ["cafe", "paris"]),
        (Filters(since=1500.0, until=2500.0), ["cafe"]),
        (Filters(model="gemini-2.0-flash"), ["strasse"]),
        (Filters(backend="openai"), ["paris"]),
        (Filters(agent="carol"), ["cafe"]),
        (Filters(winner="bob"), ["paris"]),
        (Filters(min_cost=0.5), ["strasse", "cafe"]),
        (Filters(max_cost=0.5), ["paris"]),
        (Filters(min_cost=0.5, max_cost=1.5), ["cafe"]),
        (Filters(unfinished=True), ["strasse"]),
        (Filters(limit=1), ["strasse"]),
        (Filters(agent="nobody"), []),
    ],
)
def test_list_filters(store, corpus, filters, expected):
    assert [r.id for r in store.list_conversations(filters)] == [corpus[k] for k in expected]


def test_an_id_prefix_resolves_to_the_one_matching_conversation(store, corpus):
    cid = corpus["paris"]
    assert store.resolve_id(cid[:10].upper()) == cid


def test_an_ambiguous_prefix_lists_the_candidates(store, record, make_events):
    from massgen_core.store import AmbiguousIdError

    a = record(make_events("x"), conversation_id="abc111" + "0" * 26)
    b = record(make_events("y"), conversation_id="abc222" + "0" * 26)
    with pytest.raises(AmbiguousIdError) as info:
        store.resolve_id("abc")
    assert a[:12] in str(info.value) and b[:12] in str(info.value)


def test_unknown_and_empty_ids_are_clear_errors(store, corpus):
    with pytest.raises(StoreError, match="no conversation with id"):
        store.resolve_id("ffffffffff")
    with pytest.raises(StoreError, match="empty"):
        store.resolve_id("  ")


def test_latest_id_is_none_on_an_empty_store(store):
    assert store.latest_id() is None
