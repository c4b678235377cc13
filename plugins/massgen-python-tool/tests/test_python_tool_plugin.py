"""The python tool as MassGen sees it: registered through the plugin manager and callable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import massgen_python_tool
from massgen_python_tool.runner import Limits

from massgen_core.plugins import PluginManager
from massgen_core.tools import Tool


def test_registers_a_tool_named_python(plugin_manager: PluginManager) -> None:
    info = plugin_manager.register(massgen_python_tool, name="massgen-python-tool")
    assert info.error is None
    assert info.tools == ["python"]
    tool = plugin_manager.tools.get("python")
    assert not tool.loaded  # registered lazily: made on first use
    assert isinstance(tool.load(), Tool) and tool.load() is tool.load()
    assert plugin_manager.tools.owner("python") == "massgen-python-tool"


def test_the_tool_spec_asks_for_code_and_states_the_limits(plugin_manager: PluginManager) -> None:
    plugin_manager.register(massgen_python_tool, name="massgen-python-tool")
    spec = plugin_manager.tools.get("python").spec()
    assert spec.name == "python"
    assert spec.parameters["required"] == ["code"]
    assert "10 s" in spec.description and "256 MiB" in spec.description


async def test_calling_the_registered_tool_runs_the_code(plugin_manager: PluginManager) -> None:
    plugin_manager.register(massgen_python_tool, name="massgen-python-tool")
    text = await plugin_manager.tools.get("python")(code="print(6 * 7)")
    assert text == "exit status 0\n--- stdout ---\n42\n"


async def test_a_tool_made_with_custom_limits_enforces_them() -> None:
    tool = massgen_python_tool.make_tool(Limits(timeout_s=0.5), name="py")
    assert tool.name == "py"
    text = await tool(code="while True: pass")
    assert text.startswith("timed out after")


def test_the_registered_tool_honours_limits_from_the_environment(
    monkeypatch, plugin_manager
) -> None:
    monkeypatch.setenv("MASSGEN_PYTHON_TOOL_TIMEOUT", "3")
    plugin_manager.register(massgen_python_tool, name="massgen-python-tool")
    assert "3 s wall clock" in plugin_manager.tools.get("python").description


async def test_a_call_without_code_gets_an_explanation_instead_of_an_exception() -> None:
    tool = massgen_python_tool.make_tool(Limits())
    assert (await tool()).startswith("error: pass the Python source")
    assert (await tool(code=42)).startswith("error: pass the Python source")
    assert (await tool(source="print(1)")).startswith("error: pass the Python source")


def test_the_description_names_the_sandbox_level_and_what_it_does_not_protect(monkeypatch) -> None:
    monkeypatch.setenv("MASSGEN_PYTHON_TOOL_SANDBOX", "seccomp")
    description = massgen_python_tool.make_tool().description
    assert "Sandbox level seccomp:" in description
    assert "Not protected: it can read every file" in description
    strongest = massgen_python_tool.make_tool(Limits()).description
    assert "Sandbox level namespaces:" in strongest and "read-only file system" in strongest


def _massgen(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **env},
    )


def test_massgen_sandbox_says_what_holds_here_and_what_does_not() -> None:
    proc = _massgen("sandbox")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("python tool sandbox level: namespaces\n")
    assert "  protected: no network" in proc.stdout
    weakest = json.loads(_massgen("sandbox", "--json", MASSGEN_PYTHON_TOOL_SANDBOX="none").stdout)
    assert weakest["level"] == "none"
    assert "it has the network" in weakest["not_protected"]


def test_massgen_sandbox_refuses_an_unknown_level_in_one_line() -> None:
    proc = _massgen("sandbox", MASSGEN_PYTHON_TOOL_SANDBOX="strict")
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: unknown sandbox level 'strict'; expected auto or one of "
        "namespaces, landlock, seccomp, none\n"
    )
