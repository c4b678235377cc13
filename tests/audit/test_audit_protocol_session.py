"""PROTOCOL.md §2–§7 checked end to end: a YAML config, the real builder, a coordinated session.

Each test loads a config the way a user writes it, runs a whole session with
scripted agents and reads what the agents were actually sent.
"""

from __future__ import annotations

from typing import Any

from massgen_core import events as ev
from massgen_core.config import load_text_with_warnings
from massgen_core.hookspecs import hookimpl
from massgen_core.orchestrator import build_orchestrator
from massgen_core.tools import Tool

# zed answers at once, amy a moment later (so zed restarts), max only ever votes.
THREE = r"""
agents:
  - id: zed
    system_message: "I am zed."
    backend:
      type: scripted
      model: scripted-1
      script: [{answer: 'Z \ **z**'}, {delay: 0.05, vote: {for: agent1, reason: "amy is right"}}]
  - id: amy
    backend:
      type: scripted
      model: scripted-1
      script: [{delay: 0.03, answer: "A"}, {vote: {for: agent1, reason: "mine is fine"}}]
  - id: max
    backend:
      type: scripted
      model: scripted-1
      script: [{delay: 0.1, vote: {for: agent2, reason: "zed has more"}}]
"""


async def _run(text: str, manager: Any, question: str = "Q2", **kw: Any) -> tuple[Any, list[Any]]:
    config, _warnings = load_text_with_warnings(text, "audit.yaml", manager=manager)
    orch = build_orchestrator(config, manager=manager)
    events = [event async for event in orch.run(question, **kw)]
    await orch.aclose()
    return orch, events


def _agent(orch: Any, agent_id: str) -> Any:
    return next(agent for agent in orch.agents if agent.id == agent_id)


def _of(events: list[Any], cls: type) -> list[Any]:
    return [event for event in events if isinstance(event, cls)]


async def test_the_user_message_is_exactly_the_protocol_sections(audit_manager):
    orch, _events = await _run(THREE, audit_manager, history=[("Q1", "A1")])
    last = _agent(orch, "max").backend.requests[-1]
    assert last.messages[1].role == "user"
    assert last.messages[1].content == (
        "<CONVERSATION_HISTORY>\nUser: Q1\nAssistant: A1\n<END OF CONVERSATION_HISTORY>\n\n"
        "<ORIGINAL MESSAGE> Q2 <END OF ORIGINAL MESSAGE>\n\n"
        "<CURRENT ANSWERS from the agents>\n"
        "<agent2> Z \\ **z** <end of agent2>\n"
        "<agent1> A <end of agent1>\n"
        "<END OF CURRENT ANSWERS>"
    )


async def test_labels_come_from_sorted_real_ids_and_the_enum_holds_only_answered_labels(
    audit_manager,
):
    orch, events = await _run(THREE, audit_manager)
    last = _agent(orch, "max").backend.requests[-1]
    vote_tool = next(tool for tool in last.tools if tool.name == "vote")
    assert vote_tool.parameters["properties"]["agent_id"]["enum"] == ["agent1", "agent2"]
    max_vote = next(e for e in _of(events, ev.VoteCast) if e.voter == "max")
    assert (max_vote.target_label, max_vote.target) == ("agent2", "zed")


async def test_an_agents_own_answer_is_shown_under_its_label_only(audit_manager):
    orch, _events = await _run(THREE, audit_manager)
    both = [
        r
        for r in _agent(orch, "zed").backend.requests
        if r.tools and "<agent1> A <end of agent1>" in r.messages[1].content
    ]
    assert both, "zed was never relaunched with both answers"
    user = both[-1].messages[1].content
    assert "<agent2> Z \\ **z** <end of agent2>" in user
    assert "zed" not in user and "amy" not in user
    assert both[-1].messages[0].content.startswith("I am zed.\n\n")


async def test_the_presentation_shows_vote_reasons_and_real_ids_with_its_own_marked(
    audit_manager,
):
    orch, events = await _run(THREE, audit_manager)
    winner = _of(events, ev.WinnerSelected)[0]
    assert (winner.winner, dict(winner.tally)) == ("amy", {"zed": 1, "amy": 2})
    presentation = _agent(orch, "amy").backend.requests[-1]
    assert [tool.name for tool in presentation.tools] == []
    system, user = (m.content for m in presentation.messages)
    assert "selected" in system
    assert "<ORIGINAL MESSAGE> Q2 <END OF ORIGINAL MESSAGE>" in user
    assert "zed voted for amy: amy is right" in user
    assert "max voted for zed: zed has more" in user
    assert "amy voted for amy: mine is fine" in user
    assert "<amy (your answer)> A <end of amy>" in user
    assert "<zed> Z \\ **z** <end of zed>" in user
    assert "agent1" not in user and "agent2" not in user


async def test_a_tie_goes_to_config_order_not_to_the_alphabet(audit_manager):
    tie = """
agents:
  - id: zed
    backend: {type: scripted, model: scripted-1, script: [{answer: Z}, {vote: {for: agent1}}]}
  - id: amy
    backend:
      type: scripted
      model: scripted-1
      script: [{delay: 0.02, answer: A}, {vote: {for: agent2}}]
orchestrator: {final_presentation: false}
"""
    _orch, events = await _run(tie, audit_manager)
    counted = {e.voter: e.target for e in _of(events, ev.VoteCast)[-2:]}
    assert counted == {"zed": "amy", "amy": "zed"}
    finished = events[-1]
    assert (finished.winner, finished.final_answer, finished.ended_by) == ("zed", "Z", "consensus")


async def test_answers_with_backslashes_and_bold_are_never_altered(audit_manager):
    text = r"""
agents:
  - id: a
    backend:
      type: scripted
      model: scripted-1
      script: [{answer: 'C:\dir\n **bold** \\ done'}, {vote: self}]
      final: 'Final C:\dir **x** \\'
"""
    _orch, events = await _run(text, audit_manager)
    assert _of(events, ev.AnswerSubmitted)[0].text == "C:\\dir\\n **bold** \\\\ done"
    finished = events[-1]
    assert finished.final_answer == "Final C:\\dir **x** \\\\"
    assert "".join(e.text for e in _of(events, ev.FinalAnswerDelta)) == finished.final_answer


async def _echo(text: str) -> str:
    return f"echo: {text}"


async def test_a_rejected_response_answers_every_call_including_registered_tools(audit_manager):
    class EchoPlugin:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register(Tool(name="echo", description="Echo", parameters={"type": "object"}, func=_echo))

    audit_manager.register(EchoPlugin(), name="echo-tool")
    text = """
agents:
  - id: a
    tools: [echo]
    backend:
      type: scripted
      model: scripted-1
      script:
        - {answer: A}
        - calls:
            - {name: echo, arguments: {text: hi}}
            - {name: vote, arguments: {agent_id: agent9, reason: x}}
        - {vote: self}
"""
    orch, events = await _run(text, audit_manager)
    retry = orch.agents[0].backend.requests[2]
    assistant = retry.messages[-3]
    assert assistant.role == "assistant" and [c.name for c in assistant.tool_calls] == [
        "echo",
        "vote",
    ]
    results = retry.messages[-2:]
    assert [m.role for m in results] == ["tool", "tool"]
    assert [m.tool_call_id for m in results] == [c.id for c in assistant.tool_calls]
    assert results[0].content == "echo: hi"
    assert "agent9" in results[1].content and "agent1" in results[1].content
    assert events[-1].winner == "a"


async def test_backend_params_from_the_file_reach_every_backend(audit_manager):
    text = """
backend_params: {temperature: 0.25, max_tokens: 321}
agents:
  - id: a
    backend: {type: scripted, model: scripted-1, temperature: 0.9}
  - id: b
    backend: {type: scripted, model: scripted-1}
"""
    config, _ = load_text_with_warnings(text, "audit.yaml", manager=audit_manager)
    orch = build_orchestrator(config, manager=audit_manager)
    settings = [(a.backend.config.temperature, a.backend.config.max_tokens) for a in orch.agents]
    assert settings == [(0.9, 321), (0.25, 321)]


async def test_orchestrator_and_timeout_keys_from_the_file_bound_the_session(audit_manager):
    text = """
agents:
  - id: a
    backend: {type: scripted, model: scripted-1, script: [{answer: A}, {vote: self}]}
orchestrator:
  max_new_answers_per_agent: 2
  max_attempts: 4
  max_consecutive_failures: 5
  max_cost_usd: 1.5
  coordination_instructions: "House rules at {now}."
  presentation_instructions: "Present it."
timeout_settings: {orchestrator_timeout_seconds: 42, per_call_timeout_seconds: 7}
"""
    orch, _events = await _run(text, audit_manager)
    limits = orch.limits
    assert (
        limits.max_new_answers_per_agent,
        limits.max_attempts,
        limits.max_consecutive_failures,
        limits.max_cost_usd,
        limits.session_timeout,
    ) == (2, 4, 5, 1.5, 42)
    assert orch.agents[0].call_timeout == 7
    requests = orch.agents[0].backend.requests
    assert requests[0].messages[0].content.startswith("House rules at 20")
    assert requests[-1].messages[0].content == "Present it."
