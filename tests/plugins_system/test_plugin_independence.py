"""Plugins import the core and their own libraries, never each other (issue 12: a core that is the contract).

Read with ``ast``: every import statement in a plugin's package (its tests may use other plugins,
as a user's installation would). And ``PluginManager.load_entrypoints(only=...)``, the way a test or an
embedding application picks installed plugins without importing them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _plugin_packages() -> dict[str, Path]:
    packages = {}
    for plugin in sorted((ROOT / "plugins").iterdir()):
        for package in plugin.glob("massgen_*"):
            if package.is_dir():
                packages[package.name] = package
    return packages


def _imported_roots(package: Path) -> set[str]:
    roots = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
    return roots


def test_the_walk_sees_every_first_party_plugin():
    assert {"massgen_openai", "massgen_voting_majority", "massgen_server", "massgen_scripted"} <= set(_plugin_packages())


def test_no_plugin_imports_another_plugin():
    packages = _plugin_packages()
    crossings = {name: sorted(_imported_roots(path) & (set(packages) - {name})) for name, path in packages.items()}
    assert {name: others for name, others in crossings.items() if others} == {}


def test_no_plugin_depends_on_another_in_its_pyproject():
    import tomllib

    for plugin in (ROOT / "plugins").iterdir():
        project = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
        others = [d for d in project.get("dependencies", []) if d.startswith("massgen-") and d != "massgen-core"]
        assert others == [], f"{plugin.name} depends on {others}"


def test_load_entrypoints_only_loads_the_named_installed_plugins(massgen_plugin_manager, monkeypatch):
    monkeypatch.setenv("MASSGEN_LOAD_PLUGINS", "massgen-claude")  # `only` wins over the environment
    massgen_plugin_manager.load_entrypoints(only={"massgen-scripted", "massgen-voting-majority"})
    assert set(massgen_plugin_manager.infos) == {"massgen-scripted", "massgen-voting-majority"}
    assert "majority" in massgen_plugin_manager.voting_strategies.names()
    assert "claude" not in massgen_plugin_manager.backends.names()
