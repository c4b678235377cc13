"""Anthropic error answers map onto the core's taxonomy; retries honour Retry-After; keys never leak."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from massgen_core.backend import TextDelta
from massgen_core.events import BackendRetry
from massgen_core.http import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    MissingKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
)
from massgen_core.testing.anthropic import error_response, message_events, stream_response

TEST_KEY = "sk-ant-test-0123456789abcdef"  # the key the make_backend fixture configures

STATUS_CASES = [
    (400, "invalid_request_error", "max_tokens: field required", BadRequestError),
    (400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum", ContextLengthError),
    (400, "invalid_request_error",
     "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000", ContextLengthError),
    (401, "authentication_error", "invalid x-api-key", AuthenticationError),
    (403, "permission_error", "Your API key does not have permission to use the specified resource.",
     PermissionDeniedError),
    (404, "not_found_error", "model: claude-nope", NotFoundError),
    (413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", ContextLengthError),
    (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", RateLimitError),
    (500, "api_error", "Internal server error", OverloadedError),
    (529, "overloaded_error", "Overloaded", OverloadedError),
]


@pytest.mark.parametrize(("status", "etype", "message", "cls"), STATUS_CASES,
                         ids=[f"{c[0]}-{c[3].__name__}" for c in STATUS_CASES])
async def test_http_error_status_maps_to_its_typed_error(server, make_backend, collect, status, etype, message, cls):
    server.messages(error_response(status, message, error_type=etype))
    with pytest.raises(cls) as info:
        await collect(make_backend())
    assert type(info.value) is cls
    assert info.value.status == status
    assert message[:20] in str(info.value)
    assert "claude" in str(info.value) and server.base_url in str(info.value)


async def test_rate_limit_reports_the_retry_after_the_server_gave(server, make_backend, collect):
    server.messages(error_response(429, "slow down", retry_after=7))
    with pytest.raises(RateLimitError) as info:
        await collect(make_backend())
    assert info.value.retry_after == 7
    assert info.value.retryable


async def test_429_is_retried_after_waiting_at_least_retry_after(server, make_backend, collect):
    server.messages(error_response(429, "slow down", retry_after=0.4), stream_response(message_events(text="ok")))
    events: list[Any] = []
    backend = make_backend(max_retries=2, events=events)
    start = time.monotonic()
    chunks = await collect(backend)
    assert time.monotonic() - start >= 0.4
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "ok"
    assert [(type(e), e.attempt, e.delay_s >= 0.4) for e in events] == [(BackendRetry, 1, True)]


async def test_overloaded_529_is_retried_and_each_retry_is_an_event(server, make_backend, collect):
    server.messages(error_response(529), error_response(529), stream_response(message_events(text="ok")))
    events: list[Any] = []
    await collect(make_backend(max_retries=3, events=events))
    assert [e.attempt for e in events] == [1, 2]
    assert all("overloaded" in e.error.lower() and e.agent_id == "agent1" for e in events)
    assert len(server.received()) == 3


async def test_non_retryable_errors_are_not_retried(server, make_backend, collect):
    server.messages(error_response(401, "invalid x-api-key"))
    with pytest.raises(AuthenticationError):
        await collect(make_backend(max_retries=3))
    assert len(server.received()) == 1


async def test_in_stream_error_event_raises_the_mapped_error(server, make_backend, collect):
    events = message_events(text="partial", stop=False)[:-1]
    events.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    server.messages(stream_response(events))
    with pytest.raises(OverloadedError) as info:
        await collect(make_backend())
    assert info.value.status is None
    assert info.value.output_started


async def test_in_stream_api_error_is_transient(server, make_backend, collect):
    start = message_events()[:1]
    server.messages(stream_response([*start, ("error", {"type": "error", "error": {
        "type": "api_error", "message": "Internal server error"}})]))
    with pytest.raises(OverloadedError):
        await collect(make_backend())


async def test_a_stream_failing_before_output_is_retried_transparently(server, make_backend, collect):
    server.messages(stream_response([], cut_off=True), stream_response(message_events(text="second try")))
    events: list[Any] = []
    chunks = await collect(make_backend(max_retries=1, events=events))
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "second try"
    assert [e.restart for e in events] == [False]


async def test_missing_key_names_the_variable_before_any_request(server, make_backend, collect):
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        await collect(make_backend(key=None))
    assert server.requests == []


async def test_key_from_the_environment_is_used(server, make_backend, collect, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-0123456789")
    server.messages(stream_response(message_events(text="ok")))
    await collect(make_backend(key=None))
    assert server.requests[0].header("x-api-key") == "sk-ant-from-env-0123456789"


async def test_key_never_appears_in_errors_or_debug_logs(server, make_backend, collect, caplog):
    server.messages(error_response(401, f"invalid x-api-key {TEST_KEY}"))
    backend = make_backend()
    backend.context.debug = True
    with caplog.at_level(logging.DEBUG, logger="massgen.http"), pytest.raises(AuthenticationError) as info:
        await collect(backend)
    assert caplog.records, "the debug log recorded the exchange"
    assert TEST_KEY not in caplog.text
    assert TEST_KEY not in str(info.value)
    assert "ANTHROPIC_API_KEY" in str(info.value)


async def test_connection_refused_is_a_connection_error(make_backend, collect):
    from massgen_core.http import BackendConnectionError

    with pytest.raises(BackendConnectionError):
        await collect(make_backend(base_url="http://127.0.0.1:9"))


async def test_a_hanging_server_times_out_at_the_configured_timeout(server, make_backend, collect):
    from massgen_core.http import BackendTimeoutError
    from massgen_core.testing.server import Response

    server.messages(Response(hang=True))
    start = time.monotonic()
    with pytest.raises(BackendTimeoutError):
        await collect(make_backend(timeout=0.3))
    assert time.monotonic() - start < 3


async def test_a_malformed_first_event_is_retried_as_a_stream_error(server, make_backend, collect):
    from massgen_core.testing.server import Response

    server.messages(Response.raw_stream(b"event: message_start\ndata: {oops\n\n"),
                    stream_response(message_events(text="ok")))
    events: list[Any] = []
    await collect(make_backend(max_retries=1, events=events))
    assert "stream broken" in events[0].error
    assert StreamError.retryable
