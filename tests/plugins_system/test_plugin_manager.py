"""The plugin manager: registration, typed registries, conflicts, and failures that are never fatal."""

from __future__ import annotations

import types

import pytest

from massgen_core.errors import UnknownNameError
from massgen_core.hookspecs import hookimpl
from massgen_core.plugins import PluginConflictError, PluginManager


def make_plugin(name: str, **hooks):
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


class FakeBackend:
    name = "fake"


class OtherBackend:
    name = "other"


def test_registered_backend_is_found_by_name(plugin_manager: PluginManager):
    plugin = make_plugin("p1", register_backends=lambda register: register(FakeBackend))
    info = plugin_manager.register(plugin, name="massgen-fake")
    assert plugin_manager.backends.get("fake") is FakeBackend
    assert info.backends == ["fake"]
    assert info.error is None
    assert plugin_manager.backends.owner("fake") == "massgen-fake"


def test_each_kind_lands_in_its_own_registry(plugin_manager: PluginManager):
    strategy = type("S", (), {"name": "s1"})
    exporter = type("E", (), {"name": "e1"})
    tool = types.SimpleNamespace(name="t1")
    plugin = make_plugin(
        "all",
        register_voting_strategies=lambda register: register(strategy),
        register_exporters=lambda register: register(exporter),
        register_tools=lambda register: register(tool),
    )
    info = plugin_manager.register(plugin, name="all")
    assert plugin_manager.voting_strategies.get("s1") is strategy
    assert plugin_manager.exporters.get("e1") is exporter
    assert plugin_manager.tools.get("t1") is tool
    assert (info.voting_strategies, info.exporters, info.tools) == (["s1"], ["e1"], ["t1"])


def test_register_accepts_an_explicit_name(plugin_manager: PluginManager):
    plugin = make_plugin("p", register_backends=lambda register: register(FakeBackend, name="alias"))
    plugin_manager.register(plugin, name="p")
    assert plugin_manager.backends.names() == ["alias"]


def test_unknown_name_suggests_the_closest(plugin_manager: PluginManager):
    plugin_manager.register(make_plugin("p", register_backends=lambda register: register(FakeBackend)), name="p")
    with pytest.raises(UnknownNameError) as err:
        plugin_manager.backends.get("fak")
    assert "did you mean 'fake'" in str(err.value)
    assert "installed: fake" in str(err.value)


def test_two_plugins_with_one_name_is_an_error_naming_both(plugin_manager: PluginManager):
    plugin_manager.register(make_plugin("a", register_backends=lambda register: register(FakeBackend)), name="dist-a")
    info = plugin_manager.register(make_plugin("b", register_backends=lambda register: register(FakeBackend)), name="dist-b")
    assert info.error is not None and "dist-a" in info.error and "dist-b" in info.error
    with pytest.raises(PluginConflictError) as err:
        plugin_manager.backends.get("fake")
    assert "dist-a" in str(err.value) and "dist-b" in str(err.value)
    assert "fake" not in plugin_manager.backends


def test_a_plugin_that_raises_while_registering_is_recorded_and_skipped(plugin_manager: PluginManager):
    def boom(register):
        raise RuntimeError("no GPU today")

    info = plugin_manager.register(make_plugin("bad", register_backends=boom), name="bad")
    good = plugin_manager.register(make_plugin("good", register_backends=lambda register: register(OtherBackend)), name="good")
    assert info.error == "register_backends raised RuntimeError: no GPU today"
    assert good.error is None
    assert plugin_manager.backends.names() == ["other"]
    assert "RuntimeError" in plugin_manager.debug_tracebacks["bad"]


def test_a_misspelled_hook_fails_loudly_with_a_suggestion(plugin_manager: PluginManager):
    info = plugin_manager.register(make_plugin("typo", register_backend=lambda register: None), name="typo")
    assert info.error is not None
    assert "unknown hook 'register_backend'" in info.error
    assert "did you mean 'register_backends'" in info.error
    assert plugin_manager.pm.get_plugin("typo") is None


def test_registering_without_a_name_is_an_error(plugin_manager: PluginManager):
    info = plugin_manager.register(make_plugin("anon", register_tools=lambda register: register(object())), name="anon")
    assert info.error is not None and "without a name" in info.error


def test_unregister_removes_what_a_throwaway_plugin_added(plugin_manager: PluginManager):
    plugin_manager.register(make_plugin("tmp", register_backends=lambda register: register(FakeBackend)), name="tmp")
    plugin_manager.unregister("tmp")
    assert "fake" not in plugin_manager.backends
    assert plugin_manager.plugin_infos() == []


def test_on_event_reaches_every_observer(plugin_manager: PluginManager):
    seen: list[object] = []
    plugin_manager.register(make_plugin("obs", on_event=lambda event: seen.append(event)), name="obs")
    plugin_manager.emit("e1")
    plugin_manager.emit("e2")
    assert seen == ["e1", "e2"]


def test_registry_iterates_in_name_order(plugin_manager: PluginManager):
    plugin = make_plugin("p", register_backends=lambda register: [register(OtherBackend), register(FakeBackend)])
    plugin_manager.register(plugin, name="p")
    assert list(plugin_manager.backends) == ["fake", "other"]
    assert len(plugin_manager.backends) == 2
    assert [n for n, _ in plugin_manager.backends.items()] == ["fake", "other"]
    assert plugin_manager.backends.suggest("othr") == "other"


def test_plugin_info_serialises_every_field():
    from massgen_core.plugins import PluginInfo

    info = PluginInfo(name="x", version="1", error="boom")
    info.backends.append("b1")
    data = info.to_dict()
    assert data == {
        "name": "x", "version": "1", "entry_point": None, "backends": ["b1"],
        "voting_strategies": [], "exporters": [], "tools": [], "graders": [], "config_sections": [],
        "error": "boom",
    }
    data["backends"].append("changed")  # a copy: the info itself is untouched
    assert info.backends == ["b1"] and "'error': 'boom'" in repr(info)


def test_a_failing_observer_is_switched_off_while_the_others_keep_receiving(plugin_manager: PluginManager):
    seen: list[object] = []
    reported: list[tuple[str, str]] = []

    def explode(event):
        raise ValueError("observer bug")

    plugin_manager.register(make_plugin("bad_obs", on_event=explode), name="bad-obs")
    plugin_manager.register(make_plugin("good_obs", on_event=lambda event: seen.append(event)), name="good-obs")
    plugin_manager.on_observer_error = lambda name, exc: reported.append((name, str(exc)))
    plugin_manager.emit(1)
    plugin_manager.emit(2)
    assert seen == [1, 2]
    assert reported == [("bad-obs", "observer bug")]
    assert plugin_manager.failed_observers == {"bad-obs": "ValueError: observer bug"}
