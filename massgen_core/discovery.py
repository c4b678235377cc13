"""Finding installed plugins' entry points without importing ``importlib.metadata``.

Every ``massgen`` command starts by finding the installed plugins, and on
Python 3.11 ``importlib.metadata`` costs ~15 ms to import (it pulls in
``email``, ``zipfile`` and ``csv``) before it has read a single file. This
module reads the same files the same way for the common case, installed
distributions in directories on ``sys.path``:

- each ``*.dist-info`` / ``*.egg-info`` directory in each ``sys.path``
  directory (and the ``EGG-INFO`` of an unzipped ``*.egg`` directory), in
  ``sys.path`` order; the first distribution of a normalized name wins, as
  with ``importlib.metadata.entry_points()``;
- its ``entry_points.txt`` (INI sections of ``name = module:attr [extras]``);
- ``Name`` and ``Version`` from the header of ``METADATA`` (or ``PKG-INFO``),
  read only for distributions that have an entry point in the group.

A ``sys.path`` entry that is a file (a zip archive or an egg) is something
this reader does not open: it then hands the whole search to
``importlib.metadata``, so the answer is the same either way.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from typing import Any

_NORMALIZE = re.compile(r"[-_.]+")


class EntryPoint:
    """One entry point and the distribution that declares it."""

    __slots__ = ("dist_name", "group", "name", "value", "version")

    def __init__(
        self, name: str, value: str, group: str, dist_name: str | None, version: str | None
    ) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist_name = dist_name
        self.version = version

    def __repr__(self) -> str:
        return f"EntryPoint({self.name!r}, {self.value!r}, dist={self.dist_name!r})"

    def load(self) -> Any:
        """Import the module and follow the attribute path, like ``EntryPoint.load``."""
        import importlib

        target = self.value.partition("[")[0].strip()
        module_name, _, attrs = target.partition(":")
        obj = importlib.import_module(module_name.strip())
        for part in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def normalize(name: str) -> str:
    """PEP 503 normalization with underscores, as ``importlib.metadata`` compares names."""
    return _NORMALIZE.sub("_", name).lower()


def parse_entry_points(text: str, group: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of one section of an ``entry_points.txt``."""
    found: list[tuple[str, str]] = []
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            section = line[1:-1].strip()
            continue
        if section != group:
            continue
        name, sep, value = line.partition("=")
        if sep and name.strip() and value.strip():
            found.append((name.strip(), value.strip()))
    return found


def read_header(path: str) -> dict[str, str]:
    """The first ``Name`` and ``Version`` of a core-metadata file (its header ends at a blank line)."""
    fields: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if sep and key in ("Name", "Version") and key not in fields:
                    fields[key] = value.strip()
    except OSError:
        pass
    return fields


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _from_metadata(group: str) -> list[EntryPoint]:
    """The same answer through ``importlib.metadata`` (used when sys.path has archives)."""
    from importlib import metadata

    found = []
    for ep in metadata.entry_points(group=group):
        meta = ep.dist.metadata  # type: ignore[union-attr]  # entry_points() always sets dist
        found.append(EntryPoint(ep.name, ep.value, group, meta["Name"], meta["Version"]))
    return found


def entry_points(group: str, path: Iterable[str] | None = None) -> list[EntryPoint]:
    """Entry points of ``group`` from the distributions installed on ``path`` (default sys.path)."""
    entries = list(sys.path if path is None else path)
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for entry in entries:
        root = entry or "."
        try:
            children = os.listdir(root)
        except NotADirectoryError:
            if path is None:
                return _from_metadata(group)
            continue
        except OSError:  # a missing directory (python311.zip usually is): nothing there
            continue
        base = os.path.basename(root.rstrip("/\\")).lower()
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                stem = low
            elif low == "egg-info" and base.endswith(".egg"):  # an unzipped egg: NAME-VER.egg/EGG-INFO
                stem = base
            else:
                continue
            key = normalize(stem.rpartition(".")[0].partition("-")[0])
            if key in seen:
                continue
            seen.add(key)
            info_dir = os.path.join(root, child)
            text = _read(os.path.join(info_dir, "entry_points.txt"))
            pairs = parse_entry_points(text, group) if text else []
            if not pairs:
                continue
            header = read_header(
                os.path.join(info_dir, "METADATA" if stem.endswith(".dist-info") else "PKG-INFO")
            )
            for name, value in pairs:
                found.append(EntryPoint(name, value, group, header.get("Name"), header.get("Version")))
    return found


__all__ = ["EntryPoint", "entry_points", "normalize", "parse_entry_points", "read_header"]
