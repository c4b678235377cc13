"""The HTTP API of ``massgen serve``, served for real by uvicorn on 127.0.0.1 in a thread, driven with httpx.

Agents are scripted (no network); each test gets its own MASSGEN_HOME, so its
own conversation store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from massgen_core.config.loader import config_from_dict
from massgen_core.hookspecs import hookimpl
from massgen_server.app import BadRequest, Settings, parse_session_request
from massgen_server.testing import WAIT_S, Served, make_manager, scripted_config


def sse_frames(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event type, data) of each Server-Sent Event, as a client parses them."""
    kind, data = None, []
    for line in lines:
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        elif line == "" and kind is not None:
            yield kind, json.loads("\n".join(data))
            kind, data = None, []


SSE = {"Accept": "text/event-stream"}


# -- health and backends ---------------------------------------------------------


def test_status_reports_version_plugins_and_session_slots(serve):
    served = serve(max_sessions=3)
    response = served.client.get("/v1/status")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["version"] == __import__("massgen_core").__version__
    assert "massgen-scripted" in body["plugins"]
    assert body["sessions"] == {"active": 0, "max": 3}


def test_backends_lists_agents_with_type_and_model_but_never_keys(serve):
    manager = make_manager()
    config = config_from_dict(
        {
            "agents": [
                {"id": "solo", "backend": {"type": "openai", "model": "gpt-4o-mini", "api_key": "sk-secret-value"}},
                {
                    "id": "team",
                    "agents": [{"id": "inner", "backend": {"type": "scripted", "model": "s-9"}}],
                },
            ]
        },
        manager=manager,
    )
    response = serve(config=config, manager=manager).client.get("/v1/backends")
    assert response.status_code == 200
    assert response.json() == {
        "agents": [
            {"id": "solo", "backend": "openai", "model": "gpt-4o-mini"},
            {"id": "team", "backend": None, "model": None, "agents": [{"id": "inner", "backend": "scripted", "model": "s-9"}]},
        ]
    }
    assert "sk-secret-value" not in response.text


# -- auth ------------------------------------------------------------------------


def test_token_is_required_when_configured(serve):
    served = serve(token="s3cret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        response = served.client.get("/v1/backends", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["type"] == "unauthorized"
    assert served.client.post("/v1/sessions", json={"question": "q"}).status_code == 401


def test_right_token_is_accepted(serve):
    served = serve(token="s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    assert served.client.get("/v1/backends", headers=auth).status_code == 200
    response = served.client.post("/v1/sessions", json={"question": "q"}, headers=auth)
    assert response.status_code == 200
    assert response.json()["winner"] == "a2"


# -- sessions --------------------------------------------------------------------


def test_session_returns_answer_winner_and_votes(serve):
    response = serve().client.post("/v1/sessions", json={"question": "Why?"})
    assert response.status_code == 200
    result = response.json()
    assert result["question"] == "Why?"
    assert result["final_answer"] == "A2 says Why?, at length"
    assert result["winner"] == "a2"
    assert result["ended_by"] == "consensus"
    assert {voter: vote["target"] for voter, vote in result["votes"].items()} == {"a1": "a2", "a2": "a2"}
    assert result["answers"] == {"a1": "A1 says Why?", "a2": "A2 says Why?, at length"}
    assert result["conversation_id"]


def test_session_result_has_the_same_fields_as_massgen_json(serve):
    from massgen_core.display.json_result import session_result
    from massgen_core.display.state import SessionView

    result = serve().client.post("/v1/sessions", json={"question": "q"}).json()
    assert set(result) == set(session_result(SessionView())) | {"conversation_id"}


def test_session_uses_the_given_history(serve):
    served = serve()
    history = [["What is 1+1?", "2"]]
    result = served.client.post("/v1/sessions", json={"question": "And 2+2?", "history": history}).json()
    document = served.client.get(f"/v1/conversations/{result['conversation_id']}").json()
    assert document["turns"][0]["question"] == "And 2+2?"
    assert result["turn"] == 2  # the orchestrator counted the given turn


def test_given_history_wins_over_the_stored_one(serve):
    served = serve()
    first = served.client.post("/v1/sessions", json={"question": "first"}).json()
    second = served.client.post(
        "/v1/sessions", json={"question": "second", "conversation_id": first["conversation_id"], "history": []}
    ).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert second["turn"] == 1


def test_session_continues_a_stored_conversation_by_id_prefix(serve):
    served = serve()
    first = served.client.post("/v1/sessions", json={"question": "first question"}).json()
    second = served.client.post(
        "/v1/sessions", json={"question": "second question", "conversation_id": first["conversation_id"][:8]}
    ).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert second["turn"] == 2
    document = served.client.get(f"/v1/conversations/{first['conversation_id']}").json()
    assert [t["question"] for t in document["turns"]] == ["first question", "second question"]


def test_no_logs_server_records_nothing(serve):
    served = serve(record=False)
    result = served.client.post("/v1/sessions", json={"question": "q"}).json()
    assert result["winner"] == "a2"
    assert result["conversation_id"] is None
    assert served.client.get("/v1/conversations").json() == {"conversations": []}


def test_on_event_plugins_receive_every_event_of_a_session(serve):
    seen: list[Any] = []

    class Observer:
        @hookimpl
        def on_event(self, event: Any) -> None:
            seen.append(event)

    manager = make_manager()
    manager.register(Observer(), name="observer")
    served = serve(manager=manager)
    served.client.post("/v1/sessions", json={"question": "q"})
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].type == "session_finished"


def test_a_failing_on_event_plugin_is_switched_off_with_a_warning_and_the_session_goes_on(serve, capfd):
    class Broken:
        @hookimpl
        def on_event(self, event: Any) -> None:
            raise RuntimeError("observer bug")

    manager = make_manager()
    manager.register(Broken(), name="broken")
    response = serve(manager=manager).client.post("/v1/sessions", json={"question": "q"})
    assert response.status_code == 200
    assert response.json()["winner"] == "a2"
    stderr = capfd.readouterr().err
    assert stderr.count("on_event plugin broken failed and was switched off: RuntimeError: observer bug") == 1


def test_a_failing_store_is_switched_off_with_a_warning_and_the_session_goes_on(serve, capfd, monkeypatch):
    def broken(self: Any, event: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("massgen_core.store.recorder.Recorder.__call__", broken)
    response = serve().client.post("/v1/sessions", json={"question": "q"})
    assert response.status_code == 200
    assert response.json()["winner"] == "a2"
    assert "the conversation store failed and was switched off" in capfd.readouterr().err


def test_status_lists_the_installed_plugins_by_default():
    served = Served(Settings(config=scripted_config(make_manager())))
    try:
        plugins = served.client.get("/v1/status").json()["plugins"]
        assert {"massgen-scripted", "massgen-server", "massgen-voting-majority"} <= set(plugins)
    finally:
        served.stop()


# -- streaming -------------------------------------------------------------------


def test_stream_yields_every_event_in_order_then_the_result(serve):
    served = serve()
    with served.client.stream("POST", "/v1/sessions", json={"question": "q"}, headers=SSE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = list(sse_frames(response.iter_lines()))
    kinds = [kind for kind, _ in frames]
    assert kinds[0] == "session_started"
    assert kinds[-2:] == ["session_finished", "result"]
    events = [data for kind, data in frames[:-1]]
    assert all(kind == data["type"] for kind, data in frames[:-1])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["session_id"] for e in events}) == 1
    result = frames[-1][1]
    assert result["winner"] == "a2"
    assert result["session_id"] == events[0]["session_id"]


def test_client_disconnect_cancels_the_session_and_the_server_stays_healthy(serve):
    manager = make_manager()
    served = serve(manager=manager, config=scripted_config(manager, first_delay=1.0))
    served.wait_idle()
    baseline = served.tasks()
    with httpx.Client(base_url=served.url, timeout=WAIT_S) as client:
        with client.stream("POST", "/v1/sessions", json={"question": "q"}, headers=SSE) as response:
            # keep the iterator referenced: dropping it would close the connection early
            frames = sse_frames(response.iter_lines())
            assert next(frames)[0] == "session_started"
            assert served.client.get("/v1/status").json()["sessions"]["active"] == 1
    # the client is gone mid-session: the slot comes back and no task is left behind
    served.wait_idle()
    deadline = time.monotonic() + WAIT_S
    while served.tasks() > baseline:
        assert time.monotonic() < deadline, "tasks were left behind"
        time.sleep(0.02)
    listed = served.client.get("/v1/conversations").json()["conversations"]
    assert [c["ended_by"] for c in listed] == ["cancelled"]
    again = served.client.post("/v1/sessions", json={"question": "again"})
    assert again.status_code == 200
    assert again.json()["ended_by"] == "consensus" and again.json()["final_answer"]


def test_client_leaving_a_plain_json_session_cancels_it(serve):
    manager = make_manager()
    served = serve(manager=manager, config=scripted_config(manager, first_delay=5.0))
    with httpx.Client(base_url=served.url, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/v1/sessions", json={"question": "q"})
    served.wait_idle()
    listed = served.client.get("/v1/conversations").json()["conversations"]
    assert [c["ended_by"] for c in listed] == ["cancelled"]


def test_concurrent_sessions_run_side_by_side_without_sharing_state(serve):
    from concurrent.futures import ThreadPoolExecutor

    seen: list[str] = []

    class Observer:
        @hookimpl
        def on_event(self, event: Any) -> None:
            seen.append(event.type)

    manager = make_manager()
    manager.register(Observer(), name="observer")
    served = serve(manager=manager, config=scripted_config(manager, first_delay=1.0), max_sessions=2)

    def ask(question: str) -> dict[str, Any]:
        with httpx.Client(base_url=served.url, timeout=WAIT_S) as client:
            response = client.post("/v1/sessions", json={"question": question})
            assert response.status_code == 200
            return response.json()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(ask, ["left", "right"]))
    # side by side: both had started before either finished
    assert seen.index("session_finished") > max(i for i, kind in enumerate(seen) if kind == "session_started")
    assert [r["question"] for r in results] == ["left", "right"]
    assert all(r["question"] in r["final_answer"] for r in results)
    assert results[0]["session_id"] != results[1]["session_id"]
    assert results[0]["conversation_id"] != results[1]["conversation_id"]


def test_max_sessions_refuses_extra_sessions_with_429_and_retry_after(serve):
    manager = make_manager()
    # the first session would take 5 s: it holds the only slot until the client leaves
    served = serve(manager=manager, config=scripted_config(manager, first_delay=5.0), max_sessions=1, retry_after_s=7)
    with httpx.Client(base_url=served.url, timeout=WAIT_S) as client:
        with client.stream("POST", "/v1/sessions", json={"question": "q"}, headers=SSE) as response:
            frames = sse_frames(response.iter_lines())  # referenced, so the connection stays open
            assert next(frames)[0] == "session_started"
            refused = served.client.post("/v1/sessions", json={"question": "q2"})
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "7"
            assert refused.json()["error"]["type"] == "too_many_sessions"
    served.wait_idle()


# -- conversations ---------------------------------------------------------------


def test_conversations_list_and_show_after_a_session(serve):
    served = serve()
    result = served.client.post("/v1/sessions", json={"question": "What is up?"}).json()
    listed = served.client.get("/v1/conversations").json()["conversations"]
    assert [c["id"] for c in listed] == [result["conversation_id"]]
    assert listed[0]["winner"] == "a2" and listed[0]["title"] == "What is up?"
    shown = served.client.get(f"/v1/conversations/{result['conversation_id'][:6]}")
    assert shown.status_code == 200
    document = shown.json()
    assert document["conversation"]["id"] == result["conversation_id"]
    assert document["turns"][0]["final_answer"] == result["final_answer"]


def test_conversations_limit(serve):
    served = serve()
    for n in range(3):
        served.client.post("/v1/sessions", json={"question": f"q{n}"})
    assert len(served.client.get("/v1/conversations", params={"limit": 2}).json()["conversations"]) == 2


def test_conversations_list_is_empty_before_any_session(serve):
    assert serve().client.get("/v1/conversations").json() == {"conversations": []}


# -- errors ----------------------------------------------------------------------


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"type", "message"}
    return error


def test_unknown_conversation_is_404(serve):
    served = serve()
    assert "none recorded yet" in error_of(served.client.get("/v1/conversations/abc"), 404)["message"]
    served.client.post("/v1/sessions", json={"question": "q"})
    error = error_of(served.client.get("/v1/conversations/zzzz"), 404)
    assert error["type"] == "not_found" and "zzzz" in error["message"]


def test_ambiguous_conversation_prefix_is_400(serve):
    from massgen_core.store import Store

    served = serve()
    recorded = served.client.post("/v1/sessions", json={"question": "q"}).json()["conversation_id"]
    with Store() as store:
        document = store.document(recorded)
        for cid in ("abc1", "abc2"):
            document["conversation"]["id"] = cid
            store.import_document(document)
    assert served.client.get("/v1/conversations/abc1").status_code == 200
    error = error_of(served.client.get("/v1/conversations/abc"), 400)
    assert error["type"] == "ambiguous_id"
    error = error_of(served.client.post("/v1/sessions", json={"question": "q", "conversation_id": "abc"}), 400)
    assert error["type"] == "ambiguous_id"


def test_unknown_conversation_to_continue_is_404(serve):
    served = serve()
    error_of(served.client.post("/v1/sessions", json={"question": "q", "conversation_id": "nope"}), 404)
    served.client.post("/v1/sessions", json={"question": "q"})
    error = error_of(served.client.post("/v1/sessions", json={"question": "q", "conversation_id": "zzzz"}), 404)
    assert "zzzz" in error["message"]


def test_unknown_route_and_wrong_method_are_json_errors(serve):
    served = serve()
    assert error_of(served.client.get("/v2/nothing"), 404)["type"] == "not_found"
    assert error_of(served.client.get("/v1/sessions"), 405)["type"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"question": ""}', '"question"'),
        (b'{"question": 3}', '"question"'),
        (b'{"question": "q", "history": [["only one"]]}', '"history"'),
        (b'{"question": "q", "history": "no"}', '"history"'),
        (b'{"question": "q", "conversation_id": 5}', '"conversation_id"'),
        (b'{"question": "q", "stream": true}', "unknown field"),
        (b"[" * 100_000, "nests deeper than 32 levels"),  # past Python's recursion limit
        (b'{"question": "q", "history": ' + b"[" * 40 + b"]" * 40 + b"}", "nests deeper than 32 levels"),
        (b'{"question": "\\ud800 lone"}', "lone UTF-16 surrogate"),
        (b'{"question": "q", "history": [["\\udfff", "a"]]}', "lone UTF-16 surrogate"),
        (b'{"question": "q", "\\ud83d": 1}', "lone UTF-16 surrogate"),
    ],
)
def test_bad_session_body_is_400(serve, body, fragment):
    served = serve()
    response = served.client.post("/v1/sessions", content=body, headers={"content-type": "application/json"})
    error = error_of(response, 400)
    assert error["type"] == "bad_request"
    assert fragment in error["message"]


def test_oversized_body_is_413(serve):
    served = serve()
    body = json.dumps({"question": "q" * 1_000_001})
    error = error_of(served.client.post("/v1/sessions", content=body, headers={"content-type": "application/json"}), 413)
    assert error["type"] == "payload_too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the cap applies while reading
        yield b'{"question": "'
        for _ in range(20):
            yield b"q" * 100_000
        yield b'"}'

    error = error_of(served.client.post("/v1/sessions", content=chunked(), headers={"content-type": "application/json"}), 413)
    assert error["type"] == "payload_too_large"


def test_bad_limit_is_400(serve):
    served = serve()
    for limit in ("x", "0", "10001", "9223372036854775808", str(10**30), "9" * 5000):
        error = error_of(served.client.get("/v1/conversations", params={"limit": limit}), 400)
        assert error["type"] == "bad_request" and "from 1 to 10000" in error["message"]
    assert served.client.get("/v1/conversations", params={"limit": "10000"}).status_code == 200


def test_config_that_cannot_build_is_422(serve):
    manager = make_manager()
    config = scripted_config(manager)
    # the voting strategy's plugin is not loaded (e.g. MASSGEN_LOAD_PLUGINS left it out)
    served = serve(manager=make_manager(voting=False), config=config)
    error = error_of(served.client.post("/v1/sessions", json={"question": "q"}), 422)
    assert error["type"] == "config_error"
    assert "majority" in error["message"]
    assert served.wait_idle()["sessions"]["active"] == 0


def test_missing_key_is_503_naming_the_variable(serve):
    manager = make_manager()
    config = config_from_dict({"agents": [{"id": "gpt", "backend": {"type": "openai", "model": "gpt-4o-mini"}}]}, manager=manager)
    served = serve(manager=manager, config=config)
    error = error_of(served.client.post("/v1/sessions", json={"question": "q"}), 503)
    assert error["type"] == "backend_unavailable"
    assert "OPENAI_API_KEY" in error["message"]
    assert served.wait_idle()["sessions"]["active"] == 0


def test_an_unexpected_failure_is_a_json_500(serve, monkeypatch):
    served = serve()
    monkeypatch.setattr("massgen_core.store.Store.list_conversations", lambda self, f: 1 / 0)
    served.client.post("/v1/sessions", json={"question": "q"})
    error = error_of(served.client.get("/v1/conversations"), 500)
    assert error["type"] == "internal_error"
    assert "ZeroDivisionError" in error["message"]


def test_a_lone_surrogate_is_refused_before_any_session_runs(watched):
    served, observer = watched()
    response = served.client.post("/v1/sessions", content=b'{"question": "\\ud800"}', headers={"content-type": "application/json"})
    assert error_of(response, 400)["type"] == "bad_request"
    assert observer.events == []
    # a surrogate pair written as two escapes is one real character and is fine
    response = served.client.post("/v1/sessions", content=b'{"question": "\\ud83d\\ude00"}', headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["question"] == "\U0001f600"


def test_health_says_only_that_the_server_is_up(serve):
    for served in (serve(), serve(token="s3cret")):
        response = served.client.get("/health")
        assert response.status_code == 200
        assert response.json() == {"ok": True}


def test_status_needs_the_token_when_one_is_set(serve):
    served = serve(token="s3cret")
    assert error_of(served.client.get("/v1/status"), 401)["type"] == "unauthorized"
    status = served.client.get("/v1/status", headers={"Authorization": "Bearer s3cret"}).json()
    assert "massgen-scripted" in status["plugins"]


def test_parse_session_request_accepts_a_full_body():
    parsed = parse_session_request(b'{"question": "q", "history": [["a", "b"]], "conversation_id": "c1"}')
    assert parsed.question == "q"
    assert parsed.history == (("a", "b"),)
    assert parsed.conversation_id == "c1"
    with pytest.raises(BadRequest):
        parse_session_request(b"")
