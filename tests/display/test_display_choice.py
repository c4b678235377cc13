"""Which display a run gets: JSON, the rich live view on terminals, or plain text."""

from __future__ import annotations

import io

import pytest

from massgen_core import events as ev
from massgen_core.display import JsonDisplay, PlainDisplay, choose_display
from massgen_core.display.live import LiveDisplay


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def pick(**kwargs):
    kwargs.setdefault("stdout", Tty())
    kwargs.setdefault("stderr", Tty())
    return choose_display(**kwargs)


def test_rich_terminal_on_terminals_gets_the_live_view(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(pick(display_type="rich_terminal"), LiveDisplay)


@pytest.mark.parametrize("display_type", ["simple", "terminal"])
def test_simple_and_terminal_types_get_the_plain_display(display_type, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(pick(display_type=display_type), PlainDisplay)


def test_no_display_gets_the_plain_display(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(pick(no_display=True), PlainDisplay)


def test_quiet_gets_the_plain_display(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(pick(verbosity=0), PlainDisplay)


def test_a_pipe_on_either_stream_gets_the_plain_display(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(pick(stdout=io.StringIO()), PlainDisplay)
    assert isinstance(pick(stderr=io.StringIO()), PlainDisplay)


def test_a_dumb_terminal_gets_the_plain_display(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(pick(), PlainDisplay)


def test_a_closed_stream_counts_as_no_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    closed = io.StringIO()
    closed.close()
    assert isinstance(pick(stdout=closed), PlainDisplay)


def test_json_wins_over_everything():
    assert isinstance(pick(json_output=True, display_type="rich_terminal"), JsonDisplay)


def test_json_without_progress_prints_only_the_object(coordinated):
    import json

    out = io.StringIO()
    display = JsonDisplay(stdout=out, extra={"conversation_id": "c1"})
    display.start()
    for event in coordinated:
        display.handle(event)
    display.stop()
    display.finish(coordinated[-1])
    result = json.loads(out.getvalue())
    assert result["conversation_id"] == "c1"
    assert result["winner"] == "b"
    assert result["tally"] == {"b": 3}
    assert result["answers"] == {"a": "Paris.", "b": "Paris is the capital and largest city of France."}
    assert result["votes"]["c"] == {"target": "b", "label": "agent2", "reason": "detailed and correct"}
    assert result["usage"] == {"input_tokens": 250, "output_tokens": 50}
    assert result["agents"]["c"]["restarts"] == 2
    assert result["duration_s"] == 4.25


def test_json_of_a_stream_without_a_result_says_so():
    import json

    out = io.StringIO()
    display = JsonDisplay(stdout=out)
    display.handle(ev.EventFactory("s")(ev.SessionStarted, question="q", agent_ids=("a",)))
    display.finish(None)
    result = json.loads(out.getvalue())
    assert result["final_answer"] is None and result["ended_by"] == "interrupted"


def test_a_new_answer_clears_votes_in_the_view(coordinated):
    from massgen_core.display.state import STATUS_RESTARTING, SessionView

    f = ev.EventFactory("s")
    view = SessionView()
    view.apply(f(ev.SessionStarted, question="q", agent_ids=("a", "b")))
    view.apply(f(ev.AnswerSubmitted, agent_id="a", label="agent1", text="x", revision=1))
    view.apply(f(ev.VoteCast, voter="b", target="a", target_label="agent1"))
    view.apply(f(ev.AnswerSubmitted, agent_id="a", label="agent1", text="y", revision=2))
    assert view.votes == {} and view.agents["b"].vote is None
    assert view.agents["b"].status == STATUS_RESTARTING


def test_a_discarded_vote_stops_counting_in_the_view():
    from massgen_core.display.state import SessionView

    f = ev.EventFactory("s")
    view = SessionView()
    view.apply(f(ev.VoteCast, voter="b", target="a", target_label="agent1"))
    view.apply(f(ev.VoteDiscarded, voter="b", target="c", reason="other target"))
    assert "b" in view.votes
    view.apply(f(ev.VoteDiscarded, voter="b", target="a", reason="stale snapshot"))
    assert view.votes == {} and view.live_tally() == {}
    assert view.agents["b"].note == "vote discarded: stale snapshot"
