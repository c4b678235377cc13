"""``massgen estimate`` gives the expected and worst-case cost before a run, and a real run stays within the worst case."""

from __future__ import annotations

import json

from massgen_core.testing.billing import INPUT_PRICE, OUTPUT_PRICE, Biller, agent_entry, route, write_config

ANSWER = "Paris is the capital of France. " * 20  # about 160 tokens


def test_a_run_costs_about_what_was_expected_and_never_more_than_the_worst_case(server, massgen, tmp_path):
    billers = {"a": Biller(ANSWER), "b": Biller(ANSWER)}
    agents = [agent_entry(name, route(server, name, b), max_tokens=300) for name, b in billers.items()]
    config = write_config(tmp_path / "team.json", agents, orchestrator={"max_new_answers_per_agent": 1})
    estimate = json.loads(massgen("estimate", "--config", str(config), "--answer-tokens", "160", "--json", "Capital?").stdout)
    assert estimate["bound"] == "limits"
    assert [(a["id"], a["input_price_per_mtok"], a["output_price_per_mtok"], a["max_tokens"]) for a in estimate["agents"]] == [
        ("a", INPUT_PRICE, OUTPUT_PRICE, 300), ("b", INPUT_PRICE, OUTPUT_PRICE, 300)]  # fmt: skip
    assert estimate["expected_calls"] == 5  # two answers, two votes, one presentation
    # (1 + 2 agents x 1 answer) launches x 3 consecutive failures x 3 attempts, per agent, plus the presentation
    # (no tools are configured, so no tool rounds)
    assert estimate["worst_case_calls"] == 2 * 3 * 3 * 3 + 1
    text = massgen("estimate", "--config", str(config), "--answer-tokens", "160", "Capital?").stdout
    assert f"worst case: ${estimate['worst_case_usd']:.4f} (at most 55 model calls)" in text
    assert "a: chatcompletion m · $2/$10 per Mtok in/out · max_tokens 300 · expected $" in text
    massgen("--config", str(config), "--json", "Capital?")
    billed = sum(b.usd for b in billers.values())
    assert billed <= estimate["worst_case_usd"]
    assert estimate["expected_usd"] / 3 <= billed <= estimate["expected_usd"] * 3


def test_a_budget_caps_the_worst_case_and_no_cap_leaves_it_unbounded(server, massgen, tmp_path):
    agents = [agent_entry("a", route(server, "a", Biller())), agent_entry("b", route(server, "b", Biller()))]
    capped = write_config(tmp_path / "capped.json", agents, orchestrator={"max_cost_usd": 0.05})
    result = json.loads(massgen("estimate", "--config", str(capped), "--json", "Capital?").stdout)
    assert (result["bound"], result["worst_case_usd"]) == ("budget", 0.05)
    text = massgen("estimate", "--config", str(capped), "Capital?").stdout
    assert "worst case: $0.0500 (the budget caps it)" in text and "expected: $" in text
    open_ended = write_config(tmp_path / "open.json", agents, display={"type": "simple"})  # a legacy block
    proc = massgen("estimate", "--config", str(open_ended), "Capital?")
    assert "warning: " in proc.stderr and "display" in proc.stderr  # the config's warnings are shown
    text = proc.stdout
    assert "a: chatcompletion m · $2/$10 per Mtok in/out · max_tokens 8192 · expected $" in text
    assert text.splitlines()[0].endswith("worst case unbounded")
    assert "worst case: unbounded" in text
    assert "note: no bound on answers or cost" in text
    assert "note: a backend without max_tokens is assumed to write at most 8192 tokens per call" in text


def test_an_unpriced_model_is_named_and_a_budget_on_it_is_refused(server, massgen, tmp_path):
    url = route(server, "a", Biller())
    unpriced = {"id": "a", "backend": {"type": "chatcompletion", "model": "mystery", "base_url": url, "api_key": "k"}}
    config = write_config(tmp_path / "team.json", [unpriced], orchestrator={"max_new_answers_per_agent": 1})
    result = json.loads(massgen("estimate", "--config", str(config), "--json", "Capital?").stdout)
    assert result["expected_usd"] is None and result["worst_case_usd"] is None
    assert result["notes"][0] == "agent a: no price is known for chatcompletion model 'mystery'"
    assert "expected: unknown" in massgen("estimate", "--config", str(config), "Capital?").stdout
    budget = write_config(tmp_path / "budget.json", [unpriced], orchestrator={"max_cost_usd": 1})
    refused = massgen("--config", str(budget), "Capital?", check=False)
    assert refused.returncode == 1
    assert "orchestrator.max_cost_usd: a cost budget needs a price for every model, but agent 'a'" in refused.stderr
    assert "set input_price_per_mtok and output_price_per_mtok" in refused.stderr
    assert server.requests_to("/a/v1/chat/completions") == []
    priced = dict(unpriced, backend=dict(unpriced["backend"], input_price_per_mtok=1, output_price_per_mtok=2))
    ok = write_config(tmp_path / "ok.json", [priced], orchestrator={"max_cost_usd": 1})
    assert massgen("config", "validate", str(ok)).returncode == 0


def test_estimate_is_listed_in_the_main_help_by_its_own_help_line(massgen):
    listed = [line for line in massgen("--help").stdout.splitlines() if line.strip().startswith("estimate")]
    assert listed and "Worst-case and expected cost of running a question" in listed[0]
    assert "--answer-tokens" in massgen("estimate", "--help").stdout
