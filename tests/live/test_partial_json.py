"""The partial JSON reader: any JSON text split anywhere yields a prefix of the decoded field."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from massgen_core.partial_json import StringFieldReader, string_field_prefix

# Any text, including lone surrogates (json.dumps writes them as \\udXXX escapes) and astral characters.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def _objects() -> st.SearchStrategy[tuple[str, str]]:
    """A JSON object text with a string ``content`` somewhere among other fields, and that string."""
    return st.tuples(
        st.dictionaries(TEXT.filter(lambda k: k != "content"), JSON_VALUES, max_size=3),
        TEXT,
        st.dictionaries(TEXT.filter(lambda k: k != "content"), JSON_VALUES, max_size=3),
        st.booleans(),
        st.booleans(),
    ).map(_render)


def _render(parts: tuple[dict, str, dict, bool, bool]) -> tuple[str, str]:
    before, content, after, ascii_only, spaced = parts
    obj = {**before, "content": content, **after}
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(obj, ensure_ascii=ascii_only, separators=separators), content


def _feed_all(text: str, cuts: list[int]) -> tuple[list[str], StringFieldReader]:
    reader = StringFieldReader("content")
    seen, start = [], 0
    for cut in sorted(set(cuts)) + [len(text)]:
        reader.feed(text[start:cut])
        start = cut
        seen.append(reader.text)
    return seen, reader


@settings(max_examples=400, deadline=None)
@given(_objects(), st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_any_split_gives_growing_prefixes_then_the_whole_value(obj: tuple[str, str], cuts: list[int]) -> None:
    text, content = obj
    cuts = [c % (len(text) + 1) for c in cuts]
    seen, reader = _feed_all(text, cuts)
    for before, after in zip(seen, seen[1:]):
        assert after.startswith(before)
    for partial in seen:
        assert content.startswith(partial)
    assert reader.text == content == json.loads(text)["content"]
    assert reader.done


@settings(max_examples=300, deadline=None)
@given(_objects(), st.integers(min_value=0, max_value=10_000))
def test_every_prefix_of_the_text_decodes_to_a_prefix(obj: tuple[str, str], cut: int) -> None:
    text, content = obj
    assert content.startswith(string_field_prefix(text[: cut % (len(text) + 1)]))


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_one_character_at_a_time(content: str) -> None:
    text = json.dumps({"action": "new_answer", "content": content})
    reader = StringFieldReader()
    pieces = [reader.feed(c) for c in text]
    assert "".join(pieces) == content


def test_a_surrogate_pair_split_inside_its_escapes_is_held_until_joined() -> None:
    text = json.dumps({"content": "ok \U0001F600!"})  # ascii: "ok \\ud83d\\ude00!"
    split = text.index("\\ude00") + 3  # inside the low surrogate's escape
    reader = StringFieldReader()
    assert reader.feed(text[: text.index("\\ud83d") + 4]) == "ok "
    assert reader.feed(text[text.index("\\ud83d") + 4 : split]) == ""  # the high half is waiting for its partner
    assert reader.feed(text[split:]) == "\U0001F600!"


def test_a_lone_high_surrogate_is_given_as_json_gives_it() -> None:
    text = '{"content": "a\\ud83dZ"}'
    assert string_field_prefix(text) == json.loads(text)["content"] == "a\ud83dZ"
    assert string_field_prefix('{"content": "a\\ud83d\\u0041"}') == "a\ud83dA"


def test_prose_and_fences_before_the_object_are_skipped() -> None:
    assert string_field_prefix('Sure:\n```json\n{"action": "new_answer", "content": "Par') == "Par"


def test_nested_values_and_other_strings_are_skipped() -> None:
    text = '{"meta": {"content": "no", "x": ["}", "\\""]}, "n": -1.5e3, "ok": true, "content": "yes"}'
    assert string_field_prefix(text) == "yes"


def test_only_a_top_level_field_counts_and_a_missing_one_reads_nothing() -> None:
    reader = StringFieldReader()
    assert reader.feed('{"agent_id": "agent1", "reason": "content"}') == ""
    assert reader.done and not reader.started


def test_a_non_string_field_or_text_that_is_not_json_stops_reading() -> None:
    for text in ('{"content": 5, "x": "y"}', '{"content" 5}', '{5: "x"}', "[1, 2]"):
        reader = StringFieldReader()
        assert reader.feed(text) == ""
    reader = StringFieldReader()
    assert reader.feed('{"content": "ab\\q cd"}') == "ab"
    assert reader.done
    assert reader.feed('more') == ""
    assert string_field_prefix('{"content": "x\\u12G4"}') == "x"


def test_an_escape_split_after_its_backslash_or_in_its_digits() -> None:
    reader = StringFieldReader()
    assert reader.feed('{"content": "a\\') == "a"
    assert reader.feed('n') == "\n"
    assert reader.feed('\\u00') == ""
    assert reader.feed('e9 and \\"q\\"') == 'é and "q"'
    assert reader.feed('"}') == ""
    assert reader.done


def test_escapes_in_skipped_strings_split_across_fragments() -> None:
    reader = StringFieldReader()
    assert reader.feed('{"reason": "say \\') == ""
    assert reader.feed('" still reason", "content": "answer"}') == "answer"


def test_an_object_without_the_field_ends_where_the_object_ends() -> None:
    for text in ("{}", '{"n": 1}', '{"a": "b"}', '{"a": [1, {"b": 2}]}', '{"a": "b" x'):
        reader = StringFieldReader()
        assert reader.feed(text) == "" and reader.done
    reader = StringFieldReader()
    reader.feed('{"a": "b"   ')
    assert not reader.done  # whitespace: the object may go on


def test_a_high_surrogate_followed_by_what_cannot_be_its_partner_is_given_at_once() -> None:
    for tail, expected in (("\\u0", "x\ud83d"), ("\\uc", "x\ud83d"), ("\\udb", "x\ud83d"), ("\\n", "x\ud83d\n")):
        assert string_field_prefix('{"content": "x\\ud83d' + tail) == expected
    assert string_field_prefix('{"content": "x\\ud83d\\udc') == "x"  # still possibly a pair: held
