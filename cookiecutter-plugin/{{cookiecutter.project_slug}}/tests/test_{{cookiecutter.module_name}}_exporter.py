"""The {{ cookiecutter.registered_name|tojson }} exporter, through MassGen's plugin manager."""

from __future__ import annotations

import csv
import io

from massgen_core.plugins import PluginManager

import {{ cookiecutter.module_name }}

NAME = {{ cookiecutter.registered_name|tojson }}
DOCUMENT = {
    "id": "c1",
    "turns": [
        {
            "turn": 1,
            "question": "Capital of France?",
            "votes": [
                {
                    "voter": "alice",
                    "target": "bob",
                    "target_label": "agent2",
                    "reason": "complete, clear",
                },
                {"voter": "bob", "target": "bob", "reason": 'says "Paris"'},
            ],
        },
        {
            "turn": 2,
            "question": "And of Spain?",
            "votes": [{"voter": "alice", "target": "alice", "reason": "ok"}],
        },
    ],
}


def exporter():
    pm = PluginManager()
    pm.register({{ cookiecutter.module_name }}, name={{ cookiecutter.project_slug|tojson }})
    return pm.exporters.get(NAME)()


def test_the_plugin_registers_a_csv_format_under_its_name() -> None:
    e = exporter()
    assert (e.name, e.extension, e.media_type) == (NAME, "csv", "text/csv")
    assert not e.can_load


def test_every_vote_becomes_one_row_with_its_turn() -> None:
    rows = list(csv.DictReader(io.StringIO(exporter().export(DOCUMENT))))
    assert [(r["turn"], r["voter"], r["target"]) for r in rows] == [
        ("1", "alice", "bob"),
        ("1", "bob", "bob"),
        ("2", "alice", "alice"),
    ]


def test_commas_and_quotes_in_reasons_survive_a_round_trip() -> None:
    rows = list(csv.DictReader(io.StringIO(exporter().export(DOCUMENT))))
    assert rows[0]["reason"] == "complete, clear"
    assert rows[1]["reason"] == 'says "Paris"'


def test_a_conversation_without_votes_exports_only_the_header() -> None:
    assert (
        exporter().export({"turns": [{"turn": 1, "question": "hi"}]})
        == "turn,voter,target,reason\n"
    )
