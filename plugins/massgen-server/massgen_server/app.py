"""The ASGI application behind ``massgen serve``: run sessions and read conversations over HTTP.

``create_app(settings)`` returns a Starlette app; every response body is JSON
(errors are ``{"error": {"type", "message"}}``) except a session streamed as
Server-Sent Events. Every request first passes the Guard (Host, Origin,
Content-Type, body deadline: see ``guard``), and bodies are read by ``body``.
Each session is a one-turn conversation of a ``massgen_core.Team`` built
from the server's config (its own orchestrator, recorder and guarded fan-out),
so concurrent sessions share no state; a client that goes
away cancels its session. This module never reads config files, never binds a
socket (the command does) and never puts API keys in a response.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from massgen_core import __version__
from massgen_core.errors import MassGenError
from massgen_core.events import Event, event_to_dict
from massgen_server import openai_api
from massgen_server.body import BadRequest, loads_strict, read_capped
from massgen_server.guard import Guard, Policy
from massgen_server.web import FILES, no_icon, serve_file

if TYPE_CHECKING:
    from massgen_core.conversation import Conversation

# How long a cancelled session gets to end by itself (with a recorded
# SessionFinished) before its task is cancelled outright.
CANCEL_GRACE_S = 2.0
# A question with its history; larger bodies are refused before they are read.
MAX_BODY_BYTES = 1_000_000
# /v1/chat/completions may carry images and PDFs as base64 parts: room for a 20 MB image.
MAX_CHAT_BODY_BYTES = 28_000_000
# The most conversations one list request returns (SQLite's LIMIT takes no more than 2**63 - 1 anyway).
MAX_LIST_LIMIT = 10_000


@attrs.frozen
class Settings:
    """What one server runs with; ``manager`` None means the process-wide plugin manager."""

    config: Any
    token: str | None = None
    max_sessions: int = 4
    record: bool = True
    retry_after_s: int = 5
    manager: Any = None
    allow_hosts: tuple[str, ...] = ()
    allow_origins: tuple[str, ...] = ()
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    team_name: str = "massgen"  # what OpenAI clients name as the model (GET /v1/models)
    presets: bool = True  # saved presets are models too, by their names
    heartbeat_s: float = 15.0  # an SSE comment after this long without an event
    access_log: bool = False  # one JSON line per request on stderr


def error_response(status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=headers)


@attrs.frozen
class SessionRequest:
    question: str
    history: tuple[tuple[str, str], ...] | None = None
    conversation_id: str | None = None


def parse_session_request(body: bytes) -> SessionRequest:
    """The validated body of ``POST /v1/sessions``; BadRequest says what is wrong."""
    data = loads_strict(body)
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object like {"question": "..."}')
    unknown = sorted(set(data) - {"question", "history", "conversation_id"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)} (known: question, history, conversation_id)")
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise BadRequest('"question" must be a non-empty string')
    history = data.get("history")
    if history is not None:
        if not isinstance(history, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair) for pair in history
        ):
            raise BadRequest('"history" must be a list of [question, answer] string pairs')
        history = tuple((q, a) for q, a in history)
    conversation_id = data.get("conversation_id")
    if conversation_id is not None and (not isinstance(conversation_id, str) or not conversation_id.strip()):
        raise BadRequest('"conversation_id" must be a non-empty string')
    return SessionRequest(question=question, history=history, conversation_id=conversation_id)


def describe_agents(agents: Any) -> list[dict[str, Any]]:
    """id, backend type and model of each configured agent (nested teams nest); never keys or URLs."""
    described = []
    for agent in agents:
        backend = agent.backend
        entry: dict[str, Any] = {
            "id": agent.id,
            "backend": backend.type if backend is not None else None,
            "model": backend.model if backend is not None else None,
        }
        if agent.agents:
            entry["agents"] = describe_agents(agent.agents)
        described.append(entry)
    return described


def warn(message: str) -> None:
    """The server reports an observer switched off on stderr (the session goes on)."""
    print(f"massgen: warning: {message}", file=sys.stderr, flush=True)


class SessionRun(Response):
    """One running session as an ASGI response: JSON at the end, or every event as SSE.

    It owns the session slot and a one-turn ``massgen_core.Conversation``
    (orchestrator, recorder, guarded fan-out), and releases both however the
    response ends (finished, client gone, server stop).
    """

    def __init__(
        self,
        *,
        conversation: Conversation,
        request: SessionRequest,
        stream: bool,
        release: Callable[[], None],
        heartbeat_s: float = 15.0,
    ) -> None:
        super().__init__()
        self.heartbeat_s = heartbeat_s
        self.conversation = conversation
        self.request = request
        self.stream = stream
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._serve(receive, send)
        finally:
            try:
                await self.conversation.aclose()
            finally:
                self.release()

    async def _serve(self, receive: Receive, send: Send) -> None:
        from massgen_core.display.json_result import session_result
        from massgen_core.display.state import SessionView

        view = SessionView()
        if self.stream:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-cache"),
                        (b"x-accel-buffering", b"no"),
                    ],
                }
            )

        sending = asyncio.Lock()
        last_sent = [time.monotonic()]

        async def deliver(event: Event) -> None:
            view.apply(event)
            if self.stream:
                async with sending:
                    await send({"type": "http.response.body", "body": sse(event.type, event_to_dict(event)),
                                "more_body": True})
                    last_sent[0] = time.monotonic()

        async def heartbeat() -> None:
            # An SSE comment when the stream has been silent for heartbeat_s: proxies and clients
            # close an idle stream, and a session may think for minutes between events.
            while True:
                await asyncio.sleep(max(0.0, last_sent[0] + self.heartbeat_s - time.monotonic()))
                if time.monotonic() - last_sent[0] >= self.heartbeat_s:
                    async with sending:
                        await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
                        last_sent[0] = time.monotonic()

        beat = asyncio.ensure_future(heartbeat()) if self.stream else None
        try:
            completed = await self._run_watching(deliver, receive)
        finally:
            if beat is not None:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)
        if not completed:
            return  # the client is gone: nobody to answer
        result = session_result(view)
        result["conversation_id"] = getattr(self.conversation.recorder, "conversation_id", None)  # None: not recorded
        if self.stream:
            await send({"type": "http.response.body", "body": sse("result", result), "more_body": False})
            return
        body = json.dumps(result, ensure_ascii=False, default=str).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _run_watching(self, deliver: Callable[[Event], Awaitable[None]], receive: Receive) -> bool:
        """Run the session while watching for the client leaving; True when it ran to its end."""

        async def pump() -> None:
            async with contextlib.aclosing(self.conversation.stream(self.request.question)) as stream:
                async for event in stream:
                    await deliver(event)

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass  # pragma: no cover - nothing but a disconnect follows a fully read body

        session = asyncio.ensure_future(pump())
        watcher = asyncio.ensure_future(disconnected())
        try:
            await asyncio.wait({session, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if session.done():
                session.result()  # a bug in the session surfaces as a 500, not a hang
                return True
            # Gone: ask the session to stop (it records a cancelled turn), then cut it off.
            self.conversation.interrupt()
            await asyncio.wait({session}, timeout=CANCEL_GRACE_S)
            return False
        finally:
            for task in (session, watcher):
                task.cancel()
            await asyncio.gather(session, watcher, return_exceptions=True)


def sse(event_type: str, data: Any) -> bytes:
    """One Server-Sent Event frame."""
    return f"event: {event_type}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n".encode()


class Api:
    """The endpoints, sharing one settings object and one count of running sessions."""

    def __init__(self, settings: Settings) -> None:
        from massgen_core.plugins import get_plugin_manager

        from massgen_server.metrics import Metrics

        self.settings = settings
        self.manager = settings.manager if settings.manager is not None else get_plugin_manager()
        self.active = 0
        self.metrics = Metrics()
        self.started = int(time.time())
        self.max_body_bytes = MAX_CHAT_BODY_BYTES
        self.stopping = False

    def release(self) -> None:
        self.active -= 1

    def team_names(self) -> list[str]:
        """The served team first, then every saved preset (``massgen presets list``) by name."""
        names = [self.settings.team_name]
        if self.settings.presets:
            from massgen_core.presets import entries

            names += [e.name for e in entries("preset") if e.name != self.settings.team_name]
        return names

    def team_config(self, name: str) -> Any:
        """The config of the team OpenAI clients call ``name`` (the served one, or a preset), or None.

        A preset is loaded each time it is asked for, so edits to it apply without a restart;
        one that does not load raises ``MassGenError``.
        """
        if name == self.settings.team_name:
            return self.settings.config
        if not self.settings.presets or name not in self.team_names():
            return None
        from massgen_core.config import loader
        from massgen_core.presets import resolve_preset

        return loader.load_config(resolve_preset(name), manager=self.manager)

    def authorized(self, request: Request) -> bool:
        token = self.settings.token
        if not token:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    # -- endpoints ---------------------------------------------------------

    async def health(self, request: Request) -> Response:
        """Open to anyone who reaches the server, so it says only that it is up (liveness)."""
        return JSONResponse({"ok": True})

    async def ready(self, request: Request) -> Response:
        """Readiness: 200 when a session could start now, 503 with the reason otherwise (open, says only that)."""
        if self.stopping:
            return JSONResponse({"ready": False, "reason": "shutting down"}, status_code=503)
        if self.active >= self.settings.max_sessions:
            return JSONResponse({"ready": False, "reason": "every session slot is busy"}, status_code=503)
        from massgen_core.team import Team

        try:
            Team(self.settings.config, manager=self.manager).preflight()
        except MassGenError:
            return JSONResponse({"ready": False, "reason": "sessions cannot start (see /v1/status)"}, status_code=503)
        return JSONResponse({"ready": True})

    async def metrics_text(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=self.metrics.content_type)

    async def status(self, request: Request) -> Response:
        plugins = [info.name for info in self.manager.plugin_infos() if info.error is None]
        return JSONResponse(
            {
                "ok": True,
                "version": __version__,
                "plugins": plugins,
                "sessions": {"active": self.active, "max": self.settings.max_sessions},
            }
        )

    async def backends(self, request: Request) -> Response:
        return JSONResponse({"agents": describe_agents(self.settings.config.agents)})

    async def create_session(self, request: Request) -> Response:
        raw = await read_capped(request, MAX_BODY_BYTES)
        if raw is None:
            return error_response(413, "payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
        try:
            body = parse_session_request(raw)
        except BadRequest as exc:
            return error_response(400, "bad_request", str(exc))
        history = list(body.history or ())
        conversation_id = None
        if body.conversation_id is not None:
            found = self._stored_history(body.conversation_id)
            if isinstance(found, Response):
                return found
            conversation_id, stored = found
            if body.history is None:
                history = stored
        if self.active >= self.settings.max_sessions:
            return error_response(
                429,
                "too_many_sessions",
                f"{self.active} sessions are running, the most this server runs at once (--max-sessions); retry later",
                headers={"Retry-After": str(self.settings.retry_after_s)},
            )
        from massgen_core.conversation import Conversation
        from massgen_core.team import Team, switched_off_message

        team = Team(
            self.settings.config,
            manager=self.manager,
            record=self.settings.record,
            observers=[self.metrics.observe],
            on_observer_error=lambda name, exc: warn(switched_off_message(name, exc)),
        )
        try:
            conversation = Conversation(team, history=history, conversation_id=conversation_id, grace_s=CANCEL_GRACE_S)
        except MassGenError as exc:
            return error_response(422, "config_error", str(exc))
        try:
            conversation.preflight()
        except MassGenError as exc:
            await conversation.aclose()
            return error_response(503, "backend_unavailable", str(exc))
        self.active += 1
        try:
            return SessionRun(
                conversation=conversation.open(),
                request=attrs.evolve(body, conversation_id=conversation_id),
                stream="text/event-stream" in request.headers.get("accept", ""),
                release=self.release,
                heartbeat_s=self.settings.heartbeat_s,
            )
        except BaseException:  # pragma: no cover - the slot must come back even if setting up fails
            self.active -= 1
            await conversation.aclose()
            raise

    def _stored_history(self, prefix: str) -> tuple[str, list[tuple[str, str]]] | Response:
        from massgen_core.store import AmbiguousIdError, Store, StoreError, exists

        if not exists():
            return error_response(404, "not_found", f"no conversation with id {prefix!r}: none recorded yet")
        with Store() as store:
            try:
                conversation_id = store.resolve_id(prefix)
            except AmbiguousIdError as exc:
                return error_response(400, "ambiguous_id", str(exc))
            except StoreError as exc:
                return error_response(404, "not_found", str(exc))
            return conversation_id, store.history(conversation_id)

    async def conversations(self, request: Request) -> Response:
        """The latest conversations, or with ``?q=words`` those whose text has every word (best first)."""
        from massgen_core.store import Filters, Store, StoreError, exists
        from massgen_core.store.query import PlainQuery, parse_plain

        raw = request.query_params.get("limit", "50")
        try:
            limit = int(raw)
            if not 1 <= limit <= MAX_LIST_LIMIT:
                raise ValueError
        except ValueError:
            return error_response(400, "bad_request", f"limit must be an integer from 1 to {MAX_LIST_LIMIT}, not {raw!r}")
        query = request.query_params.get("q", "").strip()
        words: PlainQuery | None = None
        if query:
            try:  # what people type, never read as query syntax (as `massgen conversations search`)
                words = parse_plain(query)
            except StoreError:
                return error_response(400, "bad_request", "q must contain at least one word or number")
        if not exists():
            return JSONResponse({"conversations": []})
        with Store() as store:
            if words:
                rows: list[Any] = store.search(words, Filters(limit=limit))
            else:
                rows = store.list_conversations(Filters(limit=limit))
        return JSONResponse({"conversations": [row.to_dict() for row in rows]})

    async def export(self, request: Request) -> Response:
        """A conversation in any installed export format, as a download."""
        from massgen_core.errors import UnknownNameError
        from massgen_core.store import AmbiguousIdError, Store, StoreError, exists

        prefix = request.path_params["conversation_id"]
        name = request.query_params.get("format", "json")
        try:
            exporter = self.manager.exporters.get(name)
        except UnknownNameError as exc:
            return error_response(400, "bad_request", str(exc))
        if not exists():
            return error_response(404, "not_found", f"no conversation with id {prefix!r}: none recorded yet")
        with Store() as store:
            try:
                cid = store.resolve_id(prefix)
                document = store.document(cid)
            except AmbiguousIdError as exc:
                return error_response(400, "ambiguous_id", str(exc))
            except StoreError as exc:
                return error_response(404, "not_found", str(exc))
        text = exporter().export(document)
        from massgen_server.web import CSP

        return Response(text, media_type=exporter.media_type, headers={
            "content-disposition": f'attachment; filename="conversation-{cid[:8]}.{exporter.extension}"',
            "content-security-policy": CSP, "x-content-type-options": "nosniff",
        })

    async def conversation(self, request: Request) -> Response:
        from massgen_core.store import AmbiguousIdError, Store, StoreError, exists

        prefix = request.path_params["conversation_id"]
        if not exists():
            return error_response(404, "not_found", f"no conversation with id {prefix!r}: none recorded yet")
        with Store() as store:
            try:
                document = store.document(store.resolve_id(prefix))
            except AmbiguousIdError as exc:
                return error_response(400, "ambiguous_id", str(exc))
            except StoreError as exc:
                return error_response(404, "not_found", str(exc))
        return JSONResponse(document)


def _guarded(api: Api, endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        if not api.authorized(request):
            return error_response(
                401,
                "unauthorized",
                "this server needs an API token: send the header Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await endpoint(request)

    return guarded


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(exc.status_code, kind, message, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    print(f"massgen: error: {request.method} {request.url.path}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")


class _Wrapped:
    """Starlette middleware from a function that wraps an ASGI app (the access log, the metrics)."""

    def __init__(self, app: Any, wrap: Callable[[Any], Any]) -> None:
        self.app = wrap(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _middleware(settings: Settings, api: Api) -> list[Middleware]:
    """Access log and metrics around everything; the Guard for every route; CORS only for allowed origins."""
    policy = Policy.build(settings.allow_hosts, settings.allow_origins, settings.body_timeout_s)
    middleware = []
    if settings.access_log:
        from massgen_server.access_log import access_log

        middleware.append(Middleware(_Wrapped, wrap=access_log))
    middleware += [Middleware(_Wrapped, wrap=api.metrics.middleware), Middleware(Guard, policy=policy)]
    if settings.allow_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=sorted(policy.allow_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "accept"],
            )
        )
    return middleware


def create_app(settings: Settings) -> Starlette:
    """The API for ``settings`` (see docs/api.md)."""
    api = Api(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        from massgen_core.http.pool import aclose_all

        await aclose_all()

    app = Starlette(
        routes=[
            Route("/health", api.health, methods=["GET"]),
            Route("/ready", api.ready, methods=["GET"]),
            Route("/metrics", _guarded(api, api.metrics_text), methods=["GET"]),
            *(Route(path, serve_file, methods=["GET"]) for path in FILES),
            Route("/favicon.ico", no_icon, methods=["GET"]),
            Route("/v1/models", partial(openai_api.models, api), methods=["GET"]),
            Route("/v1/chat/completions", partial(openai_api.chat_completions, api), methods=["POST"]),
            Route("/v1/status", _guarded(api, api.status), methods=["GET"]),
            Route("/v1/backends", _guarded(api, api.backends), methods=["GET"]),
            Route("/v1/sessions", _guarded(api, api.create_session), methods=["POST"]),
            Route("/v1/conversations", _guarded(api, api.conversations), methods=["GET"]),
            Route("/v1/conversations/{conversation_id}", _guarded(api, api.conversation), methods=["GET"]),
            Route("/v1/conversations/{conversation_id}/export", _guarded(api, api.export), methods=["GET"]),
        ],
        middleware=_middleware(settings, api),
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.api = api
    return app
