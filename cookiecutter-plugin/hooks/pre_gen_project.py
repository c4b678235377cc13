"""Refuse names that would generate a package Python or MassGen cannot use.

Runs before anything is written; exits non-zero with one clear line so that
cookiecutter stops and leaves no half-made folder behind.
"""

from __future__ import annotations

import re
import sys

CHECKS = (
    (
        "module_name",
        "{{ cookiecutter.module_name }}",
        r"[a-z_][a-z0-9_]*",
        "a Python identifier in lower case",
    ),
    (
        "project_slug",
        "{{ cookiecutter.project_slug }}",
        r"[a-z0-9][a-z0-9._-]*",
        "a distribution name (letters, digits, - _ .)",
    ),
    (
        "registered_name",
        "{{ cookiecutter.registered_name }}",
        r"[a-z0-9][a-z0-9_-]{0,63}",
        "letters, digits, - and _ (at most 64)",
    ),
)

for key, value, pattern, what in CHECKS:
    if not re.fullmatch(pattern, value):
        print(f"ERROR: {key} {value!r} must be {what}; choose another plugin_name", file=sys.stderr)
        sys.exit(1)
