"""Every hook spec, with each of its arguments, is documented in docs/plugins.md (as datasette checks)."""

from __future__ import annotations

import inspect
from pathlib import Path

from massgen_core import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def hook_signatures() -> list[str]:
    """``name(arg, ...)`` for every function hookspecs.py marks as a hook spec."""
    return [
        f"{name}({', '.join(inspect.signature(fn).parameters)})"
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "massgen_spec")
    ]


def undocumented(docs: str) -> list[str]:
    """The hook signatures the hook table of ``docs`` does not list as ``| `name(args)` |``."""
    return [sig for sig in hook_signatures() if f"| `{sig}` |" not in docs]


def test_every_hook_spec_and_its_arguments_are_in_the_plugin_docs():
    assert len(hook_signatures()) >= 7
    assert undocumented(DOCS.read_text(encoding="utf-8")) == []


def test_a_hook_missing_from_the_docs_or_documented_with_other_arguments_is_reported():
    docs = DOCS.read_text(encoding="utf-8")
    without_graders = "\n".join(line for line in docs.splitlines() if "`register_graders(register)`" not in line)
    assert undocumented(without_graders) == ["register_graders(register)"]
    renamed = docs.replace("| `on_event(event)` |", "| `on_event(evt)` |")
    assert undocumented(renamed) == ["on_event(event)"]
