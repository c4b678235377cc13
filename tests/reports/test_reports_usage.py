"""``massgen usage``: grouping, totals, medians, date windows, JSON shape and tables, over recorded sessions."""

from __future__ import annotations

import pytest

from massgen_core.store import Store
from massgen_core.cli import reports_cmd
from massgen_core.store.reports import GROUPS, usage_report


def _by_key(report: dict) -> dict:
    return {g["key"]: g for g in report["groups"]}


def test_usage_groups_by_model_by_default_with_sums_and_medians(three_turns, massgen_json):
    report = massgen_json("usage")
    assert report["by"] == "model"
    assert [g["key"] for g in report["groups"]] == ["claude-x", "gpt-4o"]  # the most expensive first
    gpt, claude = _by_key(report)["gpt-4o"], _by_key(report)["claude-x"]
    assert (gpt["requests"], gpt["input_tokens"], gpt["output_tokens"], gpt["cached_tokens"], gpt["reasoning_tokens"]) == (
        3, 160, 25, 10, 5,
    )  # fmt: skip
    assert gpt["cost_usd"] == pytest.approx(0.015)
    assert gpt["median_latency_s"] == pytest.approx(1.0)  # of 1.0, 3.0, 0.5
    assert gpt["median_ttft_s"] == pytest.approx(0.15)  # of 0.2, 0.1 (the failed request had none)
    assert (gpt["retries"], gpt["failed"]) == (0, 1)
    assert (claude["requests"], claude["input_tokens"], claude["output_tokens"], claude["retries"], claude["failed"]) == (
        2, 201, 41, 1, 0,
    )  # fmt: skip
    assert claude["cost_usd"] == pytest.approx(0.021)
    assert claude["median_latency_s"] == pytest.approx(2.0) and claude["median_ttft_s"] == pytest.approx(0.4)


def test_usage_total_row_sums_every_group_and_takes_medians_over_all_requests(three_turns, massgen_json):
    total = massgen_json("usage")["total"]
    assert (total["key"], total["requests"], total["input_tokens"], total["output_tokens"]) == (None, 5, 361, 66)
    assert (total["cached_tokens"], total["reasoning_tokens"], total["retries"], total["failed"]) == (10, 5, 1, 1)
    assert total["cost_usd"] == pytest.approx(0.036)
    assert total["median_latency_s"] == pytest.approx(1.5)  # of 1.0, 2.0, 3.0, 0.5
    assert total["median_ttft_s"] == pytest.approx(0.2)  # of 0.2, 0.4, 0.1


def test_usage_by_day_uses_local_calendar_days_in_order(three_turns, massgen_json):
    report = massgen_json("usage", "--by", "day")
    assert [(g["key"], g["requests"]) for g in report["groups"]] == [("2026-11-01", 3), ("2026-11-02", 1), ("2026-11-03", 1)]


def test_usage_by_backend(three_turns, massgen_json):
    groups = _by_key(massgen_json("usage", "--by", "backend"))
    assert {k: (g["requests"], g["failed"]) for k, g in groups.items()} == {"openai": (3, 1), "claude": (2, 0)}


def test_usage_by_agent_orders_by_cost(three_turns, massgen_json):
    report = massgen_json("usage", "--by", "agent")
    assert [(g["key"], g["requests"]) for g in report["groups"]] == [("bob", 1), ("alice", 3), ("carol", 1)]
    assert _by_key(report)["alice"]["cost_usd"] == pytest.approx(0.016)


def test_usage_by_conversation_counts_every_turn_and_carries_the_title(three_turns, massgen_json):
    groups = _by_key(massgen_json("usage", "--by", "conversation"))
    assert set(groups) == {three_turns["a"], three_turns["b"]}
    assert groups[three_turns["b"]]["requests"] == 2  # two turns of one conversation
    assert groups[three_turns["a"]]["title"] == "Question of s-a?"


@pytest.mark.parametrize(
    ("window", "requests"),
    [
        (("--since", "2026-11-02"), 2),
        (("--until", "2026-11-02"), 3),
        (("--since", "2026-11-02T00:00Z", "--until", "2026-11-03T00:00Z"), 1),
        (("--since", "2026-11-01T10:00:04"), 4),  # after alice's request in the first turn: by request time
        (("--since", "1000w"), 5),
    ],
)
def test_usage_date_window_counts_requests_made_inside_it(three_turns, massgen_json, window, requests):
    assert massgen_json("usage", *window)["total"]["requests"] == requests


def test_usage_json_reports_the_window_as_unix_seconds(three_turns, massgen_json):
    report = massgen_json("usage", "--since", "2026-11-02T00:00Z", "--until", "2026-11-03")
    assert (report["since"], report["until"]) == (1793577600.0, 1793664000.0)
    assert set(report) == {"by", "since", "until", "groups", "omitted", "total"}


def test_usage_limit_keeps_the_latest_days_and_the_total_still_covers_all(three_turns, massgen_json):
    report = massgen_json("usage", "--by", "day", "--limit", "2")
    assert ([g["key"] for g in report["groups"]], report["omitted"]) == (["2026-11-02", "2026-11-03"], 1)
    assert report["total"]["requests"] == 5


def test_usage_limit_keeps_the_costliest_groups_and_says_how_many_are_not_shown(three_turns, massgen, massgen_json):
    report = massgen_json("usage", "--by", "agent", "--limit", "1")
    assert ([g["key"] for g in report["groups"]], report["omitted"]) == (["bob"], 2)
    assert "2 more agent group(s) not shown" in massgen("usage", "--by", "agent", "--limit", "1").stdout
    assert massgen_json("usage", "--by", "agent", "--limit", "0")["omitted"] == 0


def test_usage_table_shows_each_group_and_a_total_row(three_turns, massgen):
    out = massgen("usage").stdout
    assert "Usage by model" in out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]] for line in out.splitlines() if line.startswith("│")}
    assert rows["gpt-4o"] == ["3", "160", "25", "10", "5", "$0.0150", "1.00s", "0.15s", "0", "1"]
    assert rows["total"] == ["5", "361", "66", "10", "5", "$0.0360", "1.50s", "0.20s", "1", "1"]


def test_usage_table_by_conversation_shows_short_id_and_title(three_turns, massgen):
    out = massgen("usage", "--by", "conversation").stdout
    assert f"{three_turns['a'][:8]} Question of s-a?" in out


def test_usage_outside_any_recorded_request_says_so(three_turns, massgen):
    proc = massgen("usage", "--until", "1000w")
    assert proc.stdout.strip() == "No model requests recorded in that period."


def test_usage_rejects_an_unknown_grouping_and_a_bad_date(massgen):
    by = massgen("usage", "--by", "week", check=False)
    assert by.returncode == 1 and "'week' is not one of" in by.stderr
    since = massgen("usage", "--since", "yesterday", check=False)
    assert since.returncode == 1 and "'yesterday' is not a time" in since.stderr


def test_usage_report_refuses_an_unknown_grouping_in_process():
    with Store() as store, pytest.raises(ValueError, match="cannot group usage by 'week'"):
        usage_report(store.conn, "week")


def test_the_cli_offers_exactly_the_groupings_the_store_reports():
    assert reports_cmd._BY == GROUPS
