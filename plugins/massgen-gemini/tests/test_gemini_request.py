"""What Gemini receives: URL, key header, contents, tools, functionResponse parts, options; and health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from massgen_gemini import GeminiBackend, GeminiOptions
from massgen_gemini.wire import clean_schema
from ruamel.yaml import YAML

from massgen_core.backend import FunctionSpec, Message, Request, ToolCall, ToolCallChunk
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.http import parse_options
from massgen_core.testing.gemini import (
    error_response,
    models_response,
    response_chunks,
    stream_response,
)
from massgen_core.testing.server import Response

MODEL = "gemini-2.5-flash"
WEATHER = FunctionSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": ["string", "null"], "enum": ["C", "F"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
)


async def _send(server, backend, collect, request: Request, model: str = MODEL) -> dict[str, Any]:
    server.stream(model, stream_response(response_chunks(text="ok")))
    await collect(backend, request)
    return server.received(model)[-1]


async def test_post_goes_to_stream_generate_content_with_alt_sse_and_key_header(server, make_backend, collect, ask):
    await _send(server, make_backend(), collect, ask())
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", f"/v1beta/models/{MODEL}:streamGenerateContent")
    assert request.query == {"alt": ["sse"]}
    assert request.header("x-goog-api-key") == "AIzaSyTEST-0123456789abcdefghijklmnop"
    assert request.header("authorization") is None


async def test_a_models_prefix_in_the_model_name_is_not_doubled(server, make_backend, collect, ask):
    await _send(server, make_backend(model=f"models/{MODEL}"), collect, ask())
    assert server.requests[-1].path == f"/v1beta/models/{MODEL}:streamGenerateContent"


async def test_system_messages_become_system_instruction(server, make_backend, collect):
    request = Request(messages=(Message(role="system", content="Be brief."), Message(role="user", content="Hi")))
    body = await _send(server, make_backend(), collect, request)
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


async def test_function_tools_become_function_declarations_with_a_gemini_schema(server, make_backend, collect):
    request = Request(messages=(Message(role="user", content="Weather?"),), tools=(WEATHER,), tool_choice="required")
    body = await _send(server, make_backend(), collect, request)
    assert body["tools"] == [{"functionDeclarations": [{
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "nullable": True, "enum": ["C", "F"]}},
            "required": ["city"],
        },
    }]}]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


async def test_a_function_without_parameters_omits_them(server, make_backend, collect):
    tool = FunctionSpec(name="now", description="Current time", parameters={"type": "object", "properties": {}})
    request = Request(messages=(Message(role="user", content="Time?"),), tools=(tool,), tool_choice="none")
    body = await _send(server, make_backend(), collect, request)
    assert body["tools"][0]["functionDeclarations"] == [{"name": "now", "description": "Current time"}]
    assert body["toolConfig"]["functionCallingConfig"]["mode"] == "NONE"


async def test_history_uses_model_role_function_call_and_function_response_parts(server, make_backend, collect):
    calls = (ToolCall(id="fc_1", name="get_weather", arguments={"city": "Paris"}),
             ToolCall(id="gemini_call_9_0", name="get_weather", arguments={"city": "Rome"}))
    request = Request(messages=(
        Message(role="user", content="Paris and Rome?"),
        Message(role="assistant", content="Checking.", tool_calls=calls),
        Message(role="tool", tool_call_id="fc_1", name="get_weather", content="sunny"),
        Message(role="tool", tool_call_id="gemini_call_9_0", content="rain"),
        Message(role="user", content="And?"),
    ), tools=(WEATHER,))
    body = await _send(server, make_backend(), collect, request)
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Paris and Rome?"}]},
        {"role": "model", "parts": [
            {"text": "Checking."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "fc_1"}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}, "id": "fc_1"}},
            {"functionResponse": {"name": "get_weather", "response": {"result": "rain"}}},
            {"text": "And?"},
        ]},
    ]


async def test_thought_signatures_are_sent_back_with_the_calls_they_came_with(server, make_backend, collect, ask):
    backend = make_backend()
    server.stream(MODEL, stream_response(response_chunks(function_calls=[("get_weather", {"city": "Oslo"})])))
    call = next(c.call for c in await collect(backend, ask()) if isinstance(c, ToolCallChunk))
    followup = Request(messages=(
        Message(role="user", content="Hi"),
        Message(role="assistant", tool_calls=(call,)),
        Message(role="tool", tool_call_id=call.id, name=call.name, content="cold"),
    ))
    body = await _send(server, backend, collect, followup)
    assert body["contents"][1]["parts"][0]["thoughtSignature"] == "c2lnX2Zha2U="


async def test_web_search_and_code_execution_become_builtin_tools(server, make_backend, collect, ask):
    backend = make_backend(options={"enable_web_search": True, "enable_code_execution": True})
    body = await _send(server, backend, collect, ask())
    assert body["tools"] == [{"googleSearch": {}}, {"codeExecution": {}}]
    assert "toolConfig" not in body


async def test_generation_options_are_sent_in_generation_config(server, make_backend, collect, ask):
    backend = make_backend(temperature=0.2, max_tokens=500, options={
        "top_p": 0.9, "top_k": 20, "stop_sequences": ["END"], "thinking_budget": 1024,
        "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    })
    body = await _send(server, backend, collect, ask())
    assert body["generationConfig"] == {
        "temperature": 0.2, "maxOutputTokens": 500, "topP": 0.9, "topK": 20, "stopSequences": ["END"],
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
    }
    assert body["safetySettings"] == [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]


async def test_zero_thinking_budget_turns_thinking_off(server, make_backend, collect, ask):
    body = await _send(server, make_backend(options={"thinking_budget": 0}), collect, ask())
    assert body["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 0}}


async def test_no_generation_config_when_nothing_is_set(server, make_backend, collect, ask):
    body = await _send(server, make_backend(options={"include_thoughts": False}), collect, ask())
    assert "generationConfig" not in body and "tools" not in body


async def test_thinking_models_are_asked_for_thought_summaries_by_default(server, make_backend, collect, ask):
    body = await _send(server, make_backend(), collect, ask())
    assert body["generationConfig"] == {"thinkingConfig": {"includeThoughts": True}}


async def test_models_before_2_5_get_no_thinking_config_by_default(server, make_backend, collect, ask):
    body = await _send(server, make_backend(model="gemini-2.0-flash"), collect, ask(), model="gemini-2.0-flash")
    assert "generationConfig" not in body


async def test_json_array_format_omits_alt_sse(server, make_backend, collect, ask):
    server.stream(MODEL, Response.json(response_chunks(text="ok")))
    await collect(make_backend(options={"stream_format": "json_array"}), ask())
    assert server.requests[-1].query == {}


def test_clean_schema_keeps_nested_items_and_any_of():
    schema = {"type": "array", "items": {"anyOf": [{"type": "string", "const": "x"}, {"type": ["null"]}]}}
    assert clean_schema(schema) == {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                          {"type": "string", "nullable": True}]}}


# -- options and registration --------------------------------------------------


def test_options_accept_every_gemini_key_in_the_legacy_configs(shared_dir: Path):
    shared = {f.name for f in attrs.fields(BackendConfig)}
    seen = 0
    for path in sorted((shared_dir / "legacy-configs").glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text())
        for agent in data.get("agents") or [data.get("agent")]:
            backend = agent.get("backend") or {}
            if backend.get("type") != "gemini":
                continue
            extra = {k: v for k, v in backend.items() if k not in shared}
            options = parse_options(GeminiOptions, extra, "gemini")
            assert all(getattr(options, k) == v for k, v in extra.items())
            seen += 1
    assert seen >= 5


def test_an_unknown_stream_format_is_rejected():
    with pytest.raises(MassGenError, match="stream_format"):
        GeminiBackend(BackendConfig(type="gemini", model=MODEL, options={"stream_format": "xml"}))


def test_gemini_type_is_registered_lazily_and_serves_gemini_models(installed_plugins):
    cls = installed_plugins.backends.get("gemini")
    assert cls.Options is GeminiOptions and cls.model_patterns == ("gemini-*",)
    assert cls.load() is GeminiBackend  # the declaration agrees with the class
    assert cls.serves_model("gemini-2.5-flash") and cls.serves_model("gemini-3-pro-preview")
    assert not cls.serves_model("claude-3-5-haiku")


def test_price_table_covers_current_models():
    from massgen_core.http.pricing import lookup_price

    for model, (inp, out) in {
        "gemini-2.5-pro": (1.25, 10.0),
        "gemini-2.5-flash": (0.30, 2.50),
        "gemini-2.5-flash-lite": (0.10, 0.40),
        "gemini-2.0-flash": (0.10, 0.40),
        "gemini-3-pro-preview": (2.0, 12.0),
    }.items():
        price = lookup_price(GeminiBackend.price_table, model)
        assert price is not None and (price.input, price.output) == (inp, out), model


# -- health ----------------------------------------------------------------------


async def test_health_check_lists_models_without_the_models_prefix(server, make_backend):
    server.models(models_response(["gemini-2.5-flash", "gemini-2.5-pro"]))
    result = await make_backend().health_check()
    assert (result.ok, result.status, result.models) == (True, "ok", ("gemini-2.5-flash", "gemini-2.5-pro"))
    request = server.requests[-1]
    assert (request.method, request.path) == ("GET", "/v1beta/models")
    assert request.header("x-goog-api-key") == "AIzaSyTEST-0123456789abcdefghijklmnop"


async def test_health_check_reports_an_invalid_key_as_unauthorized(server, make_backend):
    server.models(error_response(400, "API key not valid.", reason="API_KEY_INVALID"))
    result = await make_backend().health_check()
    assert (result.ok, result.status) == (False, "unauthorized")


async def test_health_check_times_out_at_the_health_timeout(server, make_backend):
    server.models(Response(hang=True))
    result = await make_backend(health_timeout=0.2).health_check()
    assert (result.ok, result.status) == (False, "timeout")


def test_empty_turns_are_left_out_because_the_api_rejects_empty_parts():
    from massgen_gemini.wire import convert_messages

    messages = (Message(role="user", content="Hi"), Message(role="assistant", content=""),
                Message(role="user", content="Still there?"))
    assert convert_messages(messages, {}) == [{"role": "user", "parts": [{"text": "Hi"}, {"text": "Still there?"}]}]
