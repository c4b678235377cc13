"""Prometheus metrics for ``massgen serve`` (``GET /metrics``), with the standard client library.

``Metrics`` owns one registry per app (so tests and several apps in a process
never share counters) and is fed from two places: ``observe(event)`` with
every coordination event of every session (sessions started and finished by
how they ended, model requests, tokens and cost by backend and model, request
latency and time to first token, retries and agent failures), and the ASGI
``middleware`` with every HTTP request (count by method, route and status,
and latency). ``render()`` is the text exposition format. Nothing here
decides anything: it counts.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from massgen_core import events as ev

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    """The server's counters, gauges and histograms (see the module docstring)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.sessions = Counter("massgen_sessions_total", "Sessions finished, by how they ended", ["ended_by"], registry=r)
        self.sessions_started = Counter("massgen_sessions_started_total", "Sessions started", registry=r)
        self.active = Gauge("massgen_sessions_active", "Sessions running now", registry=r)
        self.session_seconds = Histogram("massgen_session_duration_seconds", "Wall time of finished sessions",
                                         buckets=LATENCY_BUCKETS, registry=r)
        labels = ["backend", "model"]
        self.requests = Counter("massgen_model_requests_total", "Model requests, by backend, model and status",
                                [*labels, "status"], registry=r)
        self.tokens = Counter("massgen_tokens_total", "Tokens, by backend, model and kind", [*labels, "kind"],
                              registry=r)
        self.cost = Counter("massgen_cost_usd_total", "Cost in US dollars, by backend and model", labels, registry=r)
        self.latency = Histogram("massgen_model_request_duration_seconds", "Model request latency", labels,
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("massgen_model_time_to_first_token_seconds", "Time to the first byte of output",
                              labels, buckets=LATENCY_BUCKETS, registry=r)
        self.retries = Counter("massgen_backend_retries_total", "Retries of model requests", labels, registry=r)
        self.agent_failures = Counter("massgen_agent_failures_total", "Agents dropped from a session", registry=r)
        self.http = Counter("massgen_http_requests_total", "HTTP requests, by method, route and status",
                            ["method", "route", "status"], registry=r)
        self.http_seconds = Histogram("massgen_http_request_duration_seconds", "HTTP request latency",
                                      ["method", "route"], buckets=HTTP_BUCKETS, registry=r)

    def observe(self, event: ev.Event) -> None:
        if isinstance(event, ev.SessionStarted):
            self.sessions_started.inc()
            self.active.inc()
        elif isinstance(event, ev.SessionFinished):
            self.active.dec()
            self.sessions.labels(event.ended_by).inc()
            self.session_seconds.observe(event.duration_s)
        elif isinstance(event, ev.UsageReported):
            backend, model = event.backend, event.model or "-"
            self.requests.labels(backend, model, event.status).inc()
            for kind in ("input", "output", "cached", "reasoning"):
                count = getattr(event.usage, f"{kind}_tokens")
                if count:
                    self.tokens.labels(backend, model, kind).inc(count)
            if event.usage.cost_usd:
                self.cost.labels(backend, model).inc(event.usage.cost_usd)
            if event.latency_s is not None:
                self.latency.labels(backend, model).observe(event.latency_s)
            if event.ttft_s is not None:
                self.ttft.labels(backend, model).observe(event.ttft_s)
        elif isinstance(event, ev.BackendRetry):
            self.retries.labels(event.backend, event.model or "-").inc()
        elif isinstance(event, ev.AgentFailed):
            self.agent_failures.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware counting every HTTP request by method, route template and status."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = {"code": 500}

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                route = _route(scope)
                self.http.labels(scope["method"], route, str(status["code"])).inc()
                self.http_seconds.labels(scope["method"], route).observe(time.perf_counter() - started)

        return counted


def _route(scope: Scope) -> str:
    """The matched route's template (``/v1/conversations/{conversation_id}``), never the raw path."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


__all__ = ["Metrics"]
