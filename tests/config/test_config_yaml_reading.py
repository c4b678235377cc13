"""The YAML/JSON reader: YAML 1.2 scalars, tags, merge keys, nesting limits, JSON duplicates."""

from __future__ import annotations

import math

import pytest

from massgen_core.config.document import DocumentError, parse_json, parse_text, parse_yaml


def test_yaml_1_2_core_scalars():
    data = parse_yaml(
        "a: 0x1F\nb: 0o17\nc: .nan\nd: -.inf\ne: .Inf\nf: ~\ng: on\nh: 1e3\ni: 012\n", "f"
    ).data
    assert (
        data["a"],
        data["b"],
        data["d"],
        data["e"],
        data["f"],
        data["g"],
        data["h"],
        data["i"],
    ) == (31, 15, -math.inf, math.inf, None, "on", 1000.0, 12)
    assert math.isnan(data["c"])


def test_positions_are_one_based_for_keys_and_values():
    doc = parse_yaml("top:\n  key: value\n", "f")
    assert doc.where(("top", "key"), at_key=True) == (2, 3)
    assert doc.where(("top", "key")) == (2, 8)
    assert doc.where(("top", "missing", "deeper")) == (2, 3)


def test_tags_on_collections_are_reported():
    doc = parse_yaml("a: !set {x: 1}\nb: !pairs [1]\n", "f")
    assert [message for _, message, _ in doc.issues] == [
        "unsupported tag '!set'",
        "unsupported tag '!pairs'",
    ]


def test_explicit_core_tags_are_honoured_and_bad_ones_reported():
    doc = parse_yaml("a: !!str 12\nb: !!int nope\n", "f")
    assert doc.data["a"] == "12"
    assert doc.issues[0][1] == "cannot read 'nope' as !!int"
    doc = parse_yaml(
        'i: !!int "0x10"\nj: !!int "7"\nb: !!bool "TRUE"\nn: !!null ""\nf: !!float "-.inf"\n'
        'g: !!float "2.5"\nh: !!float "nan"\nq: "true"\nm: !!merge "<<"\n',
        "f",
    )
    assert {k: v for k, v in doc.data.items() if k not in ("h",)} == {
        "i": 16, "j": 7, "b": True, "n": None, "f": -math.inf, "g": 2.5, "q": "true", "m": "<<",
    }
    assert doc.issues == [(("h",), "cannot read 'nan' as !!float", False)]  # .nan, not nan


def test_plain_scalars_follow_the_yaml_1_2_core_schema():
    text = "a: true\nb: False\nc: NULL\nd: ''\ne:\nf: -12\ng: +3.5\nh: .5\ni: 1_000\nj: yes\nk: tru\nl: nul\n"
    assert parse_yaml(text, "f").data == {
        "a": True, "b": False, "c": None, "d": "", "e": None, "f": -12, "g": 3.5, "h": 0.5,
        "i": "1_000", "j": "yes", "k": "tru", "l": "nul",
    }


def test_positions_are_found_on_first_use_and_shared_by_copies():
    doc = parse_yaml("top:\n  key: value\n", "f")
    assert doc.key_pos == {} and doc._locate is not None  # nothing recorded until asked
    twin = doc.copy()
    assert twin.where(("top", "key"), at_key=True) == (2, 3)
    assert doc._locate is None and doc.key_pos[("top", "key")] == (2, 3)  # found once, for both
    assert doc.copy().where(("top",)) == (2, 3)


def test_a_duplicate_key_is_reported_with_the_line_of_the_first():
    doc = parse_yaml("a: 1\nb: 2\na: 3\n", "f")
    assert doc.data == {"a": 3, "b": 2}
    assert doc.issues == [(("a",), "duplicate key 'a' (first given on line 1)", True)]
    assert doc.where(("a",), at_key=True) == (3, 1)


def test_complex_keys_are_reported():
    doc = parse_yaml("? [a, b]\n: 1\nc: 2\n", "f")
    assert doc.data == {"c": 2}
    assert "a key must be a plain value" in doc.issues[0][1]


def test_merge_keys_merge_lists_of_mappings_and_reject_scalars():
    doc = parse_yaml(
        "a: &a {x: 1, ? [k] : v}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  x: 0\nd:\n  <<: 5\n", "f"
    )
    assert doc.data["c"] == {"x": 0, "y": 2}
    assert any("'<<' merges mappings only (line 7)" in message for _, message, _ in doc.issues)


def test_merged_keys_have_positions_and_a_quoted_merge_key_is_a_plain_key():
    doc = parse_yaml('base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\nd: {"<<": 3}\n', "f")
    assert doc.data["c"] == {"y": 2, "x": 1} and doc.data["d"] == {"<<": 3}
    assert doc.where(("c", "x"), at_key=True) == (1, 11)  # where the merged key is written


def test_a_document_nested_deeper_than_the_reader_allows_is_an_error():
    with pytest.raises(DocumentError, match="nested too deeply|nesting depth"):
        parse_yaml("[" * 900 + "]" * 900, "f")


def test_json_duplicate_keys_are_reported():
    doc = parse_json('{"a": 1, "a": 2}', "f.json")
    assert doc.data == {"a": 2}
    assert doc.issues == [((), "duplicate key 'a'", False)]


def test_json_nested_too_deeply_is_an_error():
    with pytest.raises(DocumentError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000, "f.json")


def test_json_special_numbers_are_read():
    data = parse_text('{"a": NaN, "b": -Infinity, "c": Infinity}', "f.json").data
    assert math.isnan(data["a"]) and data["b"] == -math.inf and data["c"] == math.inf


def test_json_positions_degrade_to_the_start_when_yaml_cannot_read_the_text():
    doc = parse_json('{"a":\t1}', "f.json")
    assert doc.where(("a",)) in ((1, 1), (1, 7))
