"""What the Messages API receives: body shape, headers, options, and the health probe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from massgen_claude import ClaudeBackend, ClaudeOptions
from ruamel.yaml import YAML

from massgen_core.backend import FunctionSpec, Message, Request, ToolCall
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.http import parse_options
from massgen_core.testing.anthropic import (
    error_response,
    message_events,
    models_response,
    stream_response,
)
from massgen_core.testing.server import Response

WEATHER = FunctionSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def _send(server, backend, collect, request: Request) -> dict[str, Any]:
    server.messages(stream_response(message_events(text="ok")))
    await collect(backend, request)
    return server.received()[-1]


async def test_post_goes_to_v1_messages_with_key_version_and_stream(server, make_backend, collect, ask):
    body = await _send(server, make_backend(), collect, ask())
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.header("x-api-key") == "sk-ant-test-0123456789abcdef"
    assert request.header("anthropic-version") == "2023-06-01"
    assert request.header("authorization") is None
    assert body["stream"] is True
    assert body["model"] == "claude-sonnet-4-20250514"


async def test_max_tokens_defaults_to_8192(server, make_backend, collect, ask):
    body = await _send(server, make_backend(), collect, ask())
    assert body["max_tokens"] == 8192


async def test_claude_3_models_default_to_their_4096_output_cap(server, make_backend, collect, ask):
    body = await _send(server, make_backend(model="claude-3-haiku-20240307"), collect, ask())
    assert body["max_tokens"] == 4096


async def test_max_tokens_and_temperature_from_config_are_sent(server, make_backend, collect, ask):
    body = await _send(server, make_backend(max_tokens=1000, temperature=0.3), collect, ask())
    assert (body["max_tokens"], body["temperature"]) == (1000, 0.3)


async def test_system_messages_become_the_top_level_system(server, make_backend, collect):
    request = Request(messages=(
        Message(role="system", content="Be brief."),
        Message(role="system", content="Answer in French."),
        Message(role="user", content="Hi"),
    ))
    body = await _send(server, make_backend(), collect, request)
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert [m["role"] for m in body["messages"]] == ["user"]


async def test_function_tools_are_sent_with_input_schema_and_tool_choice(server, make_backend, collect):
    request = Request(messages=(Message(role="user", content="Weather?"),), tools=(WEATHER,), tool_choice="required")
    body = await _send(server, make_backend(), collect, request)
    assert body["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                              "input_schema": dict(WEATHER.parameters)}]
    assert body["tool_choice"] == {"type": "any"}


async def test_tool_calls_and_results_become_tool_use_and_tool_result_blocks(server, make_backend, collect):
    call_a = ToolCall(id="toolu_a", name="get_weather", arguments={"city": "Paris"})
    call_b = ToolCall(id="toolu_b", name="get_weather", arguments=None)
    request = Request(messages=(
        Message(role="user", content="Weather in Paris and Rome?"),
        Message(role="assistant", content="Checking.", tool_calls=(call_a, call_b)),
        Message(role="tool", tool_call_id="toolu_a", name="get_weather", content="sunny"),
        Message(role="tool", tool_call_id="toolu_b", name="get_weather", content="rain"),
        Message(role="user", content="Thanks, and?"),
    ), tools=(WEATHER,))
    body = await _send(server, make_backend(), collect, request)
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "toolu_b", "content": "rain"},
            {"type": "text", "text": "Thanks, and?"},
        ]},
    ]


async def test_web_search_is_added_as_a_server_tool(server, make_backend, collect, ask):
    backend = make_backend(options={"enable_web_search": True, "web_search_max_uses": 3})
    body = await _send(server, backend, collect, ask())
    assert body["tools"] == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    assert "tool_choice" not in body


async def test_code_execution_adds_the_server_tool_and_its_beta_header(server, make_backend, collect, ask):
    backend = make_backend(options={"enable_code_execution": True, "anthropic_beta": ["other-beta"]})
    body = await _send(server, backend, collect, ask())
    assert body["tools"] == [{"type": "code_execution_20250522", "name": "code_execution"}]
    assert server.requests[-1].header("anthropic-beta") == "other-beta,code-execution-2025-05-22"


async def test_no_beta_header_without_beta_features(server, make_backend, collect, ask):
    await _send(server, make_backend(), collect, ask())
    assert server.requests[-1].header("anthropic-beta") is None


async def test_thinking_budget_enables_thinking_and_drops_temperature(server, make_backend, collect):
    backend = make_backend(temperature=0.5, max_tokens=2000, options={"thinking_budget": 4096, "top_k": 5})
    request = Request(messages=(Message(role="user", content="Hi"),), tools=(WEATHER,), tool_choice="required")
    body = await _send(server, backend, collect, request)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert "temperature" not in body and "top_k" not in body
    assert body["max_tokens"] > 4096
    assert body["tool_choice"] == {"type": "auto"}


async def test_sampling_options_are_sent(server, make_backend, collect, ask):
    backend = make_backend(options={"top_p": 0.9, "top_k": 40, "stop_sequences": ["END"]})
    body = await _send(server, backend, collect, ask())
    assert (body["top_p"], body["top_k"], body["stop_sequences"]) == (0.9, 40, ["END"])


async def test_thinking_blocks_are_replayed_before_the_tool_use_they_led_to(server, make_backend, collect, ask):
    backend = make_backend(options={"thinking_budget": 2048})
    events = message_events(thinking="I should look.", tool_calls=[("toolu_t", "get_weather", {"city": "Oslo"})])
    server.messages(stream_response(events))
    await collect(backend, ask())
    call = ToolCall(id="toolu_t", name="get_weather", arguments={"city": "Oslo"})
    followup = Request(messages=(
        Message(role="user", content="Hi"),
        Message(role="assistant", tool_calls=(call,)),
        Message(role="tool", tool_call_id="toolu_t", content="cold"),
    ))
    body = await _send(server, backend, collect, followup)
    assert body["messages"][1]["content"][0] == {"type": "thinking", "thinking": "I should look.",
                                                 "signature": "sig_fake"}
    assert body["messages"][1]["content"][1]["type"] == "tool_use"


async def test_custom_base_url_is_the_host_root(server, make_backend, collect, ask):
    await _send(server, make_backend(base_url=server.base_url + "/"), collect, ask())
    assert server.requests[-1].path == "/v1/messages"


# -- options and registration --------------------------------------------------


def test_options_accept_every_claude_key_in_the_legacy_configs(shared_dir: Path):
    shared = {f.name for f in attrs.fields(BackendConfig)}
    seen = 0
    for path in sorted((shared_dir / "legacy-configs").glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text())
        agents = data.get("agents") or [data.get("agent")]
        for agent in agents:
            backend = agent.get("backend") or {}
            if backend.get("type") != "claude":
                continue
            extra = {k: v for k, v in backend.items() if k not in shared}
            options = parse_options(ClaudeOptions, extra, "claude")
            assert all(getattr(options, k) == v for k, v in extra.items())
            seen += 1
    assert seen >= 3


def test_unknown_option_is_an_error_with_a_suggestion():
    with pytest.raises(MassGenError, match="enable_web_search"):
        ClaudeBackend(BackendConfig(type="claude", model="claude-x", options={"enable_websearch": True}))


def test_thinking_budget_below_the_minimum_is_rejected():
    with pytest.raises(MassGenError, match="1024"):
        ClaudeBackend(BackendConfig(type="claude", model="claude-x", options={"thinking_budget": 100}))


def test_claude_type_is_registered_lazily_and_serves_claude_models(installed_plugins):
    cls = installed_plugins.backends.get("claude")
    assert cls.Options is ClaudeOptions and cls.model_patterns == ("claude-*",)
    assert cls.load() is ClaudeBackend  # the declaration agrees with the class
    assert cls.serves_model("claude-sonnet-4-20250514") and cls.serves_model("Claude-3-5-Haiku-20241022")
    assert not cls.serves_model("gpt-4o")


def test_price_table_covers_current_models():
    from massgen_core.http.pricing import lookup_price

    for model, (inp, out) in {
        "claude-opus-4-1-20250805": (15.0, 75.0),
        "claude-opus-4-5-20251101": (5.0, 25.0),
        "claude-sonnet-4-5-20250929": (3.0, 15.0),
        "claude-haiku-4-5-20251001": (1.0, 5.0),
        "claude-3-5-haiku-20241022": (0.8, 4.0),
    }.items():
        price = lookup_price(ClaudeBackend.price_table, model)
        assert price is not None and (price.input, price.output) == (inp, out), model


# -- health ----------------------------------------------------------------------


async def test_health_check_lists_models_with_the_key(server, make_backend):
    server.models(models_response(["claude-sonnet-4-20250514", "claude-haiku-4-5"]))
    result = await make_backend().health_check()
    assert (result.ok, result.status) == (True, "ok")
    assert result.models == ("claude-sonnet-4-20250514", "claude-haiku-4-5")
    request = server.requests[-1]
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.header("x-api-key") == "sk-ant-test-0123456789abcdef"


async def test_health_check_reports_a_rejected_key_as_unauthorized(server, make_backend):
    server.models(error_response(401, "invalid x-api-key"))
    result = await make_backend().health_check()
    assert (result.ok, result.status) == (False, "unauthorized")


async def test_health_check_times_out_at_the_health_timeout(server, make_backend):
    server.models(Response(hang=True))
    result = await make_backend(health_timeout=0.2).health_check()
    assert (result.ok, result.status) == (False, "timeout")
    assert result.latency_s is not None and result.latency_s < 2


def test_empty_turns_are_left_out_because_the_api_rejects_empty_content():
    from massgen_claude.wire import convert_messages

    messages = (Message(role="user", content="Hi"), Message(role="assistant", content=""),
                Message(role="user", content="Still there?"))
    assert convert_messages(messages, {}) == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "Still there?"}]}
    ]
