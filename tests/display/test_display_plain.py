"""The plain display: progress lines on stderr by verbosity, the final answer alone on stdout."""

from __future__ import annotations

import io
import json

from massgen_core import events as ev
from massgen_core.display.plain import PlainDisplay, format_tally, preview


def render(stream: list[ev.Event], verbosity: int = 1, print_answer: bool = True) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    display = PlainDisplay(stdout=out, stderr=err, verbosity=verbosity, print_answer=print_answer)
    display.start()
    for event in stream:
        display.handle(event)
    display.stop()
    finished = stream[-1] if isinstance(stream[-1], ev.SessionFinished) else None
    display.finish(finished)
    return out.getvalue(), err.getvalue()


def test_final_answer_is_the_only_thing_on_stdout(coordinated):
    out, _ = render(coordinated)
    assert out == coordinated[-1].final_answer + "\n"


def test_normal_verbosity_reports_each_coordination_step(coordinated):
    _, err = render(coordinated)
    assert "[session] 3 agent(s): a, b, c · strategy majority" in err
    assert "[a] started" in err
    assert "[a] answered (answer 1, shown as agent1): Paris." in err
    assert "[c] restarted: new answer from b" in err
    assert "[a] voted for b (agent2) because more complete" in err
    assert "[winner] b (majority: b 3) b has 3 of 3 votes" in err
    assert "[done] winner b · ended by consensus · 4.2s · 300 tokens · $0.0030" in err


def test_normal_verbosity_hides_reasoning_and_tools(coordinated):
    _, err = render(coordinated)
    assert "reasoning" not in err
    assert "tool call" not in err
    assert "retrying" not in err


def test_verbose_shows_reasoning_tool_calls_rejections_and_retries(coordinated):
    _, err = render(coordinated, verbosity=2)
    assert "[a] reasoning: The user asks about France." in err
    assert '[b] tool call python {"code": "print(1)"}' in err
    assert "[b] tool result python: 1" in err
    assert "[c] response rejected: no workflow tool call" in err
    assert "[c] scripted retrying (attempt 2) in 0.5s: rate limited" in err
    assert "[a] usage scripted/s1: 100 in, 20 out, $0.0010" in err


def test_reasoning_is_printed_before_the_agents_answer(coordinated):
    _, err = render(coordinated, verbosity=2)
    assert err.index("[a] reasoning:") < err.index("[a] answered")


def test_debug_verbosity_adds_every_non_delta_event_as_json(coordinated):
    _, err = render(coordinated, verbosity=3)
    debug = [json.loads(line[len("debug: "):]) for line in err.splitlines() if line.startswith("debug: ")]
    expected = [ev.event_to_dict(e) for e in coordinated if not isinstance(e, (ev.TextDelta, ev.FinalAnswerDelta, ev.ReasoningDelta))]
    assert debug == json.loads(json.dumps(expected))
    assert "[a] voted for b (agent2) because more complete" in err


def test_quiet_prints_the_answer_and_nothing_else(coordinated):
    out, err = render(coordinated, verbosity=0)
    assert err == ""
    assert out.startswith("# Paris")


def test_failed_session_reports_failures_and_prints_no_answer(failed):
    out, err = render(failed)
    assert out == ""
    assert "[a] failed: authentication failed: set OPENAI_API_KEY" in err
    assert "[a] switched backend openai -> claude: overloaded" in err
    assert "[done] no answer (all_agents_failed): every agent failed" in err


def test_answer_is_not_printed_when_the_display_serves_json(coordinated):
    out, _ = render(coordinated, print_answer=False)
    assert out == ""


def test_discarded_vote_is_reported_when_verbose():
    f = ev.EventFactory("s")
    out, err = io.StringIO(), io.StringIO()
    display = PlainDisplay(stdout=out, stderr=err, verbosity=2)
    display.handle(f(ev.VoteDiscarded, voter="a", target=None, reason="cast on an old snapshot"))
    display.handle(f(ev.BackendRetry, agent_id="a", backend="x", model=None, attempt=1, delay_s=0, error="e", restart=True))
    display.handle(f(ev.ToolCalled, agent_id="a", call_id="1", name="noargs"))
    display.handle(f(ev.ToolResult, agent_id="a", call_id="1", name="noargs", result="boom", is_error=True))
    display.handle(f(ev.AgentStarted, agent_id="a", attempt=2))
    display.handle(f(ev.SessionStarted, question="q", agent_ids=("a",), turn=2))
    assert "[a] vote for ? discarded: cast on an old snapshot" in err.getvalue()
    assert "[a] x restarting (attempt 1)" in err.getvalue()
    assert "[a] tool call noargs\n" in err.getvalue()
    assert "[a] tool error noargs: boom" in err.getvalue()
    assert "[a] started (attempt 2)" in err.getvalue()
    assert "· turn 2" in err.getvalue()


def test_preview_keeps_one_short_line():
    assert preview("a\nb   c") == "a b c"
    assert preview("x" * 200, 10) == "x" * 9 + "…"


def test_tally_shows_fractional_weights():
    assert format_tally({"a": 2.0, "b": 1.5}) == "a 2, b 1.5"
    assert format_tally({}) == "no votes"


def test_an_added_agent_is_reported_with_whose_copy_it_is_and_why():
    f = ev.EventFactory("s")
    out, err = io.StringIO(), io.StringIO()
    display = PlainDisplay(stdout=out, stderr=err)
    display.handle(f(ev.AgentAdded, agent_id="scaled-1", copy_of="a", reason="the answers disagree (2 different answers)"))
    assert "[scaled-1] added (a copy of a): the answers disagree (2 different answers)" in err.getvalue()
