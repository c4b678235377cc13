"""The CLI's modules import each other in one direction: no cycle, even through imports inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import massgen_core

ROOT = Path(massgen_core.__file__).parent
MODULES = sorted(
    ["massgen_core.team", "massgen_core.conversation"]
    + [f"massgen_core.cli.{p.stem}" for p in (ROOT / "cli").glob("*.py") if p.stem != "__init__"]
)


def imports_of(module: str) -> set[str]:
    """Every massgen_core module ``module`` imports, at the top or inside a function (not for type checkers)."""
    path = ROOT.parent / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in MODULES and name != module}


def cycles() -> list[list[str]]:
    graph = {module: imports_of(module) for module in MODULES}
    found: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        for target in sorted(graph[node]):
            if target in path:
                found.append([*path[path.index(target):], target])
            elif target > path[0]:  # each cycle once, from its smallest module
                walk(target, [*path, target])

    for start in MODULES:
        walk(start, [start])
    return [c for c in found if c[0] == min(c)]


def test_the_run_command_and_its_implementation_form_no_cycle():
    assert "massgen_core.cli.run_impl" in imports_of("massgen_core.cli.run")
    assert "massgen_core.cli.run" not in imports_of("massgen_core.cli.run_impl")


def test_no_cli_or_facade_module_takes_part_in_an_import_cycle():
    assert cycles() == []


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module):
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, capture_output=True, timeout=60)
