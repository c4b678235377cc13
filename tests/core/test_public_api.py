"""The package's public names: what ``from massgen_core import ...`` promises library users."""

from __future__ import annotations

import subprocess
import sys

import pytest

import massgen_core


def test_every_name_in_all_resolves():
    for name in massgen_core.__all__:
        assert getattr(massgen_core, name) is not None
    from massgen_core import Team, TeamResult
    from massgen_core.team import Team as TeamClass

    assert Team is TeamClass and TeamResult.__name__ == "TeamResult"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        massgen_core.Nope  # noqa: B018


def test_importing_the_package_does_not_load_the_facade():
    code = "import sys, massgen_core; print('massgen_core.team' in sys.modules, 'attrs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_library_examples_in_docs_protocol_run_as_written(tmp_path):
    import os
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text[text.index("## Using the engine from Python"):]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2 and "team.conversation()" in blocks[0]
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path)}
    outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                              timeout=60).stdout for code in blocks]
    assert "consensus An answer to And a follow-up?" in outputs[0]
    assert "[('First question?', 'An answer to First question?'), ('And a follow-up?'" in outputs[0]
    assert outputs[1].strip() == "consensus a Paris."
