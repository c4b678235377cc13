"""Reading files: YAML and JSON syntax errors, positions, duplicates, tags, aliases, legacy display."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from massgen_core.config import ConfigError, load_config, load_config_with_warnings, validate_files


def test_yaml_syntax_error_is_located(write, manager):
    path = write("agents:\n  - id: a\n    backend: {type: openai\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, manager=manager)
    problem = info.value.problems[0]
    assert problem.file == str(path)
    assert problem.line == 4
    assert problem.message.startswith("invalid YAML")


def test_json_config_loads(write, manager):
    path = write(
        json.dumps({"agent": {"backend": {"type": "openai", "model": "gpt-4o"}}}), "c.json"
    )
    assert load_config(path, manager=manager).agents[0].backend.model == "gpt-4o"


def test_json_syntax_error_has_line_and_column(write, manager):
    path = write('{\n  "agent": {\n    "backend": {"type": "openai",}\n  }\n}\n', "bad.json")
    with pytest.raises(ConfigError) as info:
        load_config(path, manager=manager)
    problem = info.value.problems[0]
    assert (problem.line, problem.col) == (3, 34)
    assert problem.message.startswith("invalid JSON")


def test_json_problems_are_located_too(write, manager):
    path = write(
        '{\n  "agent": {\n    "backend": {"type": "openai", "model": "gpt-4o", "temprature": 1}\n  }\n}\n',
        "c.json",
    )
    [problem] = validate_files([path], manager=manager)
    assert (problem.line, problem.col, problem.suggestion) == (3, 54, "temperature")


def test_duplicate_keys_are_errors(problems):
    found = problems(
        "agent:\n  backend: {type: openai, model: gpt-4o}\n  backend: {type: claude, model: c}\n"
    )
    assert found[0].key_path == "agent.backend"
    assert found[0].line == 3
    assert "duplicate key 'backend' (first given on line 2)" in found[0].message


def test_unsupported_tags_are_errors(problems):
    found = problems(
        "agent:\n  system_message: !secret x\n  backend: {type: openai, model: gpt-4o}\n"
    )
    assert "cannot read 'x' as !secret" in found[0].message


def test_a_recursive_alias_is_an_error_not_a_hang(problems):
    found = problems("agent: &a\n  backend: *a\n")
    assert "recursive alias" in found[0].message


def test_alias_bombs_are_stopped(problems):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    found = problems("\n".join(lines) + "\n")
    assert "too large" in found[0].message


def test_a_list_document_is_an_error(problems):
    assert "document is a list" in problems("- 1\n- 2\n")[0].message


def test_legacy_display_block_maps_onto_ui_with_a_warning(write, manager):
    path = write(
        "agent: {backend: {type: gemini, model: gemini-2.5-flash}}\ndisplay:\n  type: simple\n  show_agent_details: true\n  show_token_usage: true\n"
    )
    config, warnings = load_config_with_warnings(path, manager=manager)
    assert config.ui.display_type == "simple"
    assert [(w.severity, w.key_path, w.line, w.col) for w in warnings] == [
        ("warning", "display", 2, 1)
    ]
    assert "write 'ui: {display_type: simple}' instead" in warnings[0].message


def test_legacy_display_does_not_override_an_explicit_ui(load):
    config = load(
        "agent: {backend: {type: openai, model: gpt-4o}}\nui: {display_type: terminal}\ndisplay: {type: simple}\n"
    )
    assert config.ui.display_type == "terminal"


def test_legacy_display_with_unknown_keys_is_an_error(problems):
    found = problems(
        "agent: {backend: {type: openai, model: gpt-4o}}\ndisplay: {type: simple, colour: red}\n"
    )
    assert [(p.severity, p.key_path) for p in found] == [
        ("warning", "display"),
        ("error", "display.colour"),
    ]


def test_a_bad_legacy_display_type_points_at_the_display_block(problems):
    found = problems("agent: {backend: {type: openai, model: gpt-4o}}\ndisplay:\n  type: fancy\n")
    errors = [p for p in found if p.is_error]
    assert (errors[0].key_path, errors[0].line, errors[0].col) == ("ui.display_type", 3, 9)


def test_a_missing_file_names_the_bundled_configs(tmp_path, manager):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml", manager=manager)
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'nope.yaml'}: no such file")
    assert "bundled:" in text


def test_non_utf8_file_is_a_config_error(write, manager, tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"agent: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, manager=manager)


def test_an_unreadable_file_is_a_problem_with_the_whole_file(write, manager, monkeypatch):
    path = Path(write("agent: {backend: {type: openai, model: gpt-4o}}\n", "team.yaml"))
    real = Path.read_text

    def refuse(self, *args, **kwargs):  # the suite runs as root, which chmod 000 does not stop
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse)
    (problem,) = validate_files([path], manager=manager)
    assert (problem.file, problem.line, problem.col, problem.key_path) == (str(path), 0, 0, "")
    assert problem.message == "cannot read: Permission denied" and problem.is_error


def test_validate_files_collects_problems_of_every_file(write, manager, tmp_path):
    good = write("agent: {backend: {type: openai, model: gpt-4o}}\n", "good.yaml")
    bad = write("agent: {backend: {type: openai, model: gpt-4o, temprature: 1}}\n", "bad.yaml")
    found = validate_files([good, bad, tmp_path / "missing.yaml"], manager=manager)
    assert [p.file for p in found] == [str(bad), str(tmp_path / "missing.yaml")]
