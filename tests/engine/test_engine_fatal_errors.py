"""Errors that relaunching cannot fix drop the agent at once; a missing key is caught before any request."""

from __future__ import annotations

import types

import pytest

from massgen_core import events as ev
from massgen_core.backend import Backend
from massgen_core.config.schema import AgentConfig, BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.hookspecs import hookimpl
from massgen_core.http.errors import AuthenticationError, ErrorContext, OverloadedError


class Refused(Backend):
    """Every call fails with the error class in its options."""

    name = "refused"
    calls = 0

    def stream(self, request):
        return self._stream()

    async def _stream(self):
        Refused.calls += 1
        error = {"auth": AuthenticationError, "overloaded": OverloadedError}[self.config.options["error"]]
        raise error("nope", context=ErrorContext(agent_id=self.context.agent_id, backend="refused"))
        yield  # pragma: no cover - makes this an async generator


@pytest.fixture
def refused(eng):
    Refused.calls = 0
    plugin = types.SimpleNamespace(register_backends=hookimpl(lambda register: register(Refused)))
    eng.manager.register(plugin, name="refused-plugin")
    return eng


def refused_agent(agent_id: str, error: str) -> AgentConfig:
    return AgentConfig(id=agent_id, backend=BackendConfig(type="refused", model="m", options={"error": error}))


async def test_a_refused_key_drops_the_agent_after_one_launch(refused):
    orch = refused.team([refused.agent("ok", [{"answer": "Paris."}, {"vote": {"for": "best"}}]), refused_agent("bad", "auth")])
    events = await refused.run(orch)
    failed = refused.of(events, ev.AgentFailed)
    assert [f.agent_id for f in failed] == ["bad"]
    assert "authentication failed" in failed[0].error and "consecutive" not in failed[0].error
    assert Refused.calls == 1
    assert refused.finished(events).final_answer == "Paris."


async def test_a_retryable_failure_still_gets_the_consecutive_failure_cap(refused):
    orch = refused.team(
        [refused.agent("ok", [{"answer": "Paris."}, {"vote": {"for": "best"}}]), refused_agent("busy", "overloaded")],
        wait_for_retrying_agents=True,
    )
    events = await refused.run(orch)
    failed = refused.of(events, ev.AgentFailed)
    assert "3 consecutive failed launches" in failed[0].error
    assert Refused.calls == 3


async def test_when_every_agent_failed_the_session_says_why(refused):
    orch = refused.team([refused_agent("a", "auth"), refused_agent("b", "auth")])
    finished = refused.finished(await refused.run(orch))
    assert finished.ended_by == "all_agents_failed" and finished.final_answer is None
    assert finished.error.startswith("no agent produced an answer (a: ")
    assert "b: " in finished.error and "authentication failed" in finished.error


def test_preflight_names_every_agent_without_a_key(eng, monkeypatch):
    import massgen_claude
    import massgen_openai

    eng.manager.register(massgen_openai, name="massgen-openai")
    eng.manager.register(massgen_claude, name="massgen-claude")
    orch = eng.team([
        AgentConfig(id="gpt", backend=BackendConfig(type="openai", model="gpt-4o-mini")),
        AgentConfig(id="cl", backend=BackendConfig(type="claude", model="claude-3-5-haiku-latest")),
        eng.agent("s", [{"answer": "x"}]),
    ])
    with pytest.raises(MassGenError) as err:
        orch.preflight()
    message = str(err.value)
    assert "agent gpt" in message and "OPENAI_API_KEY" in message
    assert "agent cl" in message and "ANTHROPIC_API_KEY" in message
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    orch.preflight()  # nothing missing any more


def test_a_fallback_with_a_key_makes_the_agent_ready(eng, monkeypatch):
    import massgen_claude
    import massgen_openai

    eng.manager.register(massgen_openai, name="massgen-openai")
    eng.manager.register(massgen_claude, name="massgen-claude")
    backend = BackendConfig(
        type="openai", model="gpt-4o-mini",
        fallback=(BackendConfig(type="claude", model="claude-3-5-haiku-latest"),),
    )
    orch = eng.team([AgentConfig(id="a", backend=backend)])
    with pytest.raises(MassGenError, match="OPENAI_API_KEY"):
        orch.preflight()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    orch.preflight()


def test_a_nested_team_checks_its_members(eng):
    import massgen_openai

    eng.manager.register(massgen_openai, name="massgen-openai")
    inner = AgentConfig(id="team", agents=(AgentConfig(id="gpt", backend=BackendConfig(type="openai", model="gpt-4o")),))
    orch = eng.team([inner, eng.agent("s", [{"answer": "x"}])])
    with pytest.raises(MassGenError, match="agent gpt.*OPENAI_API_KEY"):
        orch.preflight()
