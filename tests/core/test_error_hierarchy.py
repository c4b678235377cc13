"""One documented hierarchy of errors (docs/errors.md, massgen_core/errors.py).

The source of the core and of every plugin is read with ``ast`` (no import: optional libraries stay
unloaded), every exception class found, and held to the table: documented, and either a
``MassGenError`` or listed as an internal signal that never reaches a user.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
BUILTIN = {"Exception", "BaseException", "ValueError", "LookupError", "RuntimeError", "KeyError",
           "TypeError", "OSError", "IOError"}


def _sources() -> list[Path]:
    files = list((ROOT / "massgen_core").rglob("*.py"))
    for plugin in (ROOT / "plugins").iterdir():
        files += [p for p in plugin.glob("massgen_*/**/*.py")]
    return [f for f in files if "tests" not in f.parts]


def _classes() -> dict[str, tuple[set[str], Path]]:
    """Every class name in the sources -> (its base names, its file)."""
    found: dict[str, tuple[set[str], Path]] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, (ast.Name, ast.Attribute))}
                found.setdefault(node.name, (set(), path))[0].update(bases)
    return found


def _reaches(name: str, target: set[str], classes: dict[str, tuple[set[str], Path]], seen: set[str]) -> bool:
    if name in target:
        return True
    if name in seen or name not in classes:
        return False
    seen.add(name)
    return any(_reaches(base, target, classes, seen) for base in classes[name][0])


def _exceptions() -> dict[str, Path]:
    classes = _classes()
    return {name: path for name, (_bases, path) in classes.items()
            if name not in BUILTIN and _reaches(name, BUILTIN, classes, set()) and not name.startswith("_")}


def _documented(section: str) -> set[str]:
    text = DOC.read_text()
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    body = text[start:] if end == -1 else text[start:end]
    return set(re.findall(r"^\| `(\w+)` \|", body, re.M))


def test_the_walk_finds_the_known_errors_so_the_checks_below_mean_something():
    found = _exceptions()
    assert {"MassGenError", "ConfigError", "BackendError", "RateLimitError", "StreamProtocolError",
            "GradingError", "ChatError"} <= set(found)
    assert len(found) >= 30


def test_every_exception_class_is_in_docs_errors_md():
    documented = _documented("## The hierarchy") | _documented("## Internal signals")
    missing = sorted(f"{name} ({path.relative_to(ROOT)})" for name, path in _exceptions().items()
                     if name not in documented)
    assert missing == [], "add these to docs/errors.md: " + ", ".join(missing)


def test_public_errors_derive_from_massgen_error_and_internal_ones_are_declared():
    classes = _classes()
    internal = _documented("## Internal signals")
    outside = sorted(name for name in _exceptions()
                     if name != "MassGenError" and not _reaches(name, {"MassGenError"}, classes, set()))
    assert outside == sorted(internal), (
        "an exception outside MassGenError must be listed under 'Internal signals' in docs/errors.md "
        "(and never reach a user); a listed one must not derive from MassGenError")


def test_the_docs_table_names_no_class_that_does_not_exist():
    documented = _documented("## The hierarchy") | _documented("## Internal signals")
    assert documented - set(_exceptions()) == set()


def test_the_tree_in_the_errors_module_docstring_names_every_core_error():
    import massgen_core.errors as errors

    tree = set(re.findall(r"\b([A-Z]\w*(?:Error|Exceeded|Vote))\b", errors.__doc__ or ""))
    core = {name for name, path in _exceptions().items()
            if "massgen_core" in path.parts and name not in _documented("## Internal signals")}
    assert core - tree == set()
