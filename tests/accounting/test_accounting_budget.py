"""``max_cost_usd`` is a cap: what the server bills stays within it, and the session reports spent vs budget."""

from __future__ import annotations

import json

from massgen_core.testing.billing import Biller, agent_entry, posts, route, write_config

LONG = "Paris is the capital of France. " * 60  # about 480 output tokens per answer


def team(server, tmp_path, billers, **orchestrator):
    agents = [agent_entry(name, route(server, name, biller), max_tokens=600) for name, biller in billers.items()]
    return write_config(tmp_path / "team.json", agents, orchestrator=orchestrator)


def test_the_server_never_bills_more_than_the_session_budget(server, massgen, tmp_path):
    billers = {name: Biller(LONG, delay=0.02) for name in ("a", "b", "c")}
    config = team(server, tmp_path, billers, max_cost_usd=0.02)
    result = json.loads(massgen("--config", str(config), "--json", "Capital of France?").stdout)
    billed = sum(b.usd for b in billers.values())
    assert result["ended_by"] == "budget"
    assert 0 < billed <= 0.02
    assert "stopped at the cost budget (session: spent $" in result["error"] and "of $0.0200" in result["error"]
    assert result["final_answer"]  # decided from what existed


def test_an_agent_budget_drops_only_that_agent(server, massgen, tmp_path):
    billers = {"a": Biller(LONG), "b": Biller(LONG)}
    config = team(server, tmp_path, billers, max_cost_usd_per_agent=0.009, final_presentation=False)
    result = json.loads(massgen("--config", str(config), "--json", "Capital of France?").stdout)
    for name, biller in billers.items():
        assert biller.usd <= 0.009, name
    failed = [a for a in result["agents"].values() if a["status"] == "failed"]
    assert failed and all("past its $0.0090 budget" in a["error"] for a in failed)


def test_the_conversation_budget_counts_earlier_turns(server, massgen, tmp_path):
    billers = {"a": Biller(LONG), "b": Biller(LONG)}
    config = team(server, tmp_path, billers, max_conversation_cost_usd=0.05, final_presentation=False)
    proc = massgen("--config", str(config), input="Capital of France?\nAnd of Spain?\nAnd of Italy?\n/quit\n")
    billed = sum(b.usd for b in billers.values())
    assert 0 < billed <= 0.05
    assert "conversation: spent $" in proc.stdout + proc.stderr
    assert posts(server) == sum(len(b.billed) for b in billers.values())
