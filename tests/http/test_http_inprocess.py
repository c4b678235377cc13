"""In-process checks of what the CLI tests exercise in a subprocess: health rows, debug logs, commands."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from massgen_core.backend import Backend, BackendContext, HealthResult
from massgen_core.config.schema import BackendConfig
from massgen_core.http import BackendConnectionError, BadRequestError, event_json
from massgen_core.http.health import check_all
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.testing import Response
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_chunk, chat_stream, models_response


class Local(ChatCompletionsBackend):
    name = "local"
    key_required = False
    key_env = ("LOCAL_KEY",)


class Keyed(ChatCompletionsBackend):
    name = "keyed"
    key_env = ("KEYED_API_KEY",)


def local(server, **kw):
    return Local(BackendConfig(type="local", model="m", base_url=server.url + "/v1", max_retries=0, **kw),
                 BackendContext(agent_id="a", debug=kw.pop("debug", False)))


async def test_debug_context_logs_stream_and_health_exchanges(server, caplog):
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    server.add("GET", "/v1/models", models_response(["m"]))
    b = Local(BackendConfig(type="local", model="m", api_key="sk-abcdefghijklmnopqr", base_url=server.url + "/v1"),
              BackendContext(agent_id="a", debug=True))
    with caplog.at_level(logging.DEBUG, logger="massgen.http"):
        await collect(b)
        await b.health_check()
    assert "POST " in caplog.text and "GET " in caplog.text and "sk-abcdefghijklmnopqr" not in caplog.text


async def test_optional_key_is_read_from_the_environment_when_present(server, monkeypatch):
    monkeypatch.setenv("LOCAL_KEY", "optional-key-1")
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    await collect(local(server))
    assert server.requests[0].header("authorization") == "Bearer optional-key-1"


async def test_unsupported_url_scheme_is_a_connection_error():
    b = Local(BackendConfig(type="local", model="m", base_url="ftp://127.0.0.1/v1", max_retries=0))
    with pytest.raises(BackendConnectionError):
        await collect(b)


async def test_health_of_a_backend_without_its_key_is_no_key(server):
    b = Keyed(BackendConfig(type="keyed", model="m", base_url=server.url + "/v1"))
    result = await b.health_check()
    assert result.status == "no_key" and "KEYED_API_KEY" in result.error and server.requests == []


async def test_inband_error_forms_and_odd_events(server):
    server.add("POST", "/v1/chat/completions", Response.sse([{"error": "plain failure"}]))
    with pytest.raises(Exception, match="plain failure"):
        await collect(local(server))
    server.add("POST", "/v1/chat/completions", Response.sse([{"error": {"type": "invalid_request_error"}}]))
    with pytest.raises(BadRequestError, match="invalid_request_error"):
        await collect(local(server))
    events = [b"data: \n\n", chat_chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": {"a": 1}}}]}),
              chat_chunk({"content": "other"}, finish_reason="stop") | {"choices": [{"index": 1, "delta": {"content": "no"}}]},
              chat_chunk({}, finish_reason="tool_calls"), "[DONE]"]
    server.add("POST", "/v1/chat/completions", Response.sse(events))
    got = await collect(local(server))
    assert got["calls"][0].arguments == {"a": 1} and got["text"] == ""


def test_event_json_parses_data():
    from httpx_sse import ServerSentEvent

    assert event_json(ServerSentEvent(data='{"a": 1}')) == {"a": 1}


class Hangs(Backend):
    name = "hangs"
    health_timeout = 0.1

    async def health_check(self) -> HealthResult:
        import asyncio

        await asyncio.sleep(10)
        raise AssertionError("unreachable")


class Breaks(Backend):
    name = "breaks"

    async def health_check(self) -> HealthResult:
        raise RuntimeError("probe exploded with sk-abcdefghijklmnop")


async def test_check_all_reports_timeouts_and_exceptions_without_waiting_on_them(server):
    import time

    server.add("GET", "/v1/models", models_response(["m"]))
    t0 = time.monotonic()
    rows = await check_all([("ok", local(server)), ("slow", Hangs(BackendConfig(model="h"))),
                            ("broken", Breaks(BackendConfig()))])
    assert time.monotonic() - t0 < 2
    by = {r.agent: r for r in rows}
    assert by["ok"].ok and by["ok"].endpoint == server.url + "/v1" and by["ok"].to_dict()["models"] == ["m"]
    assert by["slow"].status == "timeout" and by["broken"].status == "error"
    assert "sk-abcdefghijklmnop" not in by["broken"].error


def test_backends_commands_in_process(server, tmp_path, plugin_manager):
    from massgen_core.cli.backends_cmd import backends
    from massgen_core.hookspecs import hookimpl

    runner = CliRunner()
    assert "no backends installed" in runner.invoke(backends, ["list"]).output

    class P:
        @hookimpl
        def register_backends(self, register):
            register(Local)

    plugin_manager.register(P(), name="p")
    assert "local" in runner.invoke(backends, ["list"]).output
    assert json.loads(runner.invoke(backends, ["list", "--json"]).output)[0]["type"] == "local"
    server.add("GET", "/v1/models", models_response(["m"]))
    config = tmp_path / "c.yaml"
    config.write_text(
        "agents:\n"
        f"  - id: up\n    backend: {{type: local, model: m, base_url: '{server.url}/v1'}}\n"
        "  - id: team\n    agents:\n"
        f"      - id: inner\n        backend: {{type: local, model: m, base_url: '{server.url}/v1'}}\n"
    )
    result = runner.invoke(backends, ["check", "--config", str(config), "--model", "m2"])
    assert result.exit_code == 0, result.output
    assert "team/inner" in result.output and "models: m" in result.output
    result = runner.invoke(backends, ["check", "--backend", "local", "--model", "m", "--base-url", "http://127.0.0.1:1/v1"])
    assert result.exit_code == 1 and "down" in result.output


def test_backends_check_json_in_process(server, plugin_manager):
    from massgen_core.cli.backends_cmd import backends
    from massgen_core.hookspecs import hookimpl

    class P:
        @hookimpl
        def register_backends(self, register):
            register(Local)

    plugin_manager.register(P(), name="p")
    server.add("GET", "/v1/models", models_response(["m"]))
    result = CliRunner().invoke(backends, ["check", "--backend", "local", "--model", "m", "--base-url",
                                           server.url + "/v1", "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["ok"] and report["backends"][0]["models"] == ["m"]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_coordination_handler_answers_votes_and_presents(server, api):
    import httpx

    from massgen_core.testing.openai import coordination_handler

    server.add("POST", "/h", coordination_handler(api, answer="A1", fragments=3))
    tools = [{"type": "function", "function": {"name": "new_answer", "parameters": {}}},
             {"type": "function", "function": {"name": "vote", "parameters": {
                 "properties": {"agent_id": {"enum": ["agent1"]}, "reason": {"type": "string"}}}}}]
    key = "messages" if api == "chat" else "input"
    with httpx.Client() as c:
        first = c.post(server.url + "/h", json={key: ["(no answers available yet)"], "tools": tools}).text
        second = c.post(server.url + "/h", json={key: ["agent1 said A1"], "tools": tools}).text
        final = c.post(server.url + "/h", json={key: ["present"]}).text
    assert "new_answer" in first and "\"vote\"" in second
    assert "A" in final and "new_answer" not in final


def test_backends_check_needs_a_config_or_a_backend():
    from massgen_core.cli.backends_cmd import backends

    result = CliRunner().invoke(backends, ["check"])
    assert result.exit_code != 0 and "--config" in str(result.exception)


def test_config_without_overrides_and_agents_without_backend_are_handled(tmp_path):
    from types import SimpleNamespace

    from massgen_core.cli.backends_cmd import _agents, _load

    config = tmp_path / "c.yaml"
    config.write_text("agents:\n  - id: one\n    backend: {type: ollama, model: m}\n")
    loaded = _load(str(config), None, None, None)
    assert [a for a, _ in _agents(loaded)] == ["one"]
    fake = SimpleNamespace(agents=[SimpleNamespace(id="x", agents=(), backend=None)])
    assert _agents(fake) == []


async def test_openai_chat_api_without_options_sends_only_the_basics(server):
    from massgen_openai import OpenAIBackend

    server.add("POST", "/v1/chat/completions", chat_stream(["hi"]))
    b = OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", api_key="sk-testtesttest1",
                                    base_url=server.url + "/v1", options={"api": "chat_completions",
                                                                          "reasoning": {"effort": "low"}}))
    await collect(b)
    body = server.requests[0].json()
    assert not {"reasoning_effort", "verbosity", "web_search_options", "parallel_tool_calls"} & set(body)
