"""Keep only the chosen kind's files in the generated package.

Cookiecutter renders every file of the template; this hook runs inside the
new project folder and deletes the example module and tests of the kinds that
were not chosen. It must not touch anything outside that folder.
"""

from __future__ import annotations

from pathlib import Path

KIND = "{{ cookiecutter.kind }}"
MODULE = "{{ cookiecutter.module_name }}"

# kind -> (example module, test file suffix)
FILES = {
    "backend": ("backend.py", "backend"),
    "voting_strategy": ("voting.py", "voting"),
    "exporter": ("exporter.py", "exporter"),
    "tool": ("tool.py", "tool"),
    "grader": ("grader.py", "grader"),
}


def main() -> None:
    root = Path.cwd()
    for kind, (module_file, test_suffix) in FILES.items():
        if kind == KIND:
            continue
        (root / MODULE / module_file).unlink()
        (root / "tests" / f"test_{MODULE}_{test_suffix}.py").unlink()


if __name__ == "__main__":
    main()
