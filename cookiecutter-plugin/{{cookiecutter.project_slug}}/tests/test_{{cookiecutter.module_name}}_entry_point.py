"""MassGen finds the installed package through its entry point (after `pip install -e .`)."""

from __future__ import annotations

from massgen_core.plugins import PluginManager

KIND = {{ (cookiecutter.kind ~ "s" if cookiecutter.kind != "voting_strategy" else "voting_strategies")|tojson }}
NAME = {{ cookiecutter.registered_name|tojson }}


def test_massgen_loads_the_installed_plugin_through_its_entry_point(monkeypatch, massgen_home):
    # massgen_home (MassGen's pytest plugin): no settings or keys from the developer's machine
    monkeypatch.setenv("MASSGEN_LOAD_PLUGINS", NAME)
    pm = PluginManager()
    pm.load_entrypoints()
    info = pm.infos.get({{ cookiecutter.project_slug|tojson }})
    assert info is not None, "not installed? run: pip install -e ."
    assert info.error is None
    assert getattr(info, KIND) == [NAME]
