"""Types are enforced: mypy (configured in pyproject.toml) passes on the core and every plugin.

The core is checked strictly, the plugins with every function body checked;
any error fails this test, so the README's test command runs the type checker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull, *args],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_the_core_and_every_plugin_type_check_without_an_error():
    done = mypy()  # the files and flags come from [tool.mypy]
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found")
    checked = int(done.stdout.split(" in ")[1].split()[0])
    plugin_packages = len(list(REPO.glob("plugins/*/massgen_*/__init__.py")))
    assert plugin_packages >= 15 and checked > 100 + plugin_packages  # the core's modules and the plugins'


def test_mypy_is_strict_for_the_core_and_checks_plugin_bodies():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert set(config["files"]) == {"massgen_core", "plugins/*/massgen_*"}
    plugins = next(o for o in config["overrides"] if "massgen_openai.*" in o["module"])
    assert plugins["check_untyped_defs"] is True
    installed = {p.name for p in REPO.glob("plugins/*/massgen_*")}
    assert {m.removesuffix(".*") for m in plugins["module"]} == installed


def test_the_configured_checker_reports_an_untyped_core_function(tmp_path: Path):
    # the same configuration on a module of the core's shape: strict mode refuses it
    package = tmp_path / "massgen_core"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text("def f(x):\n    return x + 1\n\ny: int = 'one'\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull,
         "--config-file", str(REPO / "pyproject.toml"),
         str(package / "bad.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "[no-untyped-def]" in done.stdout and "[assignment]" in done.stdout
