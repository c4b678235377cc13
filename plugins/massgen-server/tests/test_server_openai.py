"""The OpenAI-compatible endpoint, driven by the official ``openai`` client, curl and the npm client."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx
import openai
import pytest

from massgen_core.config.loader import config_from_dict
from massgen_server.testing import Observer, make_manager, scripted_config

WINNER = "A2 says {q}, at length"  # the scripted team: a2's longer answer wins and is presented verbatim


def client(served: Any, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=served.url + "/v1", api_key=key, max_retries=0, timeout=30)


def test_models_lists_the_team_then_the_presets_and_a_preset_answers(serve):
    served = serve(team_name="research-team")
    names = [m.id for m in client(served).models.list().data]
    assert names[0] == "research-team" and names.count("research-team") == 1  # the served team first
    assert {"offline-demo", "local-models"} <= set(names)
    assert [m.id for m in client(serve(presets=False)).models.list().data] == ["massgen"]
    reply = client(served).chat.completions.create(model="offline-demo", messages=[{"role": "user", "content": "Hi?"}])
    assert reply.choices[0].message.content.startswith("Offline demo (no model was called): you asked \"Hi?\"")
    from massgen_core import paths

    broken = paths.config_dir() / "presets" / "broken.yaml"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("agent: {id: a, backend: {type: nonesuch, model: m}}\n")
    with pytest.raises(openai.InternalServerError) as info:
        client(served).chat.completions.create(model="broken", messages=[{"role": "user", "content": "q"}])
    assert info.value.status_code == 503 and "does not load" in info.value.body["message"]


def test_a_completion_is_the_winners_final_answer_with_usage_and_the_coordination(serve):
    served = serve()
    completion = client(served).chat.completions.create(
        model="massgen", messages=[{"role": "user", "content": "Why?"}])
    assert completion.object == "chat.completion" and completion.model == "massgen"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == WINNER.format(q="Why?")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens > 0
    team = completion.model_extra["massgen"]
    assert team["winner"] == "a2" and team["ended_by"] == "consensus"
    assert {v["voter"] for v in team["votes"]} == {"a1", "a2"}


def test_streaming_sends_the_answer_in_chunks_then_usage_and_done(serve):
    served = serve()
    chunks = list(client(served).chat.completions.create(
        model="massgen", messages=[{"role": "user", "content": "How?"}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == WINNER.format(q="How?")
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"] and len({c.id for c in chunks}) == 1
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_the_messages_become_the_conversation(serve):
    manager = make_manager()
    observer = Observer()
    manager.register(observer, name="observer")
    served = serve(manager=manager)
    completion = client(served).chat.completions.create(model="massgen", messages=[
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "First?"}, {"role": "assistant", "content": "One."},
        {"role": "user", "content": "Second?"},
    ])
    assert completion.choices[0].message.content == WINNER.format(q="Second?")
    [started] = [e for e in observer.events if e.type == "session_started"]
    assert started.question == "Second?" and started.turn == 2  # one earlier turn carried as history


def test_coordination_events_only_for_clients_that_ask(serve):
    served = serve()
    body = {"model": "massgen", "messages": [{"role": "user", "content": "Hm?"}], "stream": True}
    plain = served.client.post("/v1/chat/completions", json=body).text
    assert "massgen_event" not in plain
    with_events = served.client.post("/v1/chat/completions", json=body, headers={"X-MassGen-Events": "1"}).text
    frames = [json.loads(line[6:]) for line in with_events.splitlines()
              if line.startswith("data: {")]
    kinds = [f["massgen_event"]["type"] for f in frames if "massgen_event" in f]
    assert {"session_started", "answer_submitted", "vote_cast", "winner_selected"} <= set(kinds)
    assert all(f["choices"] == [] for f in frames if "massgen_event" in f)
    assert with_events.rstrip().endswith("data: [DONE]")


def test_errors_have_openais_shape_and_status(serve):
    served = serve(token="s3cret-token-123")
    with pytest.raises(openai.AuthenticationError) as info:
        client(served).chat.completions.create(model="massgen", messages=[{"role": "user", "content": "q"}])
    assert info.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        client(served).models.list()
    authed = client(served, key="s3cret-token-123")
    with pytest.raises(openai.NotFoundError) as info:
        authed.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "q"}])
    assert info.value.body["code"] == "model_not_found" and "massgen" in info.value.body["message"]
    with pytest.raises(openai.BadRequestError) as info:
        authed.chat.completions.create(model="massgen", messages=[{"role": "assistant", "content": "q"}])
    assert info.value.body["param"] == "messages" and info.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError, match="only n=1"):
        authed.chat.completions.create(model="massgen", messages=[{"role": "user", "content": "q"}], n=2)
    raw = served.client.post("/v1/chat/completions", content=b'{"model": "massgen", "messages": [',
                             headers={"authorization": "Bearer s3cret-token-123", "content-type": "application/json"})
    assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"


def test_busy_unavailable_and_unanswered(serve):
    served = serve(max_sessions=1)
    served.app.state.api.active = 1  # every slot taken
    with pytest.raises(openai.RateLimitError):
        client(served).chat.completions.create(model="massgen", messages=[{"role": "user", "content": "q"}])
    served.app.state.api.active = 0

    manager = make_manager()
    no_key = config_from_dict({"agent": {"id": "g", "backend": {"type": "openai", "model": "gpt-4o-mini"}}},
                              manager=manager)
    with pytest.raises(openai.InternalServerError) as info:
        client(serve(manager=manager, config=no_key)).chat.completions.create(
            model="massgen", messages=[{"role": "user", "content": "q"}])
    assert info.value.status_code == 503 and "OPENAI_API_KEY" in info.value.body["message"]

    failing = config_from_dict({"agents": [{"id": "f", "backend": {"type": "scripted", "model": "s",
                                                                   "script": [{"fail": "server"}]}}]}, manager=manager)
    broken = serve(manager=manager, config=failing)
    with pytest.raises(openai.InternalServerError) as info:
        client(broken).chat.completions.create(model="massgen", messages=[{"role": "user", "content": "q"}])
    assert info.value.status_code == 502 and info.value.body["code"] == "no_answer"
    streamed = broken.client.post("/v1/chat/completions", json={
        "model": "massgen", "messages": [{"role": "user", "content": "q"}], "stream": True}).text
    assert '"code": "no_answer"' in streamed and streamed.rstrip().endswith("data: [DONE]")


def test_a_silent_stream_gets_heartbeats(serve):
    manager = make_manager()
    served = serve(manager=manager, config=scripted_config(manager, first_delay=0.5), heartbeat_s=0.1)
    body = {"model": "massgen", "messages": [{"role": "user", "content": "q"}], "stream": True}
    assert ": ping" in served.client.post("/v1/chat/completions", json=body).text
    session = served.client.post("/v1/sessions", json={"question": "q"}, headers={"accept": "text/event-stream"})
    assert ": ping" in session.text and "event: result" in session.text


def test_curl_streams_it(serve):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    served = serve()
    out = subprocess.run(
        [curl, "-sN", served.url + "/v1/chat/completions", "-H", "content-type: application/json", "-d",
         json.dumps({"model": "massgen", "stream": True, "messages": [{"role": "user", "content": "Curl?"}]})],
        capture_output=True, text=True, timeout=60, check=True).stdout
    deltas = [json.loads(line[6:]) for line in out.splitlines() if line.startswith("data: {")]
    assert "".join(d["choices"][0]["delta"].get("content", "") for d in deltas if d["choices"]) == \
        WINNER.format(q="Curl?")
    assert out.rstrip().endswith("data: [DONE]")


@pytest.mark.slow
def test_the_openai_npm_client_works_too(serve, tmp_path):
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed")
    install = subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "openai@4"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    if install.returncode != 0:
        pytest.skip(f"the npm registry did not give the openai package: {install.stderr[-300:]}")
    served = serve(presets=False)
    script = tmp_path / "ask.mjs"
    script.write_text(f"""
import OpenAI from "openai";
const client = new OpenAI({{ baseURL: "{served.url}/v1", apiKey: "unused", maxRetries: 0 }});
const models = await client.models.list();
const done = await client.chat.completions.create({{ model: "massgen", messages: [{{ role: "user", content: "Node?" }}] }});
let text = "";
const stream = await client.chat.completions.create({{ model: "massgen", stream: true,
  messages: [{{ role: "user", content: "Node?" }}] }});
for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
console.log(JSON.stringify({{ models: models.data.map((m) => m.id), answer: done.choices[0].message.content, text }}));
""")
    out = subprocess.run([node, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result == {"models": ["massgen"], "answer": WINNER.format(q="Node?"), "text": WINNER.format(q="Node?")}


def test_metrics_count_sessions_requests_and_routes(serve):
    served = serve()
    client(served).chat.completions.create(model="massgen", messages=[{"role": "user", "content": "q"}])
    text = served.client.get("/metrics").text
    assert 'massgen_sessions_total{ended_by="consensus"} 1.0' in text
    assert 'massgen_model_requests_total{backend="scripted",model="s-1",status="ok"}' in text
    assert 'massgen_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 1.0' in text


def test_ready_and_health(serve):
    served = serve()
    assert served.client.get("/ready").json() == {"ready": True}
    served.app.state.api.stopping = True
    stopping = served.client.get("/ready")
    assert stopping.status_code == 503 and stopping.json()["reason"] == "shutting down"
    assert served.client.get("/health").json() == {"ok": True}  # alive while it drains
    manager = make_manager()
    no_key = config_from_dict({"agent": {"id": "g", "backend": {"type": "openai", "model": "gpt-4o-mini"}}},
                              manager=manager)
    unready = serve(manager=manager, config=no_key).client.get("/ready")
    assert unready.status_code == 503 and "cannot start" in unready.json()["reason"]
    busy = serve(max_sessions=1)
    busy.app.state.api.active = 1
    assert busy.client.get("/ready").json()["reason"] == "every session slot is busy"
    busy.app.state.api.active = 0


def test_search_and_export_conversations(serve):
    import massgen_export_markdown

    manager = make_manager()
    manager.register(massgen_export_markdown, name="massgen-export-markdown")
    served = serve(manager=manager)
    assert served.client.post("/v1/sessions", json={"question": "a private question"}).status_code == 200
    hits = served.client.get("/v1/conversations", params={"q": "private"}).json()["conversations"]
    assert len(hits) == 1 and "[private]" in hits[0]["snippet"]
    assert served.client.get("/v1/conversations", params={"q": "gpt-4o C++ what's"}).status_code == 200
    assert served.client.get("/v1/conversations", params={"q": "!!"}).status_code == 400
    # q is read as `massgen conversations search` reads it: -word excludes, CJK text is found as a substring.
    assert served.client.get("/v1/conversations", params={"q": "question -private"}).json()["conversations"] == []
    assert served.client.post("/v1/sessions", json={"question": "日本の首都はどこですか"}).status_code == 200
    (cjk,) = served.client.get("/v1/conversations", params={"q": "首都"}).json()["conversations"]
    assert "[首都]" in cjk["snippet"] and cjk["id"] != hits[0]["id"]
    cid = hits[0]["id"]
    markdown = served.client.get(f"/v1/conversations/{cid[:8]}/export", params={"format": "markdown"})
    assert markdown.status_code == 200 and "a private question" in markdown.text
    assert markdown.headers["content-disposition"] == f'attachment; filename="conversation-{cid[:8]}.md"'
    assert "default-src 'none'" in markdown.headers["content-security-policy"]
    assert served.client.get(f"/v1/conversations/{cid}/export", params={"format": "pdf"}).status_code == 400
    assert served.client.get("/v1/conversations/ffffffff/export", params={"format": "markdown"}).status_code == 404
