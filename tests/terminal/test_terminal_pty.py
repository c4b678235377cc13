"""Nothing hostile reaches a terminal: the CLI on a real pseudo-terminal, fed the known payloads.

Scripted agents answer, reason, vote and present with window-title, clipboard,
clear-screen, hyperlink, C1 and carriage-return payloads; every display must
show them spelled out, while ``--json``/``--jsonl`` and a pipe keep the exact text.
"""

from __future__ import annotations

import json

from massgen_core.testing import FakeServer
from massgen_core.testing.openai import models_response



def test_plain_display_shows_answers_reasons_and_the_final_answer_inert(pty_cli, tmp_path, hostile):
    screen = pty_cli(["--config", str(hostile.config(tmp_path)), "-v", "a question"])
    assert screen.code == 0, screen.text
    assert hostile.controls_on(screen.text) == []
    assert "\x1b" not in screen.text  # the plain display writes no escape sequence of its own either
    assert "[alice] answered" in screen.text and "[bob] voted for alice" in screen.text
    assert "reasoning: thinking start" in screen.text
    assert f"final start {hostile.VISIBLE_TITLE}" in screen.text  # the final answer on stdout, a terminal
    assert hostile.VISIBLE_C1 in screen.text


def test_rich_live_view_shows_every_payload_inert(pty_cli, tmp_path, hostile):
    screen = pty_cli(["--config", str(hostile.config(tmp_path, display="rich_terminal")), "a question"])
    assert screen.code == 0, screen.text
    assert "╭─ alice" in screen.words  # the live view really drew its panels
    assert hostile.bytes_on(screen.text) == []
    assert hostile.VISIBLE_TITLE in screen.words and hostile.VISIBLE_C1 in screen.words
    assert "reason start" in screen.words  # the vote reason, drawn in alice's panel
    # A Markdown link in the answer shows where it goes instead of becoming a terminal hyperlink.
    assert "https://evil.example/phish" in screen.words


def test_json_on_a_terminal_keeps_the_exact_text_without_raw_controls(pty_cli, tmp_path, hostile):
    screen = pty_cli(["--config", str(hostile.config(tmp_path)), "--json", "-q", "a question"])
    assert screen.code == 0, screen.text
    assert hostile.controls_on(screen.text) == []
    line = next(x for x in screen.text.splitlines() if x.startswith("{"))
    result = json.loads(line)
    assert result["final_answer"] == f"# Final\n\nfinal {hostile.PAYLOAD}\n\n[docs](https://evil.example/phish)\n"
    assert result["answers"]["alice"] == f"answer {hostile.PAYLOAD}"
    assert result["votes"]["bob"]["reason"] == f"bob says {hostile.PAYLOAD}"


def test_jsonl_on_a_terminal_keeps_the_exact_text_without_raw_controls(pty_cli, tmp_path, hostile):
    screen = pty_cli(["--config", str(hostile.config(tmp_path)), "--jsonl", "a question"])
    assert screen.code == 0, screen.text
    assert hostile.controls_on(screen.text) == []
    events = [json.loads(x) for x in screen.text.splitlines() if x.startswith("{")]
    votes = [e for e in events if e["type"] == "vote_cast"]
    assert votes and votes[0]["reason"].endswith(hostile.PAYLOAD)
    assert events[-1]["final_answer"].startswith(f"# Final\n\nfinal {hostile.PAYLOAD}")


def test_a_pipe_gets_the_exact_final_answer(cli, tmp_path, hostile):
    proc = cli(["--config", str(hostile.config(tmp_path)), "-q", "a question"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"# Final\n\nfinal {hostile.PAYLOAD}\n\n[docs](https://evil.example/phish)\n"


def test_conversations_list_show_and_search_show_recorded_text_inert(pty_cli, cli, tmp_path, hostile):
    proc = cli(["--config", str(hostile.config(tmp_path)), "-q", f"question {hostile.PAYLOAD}"])
    assert proc.returncode == 0, proc.stderr
    listing = pty_cli(["conversations", "list"])
    assert listing.code == 0, listing.text
    assert "question start" in listing.text  # the title is the question
    shown = pty_cli(["conversations", "show", json.loads(cli(["conversations", "list", "--json"]).stdout)[0]["id"]])
    assert shown.code == 0, shown.text
    assert "Final answer:" in shown.text and "bob says start" in shown.text
    found = pty_cli(["conversations", "search", "final"])
    assert found.code == 0, found.text
    assert "\x1b[1mfinal\x1b[0m" in found.text  # the match is still shown bold on a terminal
    for screen in (listing, shown, found):
        assert hostile.bytes_on(screen.text) == [], screen.text
        assert hostile.VISIBLE_TITLE in screen.text
    assert hostile.controls_on(listing.text) == hostile.controls_on(shown.text) == []


def test_conversations_json_keeps_the_exact_text(cli, pty_cli, tmp_path, hostile):
    assert cli(["--config", str(hostile.config(tmp_path)), "-q", f"question {hostile.PAYLOAD}"]).returncode == 0
    conversation_id = json.loads(cli(["conversations", "list", "--json"]).stdout)[0]["id"]
    screen = pty_cli(["conversations", "show", conversation_id, "--json"])
    assert screen.code == 0, screen.text
    assert hostile.controls_on(screen.text) == []
    document = json.loads(cli(["conversations", "show", conversation_id, "--json"]).stdout)
    assert document["turns"][0]["question"] == f"question {hostile.PAYLOAD}"


def test_an_export_printed_to_a_terminal_is_inert_and_exact_through_a_pipe(cli, pty_cli, tmp_path, hostile):
    assert cli(["--config", str(hostile.config(tmp_path)), "-q", "a question"]).returncode == 0
    conversation_id = json.loads(cli(["conversations", "list", "--json"]).stdout)[0]["id"]
    for fmt in ("json", "markdown", "html"):
        screen = pty_cli(["export", conversation_id, "--format", fmt])
        assert screen.code == 0, screen.text
        assert hostile.controls_on(screen.text) == [], fmt
    exported = json.loads(cli(["export", conversation_id, "--format", "json"]).stdout)
    assert exported["turns"][0]["answers"][0]["text"] == f"answer {hostile.PAYLOAD}"


def test_config_key_paths_in_errors_are_inert(pty_cli, tmp_path, hostile):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"agents": [{"id": "a", "backend": {"type": "scripted"}, f"key{hostile.PAYLOAD}": 1}]}))
    for args in (["--config", str(bad), "a question"], ["config", "validate", str(bad)]):
        screen = pty_cli(args)
        assert screen.code == 1, screen.text
        assert "key" in screen.text and hostile.VISIBLE_TITLE in screen.text
        assert hostile.controls_on(screen.text) == [], args


def test_interactive_history_is_inert(pty_cli, tmp_path, hostile):
    screen = pty_cli(
        ["--config", str(hostile.config(tmp_path)), "-q", "--no-logs"],
        typed=b"first question\n/history\n/quit\n",
    )
    assert screen.code == 0, screen.text
    assert "MassGen: # Final final start" in screen.text
    assert hostile.controls_on(screen.text) == []


def test_reports_show_imported_names_inert_and_without_rich_markup(cli, pty_cli, tmp_path, hostile):
    assert cli(["--config", str(hostile.config(tmp_path)), "-q", "a question"]).returncode == 0
    conversation_id = json.loads(cli(["conversations", "list", "--json"]).stdout)[0]["id"]
    exported = cli(["export", conversation_id, "--format", "json"]).stdout
    # An imported document names its agents as it likes: a control payload, and rich markup for a link.
    evil = "[link=https://evil.example/]alice[/link]" + hostile.VISIBLE_TITLE.replace("\\x1b", "\x1b").replace("\\x07", "\x07")
    doctored = tmp_path / "doctored.json"
    doctored.write_text(exported.replace('"alice"', json.dumps(evil)), encoding="utf-8")
    assert cli(["conversations", "import", str(doctored), "--replace"]).returncode == 0
    for args in (["stats"], ["usage", "--by", "agent"]):
        screen = pty_cli(args)
        assert screen.code == 0, screen.text
        assert hostile.bytes_on(screen.text) == [], args
        assert "[link=http" in screen.words  # shown as written (truncated to the column), not turned into a link


def test_backends_check_shows_what_a_server_sent_inert(pty_cli, hostile):
    # A server names its models (and writes its error messages) as it likes.
    with FakeServer() as server:
        server.add("GET", "/v1/models", models_response(["m1", f"[link=https://evil.example/]m2[/link]{hostile.PAYLOAD}"]))
        args = ["backends", "check", "--backend", "chatcompletion", "--model", "m1", "--base-url", server.url + "/v1"]
        screen = pty_cli(args)
    assert screen.code == 0, screen.text
    assert hostile.bytes_on(screen.text) == []
    assert "[link=https://evil.example/]m2[/link]start" in screen.words


def test_usage_errors_spell_out_what_the_user_typed(pty_cli, hostile):
    """Click's usage errors quote the bad option or value: a pasted payload must not act on the terminal."""
    for args in ([f"--no-such{hostile.PAYLOAD}", "q"], ["conversations", "list", "--limit", f"x{hostile.PAYLOAD}"],
                 ["export", "--format", f"nope{hostile.PAYLOAD}", "c1"]):
        screen = pty_cli(args)
        assert screen.code == 1, screen.text
        assert "massgen: error:" in screen.text and hostile.VISIBLE_TITLE in screen.text, args
        assert hostile.controls_on(screen.text) == [], args
