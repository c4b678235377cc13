"""The reports over a real ``massgen --config ...`` scripted session, and over an empty store."""

from __future__ import annotations

from pathlib import Path

from massgen_core.store import Store

# Both vote for the longest answer (bob's) once both have answered, so the outcome is fixed
# whichever agent the scheduler runs first; the number of requests depends on restarts, so
# the tests compare the report with what the store recorded rather than with a constant.
TINY_CONFIG = """
agents:
  - id: alice
    backend:
      type: scripted
      model: scripted-a
      token_delay: 0
      script:
        - answer: "Paris."
        - vote: best
  - id: bob
    backend:
      type: scripted
      model: scripted-b
      token_delay: 0
      script:
        - answer: "Paris is the capital of France."
        - vote: best
"""


def _run_session(tmp_path: Path, massgen) -> dict:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG, encoding="utf-8")
    massgen("--config", str(config), "--no-display", "What is the capital of France?")
    with Store() as store:
        (summary,) = store.list_conversations()
        return store.document(summary.id)


def test_usage_of_a_real_session_matches_the_recorded_requests(tmp_path, massgen, massgen_json):
    requests = _run_session(tmp_path, massgen)["turns"][0]["requests"]
    report = massgen_json("usage")
    for model in ("scripted-a", "scripted-b"):
        mine = [r for r in requests if r["model"] == model]
        (group,) = [g for g in report["groups"] if g["key"] == model]
        assert (group["requests"], group["input_tokens"], group["output_tokens"]) == (
            len(mine), sum(r["input_tokens"] for r in mine), sum(r["output_tokens"] for r in mine),
        )  # fmt: skip
        assert (group["cost_usd"], group["failed"]) == (0, 0)  # the scripted backend is free and never failed here
    assert report["total"]["requests"] == len(requests) >= 4  # an answer and a vote each, at least
    (backend,) = massgen_json("usage", "--by", "backend")["groups"]
    assert (backend["key"], backend["requests"]) == ("scripted", len(requests))


def test_stats_of_a_real_session_show_bob_winning_by_consensus(tmp_path, massgen, massgen_json):
    _run_session(tmp_path, massgen)
    report = massgen_json("stats")
    assert (report["conversations"], report["turns"], report["finished"]) == (1, 1, 1)
    assert report["ended_by"]["consensus"] == 1
    agents = {a["agent_id"]: a for a in report["agents"]}
    assert {k: (a["turns"], a["wins"], a["win_rate"], a["answers"], a["votes_cast"], a["votes_received"]) for k, a in agents.items()} == {
        "bob": (1, 1, 1.0, 1, 1, 2),
        "alice": (1, 0, 0.0, 1, 1, 0),
    }
    assert report["turn_duration_s"]["mean"] is not None and report["turn_cost_usd"]["total"] == 0


def test_usage_on_an_empty_store_says_so_and_exits_zero(massgen, massgen_json):
    proc = massgen("usage")
    assert (proc.returncode, proc.stdout.strip()) == (0, "No model requests recorded yet.")
    report = massgen_json("usage", "--by", "day")
    assert report == {
        "by": "day", "since": None, "until": None, "groups": [], "omitted": 0,
        "total": {"key": None, "title": None, "requests": 0, "input_tokens": 0, "output_tokens": 0, "cached_tokens": 0,
                  "reasoning_tokens": 0, "cost_usd": 0, "median_latency_s": None, "median_ttft_s": None,
                  "retries": 0, "failed": 0, "median_ttfb_s": None, "median_tokens_per_s": None, "estimated": 0},
    }  # fmt: skip


def test_the_commands_are_listed_in_the_main_help(massgen):
    out = massgen("--help").stdout
    assert "usage" in out and "stats" in out
