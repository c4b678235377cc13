"""The conversation store is the owner's alone: a 0700 data folder and a 0600 database, whatever the umask."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from massgen_core import paths
from massgen_core.store import Store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run_with_umask_022(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MASSGEN_HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        capture_output=True, text=True, env=env, timeout=60, check=True, preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip


def test_a_first_run_on_a_fresh_home_creates_a_private_data_folder_and_database(tmp_path):
    home = tmp_path / "fresh-home"  # does not exist yet: the run creates everything
    _run_with_umask_022(home, "--preset", "offline-demo", "--no-display", "Private?")
    data = home / "data"
    db = data / "conversations.db"
    assert _mode(data) == 0o700
    assert _mode(db) == 0o600
    for sidecar in (data / "conversations.db-wal", data / "conversations.db-shm"):
        if sidecar.exists():  # SQLite removes them on a clean close
            assert _mode(sidecar) == 0o600
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 1


def test_a_database_left_world_readable_by_an_older_version_is_tightened_on_open(_isolated_home):
    data = _isolated_home / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    db = data / "conversations.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    stale_wal = data / "conversations.db-wal"
    stale_wal.write_bytes(b"")
    stale_wal.chmod(0o644)
    with Store() as store:
        assert store.schema_version >= 1
    assert (_mode(data), _mode(db)) == (0o700, 0o600)
    assert not stale_wal.exists() or _mode(stale_wal) == 0o600


def test_an_explicit_database_path_gets_a_private_file_but_its_existing_folder_is_left_alone(tmp_path):
    tmp_path.chmod(0o755)
    with Store(tmp_path / "custom.db"):
        pass
    assert _mode(tmp_path / "custom.db") == 0o600
    assert _mode(tmp_path) == 0o755  # not ours to change
    with Store(tmp_path / "new" / "nested" / "custom.db"):
        pass
    assert _mode(tmp_path / "new" / "nested") == 0o700


def test_permission_helpers_leave_what_they_cannot_create(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert paths.private_file(not_a_folder / "db") == not_a_folder / "db"
    assert paths.ensure_private_dir(not_a_folder / "sub") == not_a_folder / "sub"
    assert not_a_folder.read_text() == "x"
    assert paths.private_file(tmp_path / "absent", create=False) == tmp_path / "absent"
    assert not (tmp_path / "absent").exists()


def test_a_store_on_media_that_refuses_chmod_still_opens(tmp_path, monkeypatch):
    db = tmp_path / "ro-perms" / "conversations.db"
    db.parent.mkdir()
    sqlite3.connect(db).close()
    db.chmod(0o644)

    def refuse(self: Path, mode: int) -> None:
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "chmod", refuse)
    with Store(db) as store:
        assert store.schema_version >= 1
    assert _mode(db) == 0o644
