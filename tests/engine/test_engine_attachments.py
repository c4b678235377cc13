"""The engine carries a question's attachments into every first user message, nested teams included."""

from __future__ import annotations

from pathlib import Path

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig
from massgen_core.content import TextPart, attachments_of, load_attachment
from massgen_core.testing import media


def _user(request) -> object:
    return next(m.content for m in request.messages if m.role == "user")


async def test_every_launch_shares_the_same_attachment_object(eng, tmp_path: Path):
    image = load_attachment(media.write(tmp_path, "p.png", media.png()))
    orch = eng.team({"a": [{"answer": "A"}, {"vote": "self"}], "b": [{"vote": {"for_agent": "a"}}]})
    events = await eng.run(orch, "What is it?", attachments=[image])
    assert eng.finished(events).final_answer is not None
    for agent in orch.agents:
        for request in agent.backend.requests:
            content = _user(request)
            assert isinstance(content[0], TextPart) and attachments_of(content) == (image,)
            assert attachments_of(content)[0] is image  # shared, never copied or re-encoded
    assert eng.of(events, ev.SessionStarted)[0].attachments == (image.ref(),)


async def test_without_attachments_the_user_message_stays_a_string(eng):
    orch = eng.team({"a": [{"answer": "A"}, {"vote": "self"}]})
    await eng.run(orch, "Q")
    assert all(isinstance(_user(r), str) for r in orch.agents[0].backend.requests)


async def test_a_nested_team_gets_the_outer_questions_attachments(eng, tmp_path: Path):
    pdf = load_attachment(media.write(tmp_path, "r.pdf", media.pdf()))
    inner = AgentConfig(id="team", agents=(
        eng.agent("x", [{"answer": "inner X"}, {"vote": "best"}], final="team final"),
        eng.agent("y", [{"vote": "best"}]),
    ))
    orch = eng.team([inner, eng.agent("solo", [{"delay": 0.05, "vote": {"for_agent": "team"}}])])
    events = await eng.run(orch, "Summarise", attachments=[pdf])
    assert eng.finished(events).final_answer == "team final"
    inner_orch = orch.agents[0].backend.inner
    seen = [attachments_of(_user(r)) for agent in inner_orch.agents for r in agent.backend.requests]
    assert seen and all(parts == (pdf,) for parts in seen)
