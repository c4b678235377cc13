"""The Prometheus counters, fed with events and HTTP requests."""

from __future__ import annotations

import httpx
from massgen_server.metrics import Metrics
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from massgen_core import events as ev
from massgen_core.backend import Usage

F = ev.EventFactory("s1")


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


def test_events_become_counters_and_histograms():
    m = Metrics()
    m.observe(F(ev.SessionStarted, question="q", agent_ids=("a",)))
    assert sample(m, "massgen_sessions_active") == 1
    m.observe(F(ev.UsageReported, agent_id="a", backend="openai", model="gpt-4o-mini", latency_s=0.8, ttft_s=0.3, usage=Usage(input_tokens=100, output_tokens=20, cost_usd=0.002)))
    m.observe(F(ev.UsageReported, agent_id="a", backend="claude", model=None, status="failed"))
    m.observe(F(ev.BackendRetry, agent_id="a", backend="openai", model="gpt-4o-mini", attempt=1, delay_s=1.0,
                error="429"))
    m.observe(F(ev.AgentFailed, agent_id="a", error="boom"))
    m.observe(F(ev.SessionFinished, final_answer="x", winner="a", ended_by="consensus", duration_s=2.0))
    labels = {"backend": "openai", "model": "gpt-4o-mini"}
    assert sample(m, "massgen_model_requests_total", **labels, status="ok") == 1
    assert sample(m, "massgen_model_requests_total", backend="claude", model="-", status="failed") == 1
    assert sample(m, "massgen_tokens_total", **labels, kind="input") == 100
    assert sample(m, "massgen_tokens_total", **labels, kind="cached") is None  # zero counts add no series
    assert sample(m, "massgen_cost_usd_total", **labels) == 0.002
    assert sample(m, "massgen_model_request_duration_seconds_count", **labels) == 1
    assert sample(m, "massgen_model_time_to_first_token_seconds_sum", **labels) == 0.3
    assert sample(m, "massgen_backend_retries_total", **labels) == 1
    assert sample(m, "massgen_agent_failures_total") == 1
    assert sample(m, "massgen_sessions_total", ended_by="consensus") == 1 and sample(m, "massgen_sessions_active") == 0
    text = m.render().decode()
    assert "# TYPE massgen_model_request_duration_seconds histogram" in text


async def test_http_requests_are_counted_by_route_template_and_status():
    m = Metrics()

    async def hello(request):
        return PlainTextResponse("hi " + request.path_params["name"])

    async def boom(request):
        raise RuntimeError("bug")

    app = Starlette(routes=[Route("/hello/{name}", hello), Route("/boom", boom)])
    wrapped = m.middleware(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped, raise_app_exceptions=False),
                                 base_url="http://t") as client:
        assert (await client.get("/hello/ada")).text == "hi ada"
        await client.get("/hello/bob")
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.get("/boom")).status_code == 500
    assert sample(m, "massgen_http_requests_total", method="GET", route="/hello/{name}", status="200") == 2
    assert sample(m, "massgen_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert sample(m, "massgen_http_requests_total", method="GET", route="/boom", status="500") == 1
    assert sample(m, "massgen_http_request_duration_seconds_count", method="GET", route="/hello/{name}") == 2

    async def lifespan_app(scope, receive, send):
        assert scope["type"] == "lifespan"

    await m.middleware(lifespan_app)({"type": "lifespan"}, None, None)
