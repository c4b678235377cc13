"""Where webhook settings come from: ``webhooks.yaml`` and ``MASSGEN_WEBHOOK_URL``.

The file lives in the user config dir (``massgen_core.paths.config_dir()``)
and is the plugin's config section (``section``, registered through
``register_config_sections``): the core reads it with the same located
problems, did-you-mean suggestions and ``${VAR}`` interpolation as a team
config, and ``massgen config validate webhooks.yaml`` checks it. ``Settings``
and ``Hook`` are its schema; ``rules`` adds what their types cannot say.
Loading never raises: a file with any problem is ignored whole, so a typo
cannot half-apply. No message contains a value read from ``secret``,
``headers`` or an interpolated variable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
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



def _http_url(_instance: Any, attribute: Any, value: str) -> None:
    problem = _url_problem(value)
    if problem is not None:
        raise ValueError(f"'{attribute.name}' {problem}")


def _non_empty(_instance: Any, attribute: Any, value: str | None) -> None:
    if value is not None and not value:
        raise ValueError(f"'{attribute.name}' must be a non-empty string, e.g. ${{MY_WEBHOOK_SECRET}}")


def _seconds(*, positive: bool) -> Callable[[Any, Any, float], None]:
    def check(_instance: Any, attribute: Any, value: float) -> None:
        if not math.isfinite(value) or (value <= 0 if positive else value < 0):
            bound = "> 0" if positive else ">= 0"
            raise ValueError(f"'{attribute.name}' must be a number {bound} (seconds)")

    return check


def _at_least(minimum: int) -> Callable[[Any, Any, int], None]:
    def check(_instance: Any, attribute: Any, value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be a whole number >= {minimum}")

    return check


def _event_set(value: Any) -> frozenset[str]:
    """What users write (one name, ``'*'``, or a list) as the set a hook matches against."""
    return frozenset([value] if isinstance(value, str) else value)


def _header_values(value: Mapping[Any, Any]) -> dict[str, str]:
    return {str(name): str(text) for name, text in value.items()}


@attrs.frozen(kw_only=True)
class Hook:
    """One webhook endpoint and what it receives (also the schema of a ``hooks:`` entry)."""

    # webhook paths and queries often carry tokens (Slack, Discord)
    url: str = attrs.field(repr=origin, validator=_http_url)
    events: frozenset[str] = attrs.field(default=DEFAULT_EVENTS, converter=_event_set)
    secret: str | None = attrs.field(
        default=None, repr=lambda s: "None" if s is None else "'***'", validator=_non_empty
    )
    headers: Mapping[str, str] = attrs.field(
        factory=dict, repr=lambda h: repr(sorted(h)), converter=_header_values
    )
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=_seconds(positive=True))
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_at_least(0))
    retry_initial_delay: float = attrs.field(
        default=DEFAULT_RETRY_INITIAL_DELAY, validator=_seconds(positive=False)
    )
    retry_max_delay: float = attrs.field(
        default=DEFAULT_RETRY_MAX_DELAY, validator=_seconds(positive=False)
    )

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
    """The whole of ``webhooks.yaml`` (the schema of the ``webhooks`` config section)."""

    hooks: tuple[Hook, ...] = ()
    queue_size: int = attrs.field(default=DEFAULT_QUEUE_SIZE, validator=_at_least(1))
    flush_timeout: float = attrs.field(default=DEFAULT_FLUSH_TIMEOUT, validator=_seconds(positive=False))

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


def rules(data: Mapping[str, Any], report: Any) -> None:
    """What the schema's types cannot say: which events exist, what a header value may be."""
    from massgen_core.errors import did_you_mean

    known = known_event_types()
    for index, hook in enumerate(data.get("hooks") or ()):
        path = ("hooks", index)
        if "events" in hook:
            value = hook["events"]
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not names or not all(isinstance(v, str) for v in names):
                report((*path, "events"), "must be a non-empty list of event types, or '*' for all but deltas")
            else:
                for position, name in enumerate(names):
                    if name != "*" and name not in known:
                        hint = did_you_mean(name, known)
                        suggestion = f"did you mean {hint!r}?" if hint else "known: '*', " + ", ".join(known)
                        where = (*path, "events") + ((position,) if not isinstance(value, str) else ())
                        report(where, f"unknown event type {name!r} ({suggestion})")
        headers = hook.get("headers")
        if headers is not None and not isinstance(headers, dict):
            report((*path, "headers"), "must be a mapping of header name to value")
        for name, text in (headers.items() if isinstance(headers, dict) else ()):
            if not isinstance(text, str | int | float) or isinstance(text, bool):
                report((*path, "headers", name), "must be a string")


def section() -> Any:
    """The ``webhooks`` config section: webhooks.yaml, read and checked by the core (``register_config_sections``)."""
    from massgen_core.config.sections import ConfigSection

    return ConfigSection(
        name="webhooks",
        schema=Settings,
        file_name=FILE_NAME,
        rules=rules,
        description="HTTP endpoints that receive session events (docs/webhooks.md)",
    )


def _load_file(path: Path, environ: Mapping[str, str]) -> tuple[Settings | None, list[str]]:
    from massgen_core.config.checker import INVALID
    from massgen_core.config.loader import read_document
    from massgen_core.config.problems import ConfigError
    from massgen_core.config.sections import check_section_document

    try:
        doc = read_document(path, str(path))
    except ConfigError as exc:
        return None, [p.format() for p in exc.problems]
    value, problems = check_section_document(section(), doc, None, environ)
    if value is INVALID:
        return None, [p.format() for p in problems]
    return value, []
