"""Every YAML block in docs/*.md that is meant to be a config validates with the installed plugins.

A block with ``agent``/``agents`` is a whole config; a block of other
top-level keys is a fragment, validated beside one scripted agent; the block
in webhooks.md is webhooks.yaml, validated as the webhooks section. Anything
else fails the test, so a new block is either a config or says why not here.
"""

from __future__ import annotations

import os
import re
import types
from pathlib import Path

import pytest

from massgen_core.config.document import parse_yaml
from massgen_core.config.loader import parse_document, validate_document
from massgen_core.config.rules import TOP_LEVEL_KEYS
from massgen_core.config.sections import check_section_document
from massgen_core.hookspecs import hookimpl

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)
ONE_AGENT = {"agents": [{"id": "solo", "backend": {"type": "scripted", "script": [{"answer": "a"}, {"vote": "best"}]}}]}


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            found.append((page.name, text.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


@pytest.fixture(scope="module")
def manager():
    """Every installed plugin, plus the 'my-votes' plugin that docs/plugins.md's PLUGIN:NAME example names."""
    from massgen_core.plugins import PluginManager

    manager = PluginManager()
    manager.load_entrypoints()
    import massgen_voting_majority

    plugin = types.ModuleType("my_votes")
    plugin.register_voting_strategies = hookimpl(
        lambda register: register(massgen_voting_majority.MajorityStrategy)
    )
    manager.register(plugin, name="my-votes")
    return manager


def test_the_docs_have_config_blocks():
    pages = {page for page, _, _ in blocks()}
    assert {"configuration.md", "voting.md", "providers.md", "webhooks.md"} <= pages


@pytest.mark.parametrize(("page", "line", "text"), blocks(), ids=lambda v: v if isinstance(v, str) and v.endswith(".md") else None)
def test_each_config_block_in_the_docs_validates(manager, monkeypatch, page, line, text):
    monkeypatch.setenv("MASSGEN_HOOK_SECRET", "s")
    monkeypatch.setenv("HOOK_TOKEN", "t")
    where = f"docs/{page}:{line}"
    data = parse_yaml(text, where).data
    assert isinstance(data, dict), f"{where}: a YAML block that is not a mapping"
    if page == "webhooks.md":
        section = manager.config_sections.get("webhooks")
        _, problems = check_section_document(section, parse_document(text, where), manager, dict(os.environ))
    elif "agent" in data or "agents" in data:
        problems = validate_document(parse_document(text, where), manager=manager)
    else:
        unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
        assert not unknown, f"{where}: neither a config nor a fragment of one (keys {unknown})"
        import json

        problems = validate_document(parse_document(json.dumps({**ONE_AGENT, **data}), where), manager=manager)
    errors = [p.format() for p in problems if p.is_error]
    assert errors == [], "\n".join(errors)


def test_the_weighted_tie_break_example_validates_and_a_bad_tie_break_does_not(manager):
    text = next(t for page, _, t in blocks() if page == "configuration.md" and t.startswith("voting:"))
    assert "strategy: weighted" in text and "tie_break: first" in text  # the example issue 17 names
    import json

    doc = parse_document(json.dumps({**ONE_AGENT, **parse_yaml(text, "x").data}), "x")
    assert validate_document(doc, manager=manager) == []
    bad = parse_document(json.dumps({**ONE_AGENT, "voting": {"strategy": "weighted", "tie_break": "middle"}}), "x")
    assert [p.message for p in validate_document(bad, manager=manager) if p.is_error] == [
        "invalid options for voting strategy 'weighted': tie_break must be one of first, last, got 'middle'"
    ]
