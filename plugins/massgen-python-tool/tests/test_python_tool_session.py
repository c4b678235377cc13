"""The python tool inside a real coordination session: an agent calls it and reads the result."""

from __future__ import annotations

import massgen_python_tool
import massgen_scripted
import massgen_voting_majority

from massgen_core import events as ev
from massgen_core.config.schema import AgentConfig, BackendConfig, Config
from massgen_core.orchestrator import build_orchestrator
from massgen_core.plugins import PluginManager


async def test_an_agent_calls_the_python_tool_and_gets_its_output(
    plugin_manager: PluginManager,
) -> None:
    for module, name in (
        (massgen_python_tool, "massgen-python-tool"),
        (massgen_scripted, "massgen-scripted"),
        (massgen_voting_majority, "massgen-voting-majority"),
    ):
        assert plugin_manager.register(module, name=name).error is None
    script = [
        {"calls": [{"name": "python", "arguments": {"code": "print(6 * 7)"}}]},
        {"answer": "The answer is 42."},
        {"vote": "best"},
    ]
    config = Config(
        agents=(
            AgentConfig(
                id="alice",
                tools=("python",),
                backend=BackendConfig(type="scripted", model="s", options={"script": script}),
            ),
        )
    )
    orchestrator = build_orchestrator(config, manager=plugin_manager)
    events = [event async for event in orchestrator.run("What is six times seven?")]
    await orchestrator.aclose()
    offered = [e for e in events if isinstance(e, ev.ToolCalled) and e.name == "python"]
    results = [e for e in events if isinstance(e, ev.ToolResult) and e.name == "python"]
    assert offered and offered[0].arguments == {"code": "print(6 * 7)"}
    assert results[0].result == "exit status 0\n--- stdout ---\n42\n"
    assert not results[0].is_error
    assert isinstance(events[-1], ev.SessionFinished)
    assert events[-1].winner == "alice"
