"""Every config file v0.0.3/v0.0.4 users have loads unchanged with the installed plugins.

A backend type the file needs but no installed plugin provides yet is stood in
for (in this test only) by the stand-in from this folder's conftest; once the
provider plugins are installed, the real Options classes do the validating.
"""

from __future__ import annotations

from massgen_core.config import load_config_with_warnings
from massgen_core.hookspecs import hookimpl

LEGACY_TYPES = ("openai", "claude", "gemini", "grok", "chatcompletion")


def _stand_in_missing(manager, stand_ins, types):
    missing = [t for t in types if t not in manager.backends]
    if missing:

        class Plugin:
            @hookimpl
            def register_backends(self, register):
                for name in missing:
                    register(stand_ins[name])

        manager.register(Plugin(), name="legacy-stand-ins")


def test_every_legacy_config_loads_with_only_deprecation_warnings(
    shared_dir, installed_plugins, stand_ins
):
    _stand_in_missing(installed_plugins, stand_ins, LEGACY_TYPES)
    files = sorted((shared_dir / "legacy-configs").glob("*.yaml"))
    assert len(files) >= 20
    warned = {}
    for path in files:
        config, warnings = load_config_with_warnings(path, manager=installed_plugins)
        assert config.agents, path.name
        assert all(w.severity == "warning" for w in warnings)
        if warnings:
            warned[path.name] = sorted({w.key_path.split(".")[-1] for w in warnings})
    assert warned == {
        "v0.0.3-single_flash2.5.yaml": ["display"],
        "v0.0.4-single_flash2.5.yaml": ["display"],
        "v0.0.4-three_agents_opensource.yaml": ["base_url"],
    }


def test_legacy_research_team_honours_backend_params(shared_dir, installed_plugins, stand_ins):
    _stand_in_missing(installed_plugins, stand_ins, ("grok", "openai"))
    config, _ = load_config_with_warnings(
        shared_dir / "legacy-configs" / "v0.0.3-research_team.yaml", manager=installed_plugins
    )
    assert {(a.backend.temperature, a.backend.max_tokens) for a in config.agents} == {(0.3, 3000)}
