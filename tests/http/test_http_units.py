"""The HTTP layer's pure parts: error mapping, retry waits, pricing, usage, redaction, pool, SSE framing."""

from __future__ import annotations

import logging

import httpx
import pytest

from massgen_core.backend import Usage
from massgen_core.http import (
    BackendError,
    BackendTimeoutError,
    ContextLengthError,
    ErrorContext,
    MissingKeyError,
    OverloadedError,
    Price,
    RateLimitError,
    RetryPolicy,
    StreamError,
    aclose_all,
    aiter_events,
    cost_usd,
    error_for_status,
    error_from_response,
    get_client,
    lookup_price,
    parse_openai_error_body,
    parse_retry_after,
    retry_call,
    retry_stream,
    usage_from_openai,
)
from massgen_core.http import debug
from massgen_core.http.pool import open_clients
from massgen_core.http.pricing import effective_price
from massgen_core.testing import Response


def test_retry_after_in_seconds_is_parsed():
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_retry_after_as_http_date_is_seconds_from_now():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_openai_error_body_fields_are_read():
    body = b'{"error": {"message": "m", "type": "t", "code": "c"}}'
    assert parse_openai_error_body(body) == ("m", "t", "c")
    assert parse_openai_error_body(None) == (None, None, None)
    assert parse_openai_error_body("plain text") == ("plain text", None, None)
    assert parse_openai_error_body([{"error": {"message": "listed", "status": "UNAVAILABLE"}}]) == ("listed", "UNAVAILABLE", None)
    assert parse_openai_error_body({"error": "just a string"}) == ("just a string", None, None)
    assert parse_openai_error_body({"error": 5}) == ("5", None, None)
    assert parse_openai_error_body("[1]") == ("1", None, None)


@pytest.mark.parametrize(
    ("status", "etype", "code", "message", "cls"),
    [
        (400, None, None, "prompt is too long: 300000 tokens", "ContextLengthError"),
        (429, "RESOURCE_EXHAUSTED", None, "quota", "RateLimitError"),
        (529, "overloaded_error", None, "Overloaded", "OverloadedError"),
        (408, None, None, None, "BackendTimeoutError"),
        (409, None, None, None, "OverloadedError"),
        (422, None, None, None, "BadRequestError"),
        (302, None, None, None, "StreamError"),
        (None, None, None, "Invalid API key", "AuthenticationError"),
        (None, "invalid_request_error", None, "bad", "BadRequestError"),
        (None, None, None, "boom", "StreamError"),
        (None, "rate_limit_error", None, "slow", "RateLimitError"),
        (None, "overloaded_error", None, "busy", "OverloadedError"),
    ],
)
def test_status_and_body_map_to_error_classes(status, etype, code, message, cls):
    assert error_for_status(status, etype, code, message).__name__ == cls


def test_errors_say_what_to_do():
    ctx = ErrorContext(agent_id="a", backend="openai", model="gpt-4o", base_url="u", key_env=("OPENAI_API_KEY",))
    assert "set OPENAI_API_KEY" in str(MissingKeyError(context=ctx))
    assert "lower max_tokens" in str(ContextLengthError("too long", context=ctx))
    assert "wait 3 s" in str(RateLimitError("x", context=ctx, retry_after=3))
    assert "default URL" in str(BackendError("x"))
    assert "api_key in the config" in str(error_from_response(401, b"{}", {}, context=ErrorContext()))
    assert error_from_response(429, b"{}", {"retry-after": "7"}).retry_after == 7.0


def test_error_messages_never_contain_a_key():
    debug.remember_secret("weird-format-key-0001")
    err = error_from_response(401, b'{"error": {"message": "bad key weird-format-key-0001 and sk-abcdefghijklmnop"}}', {})
    assert "weird-format-key-0001" not in str(err) and "sk-abcdefghijklmnop" not in str(err)


def test_retry_waits_grow_with_full_jitter_and_respect_the_cap():
    waits = RetryPolicy(max_retries=5, initial_delay=1.0, max_delay=4.0).waits()
    values = [waits(None) for _ in range(6)]
    assert all(0 <= v <= 4.0 for v in values)


def test_retry_wait_is_never_less_than_retry_after():
    waits = RetryPolicy(initial_delay=0.01, max_delay=0.02).waits()
    assert waits(5.0) >= 5.0
    assert RetryPolicy(initial_delay=0).waits()(None) == 0.0


def test_retry_policy_reads_backend_config():
    from massgen_core.config.schema import BackendConfig

    p = RetryPolicy.from_config(BackendConfig(max_retries=7, retry_initial_delay=0.5, retry_max_delay=9))
    assert (p.max_retries, p.initial_delay, p.max_delay) == (7, 0.5, 9.0)
    assert RetryPolicy.from_config(BackendConfig()).max_retries == 3


async def test_retry_call_retries_retryable_errors_then_returns():
    calls, seen = [], []

    async def call():
        calls.append(1)
        if len(calls) < 3:
            raise OverloadedError("busy")
        return "ok"

    async def no_sleep(_):
        return None

    result = await retry_call(call, RetryPolicy(max_retries=3), lambda *a: seen.append(a), sleep=no_sleep)
    assert result == "ok" and len(calls) == 3 and [a[0] for a in seen] == [1, 2]


async def test_retry_call_gives_up_after_max_retries():
    async def call():
        raise BackendTimeoutError("slow")

    async def no_sleep(_):
        return None

    with pytest.raises(BackendTimeoutError) as info:
        await retry_call(call, RetryPolicy(max_retries=1), sleep=no_sleep)
    assert info.value.attempts == 2


async def test_retry_stream_of_plain_iterators_without_aclose():
    class Once:
        def __init__(self):
            self.items = iter([1, 2])

        def __aiter__(self):
            return self

        async def __anext__(self):
            try:
                return next(self.items)
            except StopIteration:
                raise StopAsyncIteration from None

    out = [x async for x in retry_stream(Once, RetryPolicy())]
    assert out == [1, 2]


def test_usage_from_chat_and_responses_fields():
    chat = usage_from_openai({"prompt_tokens": 10, "completion_tokens": 5,
                              "prompt_tokens_details": {"cached_tokens": 4},
                              "completion_tokens_details": {"reasoning_tokens": 2}})
    assert chat == Usage(input_tokens=10, output_tokens=5, cached_tokens=4, reasoning_tokens=2)
    resp = usage_from_openai({"input_tokens": 7, "output_tokens": 3, "input_tokens_details": {"cached_tokens": 1},
                              "output_tokens_details": {"reasoning_tokens": 2}})
    assert resp == Usage(input_tokens=7, output_tokens=3, cached_tokens=1, reasoning_tokens=2)
    assert usage_from_openai({"prompt_tokens": 5, "completion_tokens": 1, "prompt_cache_hit_tokens": 3}).cached_tokens == 3
    assert usage_from_openai(None) == Usage()
    assert usage_from_openai({"prompt_tokens": "x"}).input_tokens == 0


def test_most_specific_price_pattern_wins():
    table = {"gpt-4o*": Price(2.5, 10), "gpt-4o-mini*": Price(0.15, 0.6), "exact": Price(1, 1)}
    assert lookup_price(table, "gpt-4o-mini-2024-07-18") == Price(0.15, 0.6)
    assert lookup_price(table, "GPT-4o-2024") == Price(2.5, 10)
    assert lookup_price(table, "exact") == Price(1, 1)
    assert lookup_price(table, "other") is None and lookup_price(table, None) is None


def test_cost_bills_cached_input_at_its_own_rate():
    usage = Usage(input_tokens=1_000_000, cached_tokens=400_000, output_tokens=1_000_000)
    assert cost_usd(usage, Price(2.0, 10.0, 0.5)) == pytest.approx(0.6 * 2 + 0.4 * 0.5 + 10)
    assert cost_usd(usage, Price(2.0, 10.0)) == pytest.approx(12.0)
    assert cost_usd(usage, None) == 0.0


def test_config_prices_override_the_table():
    table = {"m*": Price(1.0, 2.0, 0.1)}
    assert effective_price(table, "m1", None, None) == Price(1.0, 2.0, 0.1)
    assert effective_price(table, "m1", None, 5.0) == Price(1.0, 5.0, 0.1)
    assert effective_price(table, "m1", 3.0, None) == Price(3.0, 2.0, None)
    assert effective_price({}, "x", 3.0, None) == Price(3.0, 0.0, None)


def test_redaction_masks_secret_headers_and_key_shaped_text():
    headers = debug.redact_headers({"Authorization": "Bearer sk-1234567890abcdef", "x-goog-api-key": "AIza" + "x" * 30,
                                    "Content-Type": "application/json"})
    assert headers == {"Authorization": "***", "x-goog-api-key": "***", "Content-Type": "application/json"}
    assert debug.redact_headers([("api-key", "v")]) == {"api-key": "***"}
    assert debug.redact_text("key xai-abcdefghijklmn here") == "key *** here"
    assert debug.mask("short") == "***" and debug.mask("sk-1234567890ab") == "sk-...ab"


def test_debug_log_of_an_exchange_masks_credentials(caplog):
    with caplog.at_level(logging.DEBUG, logger="massgen.http"):
        debug.log_exchange("POST", "http://h/v1/x", 200, 0.0123, {"authorization": "Bearer sk-abcdefghijklmnopq"},
                           {"set-cookie": "s=1"})
    text = caplog.text
    assert "POST http://h/v1/x -> 200 in 12.3 ms" in text
    assert "sk-abcdefghijklmnopq" not in text and "***" in text


def test_debug_is_enabled_by_the_environment(monkeypatch):
    assert not debug.debug_enabled()
    monkeypatch.setenv("MASSGEN_DEBUG", "1")
    assert debug.debug_enabled()


def test_configure_debug_logging_adds_one_stderr_handler(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(debug.logger, "handlers", [])
    monkeypatch.setattr(debug.logger, "level", logging.NOTSET)
    debug.configure_debug_logging()
    debug.configure_debug_logging()
    assert len(debug.logger.handlers) == 1 and debug.logger.level == logging.DEBUG


async def test_one_client_per_origin_is_shared_and_closed_at_shutdown():
    a = get_client("http://127.0.0.1:9/v1")
    b = get_client("http://127.0.0.1:9/other")
    c = get_client("http://localhost:9/v1")
    assert a is b and a is not c
    assert open_clients() == ["http://127.0.0.1:9", "http://localhost:9"]
    await aclose_all()
    assert a.is_closed and c.is_closed and open_clients() == []
    assert get_client("http://127.0.0.1:9/v1") is not a


async def test_pooled_client_keeps_the_connection_alive_across_requests(server):
    server.add("GET", "/x", Response.json({"ok": True}))
    client = get_client(server.url)
    for _ in range(3):
        assert (await client.get(server.url + "/x")).status_code == 200
    assert server.connections == 1


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
async def test_sse_reader_handles_every_line_ending_and_skips_comments(server, newline):
    body = (f": keep-alive{newline}{newline}event: a{newline}data: 1{newline}{newline}data: 2{newline}"
            f"data: 3{newline}{newline}").encode()
    server.add("GET", "/s", Response.pieces(body, sizes=(3, 1, 5)))
    async with httpx.AsyncClient() as client, client.stream("GET", server.url + "/s") as response:
        events = [(e.event, e.data) async for e in aiter_events(response)]
    assert events == [("a", "1"), ("message", "2\n3")]


async def test_sse_reader_ignores_a_wrong_content_type(server):
    server.add("GET", "/s", Response(chunks=(b"data: x\n\n",), headers={"content-type": "application/json"}))
    async with httpx.AsyncClient() as client, client.stream("GET", server.url + "/s") as response:
        assert [e.data async for e in aiter_events(response)] == ["x"]


def test_stream_error_is_retryable_and_timeout_is_too():
    assert StreamError.retryable and BackendTimeoutError.retryable and not ContextLengthError.retryable


def test_every_https_client_shares_one_verifying_ssl_context_and_http_clients_load_no_ca_bundle():
    import ssl

    from massgen_core.http import pool

    tls = pool.ssl_context("https")
    assert tls is pool.ssl_context("https")
    assert tls.verify_mode == ssl.CERT_REQUIRED and tls.check_hostname and tls.cert_store_stats()["x509_ca"] > 0
    plain = pool.ssl_context("http")
    assert plain is pool.ssl_context("http") and plain is not tls
    # never used by a plain-http origin; were it ever, it would refuse every certificate
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.cert_store_stats()["x509_ca"] == 0


def test_httpx_loads_without_its_command_line_client_which_stays_importable():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import massgen_core.http.pool\n"
        "print('httpx._main' in sys.modules, 'pygments' in sys.modules)\n"
        "import httpx._main\n"
        "print(callable(httpx._main.main))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True"]
