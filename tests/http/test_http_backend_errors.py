"""An HTTP backend against a loopback server: errors, retries, timeouts, cut-offs, keys."""

from __future__ import annotations

import time

import pytest

from massgen_core.backend import BackendContext, TextDelta
from massgen_core.config.schema import BackendConfig
from massgen_core.events import BackendRetry
from massgen_core.http import (
    AuthenticationError,
    BackendConnectionError,
    BackendTimeoutError,
    BadRequestError,
    ContentFilterError,
    ContextLengthError,
    MissingKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
)
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.testing import Response
from massgen_core.testing.collect import collect
from massgen_core.testing.openai import chat_events, chat_stream, error_response

KEY = "sk-secret-abcdefghijklmnop"


class KeyedChat(ChatCompletionsBackend):
    name = "keyed"
    key_env = ("KEYED_API_KEY",)


def make(server, events=None, **kw):
    cfg = dict(type="keyed", model="m-1", api_key=KEY, base_url=server.url + "/v1", max_retries=0,
               retry_initial_delay=0.0)
    cfg.update(kw)
    return KeyedChat(BackendConfig(**cfg), BackendContext(agent_id="alice", emit=(events.append if events is not None else None)))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": {"message": "Invalid value for temperature", "type": "invalid_request_error", "code": None}}, BadRequestError),
        (400, {"error": {"message": "This model's maximum context length is 8192 tokens", "type": "invalid_request_error", "code": "context_length_exceeded"}}, ContextLengthError),
        (400, {"error": {"message": "Your request was rejected", "type": "invalid_request_error", "code": "content_policy_violation"}}, ContentFilterError),
        (401, {"error": {"message": "Incorrect API key provided: sk-secr**********mnop.", "type": "invalid_request_error", "code": "invalid_api_key"}}, AuthenticationError),
        (403, {"error": {"message": "Country, region, or territory not supported", "type": "request_forbidden", "code": "unsupported_country_region_territory"}}, PermissionDeniedError),
        (404, {"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error", "code": "model_not_found"}}, NotFoundError),
        (500, {"error": {"message": "The server had an error while processing your request.", "type": "server_error", "code": None}}, OverloadedError),
        (503, {"error": {"message": "The engine is currently overloaded", "type": "server_error", "code": None}}, OverloadedError),
    ],
)
async def test_error_status_raises_its_typed_error_naming_who_and_what_to_do(server, status, body, expected):
    server.add("POST", "/v1/chat/completions", Response.json(body, status=status))
    with pytest.raises(expected) as info:
        await collect(make(server))
    message = str(info.value)
    assert type(info.value) is expected
    assert "agent alice" in message and "keyed backend" in message and "m-1" in message
    assert server.url + "/v1" in message
    assert body["error"]["message"].split(":")[0] in message
    assert KEY not in message and info.value.status == status


async def test_missing_key_is_raised_before_any_request_naming_the_variable(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    backend = make(server, api_key=None)
    with pytest.raises(MissingKeyError) as info:
        await collect(backend)
    assert "KEYED_API_KEY" in str(info.value)
    assert server.requests == []


async def test_key_comes_from_the_environment_and_is_sent_as_bearer(server, monkeypatch):
    monkeypatch.setenv("KEYED_API_KEY", "env-key-123456")
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    await collect(make(server, api_key=None))
    assert server.requests[0].header("authorization") == "Bearer env-key-123456"


async def test_key_comes_from_a_dotenv_file_in_the_current_directory(server, monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("KEYED_API_KEY=dotenv-key-7890\n")
    monkeypatch.chdir(tmp_path)
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    await collect(make(server, api_key=None))
    assert server.requests[0].header("authorization") == "Bearer dotenv-key-7890"


async def test_key_comes_from_the_dotenv_file_in_the_user_config_dir(server, monkeypatch, tmp_path):
    from massgen_core.paths import config_dir

    monkeypatch.chdir(tmp_path)
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / ".env").write_text("OTHER=1\nKEYED_API_KEY=home-key-555555\n")
    server.add("POST", "/v1/chat/completions", chat_stream(["x"]))
    await collect(make(server, api_key=None))
    assert server.requests[0].header("authorization") == "Bearer home-key-555555"


async def test_rate_limit_waits_at_least_retry_after_and_emits_a_retry_event(server):
    events = []
    server.add("POST", "/v1/chat/completions",
               error_response(429, "Rate limit reached", retry_after="0.3"), chat_stream(["ok"]))
    t0 = time.monotonic()
    got = await collect(make(server, events, max_retries=2, retry_initial_delay=0.01, retry_max_delay=0.01))
    waited = server.requests[1].received_at - server.requests[0].received_at
    assert got["text"] == "ok"
    assert waited >= 0.3 and time.monotonic() - t0 >= 0.3
    assert len(events) == 1 and isinstance(events[0], BackendRetry)
    assert events[0].delay_s >= 0.3 and events[0].attempt == 1 and not events[0].restart
    assert events[0].agent_id == "alice" and "rate limited" in events[0].error and KEY not in events[0].error


async def test_retry_after_as_an_http_date_is_honoured(server):
    from email.utils import formatdate

    server.add("POST", "/v1/chat/completions",
               error_response(429, retry_after=formatdate(time.time() + 1.2, usegmt=True)), chat_stream(["ok"]))
    got = await collect(make(server, max_retries=1))
    assert got["text"] == "ok"
    assert server.requests[1].received_at - server.requests[0].received_at >= 0.15


async def test_rate_limit_after_the_last_retry_is_raised_with_its_retry_after(server):
    server.add("POST", "/v1/chat/completions", error_response(429, "slow down", retry_after="0"))
    with pytest.raises(RateLimitError) as info:
        await collect(make(server, max_retries=2))
    assert len(server.requests) == 3 and info.value.attempts == 3
    assert info.value.retry_after == 0.0


async def test_non_retryable_errors_are_not_retried(server):
    server.add("POST", "/v1/chat/completions", error_response(401, "bad key"))
    with pytest.raises(AuthenticationError):
        await collect(make(server, max_retries=3))
    assert len(server.requests) == 1


async def test_overloaded_server_is_retried_transparently_until_it_answers(server):
    events = []
    server.add("POST", "/v1/chat/completions", error_response(503), error_response(502), chat_stream(["fine"]))
    got = await collect(make(server, events, max_retries=3))
    assert got["text"] == "fine"
    assert [e.attempt for e in events] == [1, 2]


async def test_slow_first_byte_beyond_the_timeout_is_a_timeout_error(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["late"], first_byte_delay=1.0))
    with pytest.raises(BackendTimeoutError) as info:
        await collect(make(server, timeout=0.2))
    assert "timeout" in str(info.value)


async def test_slow_first_byte_within_the_timeout_is_fine(server):
    server.add("POST", "/v1/chat/completions", chat_stream(["late"], first_byte_delay=0.2))
    got = await collect(make(server, timeout=2))
    assert got["text"] == "late"


async def test_refused_connection_is_a_connection_error_saying_check_base_url():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    backend = KeyedChat(BackendConfig(type="keyed", model="m", api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1",
                                      max_retries=0))
    with pytest.raises(BackendConnectionError) as info:
        await collect(backend)
    assert "base_url" in str(info.value)


async def test_stream_cut_off_before_output_is_retried_transparently(server):
    events = []
    cut = Response.sse(chat_events([])[:1], cut_off=True)
    server.add("POST", "/v1/chat/completions", cut, chat_stream(["whole"]))
    got = await collect(make(server, events, max_retries=1))
    assert got["text"] == "whole"
    assert len(events) == 1 and events[0].restart is False


async def test_stream_cut_off_after_output_raises_marking_output_started(server):
    cut = Response.sse(chat_events(["par", "tial", "never"])[:3], cut_off=True)
    server.add("POST", "/v1/chat/completions", cut, chat_stream(["whole"]))
    seen = []
    with pytest.raises(StreamError) as info:
        async for chunk in make(server, max_retries=2).stream(__import__("massgen_core.testing.collect", fromlist=["ask"]).ask()):
            seen.append(chunk)
    assert info.value.output_started is True
    assert [c.text for c in seen if isinstance(c, TextDelta)] == ["par", "tial"]
    assert len(server.requests) == 1


async def test_stream_ending_without_done_or_finish_reason_is_a_stream_error(server):
    server.add("POST", "/v1/chat/completions", Response.sse(chat_events(["a", "b"])[:3]))
    with pytest.raises(StreamError) as info:
        await collect(make(server))
    assert "ended before" in str(info.value)


async def test_malformed_event_is_a_stream_error(server):
    events = chat_events(["a"])
    events.insert(2, b"data: {not json\n\n")
    server.add("POST", "/v1/chat/completions", Response.sse(events))
    with pytest.raises(StreamError) as info:
        await collect(make(server))
    assert "malformed event" in str(info.value)


async def test_event_that_is_not_an_object_is_a_stream_error(server):
    server.add("POST", "/v1/chat/completions", Response.sse([[1, 2], "[DONE]"]))
    with pytest.raises(StreamError):
        await collect(make(server))


async def test_non_json_error_body_keeps_the_server_text(server):
    server.add("POST", "/v1/chat/completions", Response(status=502, chunks=(b"<html>Bad gateway</html>",)))
    with pytest.raises(OverloadedError) as info:
        await collect(make(server))
    assert "Bad gateway" in str(info.value)


async def test_non_json_answer_to_a_non_streamed_request_is_a_stream_error(server):
    import attrs

    server.add("POST", "/v1/chat/completions", Response(chunks=(b"not json",)))
    backend = make(server)
    build = backend.build_http_request
    backend.build_http_request = lambda r: attrs.evolve(build(r), stream=False)
    with pytest.raises(StreamError):
        await collect(backend)


async def test_retry_after_also_holds_new_requests_with_the_same_key(server):
    server.add("POST", "/v1/chat/completions", error_response(429, "slow down", retry_after="0.3"), chat_stream(["ok"]))
    with pytest.raises(RateLimitError):
        await collect(make(server, max_retries=0))
    got = await collect(make(server, max_retries=0))  # a fresh request, e.g. from a restarted agent
    assert got["text"] == "ok"
    assert server.requests[1].received_at - server.requests[0].received_at >= 0.3


async def test_retry_after_hold_does_not_apply_to_other_keys(server):
    server.add("POST", "/v1/chat/completions", error_response(429, "slow down", retry_after="5"), chat_stream(["ok"]))
    with pytest.raises(RateLimitError):
        await collect(make(server, max_retries=0))
    t0 = time.monotonic()
    await collect(make(server, max_retries=0, api_key="sk-another-key-000000000"))
    assert time.monotonic() - t0 < 2


# -- Retry-After beyond max_retry_wait ------------------------------------------------------------


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(server):
    import asyncio

    events = []
    server.add("POST", "/v1/chat/completions", error_response(429, "quota", retry_after="3600"), chat_stream(["ok"]))
    async with asyncio.timeout(30):  # a safety net: the old code slept for the hour
        with pytest.raises(RateLimitError) as info:
            await collect(make(server, events, max_retries=3))
    assert len(server.requests) == 1 and events == []
    assert info.value.retry_after == 3600 and info.value.attempts == 1
    assert "asked to wait 3600 s, more than max_retry_wait (60 s)" in str(info.value)


async def test_max_retry_wait_sets_the_cap(server):
    events = []
    server.add("POST", "/v1/chat/completions", error_response(429, "slow", retry_after="0.2"), chat_stream(["ok"]))
    with pytest.raises(RateLimitError, match=r"more than max_retry_wait \(0.1 s\)"):
        await collect(make(server, events, max_retries=3, max_retry_wait=0.1))
    assert len(server.requests) == 1
    # within the cap the hold that answer left is waited out, and the next request succeeds
    assert (await collect(make(server, events, max_retries=3, max_retry_wait=1)))["text"] == "ok"
    assert len(server.requests) == 2 and events == []


async def test_a_long_hold_from_an_earlier_answer_fails_new_requests_without_sending_them(server):
    import asyncio

    server.add("POST", "/v1/chat/completions", error_response(429, "quota", retry_after="3600"), chat_stream(["ok"]))
    with pytest.raises(RateLimitError, match="max_retry_wait"):  # said even with no retries configured
        await collect(make(server))
    async with asyncio.timeout(30):
        with pytest.raises(RateLimitError, match="an earlier answer asked to wait"):
            await collect(make(server, max_retries=2))  # e.g. a restarted agent, same key
    assert len(server.requests) == 1


def test_the_retry_policy_reads_max_retry_wait_with_a_60_second_default():
    from massgen_core.http.retry import RetryPolicy

    assert RetryPolicy.from_config(BackendConfig()).max_wait == 60.0
    assert RetryPolicy.from_config(BackendConfig(max_retry_wait=5)).max_wait == 5.0


async def test_an_http_400_is_fatal_and_not_retried(server):
    server.add("POST", "/v1/chat/completions", error_response(400, "Unsupported parameter: 'temperature'"))
    with pytest.raises(BadRequestError) as info:
        await collect(make(server, max_retries=3))
    assert info.value.fatal and len(server.requests) == 1
    assert str(info.value).count("Unsupported parameter") == 1


async def test_the_final_failure_text_does_not_promise_a_retry(server):
    server.add("POST", "/v1/chat/completions", error_response(503, "overloaded"))
    with pytest.raises(OverloadedError) as info:
        await collect(make(server, max_retries=1))
    text = str(info.value)
    assert "retried automatically" not in text and "(after 2 attempts)" in text and "configure a fallback" in text
    server.add("POST", "/v1/chat/completions", Response.sse(chat_events(["half"])[:2], cut_off=True))
    with pytest.raises(StreamError) as info:
        await collect(make(server))
    assert "retried automatically" not in str(info.value)


def test_content_filter_refusals_are_fatal_but_blocked_answers_are_not():
    assert ContentFilterError("refused", status=400).fatal
    assert not ContentFilterError("blocked mid-stream").fatal
