"""A plugin that fails part-way through registering is skipped whole (issue 2, plugin system)."""

from __future__ import annotations

import types
from typing import Any

import pytest

from massgen_core.hookspecs import hookimpl
from massgen_core.plugins import PluginConflictError, PluginManager


def _plugin(name: str, **hooks: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


class Alpha:
    name = "alpha"


class Beta:
    name = "beta"


class Gamma:
    name = "gamma"


def test_what_a_plugin_registered_before_raising_is_withdrawn(plugin_manager: PluginManager):
    def half(register: Any) -> None:
        register(Alpha)
        raise RuntimeError("second backend needs a GPU")

    info = plugin_manager.register(_plugin("half", register_backends=half), name="half")
    assert info.error is not None and "GPU" in info.error
    assert "alpha" not in plugin_manager.backends
    assert info.backends == []


def test_a_plugin_whose_later_hook_raises_contributes_nothing(plugin_manager: PluginManager):
    seen: list[object] = []

    def broken_tools(register: Any) -> None:
        raise RuntimeError("tool init failed")

    info = plugin_manager.register(
        _plugin(
            "mixed",
            register_backends=lambda register: register(Alpha),
            register_tools=broken_tools,
            on_event=lambda event: seen.append(event),
        ),
        name="mixed",
    )
    assert info.error == "register_tools raised RuntimeError: tool init failed"
    assert "alpha" not in plugin_manager.backends
    plugin_manager.emit("an event")
    assert seen == []
    assert plugin_manager.pm.get_plugin("mixed") is None
    assert [i.name for i in plugin_manager.plugin_infos()] == ["mixed"]  # still reported


def test_a_conflicting_plugin_keeps_the_conflict_but_adds_nothing_else(
    plugin_manager: PluginManager,
):
    plugin_manager.register(
        _plugin("a", register_backends=lambda register: register(Alpha)), name="dist-a"
    )
    info = plugin_manager.register(
        _plugin("b", register_backends=lambda register: [register(c) for c in (Gamma, Alpha, Beta)]),
        name="dist-b",
    )
    assert "dist-a" in info.error and "dist-b" in info.error
    with pytest.raises(PluginConflictError, match="dist-a and dist-b"):
        plugin_manager.backends.get("alpha")
    assert plugin_manager.backends.names() == []


def test_a_plugin_registering_one_name_twice_is_reported_and_the_name_unusable(
    plugin_manager: PluginManager,
):
    info = plugin_manager.register(
        _plugin("twice", register_backends=lambda register: [register(Alpha), register(Alpha)]),
        name="twice",
    )
    assert info.error is not None and "'alpha'" in info.error
    with pytest.raises(PluginConflictError, match="twice and twice"):
        plugin_manager.backends.get("alpha")


def test_a_plugin_that_exits_while_importing_is_recorded_and_skipped(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "mg_audit_exits.py").write_text("import sys\nsys.exit('needs libfoo')\n")
    info_dir = tmp_path / "massgen_auditexits-0.2.dist-info"
    info_dir.mkdir()
    (info_dir / "METADATA").write_text("Metadata-Version: 2.1\nName: massgen-auditexits\nVersion: 0.2\n")
    (info_dir / "entry_points.txt").write_text("[massgen]\nmassgen-auditexits = mg_audit_exits\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MASSGEN_LOAD_PLUGINS", "massgen-auditexits")
    manager = PluginManager()
    manager.load_entrypoints()
    [info] = manager.plugin_infos()
    assert (info.name, info.version) == ("massgen-auditexits", "0.2")
    assert info.error is not None and "needs libfoo" in info.error
