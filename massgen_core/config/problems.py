"""Located configuration problems and the one error type loading raises.

A ``ConfigProblem`` says where (file, line, column, key path) and what is wrong,
with a "did you mean" suggestion when there is one. ``ConfigError`` carries
every problem found, so users fix a file in one pass. Nothing here reads files
or knows the schema; messages never contain API keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from massgen_core.errors import MassGenError

Severity = Literal["error", "warning"]


@attrs.frozen(kw_only=True)
class ConfigProblem:
    """One thing wrong (or deprecated) in a config file, located to the key or value."""

    file: str
    line: int  # 1-based
    col: int  # 1-based
    key_path: str  # e.g. "agents[1].backend.temprature"; "" for the whole document
    message: str
    severity: Severity = "error"
    suggestion: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        """``file:line:col: [warning: ]key.path: message (did you mean 'x'?)``."""
        # line 0: the problem is about the file as a whole (not found, unreadable)
        text = f"{self.file}:{self.line}:{self.col}: " if self.line else f"{self.file}: "
        if self.severity == "warning":
            text += "warning: "
        if self.key_path:
            text += f"{self.key_path}: "
        text += self.message
        if self.suggestion is not None:
            text += f" (did you mean {self.suggestion!r}?)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def sort_problems(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    """Problems in file order, duplicates (same place, same message) dropped."""
    seen: set[tuple[Any, ...]] = set()
    unique: list[ConfigProblem] = []
    for problem in problems:
        key = (
            problem.file,
            problem.line,
            problem.col,
            problem.key_path,
            problem.message,
            problem.severity,
        )
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return sorted(unique, key=lambda p: (p.file, p.line, p.col, p.severity != "error"))


class ConfigError(MassGenError):
    """A config that cannot be used; ``str()`` is its ``file:line:col: message`` lines."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems) or "invalid configuration")

    @property
    def errors(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.is_error]


__all__ = ["ConfigError", "ConfigProblem", "Severity", "sort_problems"]
