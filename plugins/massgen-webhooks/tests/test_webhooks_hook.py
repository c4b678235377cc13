"""The ``on_event`` hook: configuration from MASSGEN_HOME and the environment, flushing, failing safe."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import massgen_webhooks

from massgen_core.events import EventFactory, SessionFinished, SessionStarted, TextDelta, VoteCast
from massgen_core.testing.server import Response

PATH = "/hook"


def write_config(home: Path, text: str) -> Path:
    (home / "config").mkdir(exist_ok=True)
    path = home / "config" / "webhooks.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def session_events():
    make = EventFactory("s1")
    return [
        make(SessionStarted, question="q", agent_ids=("a",)),
        make(TextDelta, agent_id="a", text="x"),
        make(VoteCast, voter="a", target="a", target_label="agent1"),
        make(SessionFinished, final_answer="A", winner="a", ended_by="consensus"),
    ]


def types_received(server) -> list[str]:
    return [r.json()["event"]["type"] for r in server.requests_to(PATH)]


def test_the_environment_url_gets_the_default_events_before_session_finished_returns(
    receiver, monkeypatch
):
    monkeypatch.setenv("MASSGEN_WEBHOOK_URL", receiver.url + PATH)
    receiver.add("POST", PATH, Response(status=204, first_byte_delay=0.05))
    for event in session_events():
        massgen_webhooks.on_event(event)
    # no waiting here: on_event(session_finished) itself waited for the deliveries
    assert types_received(receiver) == ["session_started", "vote_cast", "session_finished"]


def test_hooks_in_the_config_dir_file_are_used_with_secrets_from_the_environment(
    receiver, monkeypatch, _isolated_home
):
    monkeypatch.setenv("HOOK_SECRET", "from-env")
    write_config(
        _isolated_home,
        f"""
        hooks:
          - url: {receiver.url}{PATH}
            events: [session_finished]
            secret: ${{HOOK_SECRET}}
        """,
    )
    for event in session_events():
        massgen_webhooks.on_event(event)
    (request,) = receiver.requests_to(PATH)
    from massgen_webhooks.delivery import sign

    assert request.header("x-massgen-signature") == sign("from-env", request.body)


def test_without_configuration_the_hook_does_nothing():
    for event in session_events():
        assert massgen_webhooks.on_event(event) is None
    assert massgen_webhooks.get_dispatcher() is None


def test_an_invalid_file_is_reported_once_and_never_raises(
    receiver, monkeypatch, _isolated_home, caplog
):
    path = write_config(
        _isolated_home, f"hooks: [{{url: '{receiver.url}{PATH}', evnts: [vote_cast]}}]\n"
    )
    monkeypatch.setenv("MASSGEN_WEBHOOK_URL", receiver.url + PATH)
    with caplog.at_level(logging.WARNING, logger="massgen_webhooks"):
        for event in session_events() + session_events():
            assert massgen_webhooks.on_event(event) is None
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert (
        str(path) in warnings[0]
        and "hooks[0].evnts" in warnings[0]
        and "did you mean 'events'?" in warnings[0]
    )
    # the environment's hook still works: a broken file switches off only the file
    assert types_received(receiver).count("session_finished") == 2


def test_the_secret_never_reaches_the_logs(receiver, monkeypatch, _isolated_home, caplog):
    secret = "hunter2-do-not-log"
    monkeypatch.setenv("HOOK_SECRET", secret)
    receiver.add("POST", PATH, Response(status=503), Response(status=400))
    write_config(
        _isolated_home,
        f"""
        hooks:
          - url: {receiver.url}{PATH}
            secret: ${{HOOK_SECRET}}
            headers: {{X-Token: "${{HOOK_SECRET}}"}}
            retry_initial_delay: 0.01
        """,
    )
    with caplog.at_level(logging.DEBUG):
        for event in session_events():
            massgen_webhooks.on_event(event)
        massgen_webhooks.reset()
        write_config(  # and a broken file that uses it
            _isolated_home,
            f"hooks: [{{url: '{receiver.url}{PATH}', secret: '${{HOOK_SECRET}}', headers: {{X: '${{HOOK_SECRET}}'}}, timeout: -1}}]",
        )
        massgen_webhooks.on_event(session_events()[0])
    assert (
        "retry 1/3" in caplog.text
        and "not retried" in caplog.text
        and "hooks[0].timeout" in caplog.text
    )
    assert secret not in caplog.text
    assert all(secret not in repr(r.args) for r in caplog.records)


def test_reset_reloads_the_configuration(receiver, monkeypatch):
    assert massgen_webhooks.get_dispatcher() is None
    monkeypatch.setenv("MASSGEN_WEBHOOK_URL", receiver.url + PATH)
    assert massgen_webhooks.get_dispatcher() is None  # read once per process...
    massgen_webhooks.reset()
    assert massgen_webhooks.get_dispatcher() is not None  # ...until reset


SCRIPTED = """
agents:
  - id: alice
    backend:
      type: scripted
      script:
        - answer: "Paris."
        - vote: {for: best, reason: "complete"}
  - id: bob
    backend:
      type: scripted
      script:
        - {delay: 0.05, answer: "Paris is the capital of France."}
        - vote: {for: best, reason: "complete"}
"""


def test_a_cli_session_delivers_every_default_event_in_order_before_exiting(receiver, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, f"hooks: [{{url: '{receiver.url}{PATH}', secret: s}}]\n")
    (tmp_path / "team.yaml").write_text(SCRIPTED, encoding="utf-8")
    # the receiver answers slowly, so only a flush at the end lets every delivery arrive before exit
    receiver.add("POST", PATH, Response(status=204, first_byte_delay=0.1))
    env = {k: v for k, v in os.environ.items() if k != "MASSGEN_WEBHOOK_URL"}
    env["MASSGEN_HOME"] = str(home)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "massgen_core",
            "--config",
            str(tmp_path / "team.yaml"),
            "--no-display",
            "q",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    received = types_received(receiver)  # read after exit: nothing may arrive later
    assert received[0] == "session_started" and received[-1] == "session_finished"
    assert received.count("session_finished") == 1
    assert {"answer_submitted", "vote_cast", "winner_selected"} <= set(received)
    order = [
        "session_started",
        "answer_submitted",
        "vote_cast",
        "winner_selected",
        "session_finished",
    ]
    assert [t for t in order if t in received] == order
    assert received.index("winner_selected") > max(
        i for i, t in enumerate(received) if t == "vote_cast"
    )
    seqs = [r.json()["event"]["seq"] for r in receiver.requests_to(PATH)]
    assert seqs == sorted(seqs)
    final = json.loads(receiver.requests_to(PATH)[-1].body)["event"]
    assert final["final_answer"] and final["ended_by"] == "consensus"
    assert "massgen-webhooks" not in proc.stderr  # no warning: everything was delivered


def test_events_still_queued_at_exit_are_sent_before_the_process_ends(receiver, tmp_path):
    script = textwrap.dedent(
        """
        import massgen_webhooks
        from massgen_core.events import EventFactory, VoteCast

        make = EventFactory("s1")
        for _ in range(3):
            massgen_webhooks.on_event(make(VoteCast, voter="a", target="a", target_label="agent1"))
        """
    )
    receiver.add("POST", PATH, Response(status=204, first_byte_delay=0.1))
    # A generous exit flush: on a loaded machine the default 2 s can pass before the worker thread
    # has even imported its HTTP client, and this test is about waiting, not about the bound.
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "webhooks.yaml").write_text("flush_timeout: 30\n")
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path), "MASSGEN_WEBHOOK_URL": receiver.url + PATH}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert [r.json()["event"]["seq"] for r in receiver.requests_to(PATH)] == [1, 2, 3]


async def test_a_library_team_attaches_webhooks_as_an_observer(receiver, monkeypatch):
    # Only the scripted backend and majority voting load as plugins: webhooks come in as an observer alone.
    from massgen_core import Team, plugins

    monkeypatch.setenv("MASSGEN_LOAD_PLUGINS", "massgen-scripted,massgen-voting-majority")
    monkeypatch.setenv("MASSGEN_WEBHOOK_URL", receiver.url + PATH)
    plugins.set_plugin_manager(None)
    config = {"agents": [{"id": "a", "backend": {"type": "scripted", "script": [{"answer": "A."}, {"vote": "self"}]}}]}
    try:
        async with Team.from_config(config, record=False) as team:
            assert not team.manager.hook.on_event.get_hookimpls()
            await team.ask("q")
            assert types_received(receiver) == []  # not loaded, so not called
            result = await team.ask("q", observers=[massgen_webhooks.on_event])
    finally:
        plugins.set_plugin_manager(None)
    assert result.final_answer == "A."
    received = types_received(receiver)  # session_finished waited for the deliveries
    assert received[0] == "session_started" and received[-1] == "session_finished"
    assert {"answer_submitted", "vote_cast", "winner_selected"} <= set(received)
