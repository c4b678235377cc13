"""Where MassGen keeps user files.

platformdirs decides the user config dir (defaults, presets, templates, keys)
and the user data dir (conversation database, logs). ``MASSGEN_HOME``
relocates both, which is how tests isolate themselves. Nothing here writes to
the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "massgen"


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
