"""The CLI as a user runs it (a subprocess): a broken plugin, ``--env``, ``.env`` and ``${VAR:-default}``.

With a broken plugin distribution on its path, validating a config and
running a coordinated session still succeed; an environment overlay with
interpolated values from a ``.env`` file reaches the session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
agents:
  - id: a
    backend: {type: scripted, model: scripted-1, script: [{answer: "The answer."}, {vote: self}]}
  - id: b
    backend: {type: scripted, model: scripted-1, script: [{vote: best}]}
orchestrator: {final_presentation: false}
"""


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "mg_audit_broken.py").write_text("raise ImportError('missing dependency: libbar')\n")
    info = site / "massgen_auditbroken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: massgen-auditbroken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[massgen]\nmassgen-auditbroken = mg_audit_broken\n")
    return site


def _cli(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(site) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MASSGEN_LOAD_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_validate_and_a_session_still_work_with_a_broken_plugin(broken_site: Path, tmp_path: Path):
    config = tmp_path / "team.yaml"
    config.write_text(CONFIG)
    validated = _cli(["config", "validate", str(config)], broken_site, tmp_path)
    assert validated.returncode == 0, validated.stderr
    assert "Traceback" not in validated.stderr
    ran = _cli(["--config", str(config), "--no-display", "What?"], broken_site, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "The answer." in ran.stdout
    assert "Traceback" not in ran.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "team.yaml"]  # nothing written to cwd


ENV_CONFIG = """
agents:
  - id: a
    backend: {type: scripted, model: scripted-1, script: [{answer: "base"}, {vote: self}]}
orchestrator: {final_presentation: false}
environments:
  prod:
    agents:
      - id: a
        backend:
          type: scripted
          model: scripted-1
          script: [{answer: "prod for ${WHO:-nobody} at ${WHERE:-home}"}, {vote: self}]
"""


def test_env_overlay_interpolation_and_dotenv_reach_a_run(tmp_path: Path):
    (tmp_path / "team.yaml").write_text(ENV_CONFIG)
    (tmp_path / ".env").write_text("WHO=dotenv-user\n")
    env = {k: v for k, v in os.environ.items() if k not in ("WHO", "WHERE")}
    env["MASSGEN_LOAD_PLUGINS"] = "massgen-scripted,massgen-voting-majority"
    ran = subprocess.run(
        [sys.executable, "-m", "massgen_core", "--config", "team.yaml", "--env", "prod"]
        + ["--no-display", "Q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "prod for dotenv-user at home"
