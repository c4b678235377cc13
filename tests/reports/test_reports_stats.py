"""``massgen stats``: turns and how they ended, per-agent figures, durations, costs, windows, tables."""

from __future__ import annotations

import pytest

from massgen_core.store import Store
from massgen_core.store.document import FORMAT, VERSION
from massgen_core.store.reports import ENDINGS


def test_stats_counts_conversations_turns_and_how_finished_turns_ended(three_turns, massgen_json):
    report = massgen_json("stats")
    assert (report["conversations"], report["turns"], report["finished"], report["unfinished"]) == (2, 3, 2, 1)
    assert report["ended_by"] == {**dict.fromkeys(ENDINGS, 0), "consensus": 1, "timeout": 1}


def test_stats_per_agent_counts_turns_wins_answers_and_standing_votes(three_turns, massgen_json):
    agents = massgen_json("stats")["agents"]
    # alice's early vote for herself was cleared by bob's answer and carol's discarded vote never counted.
    assert [(a["agent_id"], a["turns"], a["wins"], a["answers"], a["votes_cast"], a["votes_received"]) for a in agents] == [
        ("alice", 3, 1, 3, 2, 2),
        ("bob", 3, 1, 1, 2, 3),
        ("carol", 1, 0, 0, 1, 0),
    ]
    assert [a["win_rate"] for a in agents] == pytest.approx([1 / 3, 1 / 3, 0.0])


def test_stats_turn_duration_over_finished_turns_and_cost_over_all_turns(three_turns, massgen_json):
    report = massgen_json("stats")
    assert report["turn_duration_s"] == {"mean": 15.0, "median": 15.0}
    cost = report["turn_cost_usd"]
    assert (cost["mean"], cost["median"], cost["total"]) == pytest.approx((0.012, 0.005, 0.036))


def test_stats_tells_how_often_the_winner_answered_first(three_turns, massgen_json):
    # 1 Nov: alice answered first, bob won; 2 Nov: alice answered first and won; 3 Nov: no winner.
    assert massgen_json("stats")["winner_first"] == {"turns": 2, "count": 1, "rate": 0.5}


def test_stats_date_window_keeps_turns_that_started_inside_it(three_turns, massgen_json):
    report = massgen_json("stats", "--since", "2026-11-02", "--until", "2026-11-04T00:00Z")
    assert (report["conversations"], report["turns"], report["finished"], report["unfinished"]) == (1, 2, 1, 1)
    assert [(a["agent_id"], a["turns"], a["wins"], a["answers"], a["votes_cast"], a["votes_received"]) for a in report["agents"]] == [
        ("alice", 2, 1, 2, 1, 2),
        ("bob", 2, 0, 0, 1, 0),
    ]
    assert report["winner_first"] == {"turns": 1, "count": 1, "rate": 1.0}
    assert report["since"] == 1793577600.0


def test_stats_table_shows_overview_endings_and_agents(three_turns, massgen):
    out = massgen("stats").stdout
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]] for line in out.splitlines() if line.startswith("│")}
    assert rows["conversations"] == ["2"] and rows["unfinished"] == ["1"]
    assert rows["turn duration (mean / median)"] == ["15.00s / 15.00s"]
    assert rows["winner answered first"] == ["1 of 2 (50%)"]
    assert rows["consensus"] == ["1", "50%"] and "budget" not in rows  # endings that never happened are left out
    assert rows["alice"] == ["3", "1", "33%", "3", "2", "2"]


def test_stats_of_only_unfinished_turns_shows_no_endings_table(three_turns, massgen):
    out = massgen("stats", "--since", "2026-11-03").stdout
    assert "How turns ended" not in out and "0 of 0 (-)" in out and "unfinished" in out


def test_stats_on_an_empty_store_says_so_and_exits_zero(massgen, massgen_json):
    proc = massgen("stats")
    assert (proc.returncode, proc.stdout.strip()) == (0, "No conversations recorded yet.")
    report = massgen_json("stats")
    assert (report["turns"], report["agents"], report["winner_first"]["rate"]) == (0, [], None)
    assert report["turn_duration_s"] == {"mean": None, "median": None}


def test_stats_outside_any_recorded_turn_says_so(three_turns, massgen):
    assert massgen("stats", "--until", "2026-11-01").stdout.strip() == "No conversations recorded in that period."


def test_an_imported_turn_without_duration_or_request_times_still_counts(massgen, massgen_json):
    """Older or hand-made documents may lack a duration and request timestamps."""
    started = 1793527200.0
    turn = {
        "turn": 1, "session_id": "imp", "question": "Imported?", "agent_ids": ["zed"], "strategy": None,
        "started_at": started, "finished_at": started + 5, "ended_by": "single_agent", "error": None,
        "final_answer": "Yes.", "winner": "zed", "tally": {}, "reasons": {}, "explanation": "", "usage": {},
        "cost_usd": 0.5, "duration_s": None, "answers": [], "votes": [],
        "requests": [{"agent_id": "zed", "backend": "local", "model": None, "input_tokens": 7, "output_tokens": 3,
                      "cached_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.5, "latency_s": None, "ttft_s": 0.05,
                      "retries": 0, "status": "ok", "ts": None}],
        "events": [],
    }  # fmt: skip
    doc = {"format": FORMAT, "version": VERSION, "turns": [turn], "conversation": {
        "id": "f" * 32, "title": "Imported?", "config": None, "started_at": started, "finished_at": started + 5,
        "ended_by": "single_agent", "cost_usd": 0.5}}  # fmt: skip
    with Store() as store:
        store.import_document(doc)
    stats = massgen_json("stats")
    assert stats["ended_by"]["single_agent"] == 1 and stats["turn_duration_s"] == {"mean": None, "median": None}
    assert stats["winner_first"] == {"turns": 0, "count": 0, "rate": None}  # no answer recorded to be first
    usage = massgen_json("usage", "--by", "day", "--since", "2026-11-01")  # counted at its turn's start
    assert [(g["key"], g["requests"], g["median_latency_s"], g["median_ttft_s"]) for g in usage["groups"]] == [
        ("2026-11-01", 1, None, 0.05)
    ]
    assert "│ -     " in massgen("usage").stdout  # a request without a model is grouped under "-"
