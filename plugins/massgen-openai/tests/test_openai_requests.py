"""The openai backend: request bodies of both APIs, option handling, legacy configs, health."""

from __future__ import annotations

import json

import pytest
from massgen_openai import OpenAIBackend, OpenAIOptions

from massgen_core.backend import BackendContext, FunctionSpec, Message, Request, ToolCall
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.http import BadRequestError, ContextLengthError, OutputTruncatedError, StreamError, aclose_all
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.collect import ask, collect
from massgen_core.testing.openai import chat_stream, models_response, responses_events, responses_stream

KEY = "sk-openai-test-0123456789"
TOOL = FunctionSpec(name="get_weather", description="Weather", parameters={"type": "object", "properties": {}})
CONVERSATION = Request(
    messages=(
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in Paris?"),
        Message(role="assistant", content="", tool_calls=(ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"}),)),
        Message(role="tool", content="sunny", tool_call_id="call_1", name="get_weather"),
    ),
    tools=(TOOL,),
)


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    await aclose_all()


def backend(server, model="gpt-4o", **kw):
    options = kw.pop("options", {})
    return OpenAIBackend(BackendConfig(type="openai", model=model, api_key=KEY, base_url=server.url + "/v1",
                                       max_retries=0, options=options, **kw), BackendContext(agent_id="a"))


async def test_responses_api_is_the_default_and_maps_the_conversation(server):
    server.add("POST", "/v1/responses", responses_stream(["Sunny."]))
    got = await collect(backend(server, temperature=0.3, max_tokens=500), CONVERSATION)
    body = server.requests[0].json()
    assert got["text"] == "Sunny."
    assert body["instructions"] == "Be brief." and body["stream"] is True
    assert body["input"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]
    assert body["tools"] == [{"type": "function", "name": "get_weather", "description": "Weather",
                              "parameters": {"type": "object", "properties": {}}}]
    assert body["temperature"] == 0.3 and body["max_output_tokens"] == 500 and "reasoning" not in body
    assert server.requests[0].header("authorization") == f"Bearer {KEY}"


async def test_reasoning_models_get_no_temperature_and_a_reasoning_summary(server):
    server.add("POST", "/v1/responses", responses_stream(["ok"], reasoning_pieces=["Thinking", " hard"]))
    b = backend(server, model="gpt-5-mini", temperature=0.7,
                options={"reasoning": {"effort": "minimal"}, "text": {"verbosity": "low"}})
    got = await collect(b)
    body = server.requests[0].json()
    assert "temperature" not in body
    assert body["reasoning"] == {"summary": "auto", "effort": "minimal"} and body["text"] == {"verbosity": "low"}
    assert got["reasoning"] == "Thinking hard"


async def test_builtin_tools_are_requested_and_their_progress_reported(server):
    events = responses_events(["Found it."])
    events.insert(1, ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                                     "item": {"id": "ws_1", "type": "web_search_call", "status": "in_progress"}}))
    events.insert(2, ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                                    "item": {"id": "ws_1", "type": "web_search_call", "status": "completed",
                                                             "action": {"query": "q"}}}))
    server.add("POST", "/v1/responses", Response.sse(events))
    b = backend(server, options={"enable_web_search": True, "enable_code_interpreter": True, "store": False,
                                 "parallel_tool_calls": False})
    got = await collect(b, Request(messages=(Message(role="user", content="q"),), tools=(TOOL,)))
    body = server.requests[0].json()
    assert {"type": "web_search"} in body["tools"]
    assert {"type": "code_interpreter", "container": {"type": "auto"}} in body["tools"]
    assert body["store"] is False and body["parallel_tool_calls"] is False
    builtin = [(c.tool, c.status) for c in got["chunks"] if type(c).__name__ == "BuiltinToolChunk"]
    assert builtin == [("web_search", "started"), ("web_search", "completed")]


async def test_usage_is_priced_from_the_table_and_config_overrides_it(server):
    server.add("POST", "/v1/responses", responses_stream(["x"], usage=(1_000_000, 1_000_000)))
    got = await collect(backend(server, model="gpt-4o-mini"))
    assert got["usage"].cost_usd == pytest.approx(0.15 + 0.60)
    got = await collect(backend(server, model="gpt-4o-mini", input_price_per_mtok=1.0, output_price_per_mtok=2.0))
    assert got["usage"].cost_usd == pytest.approx(3.0)


async def test_incomplete_response_finishes_with_its_reason(server):
    events = responses_events(["cut"])
    events[-1] = ("response.incomplete", {"type": "response.incomplete", "response": {
        "model": "gpt-4o", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
        "usage": {"input_tokens": 3, "output_tokens": 4}}})
    server.add("POST", "/v1/responses", Response.sse(events))
    got = await collect(backend(server))
    assert got["done"].finish_reason == "max_output_tokens" and got["usage"].output_tokens == 4


async def test_failed_response_raises_its_typed_error(server):
    events = responses_events([])[:1] + [("response.failed", {"type": "response.failed", "response": {
        "status": "failed", "usage": {"input_tokens": 1, "output_tokens": 0},
        "error": {"code": "context_length_exceeded", "message": "Your input exceeds the context window"}}})]
    server.add("POST", "/v1/responses", Response.sse(events))
    with pytest.raises(ContextLengthError, match="exceeds the context window"):
        await collect(backend(server))


async def test_error_event_raises_and_refusal_is_reported(server):
    server.add("POST", "/v1/responses", Response.sse([("error", {"type": "error", "code": "invalid_prompt",
                                                                 "message": "Invalid prompt"})]))
    with pytest.raises(BadRequestError, match="Invalid prompt"):
        await collect(backend(server))
    events = responses_events([])
    events.insert(1, ("response.refusal.delta", {"type": "response.refusal.delta", "delta": "I can't help."}))
    server.add("POST", "/v1/responses", Response.sse(events))
    got = await collect(backend(server))
    assert got["text"] == "" and any(getattr(c, "data", {}).get("text") == "I can't help." for c in got["chunks"])


async def test_stream_without_completion_or_with_garbage_is_a_stream_error(server):
    server.add("POST", "/v1/responses", Response.sse(responses_events(["a"])[:-1]))
    with pytest.raises(StreamError, match="response.completed"):
        await collect(backend(server))
    server.add("POST", "/v1/responses", Response.sse([b"event: x\ndata: {oops\n\n"]))
    with pytest.raises(StreamError, match="malformed"):
        await collect(backend(server))
    server.add("POST", "/v1/responses", Response.sse(["[1]"]))
    with pytest.raises(StreamError, match="malformed"):
        await collect(backend(server))


async def test_chat_completions_api_on_request(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["hi"]))
    b = backend(server, model="o3-mini", temperature=0.5, max_tokens=300,
                options={"api": "chat_completions", "reasoning": {"effort": "high"}, "text": {"verbosity": "low"},
                         "enable_web_search": True, "parallel_tool_calls": True})
    got = await collect(b, CONVERSATION)
    body = server.requests[0].json()
    assert got["text"] == "hi"
    assert body["max_completion_tokens"] == 300 and "temperature" not in body
    assert body["reasoning_effort"] == "high" and body["verbosity"] == "low" and body["web_search_options"] == {}
    assert body["parallel_tool_calls"] is True
    assert body["messages"][2]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    assert body["tools"][0]["function"]["name"] == "get_weather" and body["tool_choice"] == "auto"


def test_options_reject_unknown_keys_and_bad_api():
    with pytest.raises(MassGenError, match="did you mean 'enable_web_search'"):
        OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", options={"enable_websearch": True}))
    with pytest.raises(MassGenError, match="invalid options"):
        OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", options={"api": "completions"}))


def test_model_patterns_claim_openai_models():
    assert all(OpenAIBackend.serves_model(m) for m in ("gpt-4o", "o1-preview", "o3", "o4-mini", "chatgpt-4o-latest"))
    assert not OpenAIBackend.serves_model("claude-3")


def test_every_legacy_openai_config_loads_and_builds(shared_dir, installed_plugins):
    from massgen_core import config as cfg
    from massgen_core.backend_factory import create_backend

    built = 0
    for path in sorted((shared_dir / "legacy-configs").glob("*.yaml")):
        config = cfg.load_config(path, manager=installed_plugins)
        for agent in config.agents:
            if agent.backend is not None and agent.backend.type == "openai":
                b = create_backend(agent.backend, None, installed_plugins)
                assert isinstance(b.options, OpenAIOptions)
                built += 1
    assert built >= 30


async def test_health_check_lists_models_and_sends_the_key(server):
    server.add("GET", "/v1/models", models_response(["gpt-4o", "gpt-5"]))
    health = await backend(server).health_check()
    assert health.ok and health.models == ("gpt-4o", "gpt-5")
    assert server.requests[0].header("authorization") == f"Bearer {KEY}"


async def test_health_check_statuses(server):
    server.add("GET", "/v1/models", Response.json({"error": {"message": "slow down"}}, status=429))
    assert (await backend(server).health_check()).status == "rate_limited"
    server.add("GET", "/v1/models", Response.json({"error": {"message": "no"}}, status=500))
    assert (await backend(server).health_check()).status == "down"
    server.add("GET", "/v1/models", Response(chunks=(b"not json",)))
    assert (await backend(server).health_check()).models == ()
    server.add("GET", "/v1/models", Response(hang=True))
    slow = await backend(server, health_timeout=0.2).health_check()
    assert slow.status == "timeout" and 0.15 <= slow.latency_s < 1.0


async def test_health_check_of_an_unreachable_server_is_down():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    b = OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1"))
    result = await b.health_check()
    assert result.status == "down" and "base_url" in result.error


async def test_non_streamed_request_json_is_valid(server):
    server.add("POST", "/v1/responses", responses_stream(["x"]))
    await collect(backend(server))
    assert json.loads(server.requests[0].body)["model"] == "gpt-4o"


# -- on the shared HTTP layer: kept-alive connections, answers cut off at the token limit ---------

@pytest.mark.parametrize("api", ["responses", "chat_completions"])
async def test_twenty_sequential_requests_use_one_connection(server, api):
    server.add("POST", "/v1/responses", responses_stream(["hi"], tool_calls=[("c1", "lookup", ['{"q":', "1}"])]))
    server.add("POST", "/v1/chat/completions", chat_stream(["hi"]))
    b = backend(server, "gpt-4o-mini", options={"api": api})
    for _ in range(20):
        assert (await collect(b))["text"] == "hi"
    assert len(server.requests) == 20 and server.connections == 1


async def test_concurrent_responses_requests_open_one_connection_each_at_most(server):
    import asyncio

    server.add("POST", "/v1/responses", responses_stream(["a", "b"], chunk_delay=0.02))
    b = backend(server, "gpt-4o-mini")
    for _ in range(3):
        await asyncio.gather(*(collect(b) for _ in range(3)))
    assert len(server.requests) == 9 and server.connections == 3


async def test_a_responses_answer_incomplete_at_max_output_tokens_with_tools_is_an_error(server):
    events = responses_events([], tool_calls=[("c1", "lookup", ['{"q": "unfin'])], status="incomplete")
    name, payload = events[-1]
    payload["response"]["incomplete_details"] = {"reason": "max_output_tokens"}
    server.add("POST", "/v1/responses", Response.sse(events))
    with pytest.raises(OutputTruncatedError, match="max_tokens 50"):
        await collect(backend(server, "gpt-4o-mini", max_tokens=50), ask(tools=(TOOL,)))


async def test_a_chat_answer_with_finish_reason_length_and_tools_is_an_error(server):
    server.add("POST", "/v1/chat/completions",
               chat_stream([], tool_calls=[("c1", "lookup", ['{"q": "unfin'])], finish_reason="length"))
    with pytest.raises(OutputTruncatedError, match="finish reason 'length'"):
        await collect(backend(server, "gpt-4o-mini", options={"api": "chat_completions"}), ask(tools=(TOOL,)))
    assert len(server.requests) == 1  # not retried
