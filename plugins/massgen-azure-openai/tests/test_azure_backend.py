"""The azure_openai backend against a loopback server that speaks Azure OpenAI's URL scheme.

``AzureFake`` answers only what Azure answers: ``/openai/deployments/{name}/chat/completions``
with an ``api-version`` query parameter, the ``api-key`` header or an Entra ID bearer token, its
own error bodies (``"code": "401"``, ``DeploymentNotFound``, content-filter verdicts) and a
stream that opens with ``prompt_filter_results`` and carries ``content_filter_results``.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from massgen_azure_openai import AzureOpenAIBackend
from massgen_azure_openai.backend import DEFAULT_API_VERSION, filtered_categories, split_endpoint

from massgen_core.errors import MassGenError
from massgen_core.http import aclose_all
from massgen_core.http.errors import (
    AuthenticationError,
    ContentFilterError,
    MissingKeyError,
    NotFoundError,
    RateLimitError,
)
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.collect import backend_maker, collect
from massgen_core.testing.openai import chat_completion, chat_events

KEY = "azure-key-5f1c0b9e7d"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOi.entra-token-0000"
SAFE = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}


def verdicts(**blocked: str) -> dict[str, Any]:
    return {**SAFE, **{name: {"filtered": True, "severity": sev} for name, sev in blocked.items()}}


def azure_events(pieces: list[str], *, finish_reason: str | None = None, blocked: dict[str, str] | None = None,
                 **kw: Any) -> list[Any]:
    """A streamed Azure answer: the prompt-filter chunk first, verdicts on every content chunk."""
    events = chat_events(pieces, finish_reason=finish_reason, model="gpt-4o-mini-2024-07-18", **kw)
    first = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
             "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": SAFE}]}
    for event in events:
        if isinstance(event, dict):
            for choice in event["choices"]:
                choice["content_filter_results"] = verdicts(**(blocked or {})) if choice["finish_reason"] else SAFE
    return [first, *events]


class AzureFake:
    """Azure's routing and auth in front of scripted answers."""

    def __init__(self, server: FakeServer, deployments: tuple[str, ...] = ("chat-prod", "gpt-4o-mini", "o4-mini")):
        self.server = server
        self.answers: list[Response] = []
        for name in (*deployments, "missing"):
            server.add("POST", f"/openai/deployments/{name}/chat/completions", self.handle)
        self.deployments = deployments
        server.add("GET", "/openai/models", self.models)

    def denied(self, request: Any) -> Response | None:
        if not request.query.get("api-version"):
            return Response.json({"error": {"code": "404", "message": "Resource not found"}}, status=404)
        if request.header("api-key") != KEY and request.header("authorization") != f"Bearer {TOKEN}":
            return Response.json({"error": {"code": "401", "message": (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
                "valid key for an active subscription and use a correct regional API endpoint for your resource."
            )}}, status=401)
        return None

    def handle(self, request: Any) -> Response:
        refused = self.denied(request)
        if refused is not None:
            return refused
        deployment = request.path.split("/")[3]
        if deployment not in self.deployments:
            return Response.json({"error": {"code": "DeploymentNotFound", "message": (
                "The API deployment for this resource does not exist. If you created the deployment within "
                "the last 5 minutes, please wait a moment and try again.")}}, status=404)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def models(self, request: Any) -> Response:
        refused = self.denied(request)
        return refused or Response.json({"data": [{"id": "gpt-4o-mini", "object": "model"},
                                                  {"id": "o4-mini", "object": "model"}], "object": "list"})


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.fixture
def azure(server):
    return AzureFake(server)


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    await aclose_all()


@pytest.fixture
def make(server):
    return backend_maker(AzureOpenAIBackend, type="azure_openai", model="gpt-4o-mini", base_url=server.url, key=KEY)


async def test_streams_from_the_deployment_url_with_api_version_and_api_key_header(azure, make, server):
    azure.answers = [Response.sse(azure_events(["The answer ", "is 4."], usage=(1000, 200)))]
    got = await collect(make(temperature=0.3, max_tokens=64))
    assert got["text"] == "The answer is 4."
    request = server.requests[0]
    assert request.path == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert request.query["api-version"] == [DEFAULT_API_VERSION]
    assert request.header("api-key") == KEY and request.header("authorization") is None
    body = request.json()
    assert body["stream"] is True and body["max_tokens"] == 64 and body["temperature"] == 0.3
    assert got["usage"].input_tokens == 1000 and got["usage"].output_tokens == 200
    assert got["usage"].cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)  # priced by deployment name


async def test_deployment_option_routes_while_model_names_the_model(azure, make, server):
    azure.answers = [Response.sse(azure_events(["ok"]))]
    await collect(make(model="gpt-4o-mini", options={"deployment": "chat-prod", "api_version": "2025-01-01-preview"}))
    assert server.requests[0].path == "/openai/deployments/chat-prod/chat/completions"
    assert server.requests[0].query["api-version"] == ["2025-01-01-preview"]


async def test_a_whole_deployment_url_as_base_url_is_taken_apart(azure, make, server):
    url = server.url + "/openai/deployments/chat-prod/chat/completions?api-version=2024-06-01"
    azure.answers = [Response.sse(azure_events(["ok"]))]
    backend = make(model=None, base_url=url)
    assert (backend.base_url, backend.deployment, backend.api_version) == (server.url, "chat-prod", "2024-06-01")
    assert (await collect(backend))["text"] == "ok"
    assert server.requests[0].path == "/openai/deployments/chat-prod/chat/completions"


def test_split_endpoint_forms():
    assert split_endpoint("https://r.openai.azure.com/") == ("https://r.openai.azure.com", None, None)
    assert split_endpoint("https://r.openai.azure.com/openai") == ("https://r.openai.azure.com", None, None)
    assert split_endpoint("https://r.openai.azure.com/openai/deployments/d1?api-version=v") == (
        "https://r.openai.azure.com", "d1", "v")


async def test_endpoint_and_api_version_come_from_the_environment(azure, make, server, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url + "/")
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2024-08-01-preview")
    azure.answers = [Response.sse(azure_events(["ok"]))]
    await collect(make(base_url=None))
    assert server.requests[0].query["api-version"] == ["2024-08-01-preview"]


async def test_entra_id_token_from_the_environment_is_a_bearer_token(azure, make, server, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", TOKEN)
    azure.answers = [Response.sse(azure_events(["signed in"]))]
    got = await collect(make(key=None))
    assert got["text"] == "signed in"
    assert server.requests[0].header("authorization") == f"Bearer {TOKEN}"
    assert server.requests[0].header("api-key") is None


async def test_no_key_and_no_token_names_both_variables_before_any_request(azure, make, server):
    with pytest.raises(MissingKeyError) as info:
        await collect(make(key=None))
    assert "AZURE_OPENAI_API_KEY" in str(info.value) and "AZURE_OPENAI_AD_TOKEN" in str(info.value)
    assert server.requests == []


async def test_a_refused_key_says_what_to_check_and_never_shows_the_key(azure, make):
    azure.answers = [Response.sse(azure_events(["unused"]))]
    with pytest.raises(AuthenticationError) as info:
        await collect(make(key="azure-wrong-key-123456"))
    text = str(info.value)
    assert "[HTTP 401]" in text and "Access denied" in text
    assert "api-key header" in text and "AZURE_OPENAI_AD_TOKEN" in text
    assert "azure-wrong-key-123456" not in text and info.value.fatal


async def test_an_unknown_deployment_names_it_and_is_fatal(azure, make):
    with pytest.raises(NotFoundError) as info:
        await collect(make(model="missing"))
    assert "no deployment named 'missing'" in str(info.value) and info.value.fatal
    assert info.value.code == "DeploymentNotFound"


async def test_a_wrong_api_version_or_endpoint_hint_names_both(make, server):
    backend = make(base_url=server.url + "/elsewhere")
    with pytest.raises(NotFoundError) as info:
        await collect(backend)
    assert "api_version (2024-10-21)" in str(info.value) and "base_url" in str(info.value)


async def test_retry_after_ms_is_read_before_retry_after(make, server):
    server.add("POST", "/openai/deployments/gpt-4o-mini/chat/completions", Response.json(
        {"error": {"code": "429", "message": "Requests to the ChatCompletions_Create Operation have exceeded "
                   "token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}},
        status=429, headers={"retry-after": "7", "retry-after-ms": "6000"}))
    with pytest.raises(RateLimitError) as info:
        await collect(make())
    assert info.value.retry_after == pytest.approx(6.0)


async def test_a_filtered_prompt_lists_the_blocked_categories(make, server):
    server.add("POST", "/openai/deployments/gpt-4o-mini/chat/completions", Response.json({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type": None, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation",
                       "content_filter_result": verdicts(violence="medium")}}}, status=400))
    with pytest.raises(ContentFilterError) as info:
        await collect(make())
    assert "violence (medium)" in str(info.value) and "hate" not in str(info.value)


async def test_a_stream_stopped_by_the_filter_is_an_error_naming_the_category(azure, make):
    azure.answers = [Response.sse(azure_events(["Here is how"], finish_reason="content_filter",
                                               blocked={"self_harm": "high"}))]
    with pytest.raises(ContentFilterError) as info:
        await collect(make())
    assert "stopped by Azure's content filter" in str(info.value) and "self_harm (high)" in str(info.value)


async def test_reasoning_deployments_send_max_completion_tokens_and_no_temperature(azure, make, server):
    azure.answers = [Response.sse(azure_events(["ok"]))]
    await collect(make(model="o4-mini", temperature=0.5, max_tokens=100, options={"reasoning_effort": "low"}))
    body = server.requests[0].json()
    assert body["max_completion_tokens"] == 100 and "max_tokens" not in body and "temperature" not in body
    assert body["reasoning_effort"] == "low"


async def test_stream_false_reads_one_json_answer(azure, make, server):
    azure.answers = [chat_completion("whole answer", usage=(12, 3))]
    got = await collect(make(options={"stream": False, "extra_body": {"seed": 7}}))
    assert got["text"] == "whole answer" and got["usage"].output_tokens == 3
    body = server.requests[0].json()
    assert body["stream"] is False and "stream_options" not in body and body["seed"] == 7


async def test_a_non_streamed_filtered_answer_is_an_error(azure, make):
    filtered = {"id": "x", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [{
        "index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "content_filter",
        "content_filter_results": verdicts(hate="medium")}], "usage": {"prompt_tokens": 5, "completion_tokens": 0}}
    azure.answers = [Response.json(filtered)]
    with pytest.raises(ContentFilterError, match=r"hate \(medium\)"):
        await collect(make(options={"stream": False}))


async def test_tool_calls_arrive_assembled(azure, make):
    azure.answers = [Response.sse(azure_events([], tool_calls=[("call_1", "new_answer", ['{"content": ', '"4"}'])]))]
    got = await collect(make())
    assert [(c.name, dict(c.arguments)) for c in got["calls"]] == [("new_answer", {"content": "4"})]


async def test_health_check_lists_models_with_the_api_version(azure, make, server):
    result = await make().health_check()
    assert result.ok and result.status == "ok" and result.models == ("gpt-4o-mini", "o4-mini")
    assert server.requests[0].path == "/openai/models" and server.requests[0].query["api-version"]
    refused = await make(key="azure-wrong-key-123456").health_check()
    assert not refused.ok and refused.status == "unauthorized"


def test_missing_endpoint_or_deployment_is_a_config_error(make):
    with pytest.raises(MassGenError, match="AZURE_OPENAI_ENDPOINT"):
        make(base_url=None)
    with pytest.raises(MassGenError, match="deployment's name"):
        make(model=None)


def test_filtered_categories_ignores_what_is_not_a_verdict():
    assert filtered_categories(None) == [] and filtered_categories({"x": "y"}) == []
    assert filtered_categories({"jailbreak": {"filtered": True, "detected": True}}) == ["jailbreak"]


def test_a_config_file_with_azure_openai_validates_and_builds(tmp_path, installed_plugins, server, monkeypatch):
    from massgen_core import config as cfg
    from massgen_core.backend_factory import create_backend

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    path = tmp_path / "azure.yaml"
    path.write_text(textwrap.dedent(f"""\
        agents:
          - id: azure
            backend:
              type: azure_openai
              model: gpt-4o-mini
              base_url: {server.url}
              api_version: "2024-10-21"
              deployment: chat-prod
        """))
    agent = cfg.load_config(path, manager=installed_plugins).agents[0]
    backend = create_backend(agent.backend, None, installed_plugins)
    assert backend.deployment == "chat-prod" and backend.api_version == "2024-10-21"
    path.write_text(path.read_text().replace("deployment: chat-prod", "deploymnet: chat-prod"))
    with pytest.raises(MassGenError, match="deployment"):
        cfg.load_config(path, manager=installed_plugins)


def test_a_team_runs_on_azure_end_to_end_through_the_cli(azure, server, tmp_path):
    """Two agents on one deployment: answers, votes and the final presentation, as a user runs it."""
    import os
    import subprocess
    import sys

    def answer(request: Any) -> Response:
        refused = azure.denied(request)
        if refused is not None:
            return refused
        body = request.json()
        tools = {t["function"]["name"]: t["function"] for t in body.get("tools", [])}
        if not tools:
            return Response.sse(azure_events(["Final: ", "4"]))
        labels = tools.get("vote", {}).get("parameters", {}).get("properties", {}).get("agent_id", {}).get("enum")
        if labels:
            args = json.dumps({"agent_id": labels[0], "reason": "correct"})
            return Response.sse(azure_events([], tool_calls=[("c2", "vote", [args])]))
        return Response.sse(azure_events([], tool_calls=[("c1", "new_answer", ['{"content": "2+2 is 4"}'])]))

    server.add("POST", "/openai/deployments/chat-prod/chat/completions", answer)
    config = tmp_path / "team.yaml"
    config.write_text(textwrap.dedent(f"""\
        agents:
          - id: a
            backend: {{type: azure_openai, model: chat-prod, base_url: "{server.url}", max_retries: 0}}
          - id: b
            backend: {{type: azure_openai, model: chat-prod, base_url: "{server.url}", max_retries: 0}}
        """))
    env = {**os.environ, "AZURE_OPENAI_API_KEY": KEY, "MASSGEN_HOME": str(tmp_path / "home")}
    run = subprocess.run([sys.executable, "-m", "massgen_core", "--config", str(config), "--json", "What is 2+2?"],
                         capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["final_answer"] == "Final: 4" and result["winner"] in ("a", "b")
    assert KEY not in run.stdout + run.stderr
    assert all(r.header("api-key") == KEY for r in server.requests)


def test_error_helpers_tolerate_bodies_that_are_not_json(make):
    from massgen_azure_openai.backend import _inner_error, _retry_after_ms, _stream_verdicts

    assert _inner_error(b"<html>gateway</html>") == {} and _inner_error(b'{"error": "plain"}') == {}
    assert _stream_verdicts("not json") == [] and _stream_verdicts('{"choices": "x"}') == []
    assert _retry_after_ms("soon") is None and _retry_after_ms("1500") == 1.5
    assert make().auth_headers(None) == {}
    error = make().map_error(502, b"<html>bad gateway</html>", {})
    assert error.status == 502 and "bad gateway" in str(error)
