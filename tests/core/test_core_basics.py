"""Small core pieces: suggestions, user paths, model patterns, the default vote parsing, tools."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from massgen_core import paths
from massgen_core.backend import Backend, FunctionSpec
from massgen_core.errors import UnknownNameError, did_you_mean
from massgen_core.tools import Tool
from massgen_core.voting import AgentInfo, InvalidVote, Vote, VotingStrategy


@pytest.mark.parametrize(
    ("name", "expected"),
    [("temprature", "temperature"), ("claud", "claude"), ("OPENAI", "openai"), ("zzzzzz", None), ("gem", "gemini")],
)
def test_did_you_mean(name, expected):
    assert did_you_mean(name, ["temperature", "claude", "openai", "gemini", "grok"]) == expected


def test_unknown_name_error_lists_installed_names():
    err = UnknownNameError("voting strategy", "majorty", ["ranked", "majority"])
    assert str(err) == "unknown voting strategy 'majorty' (did you mean 'majority'?); installed: majority, ranked"
    assert "installed: none" in str(UnknownNameError("exporter", "pdf", []))


def test_massgen_home_relocates_config_and_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MASSGEN_HOME", str(tmp_path))
    assert paths.config_dir() == tmp_path / "config"
    assert paths.data_dir() == tmp_path / "data"
    made = paths.ensure_dir(paths.data_dir() / "x")
    assert made.is_dir()


def test_without_massgen_home_platformdirs_decide(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MASSGEN_HOME")
    assert paths.config_dir().name == "massgen"
    assert paths.data_dir().name == "massgen"


def test_backend_model_patterns_match_case_insensitively():
    class B(Backend):
        name = "b"
        model_patterns = ("gpt-*", "o3*")

    assert B.serves_model("GPT-4o-mini") and B.serves_model("o3-mini")
    assert not B.serves_model("claude-3")


async def test_backend_defaults_are_harmless():
    class B(Backend):
        name = "b"

    backend = B(config=None)  # type: ignore[arg-type]
    assert (await backend.health_check()).status == "unknown"
    await backend.aclose()
    with pytest.raises(NotImplementedError):
        backend.stream(None)  # type: ignore[arg-type]


def test_default_vote_parsing_maps_labels_to_real_ids():
    strategy = VotingStrategy([AgentInfo(id="x"), AgentInfo(id="y")])
    schema = strategy.vote_parameters(["agent1", "agent2"])
    assert schema["properties"]["agent_id"]["enum"] == ["agent1", "agent2"]
    vote = strategy.parse_vote("x", {"agent_id": "agent2", "reason": "better"}, {"agent1": "x", "agent2": "y"})
    assert vote == Vote(voter="x", target="y", reason="better")
    with pytest.raises(InvalidVote, match="Valid agents: agent1"):
        strategy.parse_vote("x", {"agent_id": "agent9"}, {"agent1": "x"})
    assert strategy.voters() == ["x", "y"] and strategy.may_answer("x")
    assert strategy.consensus_reached({"x": vote}, ["x"]) and not strategy.consensus_reached({}, ["x"])
    with pytest.raises(NotImplementedError):
        strategy.decide({}, {})


def test_tool_spec_and_call():
    async def add(a: int, b: int) -> str:
        return str(a + b)

    tool = Tool(name="add", description="Add", parameters={"type": "object"}, func=add)
    assert tool.spec() == FunctionSpec(name="add", description="Add", parameters={"type": "object"})
    assert asyncio.run(tool(a=2, b=3)) == "5"


def test_exporter_base_refuses_to_load():
    from massgen_core.exporting import Exporter

    class Txt(Exporter):
        name = "txt"
        extension = "txt"
        media_type = "text/plain"

    with pytest.raises(NotImplementedError, match="txt format cannot be imported"):
        Txt().load("x")
    with pytest.raises(NotImplementedError):
        Txt().export({})


def test_vote_rows_mark_which_votes_counted():
    from massgen_core.exporting import vote_rows

    turn = {
        "answers": [{"agent_id": "a", "ts": 1.0}, {"agent_id": "b", "ts": 3.0}],
        "votes": [
            {"voter": "c", "target": "a", "ts": 2.0},  # cast before b's answer: cleared by it
            {"voter": "a", "target": "b", "ts": 4.0},
            {"voter": "c", "target": "b", "ts": 5.0},
            {"voter": "a", "target": "a", "ts": 6.0},  # replaces a's earlier vote
            {"voter": "d", "target": "a", "ts": 7.0, "discarded": True},
        ],
    }
    assert [(v["voter"], v["ts"], counted) for v, counted in vote_rows(turn)] == [
        ("c", 2.0, False), ("a", 4.0, False), ("c", 5.0, True), ("a", 6.0, True),
    ]
    assert vote_rows({}) == []
