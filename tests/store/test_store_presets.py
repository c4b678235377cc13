"""Presets and templates: where they live, how names resolve, how templates fill in."""

from __future__ import annotations

import pytest

from massgen_core import paths, presets
from massgen_core.errors import UnknownNameError
from massgen_core.presets import PresetError


def test_built_in_presets_resolve_to_bundled_yaml_configs():
    from ruamel.yaml import YAML

    for name in ("three-providers", "research-team", "local-models", "offline-demo"):
        data = YAML(typ="safe").load(presets.resolve_preset(name).read_text(encoding="utf-8"))
        assert data["agents"], name
    local = YAML(typ="safe").load(presets.resolve_preset("local-models").read_text(encoding="utf-8"))
    assert {a["backend"]["type"] for a in local["agents"]} == {"ollama"}
    research = YAML(typ="safe").load(presets.resolve_preset("research-team").read_text(encoding="utf-8"))
    assert {a["role"] for a in research["agents"]} <= set(research["roles"])


def test_a_users_preset_shadows_a_built_in_one_of_the_same_name(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("agent:\n  backend: {type: scripted}\n", encoding="utf-8")
    saved = presets.save_preset("offline-demo", config)
    assert saved == paths.config_dir() / "presets" / "offline-demo.yaml"
    assert presets.resolve_preset("offline-demo") == saved
    entry = presets.find("preset", "offline-demo")
    assert not entry.builtin and entry.description == ""


def test_an_unknown_preset_suggests_the_closest_name():
    with pytest.raises(UnknownNameError, match="did you mean 'offline-demo'"):
        presets.resolve_preset("offline-dem")


@pytest.mark.parametrize("name", ["../escape", "", "a b", "-dash", "x" * 65])
def test_unsafe_names_are_refused(name, tmp_path):
    with pytest.raises(PresetError, match="invalid preset name"):
        presets.resolve_preset(name)


def test_save_preset_reports_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(PresetError, match="cannot read"):
        presets.save_preset("x", tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents: [unclosed\n", encoding="utf-8")
    with pytest.raises(PresetError, match="not valid YAML"):
        presets.save_preset("x", bad)


def test_show_preset_masks_literal_keys_and_url_credentials_but_keeps_environment_references(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        "# keep me\nagents:\n  - id: a\n    backend:\n      model: gpt-4o\n      api_key: sk-123\n      base_url: http://x\n"
        "  - id: b\n    backend:\n      model: gpt-4o\n      api_key: ${OPENAI_API_KEY}\n"
        "  - id: c\n    backend:\n      model: gpt-4o\n      base_url: http://u:pw-preset-9@gw:8080/v1?key=q-preset-8\n",
        encoding="utf-8",
    )
    presets.save_preset("keys", config)
    shown = presets.show_preset("keys")
    assert "# keep me" in shown and "sk-123" not in shown and "api_key: '***'" in shown
    assert "${OPENAI_API_KEY}" in shown and "base_url: http://x" in shown
    assert "pw-preset-9" not in shown and "q-preset-8" not in shown and "base_url: http://***@gw:8080/v1?key=***" in shown


def test_render_template_fills_in_the_variables():
    presets.save_template("t", "Compare {a} with {b}; {{literal}} braces stay.")
    assert presets.render_template("t", {"a": "tea", "b": "{coffee}"}) == "Compare tea with {coffee}; {literal} braces stay."


def test_render_template_names_missing_and_unknown_parameters():
    presets.save_template("t", "Explain {topic} to {audience}")
    with pytest.raises(PresetError, match="needs audience: add -p audience VALUE"):
        presets.render_template("t", {"topic": "x"})
    with pytest.raises(PresetError, match="has no variable colour; its variables are: topic, audience"):
        presets.render_template("t", {"topic": "x", "audience": "y", "colour": "z"})


def test_built_in_templates_render():
    assert presets.render_template("explain", {"topic": "WAL", "audience": "a child"}).startswith("Explain WAL to a child.")


@pytest.mark.parametrize(("text", "message"), [("Hi {", "malformed"), ("Hi {0}", "plain name"), ("Hi {x!r}", "plain name"), ("{a.b}", "plain name")])
def test_malformed_templates_are_refused(text, message):
    with pytest.raises(PresetError, match=message):
        presets.save_template("bad", text)


def test_an_unreadable_template_file_is_reported_and_listed_as_such():
    folder = paths.ensure_dir(paths.config_dir() / "templates")
    (folder / "broken.yaml").write_text("- not a mapping\n", encoding="utf-8")
    (folder / "garbled.yaml").write_text("text: [unclosed\n", encoding="utf-8")
    listed = {e.name: e.description for e in presets.entries("template")}
    assert listed["broken"].startswith("(unreadable:") and listed["garbled"].startswith("(unreadable:")
    with pytest.raises(PresetError, match="must be a mapping with a 'text' string"):
        presets.render_template("broken", {})


def test_deleting_removes_only_user_files():
    presets.save_template("mine", "x")
    assert presets.delete("template", "mine").name == "mine.yaml"
    with pytest.raises(PresetError, match="built-in"):
        presets.delete("template", "explain")


def test_a_preset_description_is_its_first_comment_line(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("\n# Team of one\nagent: {backend: {type: scripted}}\n", encoding="utf-8")
    presets.save_preset("one", config)
    assert presets.find("preset", "one").description == "Team of one"

