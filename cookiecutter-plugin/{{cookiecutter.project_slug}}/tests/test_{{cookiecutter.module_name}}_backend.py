"""The {{ cookiecutter.registered_name|tojson }} backend, as MassGen's plugin manager and orchestrator see it."""

from __future__ import annotations

import asyncio
import time

from massgen_core.backend import (
    Done,
    Message,
    Request,
    TextDelta,
    ToolCallChunk,
    UsageChunk,
)
from massgen_core.backend_factory import create_backend
from massgen_core.config.schema import BackendConfig
from massgen_core.orchestrator import LaunchContext, current_launch
from massgen_core.orchestrator.workflow import offer as offer_for
from massgen_core.orchestrator.workflow import tool_specs
from massgen_core.plugins import PluginManager

import {{ cookiecutter.module_name }}

NAME = {{ cookiecutter.registered_name|tojson }}


def default_vote(labels: list[str]) -> dict:
    """The vote schema of MassGen's default strategy, as a launch context carries it."""
    return {
        "type": "object",
        "properties": {
            "agent_id": {"type": "string", "enum": labels},
            "reason": {"type": "string"},
        },
        "required": ["agent_id", "reason"],
    }


def coordination_request(
    question: str, labels: list[str], *, workflow: bool = True
) -> tuple[Request, LaunchContext]:
    """A coordination request and, as the orchestrator sets it, the launch context beside it."""
    offer = offer_for(may_answer=True, labels=labels, vote_parameters=default_vote(labels))
    request = Request(
        messages=(Message(role="system", content="Be brief."), Message(role="user", content="the prompt")),
        tools=tuple(tool_specs(offer)) if workflow else (),
        workflow=offer if workflow else None,
    )
    launch = LaunchContext(
        agent_id="me",
        labels={label: f"real-{label}" for label in labels},
        question=question,
        vote_parameters=offer.vote_parameters,
    )
    return request, launch


def manager() -> PluginManager:
    pm = PluginManager()
    pm.register({{ cookiecutter.module_name }}, name={{ cookiecutter.project_slug|tojson }})
    return pm


def run(request: Request, launch: LaunchContext | None = None) -> list:
    backend = create_backend(BackendConfig(type=NAME, model=NAME), manager=manager())

    async def collect() -> list:
        if launch is not None:  # what the orchestrator sets for the launch a request belongs to
            current_launch.set(launch)
        return [chunk async for chunk in backend.stream(request)]

    return asyncio.run(collect())


def test_the_plugin_registers_the_backend_under_its_name() -> None:
    pm = manager()
    registered = pm.backends.get(NAME)  # a Lazy: the backend module loads on first use
    assert registered.name == NAME
    assert registered.load() is {{ cookiecutter.module_name }}.EchoBackend  # the declaration agrees
    assert pm.plugin_infos()[0].backends == [NAME]


def test_model_names_starting_with_the_backend_name_select_it() -> None:
    backend = manager().backends.get(NAME)
    assert backend.serves_model(NAME)
    assert backend.serves_model(NAME + "-large")
    assert not backend.serves_model("gpt-4o-mini")


def test_streams_the_message_back_token_by_token_then_usage_then_done() -> None:
    chunks = run(Request(messages=(Message(role="user", content="the sky is blue"),)))
    deltas = [c.text for c in chunks if isinstance(c, TextDelta)]
    assert deltas == ["the", " sky", " is", " blue"]
    usage = [c.usage for c in chunks if isinstance(c, UsageChunk)]
    assert usage[0].input_tokens == 4 and usage[0].output_tokens == 4
    assert isinstance(chunks[-1], Done) and chunks[-1].model == NAME


def test_without_workflow_tools_it_makes_no_tool_call() -> None:
    chunks = run(*coordination_request("What is 2 + 2?", [], workflow=False))
    assert not [c for c in chunks if isinstance(c, ToolCallChunk)]
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "What is 2 + 2?"


def test_with_nothing_to_vote_for_it_submits_its_echo_as_a_new_answer() -> None:
    chunks = run(*coordination_request("What is 2 + 2?", []))
    calls = [c.call for c in chunks if isinstance(c, ToolCallChunk)]
    assert [(c.name, dict(c.arguments)) for c in calls] == [
        ("new_answer", {"content": "What is 2 + 2?"})
    ]


def test_with_answers_on_offer_it_votes_for_the_first_label() -> None:
    chunks = run(*coordination_request("What is 2 + 2?", ["agent1", "agent2"]))
    calls = [c.call for c in chunks if isinstance(c, ToolCallChunk)]
    assert len(calls) == 1
    assert calls[0].name == "vote"
    assert calls[0].arguments["agent_id"] == "agent1"
    assert calls[0].arguments["reason"]


def test_the_health_check_passes_without_network() -> None:
    backend = create_backend(BackendConfig(type=NAME, model=NAME), manager=manager())
    result = asyncio.run(backend.health_check())
    assert result.ok and NAME in result.models


def test_it_echoes_the_latest_user_message_of_a_chat() -> None:
    chunks = run(
        Request(
            messages=(
                Message(role="user", content="first question"),
                Message(role="assistant", content="an earlier reply"),
            )
        )
    )
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "first question"


def test_a_request_without_a_user_message_streams_nothing_but_still_ends() -> None:
    chunks = run(Request(messages=(Message(role="system", content="You are terse."),)))
    assert not [c for c in chunks if isinstance(c, TextDelta)]
    assert isinstance(chunks[-1], Done)


def test_a_token_delay_paces_the_stream() -> None:
    backend = create_backend(BackendConfig(type=NAME, model=NAME), manager=manager())
    backend.token_delay_s = 0.02  # type: ignore[misc]
    request = Request(messages=(Message(role="user", content="one two three"),))

    async def timed() -> float:
        started = time.monotonic()
        async for _ in backend.stream(request):
            pass
        return time.monotonic() - started

    assert asyncio.run(timed()) >= 3 * 0.02
