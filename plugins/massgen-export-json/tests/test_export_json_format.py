"""The json exporter: the lossless document, and reading it back."""

from __future__ import annotations

import json

import pytest
from massgen_export_json import JsonExporter

from massgen_core.errors import MassGenError
from massgen_core.store.document import FORMAT, VERSION

DOC = {
    "format": FORMAT,
    "version": VERSION,
    "conversation": {"id": "c1", "title": "Ünïcode ✓", "config": None, "started_at": 1.5, "finished_at": None,
                     "ended_by": None, "cost_usd": 0.0},
    "turns": [],
}


def test_export_writes_the_document_unchanged_and_readable():
    text = JsonExporter().export(DOC)
    assert json.loads(text) == DOC
    assert "Ünïcode ✓" in text  # not \\u-escaped: readable as written
    assert text.endswith("\n")


def test_load_reads_back_what_export_wrote():
    exporter = JsonExporter()
    assert exporter.load(exporter.export(DOC)) == DOC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a JSON document"),
        ("[1, 2]", "not a MassGen conversation export"),
        ('{"format": "other"}', "not a MassGen conversation export"),
        (json.dumps({**DOC, "version": VERSION + 1}), "newer than this MassGen reads"),
        (json.dumps({**DOC, "version": "1"}), "newer than this MassGen reads"),
    ],
)
def test_load_refuses_what_is_not_a_conversation_export(text, message):
    with pytest.raises(MassGenError, match=message):
        JsonExporter().load(text)


def test_the_plugin_registers_an_importable_json_format(installed_plugins):
    cls = installed_plugins.exporters.get("json")
    assert (cls.extension, cls.media_type, cls.can_load) == ("json", "application/json", True)
    assert installed_plugins.exporters.owner("json") == "massgen-export-json"
