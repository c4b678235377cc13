"""Gemini's Google RPC errors map onto the core's taxonomy; retries honour Retry-After and RetryInfo."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from massgen_core.backend import TextDelta
from massgen_core.events import BackendRetry
from massgen_core.http import (
    AuthenticationError,
    BackendTimeoutError,
    BadRequestError,
    ContentFilterError,
    ContextLengthError,
    MissingKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
)
from massgen_core.testing.gemini import error_response, response_chunks, stream_response
from massgen_core.testing.server import Response, sse_encode

MODEL = "gemini-2.5-flash"
TEST_KEY = "AIzaSyTEST-0123456789abcdefghijklmnop"  # the key the make_backend fixture configures

STATUS_CASES = [
    (400, "Invalid JSON payload received. Unknown name \"foo\"", None, BadRequestError),
    (400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID", AuthenticationError),
    (400, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", None,
     ContextLengthError),
    (401, "Request had invalid authentication credentials.", None, AuthenticationError),
    (403, "Method doesn't allow unregistered callers.", None, PermissionDeniedError),
    (404, "models/gemini-nope is not found for API version v1beta", None, NotFoundError),
    (429, "You exceeded your current quota.", None, RateLimitError),
    (500, "An internal error has occurred.", None, OverloadedError),
    (503, "The model is overloaded. Please try again later.", None, OverloadedError),
    (504, "Deadline exceeded", None, OverloadedError),
]


@pytest.mark.parametrize(("status", "message", "reason", "cls"), STATUS_CASES,
                         ids=[f"{c[0]}-{c[3].__name__}" for c in STATUS_CASES])
async def test_http_error_status_maps_to_its_typed_error(server, make_backend, collect, status, message, reason, cls):
    server.stream(MODEL, error_response(status, message, reason=reason))
    with pytest.raises(cls) as info:
        await collect(make_backend())
    assert type(info.value) is cls
    assert info.value.status == status
    assert message[:20] in str(info.value)
    assert "gemini" in str(info.value) and server.base_url in str(info.value)


async def test_unauthenticated_rpc_status_is_an_authentication_error_whatever_the_http_status(server, make_backend, collect):
    server.stream(MODEL, error_response(400, "bad credentials", rpc_status="UNAUTHENTICATED"))
    with pytest.raises(AuthenticationError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        await collect(make_backend())


async def test_rate_limit_uses_the_retry_after_header(server, make_backend, collect):
    server.stream(MODEL, error_response(429, "quota", retry_after=9))
    with pytest.raises(RateLimitError) as info:
        await collect(make_backend())
    assert info.value.retry_after == 9


async def test_rate_limit_falls_back_to_the_retry_info_delay(server, make_backend, collect):
    server.stream(MODEL, error_response(429, "quota", retry_delay="37s"))
    with pytest.raises(RateLimitError) as info:
        await collect(make_backend())
    assert info.value.retry_after == 37


async def test_429_is_retried_after_waiting_at_least_retry_after(server, make_backend, collect):
    server.stream(MODEL, error_response(429, "quota", retry_after=0.4), stream_response(response_chunks(text="ok")))
    events: list[Any] = []
    start = time.monotonic()
    chunks = await collect(make_backend(max_retries=2, events=events))
    assert time.monotonic() - start >= 0.4
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "ok"
    assert [(type(e), e.attempt, e.delay_s >= 0.4) for e in events] == [(BackendRetry, 1, True)]


async def test_503_is_retried_and_each_retry_is_an_event(server, make_backend, collect):
    server.stream(MODEL, error_response(503), error_response(503), stream_response(response_chunks(text="ok")))
    events: list[Any] = []
    await collect(make_backend(max_retries=3, events=events))
    assert [e.attempt for e in events] == [1, 2]
    assert len(server.received(MODEL)) == 3


async def test_non_retryable_errors_are_not_retried(server, make_backend, collect):
    server.stream(MODEL, error_response(404, "no such model"))
    with pytest.raises(NotFoundError):
        await collect(make_backend(max_retries=3))
    assert len(server.received(MODEL)) == 1


async def test_an_error_object_inside_the_stream_raises_the_mapped_error(server, make_backend, collect):
    body = sse_encode(response_chunks(text="partial", text_pieces=1)[:1], newline="\r\n")
    body = body.replace(b'"finishReason": "STOP", ', b"")
    body += sse_encode([{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}], newline="\r\n")
    server.stream(MODEL, Response.raw_stream(body))
    with pytest.raises(OverloadedError) as info:
        await collect(make_backend())
    assert info.value.status == 503


async def test_an_unparseable_error_body_is_still_typed_by_status(server, make_backend, collect):
    server.stream(MODEL, Response(status=502, chunks=(b"<html>bad gateway</html>",)))
    with pytest.raises(OverloadedError, match="bad gateway"):
        await collect(make_backend())


async def test_missing_key_names_both_variables_before_any_request(server, make_backend, collect):
    with pytest.raises(MissingKeyError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        await collect(make_backend(key=None))
    assert server.requests == []


async def test_google_api_key_is_accepted_from_the_environment(server, make_backend, collect, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaSyFROMENV-0123456789abcdefghij")
    server.stream(MODEL, stream_response(response_chunks(text="ok")))
    await collect(make_backend(key=None))
    assert server.requests[0].header("x-goog-api-key") == "AIzaSyFROMENV-0123456789abcdefghij"


async def test_gemini_api_key_wins_over_google_api_key(server, make_backend, collect, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaSyGOOGLE-0123456789abcdefghij")
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyGEMINI-0123456789abcdefghij")
    server.stream(MODEL, stream_response(response_chunks(text="ok")))
    await collect(make_backend(key=None))
    assert server.requests[0].header("x-goog-api-key") == "AIzaSyGEMINI-0123456789abcdefghij"


async def test_key_never_appears_in_the_url_errors_or_debug_logs(server, make_backend, collect, caplog):
    server.stream(MODEL, error_response(400, f"API key not valid: {TEST_KEY}", reason="API_KEY_INVALID"))
    backend = make_backend()
    backend.context.debug = True
    with caplog.at_level(logging.DEBUG, logger="massgen.http"), pytest.raises(AuthenticationError) as info:
        await collect(backend)
    assert caplog.records
    assert TEST_KEY not in caplog.text and TEST_KEY not in str(info.value)
    assert "key" not in server.requests[0].query


async def test_a_hanging_server_times_out_at_the_configured_timeout(server, make_backend, collect):
    server.stream(MODEL, Response(hang=True))
    start = time.monotonic()
    with pytest.raises(BackendTimeoutError):
        await collect(make_backend(timeout=0.3))
    assert time.monotonic() - start < 3


def test_classify_handles_bodies_without_an_error_object():
    from massgen_gemini.errors import classify

    assert isinstance(classify(400, b'[{"error": {"code": 400, "message": "x", "status": "INVALID_ARGUMENT"}}]'),
                      BadRequestError)
    assert isinstance(classify(500, b'"just a string"'), OverloadedError)
    assert isinstance(classify(None, {"blocked": True, "reason": "SAFETY"}), ContentFilterError)
    weird = {"error": {"code": 429, "message": "m", "status": "RESOURCE_EXHAUSTED",
                       "details": ["x", {"retryDelay": "soon"}, {"retryDelay": "bad-s"}, {"retryDelay": "1.5s"}]}}
    assert classify(None, weird).retry_after == 1.5
