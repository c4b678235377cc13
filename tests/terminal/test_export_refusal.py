"""``massgen export -o PATH`` and ``/export FORMAT PATH``: no silent overwrite, never through a symlink."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FAST = {"agents": [{"id": "solo", "backend": {"type": "scripted", "script": [{"answer": "A."}, {"vote": "self"}]}}]}


@pytest.fixture
def recorded(cli, tmp_path) -> str:
    config = tmp_path / "fast.json"
    config.write_text(json.dumps(FAST))
    assert cli(["--config", str(config), "-q", "a question"]).returncode == 0
    return json.loads(cli(["conversations", "list", "--json"]).stdout)[0]["id"]


def test_an_existing_file_is_refused_without_force_and_replaced_with_it(cli, recorded, tmp_path):
    target = tmp_path / "out.md"
    target.write_text("precious")
    proc = cli(["export", recorded, "-f", "markdown", "-o", str(target)])
    assert proc.returncode == 1
    assert "already exists: pass --force to overwrite it" in proc.stderr
    assert target.read_text() == "precious"
    proc = cli(["export", recorded, "-f", "markdown", "-o", str(target), "--force"])
    assert proc.returncode == 0, proc.stderr
    assert target.read_text().startswith("# a question")


def test_a_new_file_is_written_and_a_second_export_into_a_folder_is_refused(cli, recorded, tmp_path):
    proc = cli(["export", recorded, "-f", "json", "-o", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / f"massgen-{recorded[:8]}.json"
    assert json.loads(written.read_text())["conversation"]["id"] == recorded
    again = cli(["export", recorded, "-f", "json", "-o", str(tmp_path)])
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_at_the_target_is_never_followed(cli, recorded, tmp_path, force):
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    link = tmp_path / "out.md"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "created-through-the-link.md")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / f"massgen-{recorded[:8]}.md").symlink_to(victim)
    for target in (link, dangling, folder):
        proc = cli(["export", recorded, "-f", "markdown", "-o", str(target), *(["--force"] if force else [])])
        assert proc.returncode == 1, target
        assert "is a symbolic link; MassGen does not write through links" in proc.stderr
    assert victim.read_text() == "do not touch"
    assert not (tmp_path / "created-through-the-link.md").exists()
    assert os.path.islink(link) and os.path.islink(dangling)


def test_a_symlink_to_a_folder_is_not_treated_as_the_folder(cli, recorded, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    proc = cli(["export", recorded, "-f", "markdown", "-o", str(tmp_path / "alias")])
    assert proc.returncode == 1 and "symbolic link" in proc.stderr
    assert list(real.iterdir()) == []


def test_a_missing_folder_is_one_clear_error(cli, recorded, tmp_path):
    proc = cli(["export", recorded, "-f", "markdown", "-o", str(tmp_path / "no" / "such" / "out.md")])
    assert proc.returncode == 1
    assert "cannot write" in proc.stderr and "No such file or directory" in proc.stderr


def test_interactive_export_refuses_an_existing_file_unless_force(pty_cli, tmp_path):
    config = tmp_path / "fast.json"
    config.write_text(json.dumps(FAST))
    target = tmp_path / "chat.md"
    target.write_text("precious")
    typed = f"a question\n/export markdown {target}\n/export markdown {target} --force\n/quit\n".encode()
    screen = pty_cli(["--config", str(config), "-q"], typed=typed)
    assert screen.code == 0, screen.text
    assert "already exists: pass --force to overwrite it" in screen.text
    assert f"wrote {target}" in screen.text
    assert Path(target).read_text().startswith("# a question")
