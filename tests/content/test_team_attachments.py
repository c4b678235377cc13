"""A question with attachments through a real team: every agent's first message carries them, once encoded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core.content import AttachmentError
from massgen_core.team import Team
from massgen_core.testing import FakeServer, media
from massgen_core.testing.openai import coordination_handler


@pytest.fixture
def server():
    with FakeServer() as srv:
        srv.add("POST", "/v1/chat/completions", coordination_handler("chat", answer="A red square."))
        yield srv


def _config(server, *, with_text_only: bool = True) -> dict:
    agents = [{"id": f"vision{i}", "backend": {"type": "ollama", "model": "llava", "base_url": server.url + "/v1"}}
              for i in (1, 2)]
    if with_text_only:
        agents.append({"id": "old", "backend": {"type": "openai", "model": "gpt-3.5-turbo", "api_key": "sk-test-00000000",
                                                "base_url": server.url + "/v1", "options": {"api": "chat_completions"}}})
    return {"agents": agents}


def _first_user_parts(body: dict) -> list:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


async def test_a_model_that_refuses_images_fails_alone_and_the_team_finishes(server, tmp_path: Path):
    image = media.write(tmp_path, "square.png", media.png())
    async with Team.from_config(_config(server), record=False) as team:
        result = await team.ask("What colour is the square?", attachments=[image])
    assert result.final_answer == "A red square." and result.winner in {"vision1", "vision2"}
    assert list(result.failures) == ["old"]
    assert "agent old: openai backend (model gpt-3.5-turbo" in result.failures["old"]
    assert "image 'square.png'" in result.failures["old"] and "takes no images" in result.failures["old"]
    bodies = [r.json() for r in server.requests]
    assert {b["model"] for b in bodies} == {"llava"}  # the refusing agent sent nothing
    data_urls = set()
    for body in bodies:
        parts = _first_user_parts(body)
        assert parts[0]["type"] == "text" and "What colour is the square?" in parts[0]["text"]
        assert parts[1]["type"] == "image_url"
        data_urls.add(parts[1]["image_url"]["url"])
    assert len(data_urls) == 1 and data_urls.pop().startswith("data:image/png;base64,")


async def test_stream_reports_the_attachments_by_reference_and_a_single_agent_gets_them(server, tmp_path):
    notes = media.write(tmp_path, "notes.txt", b"the square is red")
    config = {"agents": _config(server, with_text_only=False)["agents"][:1], "ui": {"use_orchestrator_for_single_agent": False}}
    async with Team.from_config(config, record=False) as team:
        events = [e async for e in team.stream("Summarise the notes", attachments=[str(notes)])]
    started = events[0]
    assert isinstance(started, ev.SessionStarted)
    assert started.attachments == ({"name": "notes.txt", "kind": "text", "media_type": "text/plain", "size": 17,
                                    "sha256": started.attachments[0]["sha256"]},)
    assert "the square is red" not in json.dumps(ev.event_to_dict(started))  # a reference, never the bytes
    parts = _first_user_parts(server.requests[0].json())
    assert parts == [{"type": "text", "text": "Summarise the notes"},
                     {"type": "text", "text": "<FILE notes.txt>\nthe square is red\n<END OF FILE notes.txt>"}]


async def test_the_winner_presents_with_the_attachments_in_view(server, tmp_path):
    image = media.write(tmp_path, "square.png", media.png())
    async with Team.from_config(_config(server, with_text_only=False), record=False) as team:
        await team.ask("What colour?", attachments=[image])
    final = [r.json() for r in server.requests if "tools" not in r.json()]
    assert final, "the presentation call has no tools"
    assert _first_user_parts(final[-1])[1]["type"] == "image_url"


async def test_a_bad_attachment_fails_before_any_request(server, tmp_path):
    async with Team.from_config(_config(server), record=False) as team:
        with pytest.raises(AttachmentError, match="missing.png: no such file"):
            await team.ask("What colour?", attachments=[tmp_path / "missing.png"])
    assert server.requests == []
