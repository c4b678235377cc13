"""``HttpBackend``: the base class of every HTTP provider backend.

A provider plugin subclasses it and writes only its wire format:
``build_http_request`` (a ``Request`` -> path + JSON body), ``parse_events``
(SSE events -> chunks) or ``parse_body`` (a non-streamed JSON answer ->
chunks), and optionally ``auth_headers``, ``map_error``, ``health_path`` /
``parse_models``. The base does everything else the same way for all of
them: options validation, the API key (before any request), the shared
client, timeouts, typed errors, retries with events, cost on usage, the
health probe and the debug log. It must not know any provider's format
beyond the OpenAI-style defaults it offers.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from massgen_core.backend import (
    Backend, BackendContext, Chunk, Done, HealthResult, Request, ToolCallChunk, Usage, UsageChunk,
)
from massgen_core.errors import MassGenError, did_you_mean
from massgen_core.http import debug as _debug
from massgen_core.http.errors import (
    AuthenticationError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    ErrorContext,
    OutputTruncatedError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
    error_from_response,
)
from massgen_core.http.keys import resolve_key
from massgen_core.http.pricing import FREE, Price, PriceTable, cost_usd, effective_price, warn_unpriced
from massgen_core.http.retry import RetryPolicy, retry_stream

if TYPE_CHECKING:
    from massgen_core.http.sse import ServerSentEvent

# httpx, asyncio, the client pool, SSE reading and the event classes are imported inside the
# methods that send a request or report a retry: plugins subclass this at load time, and loading
# must stay cheap (see massgen_core/http/__init__.py).

DEFAULT_TIMEOUT = 300.0
DEFAULT_HEALTH_TIMEOUT = 5.0
# After the final event ([DONE], response.completed, message_stop) the rest of the body (the
# chunked-encoding terminator, a trailing comment) is read so that httpx returns the connection to
# the pool; a server that keeps the body open longer than this loses its connection instead.
DRAIN_TIMEOUT = 2.0
DRAIN_MAX_EVENTS = 64
# Finish reasons meaning "cut off at the output token limit", as each provider spells it.
TRUNCATED = frozenset({"length", "max_tokens", "max_output_tokens", "MAX_TOKENS"})


@attrs.frozen(kw_only=True)
class HttpCall:
    """One HTTP request a backend wants sent, relative to its base URL."""

    path: str
    method: str = "POST"
    json: Any = None
    params: Mapping[str, str] = attrs.Factory(dict)
    headers: Mapping[str, str] = attrs.Factory(dict)
    stream: bool = True  # read the answer as SSE (parse_events) or as one JSON body (parse_body)


def parse_options(cls: type | None, values: Mapping[str, Any], backend: str) -> Any:
    """An instance of the plugin's ``Options`` from config values; unknown keys are errors."""
    if cls is None:
        return None
    known = {f.name for f in attrs.fields(cls)}
    for key in values:
        if key not in known:
            hint = did_you_mean(key, known)
            extra = f" (did you mean {hint!r}?)" if hint else ""
            raise MassGenError(f"{backend} backend: unknown option {key!r}{extra}; known: {', '.join(sorted(known))}")
    try:
        return cls(**dict(values))
    except (TypeError, ValueError) as exc:
        raise MassGenError(f"{backend} backend: invalid options: {exc}") from None


def make_event(cls: type, **fields: Any) -> Any:
    """An event with placeholder stamps; the session's emitter re-stamps session id, seq and time."""
    return cls(session_id="", seq=0, ts=time.time(), **fields)


def emit_event(context: BackendContext, cls: type, **fields: Any) -> None:
    """Report an event through ``context.emit(event)`` (the orchestrator stamps it into its session)."""
    if context.emit is not None:
        context.emit(make_event(cls, **fields))


async def _drain(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read the rest of a body after its final event, so its connection can be reused."""
    import asyncio

    from massgen_core.http._httpx import httpx

    try:
        async with asyncio.timeout(DRAIN_TIMEOUT):
            for _ in range(DRAIN_MAX_EVENTS):
                await anext(events)
    except (StopAsyncIteration, TimeoutError, httpx.HTTPError):
        pass


class HttpBackend(Backend):
    """Shared machinery of HTTP backends (see the module docstring)."""

    price_table: ClassVar[PriceTable] = {}
    free: ClassVar[bool] = False  # local servers: every request costs nothing
    key_required: ClassVar[bool] = True
    health_path: ClassVar[str] = "/models"
    # What a 404 suggests about base_url (the provider's own URL shape).
    base_url_hint: ClassVar[str] = "OpenAI-style base URLs end in /v1"

    def __init__(self, config: Any, context: BackendContext | None = None) -> None:
        super().__init__(config, context)
        self.options = parse_options(self.Options, config.options or {}, self.name)
        self.base_url = (config.base_url or self.default_base_url or "").rstrip("/")
        self.model = config.model
        self.retry_policy = RetryPolicy.from_config(config)
        self.timeout = config.timeout or DEFAULT_TIMEOUT
        self.health_timeout = config.health_timeout or DEFAULT_HEALTH_TIMEOUT
        self.retries = 0  # retries made by this backend instance, for usage events

    # -- what subclasses write ---------------------------------------------------

    def build_http_request(self, request: Request) -> HttpCall:
        raise NotImplementedError

    def parse_events(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        raise NotImplementedError

    def parse_body(self, data: Any) -> list[Chunk]:
        raise NotImplementedError

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> BackendError:
        return error_from_response(status, body, headers, context=self.error_context)

    def parse_models(self, data: Any) -> tuple[str, ...]:
        """Model names from the health endpoint's answer (OpenAI ``data[].id`` or Ollama ``models[].name``)."""
        if not isinstance(data, Mapping):
            return ()
        items = data.get("data") or data.get("models") or []
        names = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping):
                name = item.get("id") or item.get("name")
                if name:
                    names.append(str(name))
        return tuple(names)

    # -- shared behaviour ------------------------------------------------------

    @property
    def error_context(self) -> ErrorContext:
        return ErrorContext(
            agent_id=self.context.agent_id,
            backend=self.name,
            model=self.model,
            base_url=self.base_url,
            key_env=self.key_env,
            base_url_hint=self.base_url_hint,
        )

    def preflight(self) -> None:
        self.api_key()  # MissingKeyError, naming the variable, before any request

    def api_key(self) -> str | None:
        """The key (config, env, .env); ``MissingKeyError`` when required and absent."""
        env = self.key_env if self.key_required else ()
        key = resolve_key(self.config.api_key, env, self.error_context)
        if key is None and not self.key_required:
            from massgen_core.http.keys import find_key

            key = find_key(None, self.key_env)
        return key

    def list_price(self) -> Price | None:
        """The price of this backend's model (config overrides first); None when nothing prices it."""
        return FREE if self.free else effective_price(
            self.price_table, self.model, self.config.input_price_per_mtok, self.config.output_price_per_mtok
        )

    def priced(self, usage: Usage) -> Usage:
        price = self.list_price()
        if price is None:
            warn_unpriced(self.name, self.model)
        return attrs.evolve(usage, cost_usd=cost_usd(usage, price))

    def _on_retry(self, attempt: int, delay: float, error: BackendError, restart: bool) -> None:
        from massgen_core.events import BackendRetry

        self.retries += 1
        _debug.logger.debug("retry %d of %s in %.2f s: %s", attempt, self.name, delay, error)
        emit_event(
            self.context,
            BackendRetry,
            agent_id=self.context.agent_id,
            backend=self.name,
            model=self.model,
            attempt=attempt,
            delay_s=delay,
            error=str(error),
            restart=restart,
        )

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        key = self.api_key()  # before anything is sent
        if any(not isinstance(m.content, str) for m in request.messages):
            from massgen_core.http.parts import check_parts

            check_parts(self, request)
        call = self.build_http_request(request)
        tools = bool(request.tools)
        # In coordination the workflow transports read a reply of text (plain text can be the answer)
        text_ok = request.workflow is not None
        async for chunk in retry_stream(
            lambda: self._attempt(call, key, tools, text_ok), self.retry_policy, self._on_retry
        ):
            yield chunk

    def _headers(self, call: HttpCall, key: str | None) -> dict[str, str]:
        accept = "text/event-stream" if call.stream else "application/json"
        return {"accept": accept, **self.auth_headers(key), **call.headers}

    def _key_id(self, key: str | None) -> str:
        import hashlib

        return hashlib.sha256((key or "").encode()).hexdigest()[:16]  # never keep the key itself

    async def _attempt(
        self, call: HttpCall, key: str | None, tools: bool = False, text_ok: bool = False
    ) -> AsyncIterator[Chunk]:
        from massgen_core.http._httpx import httpx

        from massgen_core.http.pool import get_client, hold_until, wait_for_gate
        from massgen_core.http.sse import aiter_events
        from massgen_core.http.whole_body import answered_whole
        from massgen_core.metering import current_meter

        meter = current_meter.get()
        held = await wait_for_gate(self.base_url, self._key_id(key), self.retry_policy.max_wait)
        if held is not None:  # an earlier Retry-After holds this server longer than we may wait
            raise RateLimitError(
                f"an earlier answer asked to wait {held:.0f} s more", context=self.error_context, retry_after=held
            )
        client = get_client(self.base_url)
        url = self.base_url + call.path
        headers = self._headers(call, key)
        debug = _debug.debug_enabled(self.context.debug)
        if debug:
            _debug.configure_debug_logging()
        t0 = time.monotonic()
        calls_seen = not text_ok  # a cut-off reply of text only counts as a cut-off call outside coordination
        try:
            async with client.stream(
                call.method, url, json=call.json, params=call.params or None, headers=headers,
                timeout=httpx.Timeout(self.timeout),
                extensions={"trace": meter.sending(self)} if meter is not None else None,
            ) as response:
                if debug:
                    _debug.log_exchange(call.method, url, response.status_code, time.monotonic() - t0, headers, response.headers)
                if response.status_code >= 400:
                    body = await response.aread()
                    error = self.map_error(response.status_code, body, response.headers)
                    if isinstance(error, RateLimitError) and error.retry_after:
                        hold_until(self.base_url, self._key_id(key), error.retry_after)
                    raise error
                if call.stream and not answered_whole(response.headers):
                    events = aiter_events(response)
                    drained = False
                    async for chunk in self.parse_events(meter.watch(events) if meter else events):
                        calls_seen = calls_seen or isinstance(chunk, ToolCallChunk)
                        if isinstance(chunk, Done):  # read the rest now: the consumer may stop at Done
                            drained = True
                            await _drain(events)
                            self.check_finish(chunk, tools and calls_seen)
                        yield self.priced_chunk(chunk)
                    if not drained:
                        await _drain(events)
                else:
                    body = await response.aread()
                    if meter is not None:
                        meter.mark_first_byte()
                    try:
                        data = json.loads(body)
                    except ValueError:
                        raise StreamError("the answer is not valid JSON", context=self.error_context) from None
                    for chunk in self.parse_body(data):
                        calls_seen = calls_seen or isinstance(chunk, ToolCallChunk)
                        if isinstance(chunk, Done):
                            self.check_finish(chunk, tools and calls_seen)
                        yield self.priced_chunk(chunk)
        except httpx.TimeoutException as exc:
            raise BackendTimeoutError(
                f"no data within {self.timeout:g} s ({type(exc).__name__})", context=self.error_context
            ) from None
        except httpx.ConnectError as exc:
            raise BackendConnectionError(_debug.redact_text(str(exc)) or "connection refused", context=self.error_context) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise StreamError(
                f"the connection closed before the answer was complete ({_debug.redact_text(str(exc))})",
                context=self.error_context,
            ) from None
        except httpx.HTTPError as exc:
            raise BackendConnectionError(_debug.redact_text(str(exc)), context=self.error_context) from None

    def priced_chunk(self, chunk: Chunk) -> Chunk:
        """Usage with its cost, labelled with the backend and model that served it (fallbacks, pools)."""
        if isinstance(chunk, UsageChunk):
            return UsageChunk(self.priced(chunk.usage), backend=self.name, model=self.model)
        return chunk

    def check_finish(self, done: Done, tools: bool) -> None:
        """Raise ``OutputTruncatedError`` when a tool call was cut off at the token limit.

        A truncated tool call cannot be run, so trying it as if it were complete
        only loops. ``tools`` is true when tools were offered and either the reply
        made a call or plain text could not stand for one; a reply of text keeps
        its text (a final presentation, or a coordination reply, which the
        workflow transports read: plain text can be the answer).
        """
        if tools and done.finish_reason in TRUNCATED:
            limit = self.config.max_tokens
            said = f"max_tokens {limit}" if limit is not None else "the model's default output limit"
            raise OutputTruncatedError(
                f"the answer was cut off at the output token limit ({said}; finish reason {done.finish_reason!r})",
                context=self.error_context,
            )

    def stream_error(self, message: str, **kw: Any) -> StreamError:
        return StreamError(message, context=self.error_context, **kw)

    async def health_check(self) -> HealthResult:
        """GET ``{base_url}{health_path}`` with the key, answered within ``health_timeout`` or reported as timeout."""
        import asyncio

        from massgen_core.http._httpx import httpx

        from massgen_core.http.pool import get_client

        t0 = time.monotonic()
        try:
            key = self.api_key()
        except BackendError as exc:
            return HealthResult(ok=False, status="no_key", error=str(exc))
        url = self.base_url + self.health_path
        headers = {"accept": "application/json", **self.auth_headers(key)}
        # The request runs in its own task and is abandoned at the deadline: cancelling httpx from
        # outside while its own (anyio) timeout fires can leak a bare CancelledError.
        probe = asyncio.ensure_future(
            get_client(self.base_url).get(url, headers=headers, timeout=httpx.Timeout(self.health_timeout))
        )
        done, _ = await asyncio.wait({probe}, timeout=self.health_timeout + 0.1)
        if not done:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
        failure = probe.exception() if done else None
        if not done or isinstance(failure, httpx.TimeoutException):
            return HealthResult(
                ok=False, status="timeout", latency_s=time.monotonic() - t0,
                error=f"no answer within {self.health_timeout:g} s",
            )
        if failure is not None:
            err = BackendConnectionError(_debug.redact_text(str(failure)) or "connection failed", context=self.error_context)
            return HealthResult(ok=False, status="down", latency_s=time.monotonic() - t0, error=str(err))
        response = probe.result()
        latency = response.elapsed.total_seconds()  # the server's answer, not building the client
        if _debug.debug_enabled(self.context.debug):
            _debug.configure_debug_logging()
            _debug.log_exchange("GET", url, response.status_code, latency, headers, response.headers)
        if response.status_code >= 400:
            error = self.map_error(response.status_code, response.content, response.headers)
            if isinstance(error, RateLimitError):
                return HealthResult(ok=True, status="rate_limited", latency_s=latency, error=str(error))
            status = "unauthorized" if isinstance(error, AuthenticationError | PermissionDeniedError) else "down"
            return HealthResult(ok=False, status=status, latency_s=latency, error=str(error))
        try:
            models = self.parse_models(response.json())
        except ValueError:
            models = ()
        return HealthResult(ok=True, status="ok", latency_s=latency, models=models)
