"""The scripted backend: option validation, streaming, vote targets, failures, stalls, presentation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import massgen_scripted
import pytest
from massgen_scripted import ScriptedBackend, ScriptedBackendError, ScriptError, parse_options

from massgen_core.backend import (
    BackendContext,
    Done,
    FunctionSpec,
    Message,
    ReasoningDelta,
    Request,
    TextDelta,
    ToolCallChunk,
    UsageChunk,
)
from massgen_core.config.schema import BackendConfig
from massgen_core.orchestrator import LaunchContext, current_launch
from massgen_core.orchestrator import workflow
from massgen_core.orchestrator.prompts import assign_labels, new_answer_spec, user_prompt


def _backend(script: Any = None, **options: Any) -> ScriptedBackend:
    if script is not None:
        options["script"] = script
    return ScriptedBackend(
        BackendConfig(type="scripted", model="s-1", options=options), BackendContext(agent_id="me")
    )


def _request(
    answers: dict[str, str] | None = None, question: str = "Q?", ranked: bool = False,
    transport: str = "tools",
) -> Request:
    answers = answers or {}
    labels = assign_labels(list(answers))
    if ranked:
        params = {"properties": {"ranking": {"type": "array", "items": {"type": "string", "enum": list(labels)}}, "reason": {"type": "string"}}}
    else:
        params = {"properties": {"agent_id": {"type": "string", "enum": list(labels)}, "reason": {"type": "string"}}}
    offer = workflow.offer(may_answer=True, labels=list(labels), vote_parameters=params, transport=transport)
    user = user_prompt(question, answers, labels, sorted(answers))
    request = Request(
        messages=(Message(role="system", content="sys"), Message(role="user", content=user)),
        tools=tuple(workflow.tool_specs(offer)) if transport == "tools" else (),
        workflow=offer,
    )
    # The session sets the launch context beside each request; the backend reads only that.
    _LAUNCHES[id(request)] = LaunchContext(
        agent_id="me", labels=labels, question=question,
        answers={label: answers[real] for label, real in labels.items()},
        vote_parameters=offer.vote_parameters,
    )
    return request


_LAUNCHES: dict[int, LaunchContext] = {}


async def _collect(
    backend: ScriptedBackend, request: Request, launch: LaunchContext | None = None
) -> list[Any]:
    launch = launch or current_launch.get() or _LAUNCHES.get(id(request))
    token = current_launch.set(launch)
    try:
        return [chunk async for chunk in backend.stream(request)]
    finally:
        current_launch.reset(token)


def _calls(chunks: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.call.name, dict(c.call.arguments)) for c in chunks if isinstance(c, ToolCallChunk)]


# -- options ---------------------------------------------------------------------


def test_without_a_script_an_agent_answers_then_votes_for_the_best_answer():
    options = parse_options({})
    assert [step.action for step in options.script] == ["answer", "vote"]
    assert options.script[1].value == {"for": "best"}
    assert options.token_delay == 0 and options.final is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scrip": []}, "unknown option"),
        ({"token_delay": "fast"}, "token_delay"),
        ({"token_delay": -1}, "token_delay"),
        ({"final": 3}, "final must be a string"),
        ({"script": []}, "non-empty list"),
        ({"script": [3]}, "expected a mapping"),
        ({"script": [{"anser": "x"}]}, "unknown key"),
        ({"script": [{"answer": "x", "vote": "best"}]}, "exactly one action"),
        ({"script": [{"answer": ""}]}, "non-empty string"),
        ({"script": [{"vote": 5}]}, "vote must be"),
        ({"script": [{"vote": {"who": "x"}}]}, "unknown key"),
        ({"script": [{"vote": {"for": "best", "for_agent": "a"}}]}, "not both"),
        ({"script": [{"stall": "long"}]}, "stall must be"),
        ({"script": [{"calls": [{"arguments": {}}]}]}, "calls must be"),
        ({"script": [{"answer": "x", "delay": -2}]}, "delay must be"),
        ({"script": [{"answer": "x", "text": 5}]}, "text must be a string"),
        ({"script": [{"reason": "x"}]}, "exactly one action"),
    ],
)
def test_invalid_options_are_clear_errors(options, message):
    with pytest.raises(ScriptError, match=message):
        parse_options(options)


def test_shorthands_are_accepted():
    options = parse_options(
        {"script": ["no_tool_call", {"text": "only words"}, {"vote": True}, {"fail": True}]}
    )
    assert [s.action for s in options.script] == ["no_tool_call", "no_tool_call", "vote", "fail"]
    assert options.script[2].value == {"for": "best"} and options.script[3].value == "error"
    assert parse_options({"script": {"answer": "one"}}).script[0].value == "one"


# -- streaming ----------------------------------------------------------------------


async def test_an_answer_streams_token_by_token_then_calls_new_answer():
    chunks = await _collect(_backend([{"answer": "Paris is  big."}]), _request())
    assert [c.text for c in chunks if isinstance(c, TextDelta)] == ["Paris ", "is  ", "big."]
    assert _calls(chunks) == [("new_answer", {"content": "Paris is  big."})]
    usage = next(c for c in chunks if isinstance(c, UsageChunk)).usage
    assert usage.output_tokens >= 3 and usage.input_tokens > 0 and usage.cost_usd == 0
    assert isinstance(chunks[-1], Done) and chunks[-1].model == "s-1"


async def test_reasoning_and_text_stream_before_the_action():
    chunks = await _collect(
        _backend([{"reasoning": "hmm", "text": "lead", "answer": "A"}]), _request()
    )
    assert isinstance(chunks[0], ReasoningDelta) and chunks[0].text == "hmm"
    assert [c.text for c in chunks if isinstance(c, TextDelta)] == ["lead"]


async def test_question_placeholder_is_filled():
    chunks = await _collect(_backend([{"answer": "About {question}"}]), _request(question="cats"))
    assert _calls(chunks) == [("new_answer", {"content": "About cats"})]


async def test_token_delay_paces_the_stream():
    backend = _backend([{"answer": "a b c d e"}], token_delay=0.02)
    started = time.monotonic()
    await _collect(backend, _request())
    assert time.monotonic() - started >= 0.08


async def test_steps_advance_per_call_and_the_last_repeats():
    backend = _backend([{"answer": "one"}, {"answer": "two"}])
    contents = []
    for _ in range(3):
        contents.append(_calls(await _collect(backend, _request()))[0][1]["content"])
    assert contents == ["one", "two", "two"] and backend.calls == 3


# -- votes -------------------------------------------------------------------------


ANSWERS = {"ann": "short", "bob": "the longest answer here", "cy": "medium one"}


@pytest.mark.parametrize(
    ("target", "label"),
    [("best", "agent2"), ("first", "agent1"), ("last", "agent3"), ("agent3", "agent3")],
)
async def test_vote_targets_resolve_against_offered_labels(target, label):
    chunks = await _collect(
        _backend([{"vote": {"for": target, "reason": "why"}}]), _request(ANSWERS)
    )
    assert _calls(chunks) == [("vote", {"agent_id": label, "reason": "why"})]


async def test_self_and_for_agent_use_the_launch_snapshot():
    labels = assign_labels(list(ANSWERS))
    offered = {label: ANSWERS[real] for label, real in labels.items()}
    token = current_launch.set(LaunchContext(agent_id="cy", labels=labels, answers=offered))
    try:
        own = await _collect(_backend([{"vote": "self"}]), _request(ANSWERS))
        other = await _collect(
            _backend([{"vote": {"for_agent": "ann"}, "reason": "r"}]), _request(ANSWERS)
        )
        missing = await _collect(_backend([{"vote": {"for_agent": "zed"}}]), _request(ANSWERS))
    finally:
        current_launch.reset(token)
    assert _calls(own)[0][1]["agent_id"] == "agent3"
    assert _calls(other)[0][1] == {"agent_id": "agent1", "reason": "r"}
    assert _calls(missing)[0][1]["agent_id"] == "agent2"  # falls back to best


async def test_self_without_an_own_answer_votes_first():
    chunks = await _collect(_backend([{"vote": "self"}]), _request(ANSWERS))
    assert _calls(chunks)[0][1]["agent_id"] == "agent1"


async def test_vote_with_nothing_offered_names_agent1():
    chunks = await _collect(_backend([{"vote": "best"}]), _request())
    assert _calls(chunks) == [("vote", {"agent_id": "agent1", "reason": ""})]


async def test_a_ranked_vote_tool_gets_a_ranking_with_the_target_first():
    chunks = await _collect(_backend([{"vote": "last"}]), _request(ANSWERS, ranked=True))
    assert _calls(chunks) == [("vote", {"ranking": ["agent3", "agent1", "agent2"], "reason": ""})]


async def test_invalid_vote_and_raw_calls():
    backend = _backend(
        [{"invalid_vote": True}, {"calls": [{"name": "vote", "arguments": {"agent_id": "x"}}] * 2}]
    )
    assert _calls(await _collect(backend, _request(ANSWERS))) == [
        ("vote", {"agent_id": "agent99", "reason": ""})
    ]
    assert len(_calls(await _collect(backend, _request(ANSWERS)))) == 2


# -- failures and stalls ---------------------------------------------------------------


async def test_fail_raises_a_typed_error_naming_the_agent():
    with pytest.raises(ScriptedBackendError, match="rate_limit.*me") as info:
        await _collect(_backend([{"fail": "rate_limit"}]), _request())
    assert info.value.kind == "rate_limit"


async def test_stall_sleeps_then_ends_without_a_tool_call():
    chunks = await _collect(_backend([{"stall": 0.05, "text": "late"}]), _request())
    assert _calls(chunks) == [] and chunks[-1].finish_reason == "stop"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await _collect(_backend([{"stall": 10}]), _request())


# -- calls without workflow tools -------------------------------------------------------


def _plain(content: str = "Q") -> Request:
    return Request(messages=(Message(role="user", content=content),))


async def test_final_is_streamed_when_no_workflow_tools_are_offered():
    backend = _backend([{"answer": "A"}], final="Final about {question}")
    chunks = await _collect(backend, _plain("the prompt"), LaunchContext(agent_id="me", labels={}, question="dogs"))
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Final about dogs"
    assert backend.calls == 0  # presentation does not consume steps


async def test_without_final_the_presentation_echoes_its_own_answer_from_the_launch_not_the_prompt():
    backend = _backend([{"answer": "A"}])
    launch = LaunchContext(agent_id="me", labels={}, question="Q", own_answer="mine")
    chunks = await _collect(backend, _plain("<ALL ANSWERS>\n<me (your answer)> other <end of me>"), launch)
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "mine"


async def test_without_final_or_marker_it_echoes_its_last_or_first_answer():
    backend = _backend([{"answer": "first {question}"}, {"answer": "second"}])
    assert (
        "".join(c.text for c in await _collect(backend, _plain("x")) if isinstance(c, TextDelta))
        == "first x"
    )
    await _collect(backend, _request())
    assert (
        "".join(c.text for c in await _collect(backend, _plain()) if isinstance(c, TextDelta))
        == "first Q?"
    )
    await _collect(backend, _request())
    assert (
        "".join(c.text for c in await _collect(backend, _plain()) if isinstance(c, TextDelta))
        == "second"
    )
    empty = _backend([{"vote": "best"}])
    assert "no answer" in "".join(
        c.text for c in await _collect(empty, _plain()) if isinstance(c, TextDelta)
    )


async def test_health_check_needs_nothing():
    result = await _backend().health_check()
    assert result.ok and result.models == ("s-1",)


def test_registers_as_the_scripted_type(plugin_manager):
    plugin_manager.register(massgen_scripted, name="massgen-scripted")
    registered = plugin_manager.backends.get("scripted")
    assert registered.Options is ScriptedBackend.Options  # declared: read without the backend module
    assert registered.load() is ScriptedBackend  # and the declaration agrees with the class
    assert ScriptedBackend.serves_model("scripted-demo") and ScriptedBackend.key_env == ()


def test_options_already_parsed_are_kept():
    options = parse_options({"script": [{"answer": "x"}]})
    backend = ScriptedBackend(BackendConfig(type="scripted", options=options))  # type: ignore[arg-type]
    assert backend.options is options


def test_function_spec_is_what_the_orchestrator_offers():
    assert isinstance(new_answer_spec(), FunctionSpec)


async def test_the_request_log_is_bounded():
    backend = _backend([{"answer": "A"}])
    for _ in range(massgen_scripted.REQUEST_LOG_SIZE + 5):
        await _collect(backend, _request())
    assert len(backend.requests) == massgen_scripted.REQUEST_LOG_SIZE
    assert backend.calls == massgen_scripted.REQUEST_LOG_SIZE + 5


# -- per_turn ----------------------------------------------------------------------


async def test_per_turn_starts_the_script_over_for_each_new_question():
    backend = _backend([{"answer": "first for {question}"}, {"answer": "second"}], per_turn=True)
    first = _calls(await _collect(backend, _request(question="A?")))
    again = _calls(await _collect(backend, _request(question="A?")))
    new_turn = _calls(await _collect(backend, _request(question="B?")))
    assert first == [("new_answer", {"content": "first for A?"})]
    assert again == [("new_answer", {"content": "second"})]  # same turn: the script goes on
    assert new_turn == [("new_answer", {"content": "first for B?"})]


async def test_without_per_turn_the_script_carries_across_questions():
    backend = _backend([{"answer": "first"}, {"answer": "second"}])
    await _collect(backend, _request(question="A?"))
    assert _calls(await _collect(backend, _request(question="B?"))) == [("new_answer", {"content": "second"})]


def test_per_turn_must_be_a_boolean():
    with pytest.raises(ScriptError, match="per_turn must be true or false"):
        parse_options({"per_turn": "yes"})
