"""Every request that reached a server is counted by ``massgen usage``: served vs recorded, at the server."""

from __future__ import annotations

import json

import pytest

from massgen_core.testing.billing import agent_entry, cooperative, posts, route, served_usd, write_config


def usage_total(massgen) -> dict:
    return json.loads(massgen("usage", "--json").stdout)["total"]


def test_requests_cancelled_by_a_restart_are_counted_with_an_estimate(server, massgen, tmp_path):
    # a answers at once; b and c are still streaming their first answers and are cancelled by the restart.
    agents = [agent_entry("a", route(server, "a", cooperative())), agent_entry("b", route(server, "b", cooperative(0.3))),
              agent_entry("c", route(server, "c", cooperative(0.3)))]  # fmt: skip
    config = write_config(tmp_path / "team.json", agents)
    proc = massgen("--config", str(config), "--json", "Capital of France?")
    result = json.loads(proc.stdout)
    assert result["ended_by"] == "consensus"
    served = posts(server)
    total = usage_total(massgen)
    assert total["requests"] == served >= 7
    assert total["estimated"] >= 2  # b's and c's cancelled first answers
    # What the server billed for the answers it completed is all in, and the cancelled ones cost something.
    completed = served - total["estimated"]
    assert total["cost_usd"] > served_usd(completed)
    assert total["failed"] == 0


def test_retries_and_failures_are_counted_per_request(server, massgen, tmp_path):
    from massgen_core.testing.openai import error_response

    flaky = iter([error_response(503), error_response(503)])
    def handler(request):
        return next(flaky, None) or cooperative()(request)

    broken = route(server, "broken", error_response(400, "bad request"))
    agents = [agent_entry("a", route(server, "a", handler), retry_initial_delay=0),
              agent_entry("z", broken, retry_initial_delay=0)]  # fmt: skip
    config = write_config(tmp_path / "team.json", agents, orchestrator={"final_presentation": False})
    massgen("--config", str(config), "--json", "Capital of France?")
    total = usage_total(massgen)
    assert total["retries"] == 2  # a's first request succeeded on its third attempt
    assert total["failed"] >= 1  # z's requests were refused
    rows = json.loads(massgen("usage", "--by", "agent", "--json").stdout)["groups"]
    by_agent = {row["key"]: row for row in rows}
    # Every request z sent reached the server: the refused ones are failures, any cancelled one an estimate.
    assert by_agent["z"]["requests"] == len(server.requests_to("/broken/v1/chat/completions"))
    assert by_agent["z"]["failed"] + by_agent["z"]["estimated"] == by_agent["z"]["requests"]
    assert (by_agent["a"]["failed"], by_agent["a"]["retries"]) == (0, 2)


def test_an_unpriced_model_warns_once(server, massgen, tmp_path):
    url = route(server, "a", cooperative())
    agent = {"id": "a", "backend": {"type": "chatcompletion", "model": "no-such-model", "base_url": url, "api_key": "k"}}
    other = {"id": "b", "backend": {**agent["backend"]}}
    config = write_config(tmp_path / "team.json", [agent, {**other, "id": "b"}])
    proc = massgen("--config", str(config), "--json", "Capital of France?")
    warnings = [line for line in proc.stderr.splitlines() if "no price is known" in line]
    assert len(warnings) == 1 and "'no-such-model'" in warnings[0]
    assert "input_price_per_mtok" in warnings[0]


@pytest.mark.parametrize("api", ["chat"])
def test_tool_call_only_responses_get_a_time_to_first_byte_and_a_rate(server, massgen, tmp_path, api):
    agents = [agent_entry("a", route(server, "a", cooperative(0.01))), agent_entry("b", route(server, "b", cooperative(0.01)))]
    config = write_config(tmp_path / "team.json", agents, orchestrator={"final_presentation": False})
    massgen("--config", str(config), "--json", "Capital of France?")
    total = usage_total(massgen)
    # Every coordination response here is only a tool call: none has a first text token.
    assert total["median_ttft_s"] is None
    assert total["median_ttfb_s"] is not None and total["median_ttfb_s"] > 0
    assert total["median_tokens_per_s"] is not None and total["median_tokens_per_s"] > 0
    table = massgen("usage").stdout
    assert "median TTFB" in table and "median tok/s" in table
