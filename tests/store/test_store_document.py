"""The conversation document: lossless export, import, and their round trip."""

from __future__ import annotations

import copy
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_core.store import Store, StoreError
from massgen_core.store.document import FORMAT, VERSION

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
ident = st.text(alphabet=string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=12)
ts = st.floats(min_value=0, max_value=4e9, allow_nan=False)
opt_ts = st.none() | ts
money = st.floats(min_value=0, max_value=1e4, allow_nan=False)
json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | text
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8)

answer = st.fixed_dictionaries({"agent_id": ident, "label": st.none() | ident, "revision": st.integers(1, 50), "text": text, "ts": opt_ts})
vote = st.fixed_dictionaries({
    "voter": ident, "target": st.none() | ident, "target_label": st.none() | ident, "reason": text,
    "ranking": st.lists(ident, max_size=3), "discarded": st.booleans(), "discard_reason": st.none() | text, "ts": opt_ts,
})  # fmt: skip
request = st.fixed_dictionaries({
    "agent_id": ident, "backend": ident, "model": st.none() | ident, "input_tokens": st.integers(0, 10**7),
    "output_tokens": st.integers(0, 10**7), "cached_tokens": st.integers(0, 10**7), "reasoning_tokens": st.integers(0, 10**7),
    "cost_usd": money, "latency_s": opt_ts, "ttft_s": opt_ts, "ttfb_s": opt_ts, "tokens_per_s": opt_ts,
    "retries": st.integers(0, 9), "status": ident, "estimated": st.booleans(), "ts": opt_ts,
})  # fmt: skip
event = st.fixed_dictionaries({"seq": st.none() | st.integers(0, 10**6), "ts": opt_ts, "type": ident,
                               "data": st.dictionaries(ident, json_value, max_size=3)})  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> dict:
    turns = []
    for number in range(1, draw(st.integers(0, 3)) + 1):
        turns.append({
            "turn": number, "session_id": draw(ident), "question": draw(text),
            "agent_ids": draw(st.lists(ident, max_size=4)), "strategy": draw(st.none() | ident),
            "started_at": draw(ts), "finished_at": draw(opt_ts), "ended_by": draw(st.none() | ident),
            "error": draw(st.none() | text), "final_answer": draw(st.none() | text), "winner": draw(st.none() | ident),
            "tally": draw(st.none() | st.dictionaries(ident, money, max_size=3)),
            "reasons": draw(st.none() | st.dictionaries(ident, text, max_size=3)),
            "explanation": draw(st.none() | text), "usage": draw(st.none() | st.dictionaries(ident, st.integers(0, 10**6), max_size=3)),
            "cost_usd": draw(money), "duration_s": draw(opt_ts),
            "answers": draw(st.lists(answer, max_size=3)), "votes": draw(st.lists(vote, max_size=3)),
            "requests": draw(st.lists(request, max_size=3)), "events": draw(st.lists(event, max_size=2)),
        })  # fmt: skip
    conversation = {
        "id": draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=32)), "title": draw(text),
        "config": draw(st.none() | st.dictionaries(ident, json_value, max_size=3)), "started_at": draw(ts),
        "finished_at": draw(opt_ts), "ended_by": draw(st.none() | ident), "cost_usd": draw(money),
    }  # fmt: skip
    return {"format": FORMAT, "version": VERSION, "conversation": conversation, "turns": turns}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents())
def test_import_then_export_gives_the_same_document(tmp_path_factory, doc):
    from massgen_export_json import JsonExporter

    exporter = JsonExporter()
    folder = tmp_path_factory.mktemp("rt")
    with Store(folder / "a.db") as store:
        exported = exporter.export(store.document(store.import_document(exporter.load(exporter.export(doc)))))
    assert json.loads(exported) == doc
    with Store(folder / "b.db") as store:  # an export of ours comes back byte for byte
        assert exporter.export(store.document(store.import_document(exporter.load(exported)))) == exported


def test_a_recorded_conversation_round_trips_through_delete_and_import(record, store, make_events):
    cid = record(make_events())
    doc = store.document(cid)
    store.delete(cid)
    assert store.list_conversations() == []
    assert store.import_document(copy.deepcopy(doc)) == cid
    assert store.document(cid) == doc
    assert [h.summary.id for h in store.search("capital")] == [cid]  # imported text is searchable


def test_importing_an_existing_id_is_refused_unless_replacing(record, store, make_events):
    cid = record(make_events())
    doc = store.document(cid)
    with pytest.raises(StoreError, match="already exists"):
        store.import_document(doc)
    changed = copy.deepcopy(doc)
    changed["conversation"]["title"] = "renamed"
    store.import_document(changed, replace=True)
    assert store.document(cid)["conversation"]["title"] == "renamed"
    assert len(store.list_conversations()) == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "not a MassGen conversation document"),
        (lambda d: d.update(version=VERSION + 1), "not supported"),
        (lambda d: d.update(turns={}), "must be a list"),
        (lambda d: d["conversation"].pop("title"), "conversation lacks title"),
        (lambda d: d["conversation"].update(id=""), "non-empty string"),
        (lambda d: d["turns"][0].pop("question"), r"turns\[0\] lacks question"),
        (lambda d: d["turns"][0].update(answers="x"), r"turns\[0\].answers must be a list"),
        (lambda d: d["turns"][0]["answers"].append(5), r"answers\[2\] is not an object"),
        (lambda d: d["turns"].append(copy.deepcopy(d["turns"][0])), "(?i)unique"),
    ],
)
def test_invalid_documents_are_refused_without_partial_writes(record, store, make_events, mutate, message):
    cid = record(make_events())
    doc = store.document(cid)
    store.delete(cid)
    mutate(doc)
    with pytest.raises(StoreError, match=message):
        store.import_document(doc)
    assert store.list_conversations() == []


def test_a_missing_conversation_cannot_be_exported(store):
    with pytest.raises(StoreError, match="no conversation"):
        store.document("nope")
