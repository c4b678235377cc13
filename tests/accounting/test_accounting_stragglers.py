"""One hanging or failing agent no longer holds the session: it is left out of the decision, or given up in wall time."""

from __future__ import annotations

import json

from massgen_core.testing.billing import agent_entry, cooperative, route, write_config
from massgen_core.testing.openai import error_response
from massgen_core.testing.server import Response


def test_a_hanging_agent_is_left_out_once_the_good_agent_has_voted(server, massgen, tmp_path):
    # The bad agent's server never answers; with timeout: 2 its backend retries after 2 s. The session
    # bound is well below the ~35 s that waiting for its retries and relaunches used to take.
    agents = [agent_entry("good", route(server, "good", cooperative())),
              agent_entry("bad", route(server, "bad", Response(hang=True)), timeout=2)]  # fmt: skip
    config = write_config(tmp_path / "team.json", agents, timeout_settings={"orchestrator_timeout_seconds": 20})
    result = json.loads(massgen("--config", str(config), "--json", "Capital of France?").stdout)
    assert (result["ended_by"], result["winner"]) == ("consensus", "good")
    assert result["votes"] == {"good": {"target": "good", "label": "agent1", "reason": "fake reason"}}
    bad = result["agents"]["bad"]
    assert bad["status"] == "failed" and bad["error"].startswith("left out of the decision: only retrying (")
    assert "Left out (did not wait for): bad: only retrying" in result["explanation"]
    assert "timed out" in result["explanation"] or "no data within 2 s" in result["explanation"]


def test_waiting_for_retrying_agents_is_configurable(server, massgen, tmp_path):
    agents = [agent_entry("good", route(server, "good", cooperative())),
              agent_entry("busy", route(server, "busy", error_response(503)), retry_initial_delay=0.05,
                          max_retries=1)]  # fmt: skip
    config = write_config(
        tmp_path / "team.json", agents,
        orchestrator={"wait_for_retrying_agents": True, "max_consecutive_failures": 2},
    )  # fmt: skip
    result = json.loads(massgen("--config", str(config), "--json", "Capital of France?").stdout)
    assert result["ended_by"] == "consensus"
    assert "2 consecutive failed launches" in result["agents"]["busy"]["error"]
    assert "Left out" not in result["explanation"]


def test_an_agent_retrying_past_its_wall_time_bound_is_given_up(server, massgen, tmp_path):
    # Even while the session waits for it, an agent that only retries is dropped after its own bound.
    agents = [agent_entry("good", route(server, "good", cooperative())),
              agent_entry("busy", route(server, "busy", error_response(503)), retry_initial_delay=0.2,
                          retry_max_delay=0.2, max_retries=100)]  # fmt: skip
    config = write_config(
        tmp_path / "team.json", agents, orchestrator={"wait_for_retrying_agents": True},
        timeout_settings={"agent_retry_timeout_seconds": 1, "orchestrator_timeout_seconds": 60},
    )  # fmt: skip
    result = json.loads(massgen("--config", str(config), "--json", "Capital of France?").stdout)
    assert (result["ended_by"], result["winner"]) == ("consensus", "good")
    error = result["agents"]["busy"]["error"]
    assert error.startswith("gave up after 1s of retries and relaunches without progress (last error: ")
    assert "503" in error
