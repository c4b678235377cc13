"""run_impl in-process, against a replaying orchestrator: plumbing, exit codes, interactive commands."""

from __future__ import annotations

import io

import pytest

from massgen_core.cli import run_impl
from massgen_core.cli.run import RunOptions
from massgen_core.conversation import Conversation
from massgen_core.errors import MassGenError
from massgen_core.hookspecs import hookimpl
from massgen_core.team import Team, switched_off_message


_RUNNERS: list[run_impl.Runner] = []


@pytest.fixture(autouse=True)
def _shutdown_runners():
    yield
    while _RUNNERS:
        _RUNNERS.pop().shutdown()


def make_runner(replay, make_config, manager, *, answers=("Paris.",), recorder=None, **options):
    """A Runner on a Team whose engine is ``replay(answers)`` and whose first recorder is ``recorder``."""
    from massgen_core.recording import start_recording

    out, err = io.StringIO(), io.StringIO()
    streams = run_impl.Streams(io.StringIO(), out, err)
    orchestrator = replay(answers)
    recorders = [recorder]

    def record(config, *, enabled, conversation_id):
        return recorders.pop() if recorders else start_recording(config, enabled=enabled, conversation_id=conversation_id)

    team = Team(
        make_config(),
        manager=manager,
        record=recorder is not None,
        on_observer_error=lambda name, exc: streams.warn(switched_off_message(name, exc)),
        orchestrator_factory=lambda config, *, manager: orchestrator,
        recorder_factory=record,
    )
    runner = run_impl.Runner(options=RunOptions(no_display=True, **options), team=team,
                             conversation=Conversation(team).open(), streams=streams)
    _RUNNERS.append(runner)
    return runner, out, err


def test_an_answer_goes_to_stdout_with_exit_code_zero(replay, make_config, plugin_manager):
    runner, out, err = make_runner(replay, make_config, plugin_manager)
    assert runner.ask("capital of France?") == 0
    assert out.getvalue() == "Paris.\n"
    assert "[a] answered" in err.getvalue()


def test_no_answer_exits_one_with_the_reason(replay, make_config, plugin_manager):
    runner, out, err = make_runner(replay, make_config, plugin_manager, answers=(None,))
    assert runner.ask("q") == 1
    assert out.getvalue() == ""
    assert "massgen: error: no answer could be produced (all_agents_failed): every agent failed" in err.getvalue()


def test_a_stream_without_a_result_exits_one(make_config, plugin_manager):
    class Silent:
        async def run(self, question, *, history, session_id):
            return
            yield

    runner, _, err = make_runner(lambda _: Silent(), make_config, plugin_manager)
    assert runner.ask("q") == 1
    assert "the session ended without a result" in err.getvalue()


def test_answers_accumulate_as_history_for_the_next_question(replay, make_config, plugin_manager):
    runner, _, _ = make_runner(replay, make_config, plugin_manager, answers=("one", "two"))
    runner.ask("first?")
    runner.ask("second?")
    assert runner.conversation.orchestrator.calls[1][1] == [("first?", "one")]
    assert runner.history == [("first?", "one"), ("second?", "two")]


def test_each_question_gets_a_new_session_id(replay, make_config, plugin_manager):
    runner, _, _ = make_runner(replay, make_config, plugin_manager)
    runner.ask("a")
    runner.ask("b")
    ids = [call[2] for call in runner.conversation.orchestrator.calls]
    assert len(set(ids)) == 2


def test_on_event_plugins_receive_every_event_in_order(replay, make_config, plugin_manager):
    seen = []

    class Observer:
        @hookimpl
        def on_event(self, event):
            seen.append(event.seq)

    plugin_manager.register(Observer(), name="observer")
    runner, _, _ = make_runner(replay, make_config, plugin_manager)
    runner.ask("q")
    assert seen == list(range(1, 8))


def test_a_failing_on_event_plugin_is_reported_once_and_the_session_goes_on(replay, make_config, plugin_manager):
    class Broken:
        @hookimpl
        def on_event(self, event):
            raise RuntimeError("observer bug")

    plugin_manager.register(Broken(), name="broken")
    runner, out, err = make_runner(replay, make_config, plugin_manager)
    assert runner.ask("q") == 0
    assert out.getvalue() == "Paris.\n"
    assert err.getvalue().count("observer bug") == 1


def test_the_recorder_sees_every_event_and_is_closed(replay, make_config, plugin_manager):
    class Recorder:
        def __init__(self):
            self.events, self.closed = [], False

        def __call__(self, event):
            self.events.append(event)

        def close(self):
            self.closed = True

    recorder = Recorder()
    runner, _, _ = make_runner(replay, make_config, plugin_manager, recorder=recorder)
    runner.ask("q")
    runner.close()
    assert [e.type for e in recorder.events][-1] == "session_finished"
    assert recorder.closed and runner.recorder is None


def test_json_output_is_one_object_per_question(replay, make_config, plugin_manager):
    import json

    runner, out, _ = make_runner(replay, make_config, plugin_manager, json_output=True)
    runner.ask("q")
    result = json.loads(out.getvalue())
    assert result["final_answer"] == "Paris."
    assert result["votes"] == {"b": {"target": "a", "label": "agent1", "reason": "good"}}


# -- interactive ----------------------------------------------------------------


def interactive(replay, make_config, manager, lines: str, answers=("one", "two", "three")):
    runner, out, err = make_runner(replay, make_config, manager, answers=answers)
    runner.streams.stdin = io.StringIO(lines)
    code = run_impl.Interactive(runner=runner, streams=runner.streams).loop()
    return code, runner, out.getvalue(), err.getvalue()


def test_interactive_eof_ends_with_exit_zero(replay, make_config, plugin_manager):
    code, runner, out, err = interactive(replay, make_config, plugin_manager, "first?\n")
    assert code == 0
    assert out == "one\n"
    assert "MassGen interactive mode" in err


def test_interactive_carries_history_and_clear_forgets_it(replay, make_config, plugin_manager):
    code, runner, out, err = interactive(replay, make_config, plugin_manager, "first?\nsecond?\n/clear\nthird?\n")
    histories = [call[1] for call in runner.conversation.orchestrator.calls]
    assert histories == [[], [("first?", "one")], []]
    assert "history cleared" in err


@pytest.mark.parametrize("quit_command", ["/quit", "/exit", "/q", "/QUIT"])
def test_interactive_quit_commands_stop_reading(replay, make_config, plugin_manager, quit_command):
    code, runner, out, _ = interactive(replay, make_config, plugin_manager, f"first?\n{quit_command}\nnever asked\n")
    assert code == 0
    assert [c[0] for c in runner.conversation.orchestrator.calls] == ["first?"]


def test_interactive_status_reports_agents_history_and_last_session(replay, make_config, plugin_manager):
    _, runner, _, err = interactive(replay, make_config, plugin_manager, "/status\nfirst?\n/status\n")
    assert "agents: a, b" in err
    assert "turns in history: 0" in err
    assert "turns in history: 1" in err
    assert f"last session: {runner.conversation.orchestrator.calls[0][2]} · winner a · ended by consensus" in err


def test_interactive_help_lists_every_command(replay, make_config, plugin_manager):
    _, _, _, err = interactive(replay, make_config, plugin_manager, "/help\n")
    for name in ("/quit", "/exit", "/q", "/clear", "/reset", "/help", "/status"):
        assert name in err


def test_interactive_unknown_command_is_explained(replay, make_config, plugin_manager):
    _, runner, _, err = interactive(replay, make_config, plugin_manager, "/frobnicate\n\n")
    assert "unknown command /frobnicate; /help lists the commands" in err
    assert runner.conversation.orchestrator.calls == []


def test_interactive_failed_turn_is_not_added_to_history(replay, make_config, plugin_manager):
    code, runner, _, err = interactive(replay, make_config, plugin_manager, "a?\nb?\n", answers=(None, "ok"))
    assert code == 0
    assert runner.conversation.orchestrator.calls[1][1] == []
    assert "no answer could be produced" in err


def test_clear_replaces_a_recorder_that_cannot_start_a_new_conversation(replay, make_config, plugin_manager):
    closed = []

    class Minimal:
        def __call__(self, event):
            pass

        def close(self):
            closed.append(True)

    runner, _, _ = make_runner(replay, make_config, plugin_manager, recorder=Minimal())
    runner.history.append(("q", "a"))
    runner.new_conversation()
    try:
        assert closed == [True]
        assert runner.history == [] and runner.recorder is not None and not isinstance(runner.recorder, Minimal)
    finally:
        runner.shutdown()


def test_new_command_is_one_decorated_function(replay, make_config, plugin_manager):
    @run_impl.command("/ping", help="answer pong")
    def _ping(session, arg):
        session.streams.info(f"pong {arg}")
        return True

    try:
        _, _, _, err = interactive(replay, make_config, plugin_manager, "/ping  x\n/help\n")
    finally:
        del run_impl.COMMANDS["/ping"]
    assert "pong x" in err
    assert "answer pong" in err


# -- question and config resolution -----------------------------------------------


def test_params_without_template_are_an_error():
    with pytest.raises(MassGenError, match="use it with --template"):
        run_impl.build_question(RunOptions(params=(("k", "v"),)))


def test_question_and_template_together_are_an_error():
    with pytest.raises(MassGenError, match="not both"):
        run_impl.build_question(RunOptions(question="q", template="t"))


def test_no_config_error_says_how_to_start():
    with pytest.raises(MassGenError) as info:
        run_impl.resolve_config(RunOptions(question="q"))
    assert "--config offline-demo.yaml" in str(info.value)
    assert "OPENAI_API_KEY" in str(info.value)


def test_preset_and_config_together_are_an_error():
    with pytest.raises(MassGenError, match="not both"):
        run_impl.resolve_config(RunOptions(preset="p", config="c.yaml"))


def test_env_without_a_config_file_is_an_error():
    with pytest.raises(MassGenError, match="--env"):
        run_impl.resolve_config(RunOptions(env="prod", model="gpt-4o-mini"))


# -- Ctrl-C, threads and errors in-process ------------------------------------------


class Stubborn:
    """An orchestrator that ignores a polite cancel and never finishes on its own."""

    def __init__(self):
        self.cancel_calls = 0
        self.closed = False
        self.runner = None  # interrupted through Runner.interrupt, as a Ctrl-C would

    def cancel(self):
        self.cancel_calls += 1

    async def run(self, question, *, history, session_id):
        import asyncio

        from massgen_core import events as ev

        f = ev.EventFactory(session_id)
        try:
            yield f(ev.SessionStarted, question=question, agent_ids=("a",))
            loop = asyncio.get_running_loop()
            loop.call_later(0.02, self.runner.interrupt)
            await asyncio.sleep(60)
        finally:
            self.closed = True


def test_ctrl_c_cancels_an_orchestrator_that_does_not_stop_after_the_grace_period(make_config, plugin_manager, monkeypatch):
    stubborn = Stubborn()
    runner, out, err = make_runner(lambda _: stubborn, make_config, plugin_manager)
    stubborn.runner, runner.conversation.grace_s = runner, 0.05
    try:
        assert runner.ask("q") == run_impl.EXIT_INTERRUPTED
    finally:
        runner.shutdown()
    assert stubborn.cancel_calls == 1
    assert stubborn.closed  # the stream was closed, so its tasks were too
    assert out.getvalue() == ""


def test_interactive_ctrl_c_cancels_the_turn_and_keeps_reading(make_config, plugin_manager, monkeypatch):
    stubborn = Stubborn()
    runner, out, err = make_runner(lambda _: stubborn, make_config, plugin_manager)
    stubborn.runner, runner.conversation.grace_s = runner, 0.05
    runner.streams.stdin = io.StringIO("slow question\n/status\n")
    try:
        assert run_impl.Interactive(runner=runner, streams=runner.streams).loop() == 0
    finally:
        runner.shutdown()
    assert "the question was cancelled" in err.getvalue()
    assert "turns in history: 0" in err.getvalue()


def test_ctrl_c_cancels_at_once_an_orchestrator_that_cannot_be_asked_to_stop(make_config, plugin_manager):
    class NoCancel(Stubborn):
        cancel = None

    stubborn = NoCancel()
    runner, out, _ = make_runner(lambda _: stubborn, make_config, plugin_manager)
    stubborn.runner, runner.conversation.grace_s = runner, 30  # never reached: there is nothing to ask
    try:
        assert runner.ask("q") == run_impl.EXIT_INTERRUPTED
    finally:
        runner.shutdown()
    assert stubborn.closed


def test_interrupt_does_nothing_between_questions(replay, make_config, plugin_manager):
    runner, out, _ = make_runner(replay, make_config, plugin_manager)
    runner.interrupt()
    assert runner.ask("q") == 0
    runner.interrupt()
    runner.shutdown()


def test_a_session_runs_outside_the_main_thread(replay, make_config, plugin_manager):
    import threading

    runner, out, _ = make_runner(replay, make_config, plugin_manager)
    codes = []
    thread = threading.Thread(target=lambda: (codes.append(runner.ask("q")), runner.shutdown()))
    thread.start()
    thread.join(10)
    assert codes == [0] and out.getvalue() == "Paris.\n"


def test_interactive_reports_a_user_error_and_goes_on(make_config, plugin_manager):
    class Refusing:
        async def run(self, question, *, history, session_id):
            raise MassGenError(f"cannot ask {question!r}")
            yield

    runner, _, err = make_runner(lambda _: Refusing(), make_config, plugin_manager)
    runner.streams.stdin = io.StringIO("one\ntwo\n")
    assert run_impl.Interactive(runner=runner, streams=runner.streams).loop() == 0
    assert "massgen: error: cannot ask 'one'" in err.getvalue()
    assert "massgen: error: cannot ask 'two'" in err.getvalue()


class TtyInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_interactive_prompts_on_stderr_only_for_a_terminal(replay, make_config, plugin_manager):
    runner, _, err = make_runner(replay, make_config, plugin_manager, verbosity=0)
    runner.streams.stdin = TtyInput("/quit\n")
    run_impl.Interactive(runner=runner, streams=runner.streams).loop()
    assert err.getvalue() == "> "  # quiet: no banner, just the prompt


def fast_config(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(
        "agents:\n  - id: a\n    backend:\n      type: scripted\n      script: [{answer: 'A.'}, {vote: self}]\n"
    )
    return path


def test_ctrl_c_at_the_interactive_prompt_exits_130(tmp_path):
    class Interrupting(io.StringIO):
        def readline(self, *args):
            raise KeyboardInterrupt

    out, err = io.StringIO(), io.StringIO()
    code = run_impl.execute(RunOptions(config=str(fast_config(tmp_path)), no_logs=True), stdin=Interrupting(), stdout=out, stderr=err)
    assert code == 130
    assert err.getvalue().endswith("massgen: interrupted\n")


def test_debug_verbosity_turns_on_debug_logging(tmp_path, monkeypatch):
    import logging

    calls = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: calls.append(kw))
    out, err = io.StringIO(), io.StringIO()
    code = run_impl.execute(RunOptions(question="q", config=str(fast_config(tmp_path)), no_display=True, verbosity=3), stdout=out, stderr=err)
    assert code == 0 and out.getvalue() == "A.\n"
    assert calls and calls[0]["level"] == logging.DEBUG
