"""A 5000-digit integer in a config is a located one-line error (exit 1), in YAML and in JSON."""

from __future__ import annotations

import json

import pytest

from massgen_core.config.document import DocumentError, parse_json, parse_yaml

HUGE = "9" * 5000


def _yaml(tmp_path, value: str = HUGE):
    path = tmp_path / "big.yaml"
    path.write_text(f"agents:\n  - id: a\n    backend:\n      type: scripted\n      max_tokens: {value}\n", encoding="utf-8")
    return path


def _json(tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"agents": [{"id": "a",\n  "backend": {"type": "scripted", "max_tokens": ' + HUGE + "}}]}", encoding="utf-8")
    return path


@pytest.mark.parametrize("make", [_yaml, _json], ids=["yaml", "json"])
@pytest.mark.parametrize("command", [("config", "validate"), ("--no-display", "--config")], ids=["validate", "run"])
def test_a_huge_integer_is_a_located_usage_error(massgen, tmp_path, make, command):
    path = make(tmp_path)
    args = (*command, str(path), "hi") if "--config" in command else (*command, str(path))
    proc = massgen(*args)
    assert proc.returncode == 1, proc.stderr
    assert "internal error" not in proc.stderr
    [line] = [line for line in (proc.stdout + proc.stderr).splitlines() if "too long" in line]
    where = "5:19" if make is _yaml else "2:49"
    assert f"{path}:{where}: an integer of 5000 digits is too long (at most 4300)" in line
    assert len(line) < 300  # the number itself is not echoed back


def test_an_explicitly_tagged_integer_is_refused_the_same_way():
    with pytest.raises(DocumentError) as info:
        parse_yaml("a: 1\nb: !!int " + HUGE + "\n", "c.yaml")
    assert (info.value.line, info.value.col) == (2, 4)
    assert info.value.message == "an integer of 5000 digits is too long (at most 4300)"


def test_a_negative_huge_integer_counts_its_digits_only():
    with pytest.raises(DocumentError) as info:
        parse_yaml("a: -" + HUGE + "\n", "c.yaml")
    assert info.value.message.startswith("an integer of 5000 digits")


def test_json_the_yaml_reader_cannot_locate_still_gets_the_error():
    # libyaml refuses keys longer than 1024 characters, which JSON allows: no position, same message.
    text = json.dumps({"k" * 1100: 1})[:-2] + HUGE + "}"
    with pytest.raises(DocumentError) as info:
        parse_json(text, "c.json")
    assert (info.value.line, info.value.col) == (1, 1)
    assert info.value.message == "an integer is too long (at most 4300 digits)"


def test_hex_and_octal_integers_have_no_digit_limit():
    assert parse_yaml("a: 0x" + "f" * 5000 + "\n", "c.yaml").data["a"] == int("f" * 5000, 16)
