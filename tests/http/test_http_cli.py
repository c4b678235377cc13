"""The CLI as a subprocess against fake servers: backends list/check and full sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from massgen_core.testing import FakeServer, Response
from massgen_core.testing.openai import coordination_handler, models_response


def run_cli(*args, home, timeout=60, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(MASSGEN_HOME=str(home), **(extra_env or {}))
    return subprocess.run([sys.executable, "-m", "massgen_core", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture
def servers():
    with FakeServer() as a, FakeServer() as b:
        yield a, b


def write_config(tmp_path, agents):
    lines = ["agents:"]
    for agent_id, backend in agents:
        lines.append(f"  - id: {agent_id}")
        lines.append("    backend: " + json.dumps(backend))
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_backends_list_shows_every_type_with_its_key_variable(tmp_path):
    r = run_cli("backends", "list", "--json", home=tmp_path)
    rows = {row["type"]: row for row in json.loads(r.stdout)}
    assert r.returncode == 0
    assert rows["openai"]["key_env"] == ["OPENAI_API_KEY"] and "gpt-*" in rows["openai"]["models"]
    assert rows["ollama"]["base_url"] == "http://localhost:11434/v1"
    assert (rows["ollama"]["key_env"], rows["ollama"]["key_required"]) == (["OLLAMA_API_KEY"], False)
    assert rows["openai"]["key_required"] is True
    assert rows["grok"]["base_url"] == "https://api.x.ai/v1"
    table = run_cli("backends", "list", home=tmp_path)
    assert "GROQ_API_KEY" in table.stdout
    assert "VLLM_API_KEY (optional)" in table.stdout


def test_backends_check_probes_five_backends_and_reports_a_hanging_one_as_timeout(tmp_path, servers):
    ok, hang = servers
    ok.add("GET", "/v1/models", models_response(["llama3.2", "qwen3"]))
    hang.add("GET", "/v1/models", Response(hang=True))
    agents = [(f"a{i}", {"type": "ollama", "model": "llama3.2", "base_url": ok.url + "/v1"}) for i in range(4)]
    agents.append(("slow", {"type": "vllm", "model": "m", "base_url": hang.url + "/v1", "health_timeout": 0.5}))
    r = run_cli("backends", "check", "--config", str(write_config(tmp_path, agents)), "--json", home=tmp_path)
    assert r.stdout, r.stderr
    report = json.loads(r.stdout)
    rows = {row["agent"]: row for row in report["backends"]}
    assert r.returncode == 1 and report["ok"] is False
    assert rows["a0"]["status"] == "ok" and rows["a0"]["models"] == ["llama3.2", "qwen3"]
    assert rows["slow"]["status"] == "timeout" and 450 <= rows["slow"]["latency_ms"] < 1500
    assert "0.5 s" in rows["slow"]["error"]


def test_backends_check_probes_every_pool_and_fallback_member(tmp_path, servers):
    ok, down = servers
    ok.add("GET", "/v1/models", models_response(["m1"]))
    down.add("GET", "/v1/models", Response.json({"error": {"message": "boom"}}, status=503))
    pooled = {"type": "vllm", "model": "m1", "routing": "least_busy",
              "pool": [{"base_url": ok.url + "/v1"}, {"base_url": down.url + "/v1"}],
              "fallback": [{"type": "ollama", "model": "m1", "base_url": ok.url + "/v1"}]}
    config = write_config(tmp_path, [("team", pooled), ("plain", {"type": "ollama", "model": "m1",
                                                                  "base_url": ok.url + "/v1"})])
    r = run_cli("backends", "check", "--config", str(config), "--json", home=tmp_path)
    rows = {row["agent"]: row for row in json.loads(r.stdout)["backends"]}
    assert list(rows) == ["team (pool 1)", "team (pool 2)", "team (fallback 1)", "plain"]
    assert [rows[k]["status"] for k in rows] == ["ok", "down", "ok", "ok"]
    assert rows["team (pool 2)"]["endpoint"] == down.url + "/v1" and "boom" in rows["team (pool 2)"]["error"]
    assert r.returncode == 1  # a member that is down is reported, not hidden behind the first
    assert len(down.requests) == 1


def test_backends_check_exits_zero_and_prints_a_table_when_all_are_up(tmp_path, servers):
    ok, _ = servers
    ok.add("GET", "/v1/models", models_response(["m1"]))
    r = run_cli("backends", "check", "--backend", "chatcompletion", "--model", "m1", "--base-url", ok.url + "/v1",
                home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout and "m1" in r.stdout


def test_backends_check_reports_a_missing_key_without_sending_anything(tmp_path, servers):
    ok, _ = servers
    r = run_cli("backends", "check", "--backend", "openai", "--model", "gpt-4o", "--base-url", ok.url + "/v1",
                "--json", home=tmp_path)
    row = json.loads(r.stdout)["backends"][0]
    assert r.returncode == 1 and row["status"] == "no_key" and "OPENAI_API_KEY" in row["error"]
    assert ok.requests == []


def test_backends_check_reports_a_rejected_key_as_unauthorized_without_printing_it(tmp_path, servers):
    ok, _ = servers
    ok.add("GET", "/v1/models", Response.json({"error": {"message": "Incorrect API key", "code": "invalid_api_key"}},
                                              status=401))
    r = run_cli("backends", "check", "--backend", "openai", "--model", "gpt-4o", "--base-url", ok.url + "/v1",
                home=tmp_path, extra_env={"OPENAI_API_KEY": "sk-do-not-print-me-123"})
    assert r.returncode == 1 and "unauthorized" in r.stdout
    assert "sk-do-not-print-me-123" not in r.stdout + r.stderr


def test_backends_check_without_config_or_backend_is_an_error(tmp_path):
    r = run_cli("backends", "check", home=tmp_path)
    assert r.returncode != 0 and "--config" in r.stderr


def test_three_agent_session_through_the_cli_on_three_backend_types(tmp_path, servers):
    srv, _ = servers
    srv.add("POST", "/v1/chat/completions", coordination_handler("chat"))
    srv.add("POST", "/v1/responses", coordination_handler("responses"))
    config = write_config(tmp_path, [
        ("a1", {"type": "chatcompletion", "model": "m", "base_url": srv.url + "/v1"}),
        ("a2", {"type": "openai", "model": "gpt-4o-mini", "base_url": srv.url + "/v1"}),
        ("a3", {"type": "grok", "model": "grok-3", "base_url": srv.url + "/v1", "enable_web_search": True}),
    ])
    r = run_cli("--config", str(config), "--no-display", "--json", "What is 6 x 7?", home=tmp_path,
                extra_env={"OPENAI_API_KEY": "sk-test-aaaaaaaaaaaa", "XAI_API_KEY": "xai-test-bbbbbbbbbbbb"})
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["final_answer"] == "The answer is 42." and result["ended_by"] == "consensus"
    assert result["cost_usd"] > 0
    bodies = [req.json() for req in srv.requests_to("/v1/chat/completions")]
    assert any(b.get("search_parameters", {}).get("mode") == "auto" for b in bodies)
    assert srv.requests_to("/v1/responses")
    # Three agents in flight at once on one server: finished requests give their connection back.
    # Only a request cancelled mid-stream (an agent restarted by a new answer) costs its connection.
    cancelled = sum(agent["restarts"] for agent in result["agents"].values())
    assert len(srv.requests) > 3 + cancelled and srv.connections <= 3 + cancelled


def test_local_preset_runs_from_the_command_line_without_a_config(tmp_path, servers):
    srv, _ = servers
    srv.add("POST", "/v1/chat/completions", coordination_handler("chat", answer="Hello from llama."))
    r = run_cli("--backend", "ollama", "--model", "llama3.2", "--base-url", srv.url + "/v1", "--no-display", "-q",
                "Say hello", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Hello from llama." in r.stdout
    assert all(req.header("authorization") is None for req in srv.requests)


def test_debug_logs_each_exchange_with_redacted_headers(tmp_path, servers):
    srv, _ = servers
    srv.add("POST", "/v1/chat/completions", coordination_handler("chat"))
    r = run_cli("--debug", "--backend", "together", "--model", "meta-llama/x", "--base-url", srv.url + "/v1",
                "--no-display", "-q", "hi", home=tmp_path, extra_env={"TOGETHER_API_KEY": "tgp-secret-value-42"})
    assert r.returncode == 0, r.stderr
    assert f"POST {srv.url}/v1/chat/completions -> 200" in r.stderr
    assert "tgp-secret-value-42" not in r.stderr and "'authorization': '***'" in r.stderr


def test_requests_a_fallback_served_are_recorded_under_the_fallback(tmp_path, servers):
    down, up = servers
    down.add("POST", "/v1/chat/completions", Response(status=503, chunks=(b'{"error": {"message": "down"}}',)))
    up.add("POST", "/v1/chat/completions", coordination_handler("chat"))
    config = write_config(tmp_path, [("solo", {
        "type": "chatcompletion", "model": "primary-model", "base_url": down.url + "/v1", "max_retries": 0,
        "fallback": [{"type": "grok", "model": "grok-3", "base_url": up.url + "/v1"}]})])
    r = run_cli("--config", str(config), "--no-display", "--json", "What is 6 x 7?", home=tmp_path,
                extra_env={"XAI_API_KEY": "xai-test-bbbbbbbbbbbb"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["cost_usd"] > 0  # priced with grok-3's table, not the primary's
    by_backend = json.loads(run_cli("usage", "--by", "backend", "--json", home=tmp_path).stdout)
    by_model = json.loads(run_cli("usage", "--by", "model", "--json", home=tmp_path).stdout)
    served = {g["key"]: g["requests"] for g in by_backend["groups"] if g["requests"]}
    models = {g["key"]: g["requests"] for g in by_model["groups"] if g["requests"]}
    assert served.get("grok", 0) >= 1 and models.get("grok-3", 0) >= 1
    assert all(g["cost_usd"] == 0 for g in by_model["groups"] if g["key"] == "primary-model")


def _truncated_tool_call(request):
    from massgen_core.testing.openai import chat_stream

    return chat_stream([], tool_calls=[("call_1", "new_answer", ['{"content": "The answer is'])], finish_reason="length")


@pytest.mark.parametrize("failure", ["bad_request", "truncated"])
def test_an_agent_whose_requests_cannot_succeed_is_told_why_without_looping(tmp_path, servers, failure):
    good, bad = servers
    # the good agent answers slowly, so no new answer cancels the bad agent's launches mid-request
    good.add("POST", "/v1/chat/completions", coordination_handler("chat", chunk_delay=0.1))
    if failure == "bad_request":
        bad.add("POST", "/v1/chat/completions", Response.json(
            {"error": {"message": "Unsupported parameter: 'temperature'", "type": "invalid_request_error"}}, status=400))
    else:
        bad.add("POST", "/v1/chat/completions", _truncated_tool_call)
    config = write_config(tmp_path, [
        ("good", {"type": "chatcompletion", "model": "m", "base_url": good.url + "/v1"}),
        ("bad", {"type": "chatcompletion", "model": "m", "base_url": bad.url + "/v1", "max_tokens": 20,
                 "max_retries": 2}),
    ])
    r = run_cli("--config", str(config), "--no-display", "--json", "What is 6 x 7?", home=tmp_path)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    error = result["agents"]["bad"]["error"]
    assert result["final_answer"] == "The answer is 42." and result["agents"]["bad"]["status"] == "failed"
    if failure == "bad_request":
        # fatal: one request, no relaunch, and the provider's words said once
        assert len(bad.requests) == 1 and error.count("Unsupported parameter: 'temperature'") == 1
        assert "consecutive" not in error
    else:
        assert "cut off at the output token limit (max_tokens 20" in error and "raise max_tokens" in error
        assert "rounds of tool calls" not in error
        assert len(bad.requests) == 3  # one per launch until the agent is dropped, never retried within one


def test_three_agents_on_one_least_busy_pool_spread_over_its_members(tmp_path):
    with FakeServer() as a, FakeServer() as b, FakeServer() as c:
        members = (a, b, c)
        for s in members:
            s.add("POST", "/v1/chat/completions", coordination_handler("chat"))
        pool = {"type": "vllm", "model": "m", "routing": "least_busy",
                "pool": [{"base_url": s.url + "/v1"} for s in members]}
        config = write_config(tmp_path, [(f"agent{i}", pool) for i in range(3)])
        for _turn in range(2):
            r = run_cli("--config", str(config), "--no-display", "--json", "What is 6 x 7?", home=tmp_path)
            assert r.returncode == 0, r.stderr
        counts = [len(s.requests) for s in members]
    assert min(counts) >= 2 and max(counts) - min(counts) <= 2, counts
