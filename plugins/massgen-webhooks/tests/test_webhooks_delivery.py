"""Deliveries as a receiver sees them: filtering, body, signature, headers, retries, the queue bound."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import threading
import time

import pytest
from massgen_webhooks.config import Hook, Settings
from massgen_webhooks.delivery import Delivery, Dispatcher, parse_retry_after, sign

from massgen_core.events import (
    EventFactory,
    FinalAnswerDelta,
    SessionFinished,
    SessionStarted,
    TextDelta,
    UsageReported,
    VoteCast,
    event_from_dict,
)
from massgen_core.testing.server import Response

PATH = "/hook"
FAST = {"retry_initial_delay": 0.01, "retry_max_delay": 0.05}


def make_events():
    make = EventFactory("s1")
    return {
        "started": make(SessionStarted, question="q", agent_ids=("a", "b")),
        "delta": make(TextDelta, agent_id="a", text="hel"),
        "usage": make(UsageReported, agent_id="a", backend="scripted", model="m"),
        "vote": make(VoteCast, voter="a", target="b", target_label="agent2", reason="better"),
        "final_delta": make(FinalAnswerDelta, agent_id="b", text="Par"),
        "finished": make(SessionFinished, final_answer="Paris", winner="b", ended_by="consensus"),
    }


def dispatcher_for(url: str, queue_size: int = 1000, **hook: object) -> Dispatcher:
    options = {**FAST, **hook}
    return Dispatcher(Settings(hooks=(Hook(url=url, **options),), queue_size=queue_size))


def types_received(server) -> list[str]:
    return [r.json()["event"]["type"] for r in server.requests_to(PATH)]


def run(dispatcher: Dispatcher, *events) -> None:
    try:
        for event in events:
            dispatcher.submit(event)
        assert dispatcher.flush(5.0)
    finally:
        dispatcher.close(timeout=0)


def test_only_the_event_types_a_hook_lists_are_posted_in_order(receiver):
    ev = make_events()
    dispatcher = dispatcher_for(
        receiver.url + PATH, events=frozenset({"vote_cast", "session_finished"})
    )
    run(dispatcher, *ev.values())
    assert types_received(receiver) == ["vote_cast", "session_finished"]


def test_the_default_events_leave_out_usage_and_deltas(receiver):
    ev = make_events()
    run(dispatcher_for(receiver.url + PATH), *ev.values())
    assert types_received(receiver) == ["session_started", "vote_cast", "session_finished"]


def test_star_sends_every_event_but_deltas(receiver):
    ev = make_events()
    run(dispatcher_for(receiver.url + PATH, events=frozenset({"*"})), *ev.values())
    assert types_received(receiver) == [
        "session_started",
        "usage_reported",
        "vote_cast",
        "session_finished",
    ]


def test_deltas_are_sent_when_listed_explicitly(receiver):
    ev = make_events()
    run(dispatcher_for(receiver.url + PATH, events=frozenset({"*", "text_delta"})), *ev.values())
    assert "text_delta" in types_received(receiver)
    assert "final_answer_delta" not in types_received(receiver)


def test_the_body_is_the_event_as_json_and_a_delivery_id(receiver):
    ev = make_events()
    run(dispatcher_for(receiver.url + PATH), ev["vote"])
    (request,) = receiver.requests_to(PATH)
    body = request.json()
    assert set(body) == {"event", "delivery_id"}
    assert event_from_dict(body["event"]) == ev["vote"]
    assert len(body["delivery_id"]) == 32 and int(body["delivery_id"], 16) >= 0
    assert request.header("x-massgen-delivery") == body["delivery_id"]
    assert request.header("x-massgen-event") == "vote_cast"
    assert request.header("content-type") == "application/json"


def test_the_signature_is_hmac_sha256_of_the_exact_body(receiver):
    ev = make_events()
    run(dispatcher_for(receiver.url + PATH, secret="s3cret"), ev["finished"])
    (request,) = receiver.requests_to(PATH)
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.header("x-massgen-signature"), expected)
    assert sign("s3cret", request.body) == expected


def test_no_signature_header_without_a_secret(receiver):
    run(dispatcher_for(receiver.url + PATH), make_events()["finished"])
    assert receiver.requests_to(PATH)[0].header("x-massgen-signature") is None


def test_custom_headers_are_sent_and_cannot_forge_the_signature(receiver):
    headers = {"Authorization": "Bearer t0ken", "X-MassGen-Signature": "sha256=forged"}
    run(dispatcher_for(receiver.url + PATH, headers=headers, secret="k"), make_events()["finished"])
    (request,) = receiver.requests_to(PATH)
    assert request.header("authorization") == "Bearer t0ken"
    assert request.header("x-massgen-signature") == sign("k", request.body)


def test_a_503_is_retried_until_success_with_the_same_delivery_id(receiver):
    receiver.add("POST", PATH, Response(status=503), Response(status=503), Response(status=200))
    dispatcher = dispatcher_for(receiver.url + PATH, max_retries=3)
    run(dispatcher, make_events()["finished"])
    requests = receiver.requests_to(PATH)
    assert len(requests) == 3
    assert len({r.json()["delivery_id"] for r in requests}) == 1
    assert dispatcher.workers[0].delivered == 1 and dispatcher.workers[0].failed == 0


def test_retry_after_is_honoured(receiver):
    receiver.add(
        "POST", PATH, Response(status=429, headers={"Retry-After": "1"}), Response(status=200)
    )
    run(dispatcher_for(receiver.url + PATH), make_events()["finished"])
    first, second = receiver.requests_to(PATH)
    assert second.received_at - first.received_at >= 0.95


def test_giving_up_after_max_retries_warns_once_per_delivery(receiver, caplog):
    receiver.add("POST", PATH, Response(status=500))
    dispatcher = dispatcher_for(receiver.url + PATH, max_retries=2)
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        run(dispatcher, make_events()["finished"])
    assert len(receiver.requests_to(PATH)) == 3
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1
    assert "after 3 attempt(s): HTTP 500" in gave_up[0]
    assert dispatcher.workers[0].failed == 1


def test_a_client_error_is_not_retried(receiver, caplog):
    receiver.add("POST", PATH, Response(status=404))
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        run(dispatcher_for(receiver.url + PATH), make_events()["finished"])
    assert len(receiver.requests_to(PATH)) == 1
    assert "HTTP 404; not retried" in caplog.text


def test_connection_errors_are_retried_then_given_up(caplog):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with caplog.at_level(logging.DEBUG, logger="massgen_webhooks"):
        run(
            dispatcher_for(f"http://127.0.0.1:{port}{PATH}", max_retries=1),
            make_events()["finished"],
        )
    assert "retry 1/1" in caplog.text
    assert "after 2 attempt(s): ConnectError" in caplog.text


def test_a_slow_endpoint_times_out_per_attempt(receiver, caplog):
    receiver.add("POST", PATH, Response(hang=True))
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        run(
            dispatcher_for(receiver.url + PATH, timeout=0.2, max_retries=0),
            make_events()["finished"],
        )
    assert "ReadTimeout" in caplog.text


def test_submit_returns_at_once_while_the_endpoint_is_slow(receiver):
    receiver.add("POST", PATH, Response(status=204, first_byte_delay=0.5))
    dispatcher = dispatcher_for(receiver.url + PATH)
    started = time.monotonic()
    for _ in range(20):
        dispatcher.submit(make_events()["finished"])
    elapsed = time.monotonic() - started
    dispatcher.close(timeout=0)
    assert elapsed < 0.4  # one delivery alone takes 0.5 s


def test_a_full_queue_drops_the_oldest_with_one_warning(receiver, wait_for, caplog):
    gate = threading.Event()

    def slow(request):
        gate.wait(5)
        return Response(status=204)

    receiver.add("POST", PATH, slow)
    dispatcher = dispatcher_for(receiver.url + PATH, queue_size=2, events=frozenset({"*"}))
    make = EventFactory("s1")
    events = [make(VoteCast, voter="a", target="b", target_label="agent2") for _ in range(5)]
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        dispatcher.submit(events[0])
        assert wait_for(lambda: len(receiver.requests_to(PATH)) == 1)  # the worker is busy with #1
        for event in events[1:]:
            dispatcher.submit(event)
        gate.set()
        run(dispatcher)
    assert [r.json()["event"]["seq"] for r in receiver.requests_to(PATH)] == [1, 4, 5]
    full = [r for r in caplog.records if "is full" in r.getMessage()]
    assert len(full) == 1
    assert dispatcher.workers[0].dropped == 2
    assert "2 dropped because the queue was full" in caplog.text


def test_flush_gives_up_at_its_deadline_and_close_reports_what_was_not_sent(receiver, caplog):
    receiver.add("POST", PATH, Response(hang=True))
    dispatcher = dispatcher_for(receiver.url + PATH, timeout=5)
    dispatcher.submit(make_events()["finished"])
    started = time.monotonic()
    assert dispatcher.flush(0.2) is False
    assert time.monotonic() - started < 1.0
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        dispatcher.close(timeout=0)
    assert "1 delivery(ies) not sent at exit" in caplog.text


def test_closing_during_a_retry_wait_stops_promptly(receiver, wait_for, caplog):
    receiver.add("POST", PATH, Response(status=503))
    dispatcher = dispatcher_for(receiver.url + PATH, retry_initial_delay=30.0, retry_max_delay=30.0)
    dispatcher.workers[0]._jitter = lambda value: value  # a sure 30 s wait, not a random one
    dispatcher.submit(make_events()["finished"])
    assert wait_for(lambda: len(receiver.requests_to(PATH)) == 1)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        dispatcher.close(timeout=0.1)
        assert wait_for(lambda: "shutting down while retrying" in caplog.text)
    assert time.monotonic() - started < 3.0
    dispatcher.close()  # a second close is a no-op


def test_an_unserialisable_event_is_reported_and_the_queue_goes_on(receiver, caplog):
    dispatcher = dispatcher_for(receiver.url + PATH)
    worker = dispatcher.workers[0]
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        worker.put(Delivery(event={"type": "session_finished", "bad": object()}, delivery_id="x"))
        worker.put(Delivery(event={"type": "session_finished"}, delivery_id="y"))
        run(dispatcher)
    assert "unexpected error delivering" in caplog.text
    assert [r.json()["delivery_id"] for r in receiver.requests_to(PATH)] == ["y"]
    worker.put(Delivery(event={"type": "session_finished"}, delivery_id="z"))  # closed: ignored
    assert worker.pending() == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("2", 2.0),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("not a date", None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(header, expected):
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert parse_retry_after(header, now=now) == expected


def test_retry_after_dates_default_to_the_current_time():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT") == 0.0


def test_each_hook_gets_only_its_own_event_types(receiver):
    ev = make_events()
    hooks = (
        Hook(url=receiver.url + PATH, events=frozenset({"session_started"})),
        Hook(url=receiver.url + "/other", events=frozenset({"session_finished"})),
    )
    receiver.add("POST", "/other", Response(status=204))
    run(Dispatcher(Settings(hooks=hooks)), ev["started"], ev["finished"])
    assert types_received(receiver) == ["session_started"]
    assert [r.json()["event"]["type"] for r in receiver.requests_to("/other")] == [
        "session_finished"
    ]


def test_credentials_quoted_in_an_event_never_reach_the_receiver(receiver):
    from massgen_core.events import AgentFailed

    make = EventFactory("s1")
    failed = make(AgentFailed, agent_id="a", error="connect to http://bob:pw-in-url-1@10.0.0.1/v1?key=q-secret-2 failed")
    finished = make(SessionFinished, final_answer=None, winner=None, ended_by="all_agents_failed",
                    error="api_key=plain-secret-3 rejected")  # fmt: skip
    run(dispatcher_for(receiver.url + PATH, events=frozenset({"*"})), failed, finished)
    bodies = [r.body.decode() for r in receiver.requests_to(PATH)]
    assert len(bodies) == 2
    for secret in ("pw-in-url-1", "q-secret-2", "plain-secret-3", "bob:"):
        assert all(secret not in body for body in bodies)
    event = receiver.requests_to(PATH)[0].json()["event"]
    assert event["error"] == "connect to http://***@10.0.0.1/v1?key=*** failed"
