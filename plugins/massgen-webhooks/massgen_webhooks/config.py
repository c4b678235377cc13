"""Where webhook settings come from: ``webhooks.yaml`` and ``MASSGEN_WEBHOOK_URL``.

The file lives in the user config dir (``massgen_core.paths.config_dir()``),
outside the core's config schema. Reading it never raises: every problem is
returned as a located message (file, line, key, suggestion) and a file with
any problem is ignored whole, so a typo cannot half-apply. Secrets and header
values may be ``${VAR}`` references; no message here ever contains a value
read from ``secret``, ``headers`` or an interpolated variable.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from massgen_core.redaction import origin

FILE_NAME = "webhooks.yaml"
URL_ENV = "MASSGEN_WEBHOOK_URL"
SECRET_ENV = "MASSGEN_WEBHOOK_SECRET"

DEFAULT_EVENTS = frozenset(
    {"session_started", "answer_submitted", "vote_cast", "winner_selected", "session_finished"}
)
# Thousands per session: only sent to a hook that names them, never through "*".
DELTA_EVENTS = frozenset({"text_delta", "reasoning_delta", "answer_delta", "final_answer_delta"})

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_INITIAL_DELAY = 0.5
DEFAULT_RETRY_MAX_DELAY = 30.0
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_FLUSH_TIMEOUT = 2.0

TOP_KEYS = ("hooks", "queue_size", "flush_timeout")
HOOK_KEYS = (
    "url",
    "events",
    "secret",
    "headers",
    "timeout",
    "max_retries",
    "retry_initial_delay",
    "retry_max_delay",
)
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@attrs.frozen(kw_only=True)
class Hook:
    """One webhook endpoint and what it receives."""

    url: str = attrs.field(repr=origin)  # webhook paths and queries often carry tokens (Slack, Discord)
    events: frozenset[str] = DEFAULT_EVENTS
    secret: str | None = attrs.field(default=None, repr=lambda s: "None" if s is None else "'***'")
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=lambda h: repr(sorted(h)))
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_initial_delay: float = DEFAULT_RETRY_INITIAL_DELAY
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY

    def wants(self, event_type: str) -> bool:
        if event_type in self.events:
            return True
        return "*" in self.events and event_type not in DELTA_EVENTS

    @property
    def name(self) -> str:
        """How logs name this hook: never the path, query or credentials of its URL."""
        return origin(self.url)


@attrs.frozen(kw_only=True)
class Settings:
    hooks: tuple[Hook, ...] = ()
    queue_size: int = DEFAULT_QUEUE_SIZE
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT

    def wanted(self, event_types: frozenset[str]) -> frozenset[str]:
        """The event types at least one hook wants, out of ``event_types``."""
        return frozenset(t for t in event_types if any(h.wants(t) for h in self.hooks))


@attrs.frozen
class Loaded:
    """Settings plus the problems found on the way (each one line, ready to show)."""

    settings: Settings
    problems: tuple[str, ...] = ()


def known_event_types() -> list[str]:
    from massgen_core.events import EVENT_TYPES

    return sorted(EVENT_TYPES)


def config_path() -> Path:
    from massgen_core.paths import config_dir

    return config_dir() / FILE_NAME


def load(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Loaded:
    """Hooks from the file (when present and valid) and from ``MASSGEN_WEBHOOK_URL``."""
    environ = os.environ if environ is None else environ
    path = config_path() if path is None else path
    hooks: list[Hook] = []
    problems: list[str] = []
    settings = Settings()
    if path.is_file():
        file_settings, file_problems = _load_file(path, environ)
        if file_problems:
            problems.append(
                f"{path}: ignored, no webhook from this file is active until it is fixed:\n  "
                + "\n  ".join(file_problems)
            )
        else:
            assert file_settings is not None
            settings = file_settings
            hooks.extend(file_settings.hooks)
    url = environ.get(URL_ENV, "").strip()
    if url:
        if _url_problem(url):
            problems.append(f"{URL_ENV}: {_url_problem(url)}; it is ignored")
        else:
            hooks.append(Hook(url=url, secret=environ.get(SECRET_ENV) or None))
    return Loaded(attrs.evolve(settings, hooks=tuple(hooks)), tuple(problems))


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    return None


class _Checker:
    """Collects located problems for one file."""

    def __init__(self, doc: Any, environ: Mapping[str, str]) -> None:
        self.doc, self.environ = doc, environ
        self.problems: list[str] = []

    def add(self, path: tuple[str | int, ...], message: str, *, at_key: bool = False) -> None:
        line, _col = self.doc.where(path, at_key=at_key)
        self.problems.append(f"line {line}: {_dotted(path)}: {message}")

    def unknown_keys(
        self, data: Mapping[Any, Any], allowed: tuple[str, ...], path: tuple[str | int, ...]
    ) -> None:
        from massgen_core.errors import did_you_mean

        for key in data:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                suggestion = f"did you mean {hint!r}?" if hint else "allowed: " + ", ".join(allowed)
                self.add((*path, key), f"unknown key ({suggestion})", at_key=True)

    def interpolate(self, value: str, path: tuple[str | int, ...]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            current = self.environ.get(name)
            if current is None:
                self.add(
                    path, f"environment variable {name} is not set (referenced as ${{{name}}})"
                )
                return ""
            return current

        return _REFERENCE.sub(replace, value)

    def number(
        self,
        hook: Mapping[str, Any],
        key: str,
        path: tuple[str | int, ...],
        default: float,
        *,
        positive: bool,
    ) -> float:
        value = hook.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (value <= 0 if positive else value < 0):
            self.add(
                (*path, key),
                "must be a number " + ("> 0 (seconds)" if positive else ">= 0 (seconds)"),
            )
            return default
        return float(value)

    def count(
        self,
        data: Mapping[str, Any],
        key: str,
        path: tuple[str | int, ...],
        default: int,
        *,
        minimum: int,
    ) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.add((*path, key), f"must be a whole number >= {minimum}")
            return default
        return value


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _load_file(path: Path, environ: Mapping[str, str]) -> tuple[Settings | None, list[str]]:
    from massgen_core.config.document import DocumentError, parse_yaml

    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [
            f"cannot read the file: {type(exc).__name__}: {exc.args[-1] if exc.args else ''}"
        ]
    except DocumentError as exc:
        return None, [f"line {exc.line}, column {exc.col}: {exc.message}"]
    if doc.data is None:
        return Settings(), []
    checker = _Checker(doc, environ)
    data = doc.data
    if not isinstance(data, dict):
        checker.add((), "must be a mapping with a 'hooks:' list (see docs/webhooks.md)")
        return None, checker.problems
    checker.unknown_keys(data, TOP_KEYS, ())
    raw_hooks = data.get("hooks", [])
    if raw_hooks is None:
        raw_hooks = []
    hooks: list[Hook] = []
    if not isinstance(raw_hooks, list):
        checker.add(("hooks",), "must be a list of hooks, each a mapping with at least 'url:'")
    else:
        for index, raw in enumerate(raw_hooks):
            hook = _hook(checker, raw, ("hooks", index))
            if hook is not None:
                hooks.append(hook)
    settings = Settings(
        hooks=tuple(hooks),
        queue_size=checker.count(data, "queue_size", (), DEFAULT_QUEUE_SIZE, minimum=1),
        flush_timeout=checker.number(
            data, "flush_timeout", (), DEFAULT_FLUSH_TIMEOUT, positive=False
        ),
    )
    return (None if checker.problems else settings), checker.problems


def _hook(checker: _Checker, raw: Any, path: tuple[str | int, ...]) -> Hook | None:
    if not isinstance(raw, dict):
        checker.add(path, "must be a mapping with at least 'url:'")
        return None
    before = len(checker.problems)
    checker.unknown_keys(raw, HOOK_KEYS, path)
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        checker.add(
            (*path, "url") if "url" in raw else path, "needs 'url:' (an http:// or https:// URL)"
        )
        url = ""
    else:
        url = checker.interpolate(url.strip(), (*path, "url"))
        problem = _url_problem(url)
        if problem and len(checker.problems) == before:
            checker.add((*path, "url"), problem)
    secret = raw.get("secret")
    if secret is not None:
        if not isinstance(secret, str) or not secret:
            checker.add((*path, "secret"), "must be a non-empty string, e.g. ${MY_WEBHOOK_SECRET}")
            secret = None
        else:
            secret = checker.interpolate(secret, (*path, "secret"))
    headers: dict[str, str] = {}
    raw_headers = raw.get("headers") or {}
    if not isinstance(raw_headers, dict):
        checker.add((*path, "headers"), "must be a mapping of header name to value")
    else:
        for name, value in raw_headers.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                checker.add((*path, "headers", name), "must be a string")
            else:
                headers[str(name)] = checker.interpolate(str(value), (*path, "headers", name))
    events = _events(checker, raw, path)
    hook = Hook(
        url=url,
        events=events,
        secret=secret,
        headers=headers,
        timeout=checker.number(raw, "timeout", path, DEFAULT_TIMEOUT, positive=True),
        max_retries=checker.count(raw, "max_retries", path, DEFAULT_MAX_RETRIES, minimum=0),
        retry_initial_delay=checker.number(
            raw, "retry_initial_delay", path, DEFAULT_RETRY_INITIAL_DELAY, positive=False
        ),
        retry_max_delay=checker.number(
            raw, "retry_max_delay", path, DEFAULT_RETRY_MAX_DELAY, positive=False
        ),
    )
    return None if len(checker.problems) > before else hook


def _events(
    checker: _Checker, raw: Mapping[str, Any], path: tuple[str | int, ...]
) -> frozenset[str]:
    from massgen_core.errors import did_you_mean

    if "events" not in raw:
        return DEFAULT_EVENTS
    value = raw["events"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        checker.add(
            (*path, "events"), "must be a non-empty list of event types, or '*' for all but deltas"
        )
        return DEFAULT_EVENTS
    known = known_event_types()
    for index, name in enumerate(value):
        if name != "*" and name not in known:
            hint = did_you_mean(name, known)
            suggestion = f"did you mean {hint!r}?" if hint else "known: '*', " + ", ".join(known)
            checker.add((*path, "events", index), f"unknown event type {name!r} ({suggestion})")
    return frozenset(value)
