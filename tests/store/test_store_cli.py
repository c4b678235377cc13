"""The conversations, export, presets and templates commands, run as a user runs them."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def two(record_home, make_events):
    paris = record_home(make_events("s1", question="What is the capital of France?", start=1_700_000_000.0, cost=0.01))
    cafe = record_home(make_events("s2", question="Où est le café?", start=1_750_000_000.0, backend="claude",
                                   model="claude-x", winner="alice", cost=0.5, answers=(("alice", "Le café est ici."),),
                                   final="Ici, le café."))  # fmt: skip
    return {"paris": paris, "cafe": cafe}


def test_list_prints_a_table_of_conversations(massgen, two):
    out = massgen("conversations", "list").stdout
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "STARTED", "TURNS"]
    assert lines[1].startswith(two["cafe"][:8]) and "Où est le café?" in lines[1] and "$0.5000" in lines[1]
    assert lines[2].startswith(two["paris"][:8]) and "consensus" in lines[2]


def test_list_json_is_machine_readable_and_filters_apply(massgen, two):
    rows = json.loads(massgen("conversations", "list", "--json", "--backend", "claude").stdout)
    assert [r["id"] for r in rows] == [two["cafe"]]
    rows = json.loads(massgen("conversations", "list", "--json", "--until", "2024-01-01T00:00:00Z", "--winner", "bob").stdout)
    assert [r["id"] for r in rows] == [two["paris"]]
    rows = json.loads(massgen("conversations", "list", "--json", "--since", "30d").stdout)
    assert rows == []
    rows = json.loads(
        massgen("conversations", "list", "--json", "--model", "claude-x", "--agent", "alice", "--min-cost", "0.4",
                "--max-cost", "2", "--limit", "5").stdout
    )  # fmt: skip
    assert [r["id"] for r in rows] == [two["cafe"]]


def test_list_says_when_nothing_is_recorded_or_nothing_matches(massgen, record_home, make_events):
    assert massgen("conversations", "list").stdout.strip() == "No conversations recorded yet."
    record_home(make_events())
    assert massgen("conversations", "list", "--unfinished").stdout.strip() == "No conversations match."


def test_a_bad_time_is_a_usage_error(massgen, two):
    proc = massgen("conversations", "list", "--since", "yesterday-ish", check=False)
    assert proc.returncode == 1 and "is not a time" in proc.stderr


def test_search_prints_ranked_conversations_with_highlighted_snippets(massgen, two):
    out = massgen("conversations", "search", "cafe").stdout
    assert out.splitlines()[0].startswith(two["cafe"][:8])
    assert "[café]" in out
    proc = massgen("conversations", "search", '"capital of"', "--json")
    hits = json.loads(proc.stdout)
    assert [h["id"] for h in hits] == [two["paris"]] and "[capital of]" in hits[0]["snippet"]


def test_search_combines_with_filters_and_reports_no_match(massgen, two):
    assert massgen("conversations", "search", "caf*", "--backend", "openai").stdout.startswith("No conversations match")


def test_a_malformed_search_is_one_clear_error_line(massgen, two):
    proc = massgen("conversations", "search", "--fts", '"oops', check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("massgen: error: cannot understand the search") and "Traceback" not in proc.stderr


def test_show_prints_turns_answers_votes_usage_and_cost(massgen, two):
    out = massgen("conversations", "show", two["paris"][:6]).stdout
    for expected in ("What is the capital of France?", "alice, revision 1 as agent1:", "alice -> bob (agent2): alice likes bob",
                     "Winner: bob", "Final answer:", "openai/gpt-4o-mini in 10 out", "Turn cost: $0.020000"):  # fmt: skip
        assert expected in out


def test_show_json_prints_the_document(massgen, two, home_store):
    assert json.loads(massgen("conversations", "show", "--json", two["cafe"]).stdout) == home_store.document(two["cafe"])


def test_show_marks_unfinished_turns_discarded_votes_and_errors(massgen, record_home, make_events):
    from massgen_core import events as ev

    events = make_events(finish=False)
    f = ev.EventFactory("sess-1")
    events.append(f(ev.VoteDiscarded, voter="alice", target=None, reason="stale"))
    cid = record_home(events)
    out = massgen("conversations", "show", cid).stdout
    assert "unfinished" in out and "alice -> - (discarded: stale)" in out


def test_an_ambiguous_prefix_is_an_error_listing_candidates(massgen, record_home, make_events):
    a = record_home(make_events("x"), conversation_id="abc1" + "0" * 28)
    b = record_home(make_events("y"), conversation_id="abc2" + "0" * 28)
    proc = massgen("conversations", "show", "abc", check=False)
    assert proc.returncode == 1 and "ambiguous" in proc.stderr and a[:12] in proc.stderr and b[:12] in proc.stderr


def test_delete_removes_a_conversation(massgen, two):
    out = massgen("conversations", "delete", "--yes", two["paris"][:8]).stdout
    assert two["paris"] in out
    rows = json.loads(massgen("conversations", "list", "--json").stdout)
    assert [r["id"] for r in rows] == [two["cafe"]]


def test_delete_asks_first_and_keeps_it_when_refused(massgen, two):
    proc = massgen("conversations", "delete", two["paris"], input="n\n", check=False)
    assert proc.returncode != 0
    assert len(json.loads(massgen("conversations", "list", "--json").stdout)) == 2


def test_export_json_then_import_round_trips(massgen, two, tmp_path, home_store):
    target = tmp_path / "out.json"
    massgen("export", two["cafe"][:8], "--format", "json", "-o", str(target))
    original = target.read_text(encoding="utf-8")
    massgen("conversations", "delete", "-y", two["cafe"])
    assert "Imported conversation " + two["cafe"] in massgen("conversations", "import", str(target)).stdout
    assert massgen("export", two["cafe"]).stdout == original  # json is the default format, stdout the default target


def test_import_refuses_a_duplicate_unless_replacing(massgen, two, tmp_path):
    target = tmp_path / "out.json"
    target.write_text(massgen("export", two["paris"]).stdout, encoding="utf-8")
    proc = massgen("conversations", "import", str(target), check=False)
    assert proc.returncode == 1 and "already exists" in proc.stderr
    massgen("conversations", "import", "--replace", str(target))


def test_import_reads_stdin_and_rejects_foreign_files(massgen, two, tmp_path):
    doc = massgen("export", two["paris"]).stdout
    massgen("conversations", "delete", "-y", two["paris"])
    massgen("conversations", "import", "-", input=doc)
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    proc = massgen("conversations", "import", str(bad), check=False)
    assert proc.returncode == 1 and "not a MassGen conversation export" in proc.stderr
    proc = massgen("conversations", "import", str(tmp_path / "missing.json"), check=False)
    assert proc.returncode == 1 and "cannot read" in proc.stderr


def test_import_refuses_a_format_that_cannot_be_loaded(massgen, tmp_path):
    (tmp_path / "x.md").write_text("# hi", encoding="utf-8")
    proc = massgen("conversations", "import", "--format", "markdown", str(tmp_path / "x.md"), check=False)
    assert proc.returncode == 1 and "cannot be imported" in proc.stderr


def test_export_markdown_and_html_into_a_directory(massgen, two, tmp_path):
    massgen("export", two["paris"], "--format", "markdown", "-o", str(tmp_path))
    md = (tmp_path / f"massgen-{two['paris'][:8]}.md").read_text(encoding="utf-8")
    assert md.startswith("# What is the capital of France?")
    proc = massgen("export", two["paris"], "-f", "html", "-o", str(tmp_path / "page.html"))
    assert "Wrote" in proc.stderr
    assert (tmp_path / "page.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_export_of_an_unknown_format_suggests_the_right_one(massgen, two):
    proc = massgen("export", two["paris"], "--format", "htm", check=False)
    assert proc.returncode == 1 and "did you mean 'html'" in proc.stderr


def test_export_needs_an_id_and_reports_unwritable_targets(massgen, two, tmp_path):
    assert massgen("export", check=False).returncode == 1
    proc = massgen("export", two["paris"], "-o", str(tmp_path / "no" / "such" / "dir" / "x.json"), check=False)
    assert proc.returncode == 1 and "cannot write" in proc.stderr


def test_list_formats_names_the_installed_exporters(massgen):
    out = massgen("export", "--list-formats").stdout
    names = [line.split()[0] for line in out.splitlines()]
    assert {"json", "markdown", "html"} <= set(names)
    assert "importable" in next(line for line in out.splitlines() if line.startswith("json"))


def test_list_formats_says_when_no_exporter_is_installed(_isolated_home):
    import os
    import subprocess
    import sys

    env = {**os.environ, "MASSGEN_HOME": str(_isolated_home), "MASSGEN_LOAD_PLUGINS": ""}
    proc = subprocess.run([sys.executable, "-m", "massgen_core", "export", "--list-formats"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert "No export formats installed" in proc.stdout


# -- presets and templates --------------------------------------------------------


def test_presets_list_shows_the_built_in_presets(massgen):
    out = massgen("presets", "list").stdout
    names = [line.split()[0] for line in out.splitlines()]
    assert {"three-providers", "research-team", "local-models", "offline-demo"} <= set(names)
    assert all(json.loads(massgen("presets", "list", "--json").stdout)[i]["builtin"] for i in range(4))


def test_presets_save_show_and_delete(massgen, tmp_path):
    config = tmp_path / "team.yaml"
    config.write_text("# my team\nagents:\n  - id: a\n    backend: {type: openai, model: gpt-4o-mini, api_key: sk-live-999}\n", encoding="utf-8")
    assert "Saved preset team" in massgen("presets", "save", "team", "--config", str(config)).stdout
    shown = massgen("presets", "show", "team").stdout
    assert "# my team" in shown and "sk-live-999" not in shown and "api_key: '***'" in shown
    assert "team" in massgen("presets", "list").stdout
    assert "Deleted preset team" in massgen("presets", "delete", "team").stdout
    proc = massgen("presets", "show", "team", check=False)
    assert proc.returncode == 1 and "unknown preset 'team'" in proc.stderr


def test_presets_save_refuses_a_file_that_is_not_a_config(massgen, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: text\n", encoding="utf-8")
    proc = massgen("presets", "save", "bad", "--config", str(bad), check=False)
    assert proc.returncode == 1 and "needs an 'agent' or 'agents' section" in proc.stderr


def test_a_built_in_preset_cannot_be_deleted(massgen):
    proc = massgen("presets", "delete", "offline-demo", check=False)
    assert proc.returncode == 1 and "built-in" in proc.stderr


def test_templates_save_show_list_and_delete(massgen):
    massgen("templates", "save", "greet", "--text", "Say hello to {name} in {language}", "--description", "Greetings")
    shown = massgen("templates", "show", "greet").stdout
    assert "Say hello to {name} in {language}" in shown and "variables: name, language" in shown
    assert "massgen --template greet -p name VALUE -p language VALUE" in shown
    rows = {r["name"]: r for r in json.loads(massgen("templates", "list", "--json").stdout)}
    assert rows["greet"]["variables"] == ["name", "language"] and rows["greet"]["description"] == "Greetings"
    assert "greet" in massgen("templates", "list").stdout
    massgen("templates", "delete", "greet")
    assert "greet" not in massgen("templates", "list").stdout


def test_templates_save_refuses_an_existing_name_without_force(massgen):
    massgen("templates", "save", "t", "--text", "one {x}")
    proc = massgen("templates", "save", "t", "--text", "two {x}", check=False)
    assert proc.returncode == 1 and "--force" in proc.stderr
    massgen("templates", "save", "t", "--text", "two {x}", "--force")
    assert massgen("templates", "show", "t").stdout.startswith("two {x}")


def test_show_prints_sparse_and_failed_turns(massgen, home_store):
    doc = {
        "format": "massgen-conversation", "version": 1,
        "conversation": {"id": "feed" * 8, "title": "Sparse", "config": None, "started_at": 1.0, "finished_at": 2.0,
                         "ended_by": None, "cost_usd": 0.0},
        "turns": [{
            "turn": 1, "session_id": "s", "question": "Q?", "agent_ids": [], "strategy": None, "started_at": 1.0,
            "finished_at": 2.0, "ended_by": None, "error": "all agents failed", "final_answer": None, "winner": None,
            "tally": None, "reasons": None, "explanation": None, "usage": None, "cost_usd": 0.0, "duration_s": None,
            "answers": [{"agent_id": "a", "label": None, "revision": 1, "text": "draft", "ts": None}],
            "votes": [{"voter": "a", "target": "a", "target_label": None, "reason": "mine", "ranking": [], "discarded": False,
                       "discard_reason": None, "ts": None}],
            "requests": [{"agent_id": "a", "backend": "openai", "model": None, "input_tokens": 1, "output_tokens": 0,
                          "cached_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.0, "latency_s": None, "ttft_s": None,
                          "retries": 2, "status": "rate_limit", "ts": None}],
            "events": [],
        }],
    }  # fmt: skip
    home_store.import_document(doc)
    out = massgen("conversations", "show", "feed").stdout
    assert "Turn 1 (finished, strategy -, session s)" in out
    assert "a, revision 1:" in out and "a -> a: mine" in out and "Error: all agents failed" in out
    assert "a: openai/- in 1 out 0 tokens, $0.000000, 2 retries, rate_limit" in out
    assert "Final answer:" not in out and "Winner:" not in out


def test_times_without_a_zone_are_local_times():
    import datetime as dt

    from massgen_core.cli.conversations_cmd import parse_when

    assert parse_when("2026-01-02T03:04") == dt.datetime(2026, 1, 2, 3, 4).astimezone().timestamp()
    assert parse_when("2026-01-02T03:04Z") == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC).timestamp()
    assert parse_when("90m", now=10_000.0) == 10_000.0 - 5400
