"""The rules behind the accounting: budget pricing at validation, stragglers, estimates, and the stored request rows."""

from __future__ import annotations

import json
import sqlite3
import textwrap

import pytest

from massgen_core.config.loader import load_text_with_warnings
from massgen_core.config.problems import ConfigError
from massgen_core.orchestrator import build_orchestrator
from massgen_core.orchestrator.estimate import estimate
from massgen_core.orchestrator.stragglers import Retrying, left_out, next_deadline, overdue

PRICED = "input_price_per_mtok: 1, output_price_per_mtok: 2"


def load(text: str, manager):
    return load_text_with_warnings(textwrap.dedent(text), manager=manager)[0]


def problems(text: str, manager) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(text, manager)
    return [p.message for p in err.value.errors]


def test_a_budget_refuses_an_unpriced_fallback_member_and_a_nested_team_member(installed_plugins):
    found = problems(
        f"""
        agents:
          - id: a
            backend:
              type: chatcompletion
              model: m
              base_url: http://127.0.0.1:9/v1
              {PRICED.replace(", ", chr(10) + "              ")}
              fallback: [{{type: chatcompletion, model: spare, base_url: "http://127.0.0.1:9/v1"}}]
          - id: team
            agents:
              - {{id: inner, backend: {{type: chatcompletion, model: deep, base_url: "http://127.0.0.1:9/v1"}}}}
              - {{id: free, backend: {{type: scripted}}}}
        orchestrator: {{max_cost_usd_per_agent: 1}}
        """,
        installed_plugins,
    )
    assert [m for m in found if "cost budget" in m] == [
        "a cost budget needs a price for every model, but agent 'a' uses chatcompletion model 'spare', which no "
        "price table knows; set input_price_per_mtok and output_price_per_mtok on its backend",
        "a cost budget needs a price for every model, but agent 'inner' uses chatcompletion model 'deep', which no "
        "price table knows; set input_price_per_mtok and output_price_per_mtok on its backend",
    ]


def test_without_a_budget_unpriced_models_load_and_an_unknown_type_is_its_own_problem(installed_plugins):
    load("agents: [{id: a, backend: {type: chatcompletion, model: m, base_url: 'http://127.0.0.1:9/v1'}}]", installed_plugins)
    found = problems("agents: [{id: a, backend: {type: nosuch, model: m}}]\norchestrator: {max_cost_usd: 1}\n", installed_plugins)
    assert len(found) == 1 and found[0].startswith("unknown backend type 'nosuch'")


def test_the_new_bounds_must_be_positive(installed_plugins):
    found = problems(
        "agents: [{id: a, backend: {type: scripted}}]\norchestrator: {max_conversation_cost_usd: 0}\n"
        "timeout_settings: {agent_retry_timeout_seconds: -1}\n",
        installed_plugins,
    )
    assert found == ["max_conversation_cost_usd must be greater than 0, got 0.0",
                     "agent_retry_timeout_seconds must be greater than 0, got -1.0"]  # fmt: skip


def test_stragglers_are_left_out_only_when_every_missing_voter_is_retrying():
    retrying = {"b": Retrying(10.0, "503"), "c": None}
    assert left_out(["a", "b"], {"a": 1}, retrying) == {"b": "only retrying (503)"}
    assert left_out(["a", "b", "c"], {"a": 1}, retrying) == {}  # c is working, so wait
    assert left_out(["a", "b"], {}, retrying) == {}  # nobody voted: nothing to decide with
    assert left_out(["a"], {"a": 1}, retrying) == {}
    assert next_deadline(retrying, 5.0) == 15.0 and next_deadline(retrying, None) is None
    assert overdue(retrying, None, 100.0) == {} and overdue(retrying, 5.0, 14.9) == {}
    assert list(overdue(retrying, 5.0, 15.0)) == ["b"]


def test_estimate_of_a_single_direct_agent_is_one_call(installed_plugins):
    config = load(
        f"""
        agent: {{id: solo, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1", max_tokens: 100, {PRICED}}}}}
        ui: {{use_orchestrator_for_single_agent: false}}
        """,
        installed_plugins,
    )
    result = estimate(build_orchestrator(config, manager=installed_plugins), "What is 2 + 2?", answer_tokens=50)
    assert (result.expected_calls, result.worst_case_calls, result.bound) == (1, 1, "limits")
    # 50 tokens expected and 100 at worst, at $2 per million output tokens, plus the short prompt at $1
    assert 50 * 2e-6 < result.expected_usd < result.worst_case_usd < 100 * 2e-6 + 1e-4
    assert json.loads(json.dumps(result.to_dict()))["agents"][0]["max_tokens"] == 100


def test_estimate_counts_tool_rounds_when_tools_are_offered(installed_plugins):
    text = f"""
        agents:
          - {{id: a, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1", max_tokens: 10, {PRICED}}}}}
          - {{id: b, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1", max_tokens: 10, {PRICED}}}}}
        orchestrator: {{max_new_answers_per_agent: 1, max_attempts: 1, max_consecutive_failures: 1}}
        """
    from massgen_core.tools import Tool

    async def echo(text: str) -> str:
        return text  # pragma: no cover - never called: nothing runs

    orch = build_orchestrator(load(text, installed_plugins), manager=installed_plugins)
    plain = estimate(orch, "Q?")  # tools are opt-in: none configured
    for member in orch.agents:
        member.tools = {"echo": Tool(name="echo", description="Echo.", parameters={"type": "object"}, func=echo)}
    tooled = estimate(orch, "Q?")
    # (1 + 2 agents x 1 answer) launches x 1 failure x 1 attempt per agent, plus the presentation
    assert plain.worst_case_calls == 2 * 3 + 1
    assert tooled.worst_case_calls == 2 * 3 * 10 + 1  # each attempt may take 10 tool rounds
    assert tooled.worst_case_usd > plain.worst_case_usd * 9


def test_an_unpriced_presenter_leaves_the_expected_cost_unknown(installed_plugins):
    text = f"""
        agents:
          - {{id: a, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1", {PRICED}}}}}
          - {{id: b, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1"}}}}
        orchestrator: {{max_new_answers_per_agent: 1}}
        """
    result = estimate(build_orchestrator(load(text, installed_plugins), manager=installed_plugins), "Q?")
    assert result.expected_usd is None and result.worst_case_usd is None
    assert result.agents[0].expected_usd is not None and result.agents[1].expected_usd is None


def test_a_version_1_database_gains_the_request_metrics_and_keeps_its_rows(tmp_path):
    from massgen_core.store import schema

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    schema.MIGRATIONS[0](conn)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO conversations (id, started_at) VALUES ('c', 0)")
    conn.execute("INSERT INTO turns (id, conversation_id, turn, session_id, question, started_at) VALUES (1, 'c', 1, 's', 'q', 0)")
    conn.execute("INSERT INTO requests (turn_id, agent_id, backend, ttft_s) VALUES (1, 'a', 'openai', 0.5)")
    conn.execute("COMMIT")
    conn.close()
    upgraded = schema.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    row = upgraded.execute("SELECT ttft_s, ttfb_s, tokens_per_s, estimated FROM requests").fetchone()
    assert tuple(row) == (0.5, None, None, 0)


def test_a_document_written_before_the_metrics_imports_with_their_defaults(tmp_path):
    from massgen_core.store import Store
    from massgen_core.store.document import build_document, import_document

    request = {"agent_id": "a", "backend": "openai", "model": "m", "input_tokens": 1, "output_tokens": 2, "cached_tokens": 0,
               "reasoning_tokens": 0, "cost_usd": 0.1, "latency_s": 1.0, "ttft_s": None, "retries": 0, "status": "ok", "ts": 1.0}  # fmt: skip
    turn = {"turn": 1, "session_id": "s", "question": "q", "agent_ids": ["a"], "strategy": None, "started_at": 0.0,
            "finished_at": None, "ended_by": None, "error": None, "final_answer": None, "winner": None, "tally": None,
            "reasons": None, "explanation": None, "usage": None, "cost_usd": 0.1, "duration_s": None,
            "answers": [], "votes": [], "requests": [request], "events": []}  # fmt: skip
    document = {"format": "massgen-conversation", "version": 1, "turns": [turn],
                "conversation": {"id": "c1", "title": "", "config": None, "started_at": 0.0, "finished_at": None,
                                 "ended_by": None, "cost_usd": 0.1}}  # fmt: skip
    with Store(tmp_path / "db.sqlite") as store:
        import_document(store.conn, document)
        exported = build_document(store.conn, "c1")
    assert exported["turns"][0]["requests"][0] == {**request, "ttfb_s": None, "tokens_per_s": None, "estimated": False}


def test_estimate_without_presentation_and_with_an_agent_budget(installed_plugins):
    text = f"""
        agents:
          - {{id: a, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1", max_tokens: 10, {PRICED}}}}}
          - {{id: b, backend: {{type: chatcompletion, model: m, base_url: "http://127.0.0.1:9/v1", max_tokens: 10, {PRICED}}}}}
        orchestrator: {{final_presentation: false, max_cost_usd_per_agent: 0.000001}}
        """
    result = estimate(build_orchestrator(load(text, installed_plugins), manager=installed_plugins), "Q?")
    assert result.expected_calls == 4  # two answers, two votes, no presentation
    assert (result.bound, result.worst_case_usd) == ("budget", pytest.approx(0.000002))  # two agents' caps
