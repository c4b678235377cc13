"""A workflow fallback is shown with -v on the plain display and as the agent's note in the live view."""

from __future__ import annotations

import io

from massgen_core import events as ev
from massgen_core.display.plain import PlainDisplay
from massgen_core.display.state import SessionView

FALLBACK = ev.EventFactory("s")(
    ev.WorkflowFallback, agent_id="a1", from_transport="tools", to_transport="json", reason="no workflow tool call"
)


def test_plain_display_shows_a_fallback_only_when_verbose():
    for verbosity, shown in ((1, False), (2, True)):
        err = io.StringIO()
        PlainDisplay(stdout=io.StringIO(), stderr=err, verbosity=verbosity).handle(FALLBACK)
        line = "[a1] workflow tools -> json for the rest of the session: no workflow tool call\n"
        assert (err.getvalue() == line) is shown


def test_the_live_view_notes_the_new_transport():
    view = SessionView()
    view.apply(FALLBACK)
    assert view.agents["a1"].note == "workflow tools -> json"
