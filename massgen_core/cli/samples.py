"""``massgen --create-samples``: where v0.0.3's sample configs are now, instead of writing files.

v0.0.3 users were told to create samples; MassGen ships them in the package
and runs them by name, and never writes into the current directory on its own
(PROTOCOL.md §10), so this prints the bundled configs, one line each with the
first line of its comment, and how to run or copy one.
"""

from __future__ import annotations

from pathlib import Path


def _summary(path: Path) -> str:
    """The first line of the file's leading comment ('' when it starts with no comment)."""
    first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
    return first.lstrip("#").strip() if first.startswith("#") else ""


def samples_text() -> str:
    from massgen_core import configs

    found = configs.bundled_configs()
    width = max((len(p.name) for p in found.values()), default=0)
    lines = [
        "MassGen ships its sample configs and runs them by name (it writes no files into this folder):",
        *(f"  {path.name:<{width}}  {_summary(path)}".rstrip() for path in found.values()),
        f"They are in {configs.bundled_dir()}",
        'Run one:      massgen --config offline-demo.yaml "your question"   (the offline demo needs no key)',
        f"Copy one:     cp {configs.bundled_dir() / 'offline-demo.yaml'} my-team.yaml   (then edit it and pass --config my-team.yaml)",
        "Saved teams:  massgen presets list;  a guided config:  massgen setup",
    ]
    return "\n".join(lines)
