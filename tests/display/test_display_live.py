"""The rich live view, rendered from recorded streams to a fixed-width string console."""

from __future__ import annotations

import io
import time

from rich.console import Console

from massgen_core import events as ev
from massgen_core.display.live import LiveDisplay, _wrap_tail


def consoles(width: int = 120) -> tuple[Console, Console]:
    err = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    out = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    return err, out


def feed(stream: list[ev.Event], width: int = 120, verbosity: int = 1) -> LiveDisplay:
    err, out = consoles(width)
    display = LiveDisplay(stdout=io.StringIO(), stderr=io.StringIO(), console=err, answer_console=out, verbosity=verbosity)
    for event in stream:
        display.handle(event)
    return display


def text_of(display: LiveDisplay, now: float | None = None) -> str:
    console = Console(file=io.StringIO(), width=display.console.width, force_terminal=False, color_system=None)
    console.print(display.render(now=now))
    return console.file.getvalue()


def upto(stream: list[ev.Event], cls: type, nth: int = 1) -> list[ev.Event]:
    seen = 0
    for i, event in enumerate(stream):
        if isinstance(event, cls):
            seen += 1
            if seen == nth:
                return stream[: i + 1]
    raise AssertionError(f"no {cls.__name__} #{nth}")


def test_one_panel_per_agent(coordinated):
    screen = text_of(feed(coordinated[:4]), now=1002.0)
    for agent_id in ("a", "b", "c"):
        assert f"╭─ {agent_id} " in screen
    assert screen.count("thinking") >= 3


def test_streaming_text_appears_in_the_agents_panel(coordinated):
    screen = text_of(feed(upto(coordinated, ev.TextDelta, 3)), now=1004.0)
    assert "Paris." in screen


def test_reasoning_shows_until_text_arrives(coordinated):
    screen = text_of(feed(upto(coordinated, ev.ReasoningDelta)), now=1003.0)
    assert "The user asks about France." in screen


def test_answered_agent_shows_its_label_and_answer_count(coordinated):
    screen = text_of(feed(upto(coordinated, ev.AnswerSubmitted)), now=1010.0)
    assert "a [agent1]" in screen
    assert "answered  answers 1" in screen


def test_restarting_status_after_a_new_answer(coordinated):
    screen = text_of(feed(upto(coordinated, ev.AgentRestarted)), now=1010.0)
    assert "restarting" in screen
    assert "new answer from a" in screen


def test_votes_show_target_reason_and_live_tally(coordinated):
    screen = text_of(feed(upto(coordinated, ev.VoteCast, 2)), now=1020.0)
    assert "vote → b (agent2): more complete" in screen
    assert "votes: b 2" in screen
    assert screen.count("voted") >= 2


def test_footer_totals_tokens_cost_and_elapsed(coordinated):
    screen = text_of(feed(upto(coordinated, ev.VoteCast, 1)), now=1030.0)
    assert "tokens 300" in screen
    assert "cost $0.0030" in screen
    assert "elapsed 30.0s" in screen


def test_failed_agent_shows_status_and_error(failed):
    screen = text_of(feed(failed[:-1]), now=1005.0)
    assert "failed" in screen
    assert "authentication failed" in screen


def test_progress_line_names_the_presenting_winner(coordinated):
    screen = text_of(feed(upto(coordinated, ev.WinnerSelected)), now=1040.0)
    assert "b presents the final answer" in screen
    assert "votes: b 3" in screen
    assert "presenting" in screen


def test_finished_view_shows_the_outcome(coordinated):
    screen = text_of(feed(coordinated))
    assert "finished: consensus" in screen
    assert "elapsed 4.2s" in screen


def test_final_answer_is_printed_as_markdown_after_the_view_stops(coordinated):
    display = feed(coordinated)
    display.finish(coordinated[-1])
    answer = display.answer_console.file.getvalue()
    assert "Paris is the capital of France." in answer
    assert "**" not in answer  # rendered, not raw markdown
    assert "winner b · ended by consensus" in display.console.file.getvalue()


def test_no_answer_is_printed_when_the_session_failed(failed):
    display = feed(failed)
    display.finish(failed[-1])
    assert display.answer_console.file.getvalue() == ""
    assert "no answer (all_agents_failed)" in display.console.file.getvalue()


def test_a_stream_without_a_result_prints_nothing(coordinated):
    display = feed(coordinated[:5])
    display.finish(None)
    assert display.answer_console.file.getvalue() == ""
    assert display.console.file.getvalue() == ""


def test_verbose_view_shows_the_question(coordinated):
    screen = text_of(feed(coordinated[:2], verbosity=2), now=1001.0)
    assert "Question: What is the capital of France?" in screen


def test_many_agents_fit_in_a_grid_with_short_tails():
    f = ev.EventFactory("s", clock=lambda: 5.0)
    ids = tuple(f"agent{i}" for i in range(12))
    display = feed([f(ev.SessionStarted, question="q", agent_ids=ids)] + [f(ev.TextDelta, agent_id=i, text="line one\nline two\nline three") for i in ids], width=120)
    screen = text_of(display, now=6.0)
    assert all(f"╭─ {i} " in screen for i in ids)
    assert "line one" not in screen and "line three" in screen


def test_live_view_starts_and_stops_on_a_terminal_console(coordinated):
    err = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    out = Console(file=io.StringIO(), width=100, force_terminal=False, color_system=None)
    display = LiveDisplay(stdout=io.StringIO(), stderr=io.StringIO(), console=err, answer_console=out, refresh_per_second=20)
    display.start()
    display.start()  # idempotent
    for event in coordinated:
        display.handle(event)
    time.sleep(0.15)
    display.finish(coordinated[-1])
    display.stop()
    drawn = err.file.getvalue()
    assert "finished: consensus" in drawn
    assert "Paris" in out.file.getvalue()


def test_thousands_of_deltas_keep_a_bounded_tail():
    f = ev.EventFactory("s")
    display = feed([f(ev.SessionStarted, question="q", agent_ids=("a",))])
    for _ in range(5000):
        display.handle(f(ev.TextDelta, agent_id="a", text="tok "))
    assert len(display.view.agents["a"].tail) <= 400
    assert "tok" in text_of(display)


def test_wrap_tail_keeps_the_last_lines():
    assert _wrap_tail("one two three four five", 9, 2) == "three\nfour five"
    assert _wrap_tail("a\n\n", 10, 3) == "a"


def _started(stream, agent_id):
    return next(e.ts for e in stream if isinstance(e, ev.AgentStarted) and e.agent_id == agent_id)


def test_agent_elapsed_runs_with_the_clock_while_the_session_runs(coordinated):
    screen = text_of(feed(coordinated[:4]), now=_started(coordinated, "a") + 7.0)
    assert "thinking  answers 0  7.0s" in screen


def test_agent_elapsed_stops_when_the_session_finishes(coordinated):
    screen = text_of(feed(coordinated), now=99999.0)
    expected = coordinated[-1].ts - _started(coordinated, "c")
    assert f"{expected:.1f}s" in screen


def test_failed_agent_elapsed_stops_at_its_failure(failed):
    failure = next(e for e in failed if isinstance(e, ev.AgentFailed) and e.agent_id == "b")
    screen = text_of(feed(failed[:-1]), now=99999.0)
    assert f"{failure.ts - _started(failed, 'b'):.1f}s" in screen
