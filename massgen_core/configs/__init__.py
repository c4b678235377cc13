"""Bundled example configs: YAML files in this folder, found by file name.

``massgen --config three_agents_default`` (or ``...default.yaml``) resolves here
when no such path exists, as in v0.0.3. Other parts of MassGen drop their own
examples into this folder; this module only lists and finds them.
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".yaml", ".yml", ".json")


def bundled_dir() -> Path:
    return Path(__file__).resolve().parent


def bundled_configs() -> dict[str, Path]:
    """Bundled config names (file names without the suffix) -> paths, sorted by name."""
    found = {p.stem: p for p in bundled_dir().iterdir() if p.suffix in SUFFIXES and p.is_file()}
    return dict(sorted(found.items()))


def bundled_names() -> list[str]:
    return list(bundled_configs())


def find_bundled(name: str) -> Path | None:
    """The bundled config called ``name`` (with or without its suffix), else None.

    Only the file name counts, so a v0.0.3 path such as ``massgen/configs/x.yaml``
    still finds the bundled ``x.yaml``.
    """
    base = Path(name).name
    if not base or base.startswith("."):
        return None
    path = bundled_dir() / base
    if path.suffix in SUFFIXES and path.is_file():
        return path
    return bundled_configs().get(base)
