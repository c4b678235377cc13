"""The root of MassGen's exceptions and the "did you mean" helper.

Every error a user can cause derives from ``MassGenError`` so the CLI can print
one clear line instead of a traceback (exit 1; exit 2 is kept for bugs).
Messages never contain API keys. The hierarchy (docs/errors.md has the table)::

    MassGenError
    ├── UnknownNameError           massgen_core.errors (also a LookupError)
    ├── ConfigError                massgen_core.config.problems: file:line:col messages
    │   (DocumentError             massgen_core.config.document: unreadable YAML, located)
    ├── PresetError                massgen_core.presets
    ├── PluginConflictError        massgen_core.plugins
    ├── PluginLoadError            massgen_core.lazy
    ├── StoreError                 massgen_core.store.schema
    │   └── AmbiguousIdError       massgen_core.store
    ├── BatchInputError            massgen_core.batch
    ├── InvalidVote                massgen_core.voting (also a ValueError)
    ├── BudgetExceeded             massgen_core.orchestrator.budget
    ├── AttachmentError            massgen_core.content: a file that cannot be attached
    ├── BackendError               massgen_core.http.errors: names agent, backend, model, endpoint
    │   ├── AuthenticationError
    │   │   └── MissingKeyError
    │   ├── PermissionDeniedError
    │   ├── NotFoundError
    │   ├── RateLimitError
    │   ├── OverloadedError
    │   ├── BackendTimeoutError
    │   ├── BackendConnectionError
    │   ├── BadRequestError
    │   │   ├── ContextLengthError
    │   │   ├── ContentFilterError
    │   │   └── UnsupportedContentError
    │   ├── OutputTruncatedError
    │   └── StreamError
    └── (plugins) GradingError, ScriptError, ScriptedBackendError

``tests/core/test_error_hierarchy.py`` holds every exception class of the core and
the plugins to this tree and to docs/errors.md.
"""

from __future__ import annotations

from collections.abc import Iterable


class MassGenError(Exception):
    """An error with a message meant for the user; the CLI prints it as one line."""

    exit_code = 1


class UnknownNameError(MassGenError, LookupError):
    """A name (backend type, strategy, exporter, tool...) that nothing registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name, self.known = kind, name, sorted(known)
        hint = did_you_mean(name, self.known)
        msg = f"unknown {kind} {name!r}"
        if hint:
            msg += f" (did you mean {hint!r}?)"
        msg += "; installed: " + (", ".join(self.known) if self.known else "none")
        super().__init__(msg)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``name``, or None when nothing is close."""
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    import difflib

    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    if matches:
        return lowered[matches[0]]
    prefixed = [c for c in candidates if c.lower().startswith(name.lower()) and name]
    return prefixed[0] if len(prefixed) == 1 else None
