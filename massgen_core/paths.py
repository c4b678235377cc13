"""Where MassGen keeps user files.

platformdirs decides the user config dir (defaults, presets, templates, keys)
and the user data dir (conversation database, logs). ``MASSGEN_HOME``
relocates both, which is how tests isolate themselves. Nothing here writes to
the current directory. The data dir and the database are the owner's alone
(``ensure_private_dir``, ``private_file``): they hold every question, answer and
config ever run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

APP_NAME = "massgen"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _home() -> Path | None:
    value = os.environ.get("MASSGEN_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """The user config dir: defaults, presets, templates and the keys file."""
    home = _home()
    if home:
        return home / "config"
    import platformdirs  # here: it imports tempfile and shutil, which MASSGEN_HOME users never need

    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    """The user data dir: the conversation database and logs."""
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _tighten(path: Path, mode: int) -> None:
    """Drop group and other permissions from ``path`` (best effort: read-only media, other owners)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & 0o077:
            path.chmod(current & mode)
    except OSError:
        pass


def ensure_private_dir(path: Path) -> Path:
    """``path`` (and missing parents) created, the folder itself readable by the owner only."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    except OSError:
        return path  # opening what is inside will say why
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path, *, create: bool = True) -> Path:
    """``path`` readable and writable by the owner only; created empty when missing and ``create``."""
    if not path.exists():
        if not create:
            return path
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        except OSError:
            return path  # read-only media, a race with another process: opening it will tell
    _tighten(path, PRIVATE_FILE_MODE)
    return path
