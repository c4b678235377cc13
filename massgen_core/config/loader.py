"""Loading and validating configuration files into the attrs schema.

The rules of PROTOCOL.md §9 plus ours: ``agent``/``agents`` (and nested teams),
``backend_params`` defaults, backend-specific keys validated by the backend
plugin's ``Options`` class, voting strategies and their options, named
``environments`` overlays, ``${VAR}`` interpolation with ``.env`` files, legacy
shapes with deprecation warnings, and model-name inference of the backend
type. Every problem is collected and located (file, line, column, key path)
before one ``ConfigError`` is raised; nothing else escapes. cattrs turns the
validated data into objects. Heavy imports (YAML, cattrs, dotenv) happen only
when needed, and this module never writes files.
"""

from __future__ import annotations

import collections.abc
import math
import os
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import attrs

from massgen_core.config.document import Document, DocumentError, parse_text
from massgen_core.config.problems import ConfigError, ConfigProblem, Severity, sort_problems
from massgen_core.config.schema import (
    AgentConfig,
    BackendConfig,
    Config,
    OrchestratorConfig,
    TimeoutConfig,
    UIConfig,
    VotingConfig,
)
from massgen_core.errors import did_you_mean

if TYPE_CHECKING:
    from massgen_core.plugins import PluginManager

KeyPath = tuple[str | int, ...]

TOP_LEVEL_KEYS = (
    "agent",
    "agents",
    "backend_params",
    "ui",
    "orchestrator",
    "timeout_settings",
    "voting",
    "roles",
    "environments",
)
AGENT_KEYS = (
    "id",
    "backend",
    "system_message",
    "role",
    "weight",
    "agents",
    "voting",
    "orchestrator",
)
DISPLAY_TYPES = ("rich_terminal", "rich", "terminal", "simple", "plain")  # massgen_core.display
ROUTING_STRATEGIES = ("round_robin", "least_busy", "lowest_latency")
LEGACY_DISPLAY_KEYS = ("type", "show_agent_details", "show_token_usage")
# PROTOCOL.md §9: the fallback when no installed backend claims a model name
MODEL_RULES: tuple[tuple[str, str], ...] = (
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("claude-", "claude"),
    ("gemini-", "gemini"),
    ("grok-", "grok"),
)
_SPECIAL_BACKEND_KEYS = ("fallback", "pool", "routing", "options")
# Bounds a type check lets through but the engine cannot run with (0 attempts, a negative timeout).
POSITIVE_BOUNDS = frozenset(
    {
        "max_attempts",
        "max_new_answers_per_agent",
        "max_consecutive_failures",
        "max_cost_usd",
        "orchestrator_timeout_seconds",
        "per_call_timeout_seconds",
    }
)
_INVALID = object()
_REFERENCE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")
_SECRET_KEY = re.compile(r"(?:^|_)(?:api_key|key|token|secret|password)$", re.IGNORECASE)


# -- small helpers ---------------------------------------------------------


def format_key_path(path: Iterable[str | int]) -> str:
    """``("agents", 1, "backend", "type")`` -> ``agents[1].backend.type``."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if attrs.has(tp) or origin in (dict, collections.abc.Mapping):
        return "a mapping"
    if origin in (list, tuple, collections.abc.Sequence):
        return "a list"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


_HINTS: dict[type, dict[str, Any]] = {}
_ORIGINS: dict[Any, Any] = {}


def _origin(tp: Any) -> Any:
    """``typing.get_origin``, cached: a 200-agent config asks about the same few types thousands of times."""
    try:
        return _ORIGINS[tp]
    except KeyError:
        origin = _ORIGINS[tp] = typing.get_origin(tp)
        return origin
    except TypeError:  # an unhashable annotation
        return typing.get_origin(tp)


def _field_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved type of an attrs class (Any where a plugin's hints do not resolve)."""
    hints = _HINTS.get(cls)
    if hints is None:
        try:
            resolved = typing.get_type_hints(cls)
        except Exception:  # a plugin's annotations may name types only imported for checking
            resolved = {}
        # a field with a converter declares what it becomes, not what users may write
        hints = {
            f.name: Any if f.converter is not None else resolved.get(f.name, Any)
            for f in attrs.fields(cls)
        }
        _HINTS[cls] = hints
    return hints


def _secret(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def _role_presets() -> dict[str, str]:
    """The role presets the engine ships (massgen_core.orchestrator.roles); imported late to keep loading light."""
    from massgen_core.orchestrator.roles import PRESETS

    return PRESETS


# -- the checker ------------------------------------------------------------


class _Checker:
    """Walks one document's data, cleaning it and collecting located problems."""

    def __init__(self, doc: Document, manager: PluginManager, environ: Mapping[str, str]) -> None:
        self.doc = doc
        self.manager = manager
        self.environ = environ
        self.problems: list[ConfigProblem] = []
        self.interpolated: set[KeyPath] = set()
        self.ids: dict[str, KeyPath] = {}
        self.roles: dict[str, str] = {}
        self.option_defaults: dict[str, Any] = {}
        self.option_defaults_used: set[str] = set()
        self.team_voting: dict[str, KeyPath] = {}  # team id -> where its own voting section is

    # reporting
    def add(
        self,
        path: KeyPath,
        message: str,
        *,
        at_key: bool = False,
        severity: Severity = "error",
        suggestion: str | None = None,
    ) -> None:
        line, col = self.doc.where(path, at_key=at_key)
        self.problems.append(
            ConfigProblem(
                file=self.doc.file,
                line=line,
                col=col,
                key_path=format_key_path(path),
                message=message,
                severity=severity,
                suggestion=suggestion,
            )
        )

    def unknown_key(self, path: KeyPath, key: Any, known: Iterable[str], where: str = "") -> None:
        known = list(known)
        hint = did_you_mean(key, known) if isinstance(key, str) else None
        self.add((*path, key), f"unknown key {key!r}{where}", at_key=True, suggestion=hint)

    def mapping(self, value: Any, path: KeyPath, what: str) -> dict[str, Any] | None:
        """``value`` as a dict with string keys, or None (reported) when it is not one."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"{what} must be a mapping, got {_type_name(value)}")
            return None
        bad = [k for k in value if not isinstance(k, str)]
        for key in bad:
            self.add(
                (*path, key), f"keys must be strings, got {_type_name(key)} {key!r}", at_key=True
            )
        return {k: v for k, v in value.items() if isinstance(k, str)}

    # generic type checking against annotations
    def check(self, value: Any, tp: Any, path: KeyPath) -> Any:
        """``value`` checked (and, for interpolated strings, converted) against ``tp``; _INVALID if reported."""
        origin = _origin(tp)
        if tp is Any or tp is object:
            return value
        if origin in (Union, types.UnionType):
            args = typing.get_args(tp)
            if value is None and type(None) in args:
                return None
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                return self.check(value, options[0], path)
            for option in options:
                if self._fits(value, option):
                    return self.check(value, option, path)
            self.add(path, f"expected {_describe(tp)}, got {_type_name(value)}")
            return _INVALID
        if origin is Literal:
            choices = typing.get_args(tp)
            if any(type(value) is type(c) and value == c for c in choices):
                return value
            hint = (
                did_you_mean(value, [str(c) for c in choices]) if isinstance(value, str) else None
            )
            self.add(
                path,
                f"{value!r} is not one of " + ", ".join(repr(c) for c in choices),
                suggestion=hint,
            )
            return _INVALID
        if tp in (bool, int, float, str):
            return self._scalar(value, tp, path)
        if isinstance(tp, type) and attrs.has(tp):
            data = self.mapping(value, path, "this")
            return _INVALID if data is None else self.check_attrs(data, tp, path)
        if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
            data = self.mapping(value, path, "this")
            if data is None:
                return _INVALID
            args = typing.get_args(tp)
            value_type = args[1] if len(args) == 2 else Any
            result = {k: self.check(v, value_type, (*path, k)) for k, v in data.items()}
            return _INVALID if any(v is _INVALID for v in result.values()) else result
        if origin in (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence):
            if not isinstance(value, list):
                self.add(path, f"expected a list, got {_type_name(value)}")
                return _INVALID
            args = typing.get_args(tp)
            item_type = args[0] if args else Any
            items = [self.check(v, item_type, (*path, i)) for i, v in enumerate(value)]
            return _INVALID if any(v is _INVALID for v in items) else items
        return value  # a type we do not model: the plugin's own validators judge it

    def _fits(self, value: Any, tp: Any) -> bool:
        origin = _origin(tp)
        if tp is bool:
            return isinstance(value, bool)
        if tp is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if tp is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if tp is str:
            return isinstance(value, str)
        if origin is Literal:
            return value in typing.get_args(tp)
        if (isinstance(tp, type) and attrs.has(tp)) or origin in (dict, collections.abc.Mapping):
            return isinstance(value, dict)
        if origin in (list, tuple, collections.abc.Sequence):
            return isinstance(value, list)
        return True

    def _scalar(self, value: Any, tp: type, path: KeyPath) -> Any:
        if isinstance(value, str) and tp is not str and path in self.interpolated:
            converted = _convert(value, tp)
            if converted is not _INVALID:
                return converted
        if tp is bool and isinstance(value, bool):
            return value
        if tp is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if tp is str and isinstance(value, str):
            return value
        shown = "***" if path and isinstance(path[-1], str) and _secret(path[-1]) else repr(value)
        self.add(path, f"expected {_describe(tp)}, got {_type_name(value)} {shown}")
        return _INVALID

    def check_attrs(
        self,
        data: dict[str, Any],
        cls: type,
        path: KeyPath,
        *,
        skip: Iterable[str] = (),
        also_known: Iterable[str] = (),
        where: str = "",
    ) -> Any:
        """Check a mapping against an attrs class's fields; unknown keys get a did-you-mean."""
        fields = _field_types(cls)
        skip = set(skip)
        known = [name for name in fields if name not in skip]
        result: dict[str, Any] = {}
        ok = True
        for key, value in data.items():
            if key in skip:
                continue
            if key not in fields:
                self.unknown_key(path, key, [*known, *also_known], where)
                ok = False
                continue
            checked = self.check(value, fields[key], (*path, key))
            if checked is _INVALID:
                ok = False
            else:
                result[key] = checked
        return result if ok else _INVALID

    def choice(self, value: Any, choices: Iterable[str], path: KeyPath, what: str) -> Any:
        choices = list(choices)
        if value in choices:
            return value
        hint = did_you_mean(value, choices) if isinstance(value, str) else None
        self.add(
            path,
            f"unknown {what} {value!r}; expected one of: " + ", ".join(choices),
            suggestion=hint,
        )
        return _INVALID


def _convert(text: str, tp: type) -> Any:
    """An interpolated string read as the scalar its field needs (``${TEMP:-0.7}`` -> 0.7)."""
    stripped = text.strip()
    try:
        if tp is bool and stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
        if tp is int:
            return int(stripped)
        if tp is float:
            number = float(stripped)
            return number if math.isfinite(number) else _INVALID
    except ValueError:
        pass
    return _INVALID


# -- environment: .env files and ${VAR} ---------------------------------------


def load_dotenv_files(cwd: Path | None = None) -> list[Path]:
    """Load ``.env`` from the current directory, then the user config dir; never override set variables."""
    from massgen_core.paths import config_dir

    found = [p for p in ((cwd or Path.cwd()) / ".env", config_dir() / ".env") if p.is_file()]
    if found:
        from dotenv import load_dotenv

        for path in found:  # the first file wins because nothing is overridden
            try:
                load_dotenv(path, override=False)
            except (OSError, UnicodeDecodeError):  # an unreadable .env must not stop the load
                continue
    return found


def _interpolate(checker: _Checker, value: Any, path: KeyPath) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(checker, v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(checker, v, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name, op, default = match.groups()
        if escaped:  # $${VAR} is the literal text ${VAR}
            return match.group(0)[1:]
        current = checker.environ.get(name)
        if op == ":-" and not current:
            return default
        if op == "-" and current is None:
            return default
        if current is None:
            checker.add(
                path,
                f"environment variable {name} is not set (referenced as ${{{name}}}); "
                f"set it, put it in a .env file, or write ${{{name}:-default}}",
            )
            return ""
        return current

    checker.interpolated.add(path)
    return _REFERENCE.sub(replace, value)


# -- environments (overlays) ---------------------------------------------------


def _deep_merge(
    doc: Document, base: dict[str, Any], overlay: dict[str, Any], source: KeyPath, target: KeyPath
) -> dict[str, Any]:
    """``overlay`` over ``base``: mappings merge, everything else (lists too) replaces."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            doc.key_pos[(*target, key)] = doc.where((*source, key), at_key=True)
            merged[key] = _deep_merge(doc, merged[key], value, (*source, key), (*target, key))
        else:
            doc.relocate((*source, key), (*target, key))
            merged[key] = value
    return merged


# -- the rules -------------------------------------------------------------------


class _Rules:
    """The config rules, applied to one document with one environment."""

    def __init__(self, checker: _Checker) -> None:
        self.c = checker
        self.manager = checker.manager

    # backends
    def backend_types(self) -> list[str]:
        return self.manager.backends.names()

    def backend_class(self, type_name: str, path: KeyPath) -> Any:
        from massgen_core.errors import MassGenError

        try:
            return self.manager.backends.get(type_name)
        except MassGenError as exc:
            installed = self.backend_types()
            hint = did_you_mean(type_name, installed)
            message = (
                f"unknown backend type {type_name!r}; installed: {', '.join(installed) or 'none'}"
            )
            if type_name in self.manager.backends._conflicts:
                message, hint = str(exc), None
            self.c.add((*path, "type"), message, suggestion=hint)
            return _INVALID

    def backend(self, raw: Any, path: KeyPath, defaults: dict[str, Any]) -> Any:
        c = self.c
        data = c.mapping(raw, path, "backend")
        if data is None:
            return _INVALID
        fields = _field_types(BackendConfig)
        common = [f for f in fields if f not in ("options",)]
        result: dict[str, Any] = {}
        ok = True

        # common keys: the agent's own, then backend_params defaults for the missing ones
        for key, value in data.items():
            if key in fields and key not in _SPECIAL_BACKEND_KEYS:
                checked = c.check(value, fields[key], (*path, key))
                if checked is _INVALID:
                    ok = False
                else:
                    result[key] = checked
        for key, value in defaults.items():
            if key in fields and key not in result and key not in data:
                result[key] = value

        type_name = result.get("type")
        if type_name is None and "type" not in data:
            model = result.get("model")
            if isinstance(model, str) and model:
                type_name = infer_backend_type(model, self.manager)
                if type_name is None:
                    c.add(
                        path,
                        f"no 'type', and the model name {model!r} does not identify a backend; add type: "
                        f"(installed: {', '.join(self.backend_types()) or 'none'})",
                    )
                    ok = False
                else:
                    result["type"] = type_name
            elif "model" not in data and "model" not in result:
                c.add(path, "a backend needs a 'type' (or a 'model' whose name identifies it)")
                ok = False

        base_url = result.get("base_url")
        if isinstance(base_url, str) and base_url.rstrip("/").endswith("/chat/completions"):
            fixed = base_url.rstrip("/")[: -len("/chat/completions")]
            result["base_url"] = fixed
            c.add(
                (*path, "base_url"),
                f"base_url names the endpoint, not the base URL (deprecated); write base_url: {fixed!r} instead",
                severity="warning",
            )

        if "routing" in data:
            routing = c.choice(
                data["routing"], ROUTING_STRATEGIES, (*path, "routing"), "routing strategy"
            )
            if routing is _INVALID:
                ok = False
            else:
                result["routing"] = routing
        for key in ("fallback", "pool"):
            if key not in data:
                continue
            items = data[key]
            if not isinstance(items, list):
                c.add((*path, key), f"{key} must be a list of backends, got {_type_name(items)}")
                ok = False
                continue
            cleaned = [
                self.backend(item, (*path, key, i), defaults) for i, item in enumerate(items)
            ]
            if any(item is _INVALID for item in cleaned):
                ok = False
            else:
                result[key] = cleaned

        extra = {k: v for k, v in data.items() if k not in fields or k == "options"}
        cls = self.backend_class(type_name, path) if isinstance(type_name, str) else None
        if cls is _INVALID:  # unknown type: still flag keys that no installed backend knows
            known = self.all_option_keys()
            for key in extra:
                if key not in known and key != "options":
                    c.unknown_key(path, key, [*common, *known])
            return _INVALID
        options = self.options(cls, type_name, extra, defaults, path, common)
        if options is _INVALID:
            ok = False
        else:
            result["options"] = options
        return result if ok else _INVALID

    def all_option_keys(self) -> set[str]:
        keys: set[str] = set()
        for _, cls in self.manager.backends.items():
            options_cls = getattr(cls, "Options", None)
            if isinstance(options_cls, type) and attrs.has(options_cls):
                keys.update(_field_types(options_cls))
        return keys

    def options(
        self,
        cls: Any,
        type_name: str | None,
        extra: dict[str, Any],
        defaults: dict[str, Any],
        path: KeyPath,
        common: list[str],
    ) -> Any:
        c = self.c
        if (
            "options" in extra
        ):  # an explicit options: mapping is the same as writing the keys inline
            nested = c.mapping(extra.pop("options"), (*path, "options"), "options")
            if nested is None:
                return _INVALID
            extra = {**nested, **extra}
        if cls is None:  # no type known (already reported): nothing to validate against
            return extra
        options_cls = getattr(cls, "Options", None)
        where = f" for backend type {type_name!r}"
        if options_cls is None or not (isinstance(options_cls, type) and attrs.has(options_cls)):
            if options_cls is not None:  # a plugin whose Options is not attrs: trust it
                return extra
            for key in extra:
                c.unknown_key(path, key, common, where + " (it takes no backend-specific keys)")
            return _INVALID if extra else {}
        option_fields = _field_types(options_cls)
        for key, value in defaults.items():
            if key in option_fields and key not in extra:
                extra[key] = value
                self.c.option_defaults_used.add(key)
        checked = c.check_attrs(extra, options_cls, path, also_known=common, where=where)
        if checked is _INVALID:
            return _INVALID
        try:  # as the backend builds them when it starts (massgen_core.http.base.parse_options)
            options_cls(**checked)
        except Exception as exc:  # the plugin's own validators reject a value
            c.add(path, f"invalid options{where}: {_exception_text(exc)}")
            return _INVALID
        return checked

    # agents
    def agents(self, data: dict[str, Any]) -> list[Any] | None:
        c = self.c
        if "agent" in data and "agents" in data:
            c.add(
                ("agent",), "give either 'agent' (one) or 'agents' (a list), not both", at_key=True
            )
            return None
        if "agent" in data:
            entries: list[tuple[KeyPath, Any, str]] = [(("agent",), data["agent"], "agent1")]
        elif "agents" in data:
            entries_or_none = self.agent_entries(data["agents"], ("agents",), "")
            if entries_or_none is None:
                return None
            entries = entries_or_none
        else:
            c.add((), "no agents: write 'agent:' (one agent) or 'agents:' (a list of agents)")
            return None
        defaults = self.backend_params(data.get("backend_params"))
        agents = [self.agent(raw, path, default_id, defaults) for path, raw, default_id in entries]
        for key in self.c.option_defaults:
            if key not in self.c.option_defaults_used:
                c.unknown_key(
                    ("backend_params",),
                    key,
                    [f for f in _field_types(BackendConfig) if f not in _SPECIAL_BACKEND_KEYS],
                    " (no agent's backend accepts it)",
                )
        return agents

    def agent_entries(
        self, raw: Any, path: KeyPath, prefix: str
    ) -> list[tuple[KeyPath, Any, str]] | None:
        if isinstance(raw, list):
            if not raw:
                self.c.add(
                    path, "a team needs at least one agent" if prefix else "'agents' is empty"
                )
                return None
            return [((*path, i), item, f"{prefix}agent{i + 1}") for i, item in enumerate(raw)]
        if isinstance(raw, dict) and raw:  # v0.0.3 docs also showed agents keyed by id
            entries = []
            for key, item in raw.items():
                if isinstance(item, dict) and "id" not in item:
                    item = {"id": str(key), **item}
                entries.append(((*path, key), item, str(key)))
            return entries
        self.c.add(path, f"'agents' must be a list of agents, got {_type_name(raw)}")
        return None

    def backend_params(self, raw: Any) -> dict[str, Any]:
        c = self.c
        data = c.mapping(raw, ("backend_params",), "backend_params")
        if not data:
            return {}
        fields = _field_types(BackendConfig)
        defaults: dict[str, Any] = {}
        for key, value in data.items():
            if key in _SPECIAL_BACKEND_KEYS:
                c.add(
                    ("backend_params", key),
                    f"{key!r} cannot be a default for every backend",
                    at_key=True,
                )
            elif key in fields:
                checked = c.check(value, fields[key], ("backend_params", key))
                if checked is not _INVALID:
                    defaults[key] = checked
            else:
                defaults[key] = value
                c.option_defaults[key] = value
        return defaults

    def agent(self, raw: Any, path: KeyPath, default_id: str, defaults: dict[str, Any]) -> Any:
        c = self.c
        data = c.mapping(raw, path, "an agent")
        if data is None:
            return _INVALID
        ok = True
        for key in data:
            if key not in AGENT_KEYS:
                c.unknown_key(path, key, AGENT_KEYS)
                ok = False
        agent_id = data.get("id", default_id)
        if isinstance(agent_id, int) and not isinstance(agent_id, bool):
            agent_id = str(agent_id)
        if not isinstance(agent_id, str) or not agent_id.strip():
            c.add(
                (*path, "id"), f"an agent id must be a non-empty string, got {_type_name(agent_id)}"
            )
            ok, agent_id = False, default_id
        if agent_id in c.ids:
            first = c.doc.where(c.ids[agent_id])[0]
            c.add(
                (*path, "id") if "id" in data else path,
                f"duplicate agent id {agent_id!r} (first used on line {first})",
            )
            ok = False
        else:
            c.ids[agent_id] = (*path, "id") if "id" in data else path
        result: dict[str, Any] = {"id": agent_id}

        for key, tp in (("system_message", str), ("role", str), ("weight", float)):
            if key in data and data[key] is not None:
                checked = c.check(data[key], tp, (*path, key))
                if checked is _INVALID:
                    ok = False
                elif key == "weight" and (checked < 0 or not math.isfinite(checked)):
                    c.add((*path, key), f"weight must be a finite number >= 0, got {checked!r}")
                    ok = False
                elif key == "role" and checked not in c.roles and checked not in _role_presets():
                    known = sorted({*c.roles, *_role_presets()})
                    c.add(
                        (*path, key),
                        f"unknown role {checked!r}; roles defined: {', '.join(known) or 'none (add a roles: section)'}",
                        suggestion=did_you_mean(checked, known),
                    )
                    ok = False
                else:
                    result[key] = checked

        if "agents" in data:  # a team
            if "backend" in data:
                c.add(
                    (*path, "backend"),
                    "a team (an agent with 'agents') has no backend of its own",
                    at_key=True,
                )
                ok = False
            entries = self.agent_entries(data["agents"], (*path, "agents"), f"{agent_id}.")
            if entries is None:
                return _INVALID
            members = [self.agent(item, p, d, defaults) for p, item, d in entries]
            if any(m is _INVALID for m in members):
                ok = False
            result["agents"] = members
            if "voting" in data:
                c.team_voting[agent_id] = (*path, "voting")
                voting = self.voting(data["voting"], (*path, "voting"))
                ok = ok and voting is not _INVALID
                result["voting"] = voting
            if "orchestrator" in data:
                orch = self.section(
                    data["orchestrator"], (*path, "orchestrator"), OrchestratorConfig
                )
                ok = ok and orch is not _INVALID
                result["orchestrator"] = orch
        else:
            for key in ("voting", "orchestrator"):
                if key in data:
                    c.add(
                        (*path, key),
                        f"only a team (an agent with 'agents') may have {key!r}",
                        at_key=True,
                    )
                    ok = False
            if "backend" not in data:
                c.add(path, f"agent {agent_id!r} has no 'backend' (or 'agents', for a team)")
                return _INVALID
            backend = self.backend(data["backend"], (*path, "backend"), defaults)
            if backend is _INVALID:
                ok = False
            result["backend"] = backend
        return result if ok else _INVALID

    # sections
    def section(self, raw: Any, path: KeyPath, cls: type) -> Any:
        data = self.c.mapping(raw, path, format_key_path(path))
        if data is None:
            return _INVALID
        checked = self.c.check_attrs(data, cls, path)
        if checked is _INVALID:
            return _INVALID
        ok = True
        for key, value in checked.items():
            # `not value > 0` also catches NaN
            if key in POSITIVE_BOUNDS and value is not None and not value > 0:
                self.c.add((*path, key), f"{key} must be greater than 0, got {value!r}")
                ok = False
        return checked if ok else _INVALID

    def ui(self, raw: Any) -> Any:
        checked = self.section(raw, ("ui",), UIConfig)
        if checked is _INVALID:
            return _INVALID
        if "display_type" in checked:
            value = self.c.choice(
                checked["display_type"], DISPLAY_TYPES, ("ui", "display_type"), "display type"
            )
            if value is _INVALID:
                return _INVALID
        return checked

    def voting(self, raw: Any, path: KeyPath) -> Any:
        c = self.c
        data = c.mapping(raw, path, "voting")
        if data is None:
            return _INVALID
        data = dict(data)
        result: dict[str, Any] = {}
        strategy = data.pop("strategy", None)
        if strategy is None:
            strategy = VotingConfig().strategy
        elif not isinstance(strategy, str):
            c.add((*path, "strategy"), f"expected a strategy name, got {_type_name(strategy)}")
            return _INVALID
        else:
            installed = self.manager.voting_strategies.names()
            if strategy not in installed:
                c.add(
                    (*path, "strategy"),
                    f"unknown voting strategy {strategy!r}; installed: {', '.join(installed) or 'none'}",
                    suggestion=did_you_mean(strategy, installed),
                )
                return _INVALID
        result["strategy"] = strategy
        if (
            strategy not in self.manager.voting_strategies
        ):  # the default, not installed: nothing to check against
            result["options"] = data
            return result
        cls = self.manager.voting_strategies.get(strategy)
        options_cls = getattr(cls, "Options", None)
        where = f" for voting strategy {strategy!r}"
        if options_cls is not None and not (
            isinstance(options_cls, type) and attrs.has(options_cls)
        ):
            result["options"] = data
            return result
        if options_cls is None:
            for key in data:
                c.unknown_key(path, key, ["strategy"], where + " (it takes no options)")
            if data:
                return _INVALID
            result["options"] = {}
            return result
        checked = c.check_attrs(data, options_cls, path, also_known=["strategy"], where=where)
        if checked is _INVALID:
            return _INVALID
        try:  # structured as the session builder does (massgen_core.orchestrator.builder)
            _construct(options_cls, checked)
        except Exception as exc:
            c.add(path, f"invalid options{where}: {_exception_text(exc)}")
            return _INVALID
        result["options"] = checked
        return result

    def roles(self, raw: Any) -> Any:
        data = self.c.mapping(raw, ("roles",), "roles")
        if data is None:
            return _INVALID
        result = {}
        for name, text in data.items():
            checked = self.c.check(text, str, ("roles", name))
            if checked is not _INVALID:
                result[name] = checked
        self.c.roles = result
        return result if len(result) == len(data) else _INVALID

    def legacy_display(self, data: dict[str, Any]) -> None:
        """v0.0.3's ignored top-level ``display:`` block: map ``type`` onto ``ui.display_type``."""
        c = self.c
        block = c.mapping(data.pop("display"), ("display",), "display")
        shown = block.get("type") if block else None
        shown = shown if isinstance(shown, str) and shown else "..."
        c.add(
            ("display",),
            f"the top-level 'display' block is deprecated; write 'ui: {{display_type: {shown}}}' "
            "instead (show_agent_details and show_token_usage are ignored)",
            at_key=True,
            severity="warning",
        )
        if block is None:
            return
        for key in block:
            if key not in LEGACY_DISPLAY_KEYS:
                c.unknown_key(("display",), key, LEGACY_DISPLAY_KEYS)
        kind = block.get("type")
        ui = data.get("ui")
        if kind is not None and (ui is None or (isinstance(ui, dict) and "display_type" not in ui)):
            data["ui"] = {**(ui or {}), "display_type": kind}
            c.doc.relocate(("display", "type"), ("ui", "display_type"))

    def config(self, data: dict[str, Any]) -> dict[str, Any] | None:
        c = self.c
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                c.unknown_key((), key, TOP_LEVEL_KEYS)
        result: dict[str, Any] = {}
        if "roles" in data:
            result["roles"] = self.roles(data["roles"])
        agents = self.agents(data)
        if agents is not None:
            result["agents"] = agents
        if "backend_params" in data:
            result["backend_params"] = c.mapping(
                data["backend_params"], ("backend_params",), "backend_params"
            )
        if "ui" in data:
            result["ui"] = self.ui(data["ui"])
        for key, cls in (("orchestrator", OrchestratorConfig), ("timeout_settings", TimeoutConfig)):
            if key in data:
                result[key] = self.section(data[key], (key,), cls)
        if "voting" in data:
            result["voting"] = self.voting(data["voting"], ("voting",))
        if (
            agents is None
            or any(a is _INVALID for a in agents)
            or any(v is _INVALID or v is None for v in result.values())
        ):
            return None
        self.strategies_fit(result.get("voting"), agents)
        return result

    def strategies_fit(self, voting: Any, agents: list[Any]) -> None:
        """Build each team's strategy, as a run would, so its own objections are located problems.

        A judge who is not a member of the team, for one, is otherwise only
        found when the session starts. A team without ``voting`` uses the
        top-level one (as the orchestrator builder does).
        """
        self.strategy_fits(voting, agents, ("voting",), None)
        teams = [a for a in agents if a.get("agents")]
        while teams:
            team = teams.pop()
            own = team.get("voting")
            path = self.c.team_voting.get(team["id"], ("voting",)) if own else ("voting",)
            self.strategy_fits(own or voting, team["agents"], path, team["id"])
            teams.extend(a for a in team["agents"] if a.get("agents"))

    def strategy_fits(
        self, voting: Any, members: list[Any], path: KeyPath, team: str | None
    ) -> None:
        from massgen_core.voting import AgentInfo

        voting = voting or {"strategy": VotingConfig().strategy, "options": {}}
        name = voting.get("strategy")
        if name not in self.manager.voting_strategies:
            return
        cls = self.manager.voting_strategies.get(name)
        options: Any = dict(voting.get("options") or {})
        options_cls = getattr(cls, "Options", None)
        infos = [
            AgentInfo(id=m["id"], weight=m.get("weight", 1.0), role=m.get("role")) for m in members
        ]
        try:
            if isinstance(options_cls, type) and attrs.has(options_cls):
                options = _converter().structure(options, options_cls)
            cls(infos, options)
        except Exception as exc:  # the strategy's own objection, reported like any other problem
            message = _exception_text(exc)
            if not message.startswith(f"voting strategy {name!r}"):
                message = f"voting strategy {name!r}: {message}"
            self.c.add(path, f"in team {team!r}: {message}" if team else message)


# -- structuring -----------------------------------------------------------------

_CONVERTER: Any = None


def _converter() -> Any:
    """The cattrs converter: the one place where validated dicts become config objects."""
    global _CONVERTER
    if _CONVERTER is None:
        import cattrs

        for cls in (
            BackendConfig,
            VotingConfig,
            OrchestratorConfig,
            TimeoutConfig,
            UIConfig,
            AgentConfig,
            Config,
        ):
            attrs.resolve_types(cls)
        from cattrs.strategies import configure_union_passthrough

        # prefer_attrib_converters: a plugin's converter receives what the user wrote
        _CONVERTER = cattrs.Converter(forbid_extra_keys=True, prefer_attrib_converters=True)
        configure_union_passthrough(Union[str, int, float, bool, None], _CONVERTER)
    return _CONVERTER


def _construct(cls: type, data: dict[str, Any]) -> None:
    """Build a plugin's Options from checked data so its own validators run; raise if they object."""
    from cattrs.errors import StructureHandlerNotFoundError

    try:
        _converter().structure(data, cls)
    except (
        StructureHandlerNotFoundError,
        NameError,
    ):  # types cattrs cannot build: let the class judge
        cls(**data)


def _exception_text(exc: BaseException) -> str:
    """A one-line reason from an exception (cattrs groups the real causes)."""
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(_exception_text(e) for e in inner)
    return str(exc) or type(exc).__name__


# -- public API -------------------------------------------------------------------


def _manager(manager: PluginManager | None) -> PluginManager:
    if manager is not None:
        return manager
    from massgen_core.plugins import get_plugin_manager

    return get_plugin_manager()


def _process(
    doc: Document,
    *,
    env: str | None,
    manager: PluginManager,
    interpolate: bool = True,
    build: bool = True,
) -> tuple[Config | None, list[ConfigProblem]]:
    """Apply every rule to ``doc``; the Config is None when any error was found.

    With ``build=False`` (``config validate``) the checked data is not turned into
    objects: the rules above are the whole validation, and cattrs (whose import and
    generated code cost more than checking 200 agents) is left unloaded.
    """
    if env is not None or (isinstance(doc.data, dict) and "display" in doc.data):
        doc = doc.copy()  # overlays move positions around; keep the caller's document intact
    checker = _Checker(doc, manager, os.environ)
    for path, message, at_key in doc.issues:
        checker.add(path, message, at_key=at_key)
    raw = doc.data
    if not isinstance(raw, dict):
        what = "empty" if raw is None else _type_name(raw)
        checker.add(
            (), f"a config must be a mapping with 'agents' (or 'agent'), but the document is {what}"
        )
        return None, sort_problems(checker.problems)
    data = checker.mapping(raw, (), "the document")
    assert data is not None
    rules = _Rules(checker)

    environments = checker.mapping(
        data.pop("environments", None), ("environments",), "environments"
    )
    if environments:
        for name, overlay in list(environments.items()):
            if overlay is None:
                environments[name] = {}
            elif not isinstance(overlay, dict):
                checker.add(
                    ("environments", name),
                    f"an environment must be a mapping (an overlay), got {_type_name(overlay)}",
                )
                environments[name] = {}
            elif "environments" in overlay:
                checker.add(
                    ("environments", name, "environments"),
                    "environments cannot be nested",
                    at_key=True,
                )
    if env is not None:
        known = sorted(environments or {})
        if env not in known:
            checker.add(
                ("environments",) if environments else (),
                f"unknown environment {env!r}; known: {', '.join(known) or 'none (add an environments: section)'}",
                at_key=bool(environments),
                suggestion=did_you_mean(env, known),
            )
            return None, sort_problems(checker.problems)
        overlay = checker.mapping(environments[env], ("environments", env), "an environment") or {}
        data = _deep_merge(
            doc,
            data,
            {k: v for k, v in overlay.items() if k != "environments"},
            ("environments", env),
            (),
        )

    if "display" in data:
        rules.legacy_display(data)
    if interpolate:
        data = _interpolate(checker, data, ())
    cleaned = rules.config(data)
    problems = sort_problems(checker.problems)
    if cleaned is None or not build or any(p.is_error for p in problems):
        return None, problems
    cleaned["environment"] = env
    cleaned["source"] = doc.file
    try:
        config = _converter().structure(cleaned, Config)
    except Exception as exc:  # validation above should make this unreachable; never let it escape
        checker.add((), f"could not build the configuration: {_exception_text(exc)}")
        return None, sort_problems(checker.problems)
    return config, problems


def _read(path: Path, display: str) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    file=display,
                    line=0,
                    col=0,
                    key_path="",
                    message=f"not UTF-8 text: {exc.reason}",
                )
            ]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    file=display,
                    line=0,
                    col=0,
                    key_path="",
                    message=f"cannot read: {exc.strerror or exc}",
                )
            ]
        ) from None
    return parse_document(text, display)


def parse_document(text: str, file: str) -> Document:
    """Parse text into a located document, or raise ConfigError with the syntax error."""
    try:
        return parse_text(text, file)
    except DocumentError as exc:
        raise ConfigError(
            [ConfigProblem(file=file, line=exc.line, col=exc.col, key_path="", message=exc.message)]
        ) from None


def load_text_with_warnings(
    text: str,
    file: str = "<config>",
    *,
    env: str | None = None,
    manager: PluginManager | None = None,
) -> tuple[Config, list[ConfigProblem]]:
    """Load config text (YAML, or JSON when ``file`` ends in .json); ConfigError on any error."""
    doc = parse_document(text, file)
    load_dotenv_files()
    config, problems = _process(doc, env=env, manager=_manager(manager))
    if config is None:
        raise ConfigError(problems)
    return config, problems


def load_config_with_warnings(
    source: str | os.PathLike[str], *, env: str | None = None, manager: PluginManager | None = None
) -> tuple[Config, list[ConfigProblem]]:
    """Load a config file (a path or a bundled name); also return its deprecation warnings."""
    path = resolve_config_path(source)
    doc = _read(path, str(source))
    load_dotenv_files()
    config, problems = _process(doc, env=env, manager=_manager(manager))
    if config is None:
        raise ConfigError(problems)
    return config, problems


def load_config(
    source: str | os.PathLike[str], *, env: str | None = None, manager: PluginManager | None = None
) -> Config:
    """Load and validate a config file; raise ConfigError with every located problem."""
    return load_config_with_warnings(source, env=env, manager=manager)[0]


def config_from_dict(
    data: Any,
    *,
    source: str = "<config>",
    env: str | None = None,
    manager: PluginManager | None = None,
) -> Config:
    """Validate already-parsed data (no positions: problems point at line 1)."""
    config, problems = _process(
        Document(file=source, data=data), env=env, manager=_manager(manager)
    )
    if config is None:
        raise ConfigError(problems)
    return config


def validate_document(
    doc: Document, *, manager: PluginManager | None = None
) -> list[ConfigProblem]:
    """Every problem in ``doc``: the base config and each of its environments."""
    manager = _manager(manager)
    _, problems = _process(doc, env=None, manager=manager, build=False)
    data = doc.data
    envs = data.get("environments") if isinstance(data, dict) else None
    if isinstance(envs, dict) and not any(p.is_error for p in problems):
        for name in envs:
            if isinstance(name, str):
                _, env_problems = _process(doc, env=name, manager=manager, build=False)
                problems.extend(env_problems)
    return sort_problems(problems)


def validate_files(
    paths: Iterable[str | os.PathLike[str]], *, manager: PluginManager | None = None
) -> list[ConfigProblem]:
    """Problems (errors and warnings) of every file; an empty list means all are valid."""
    problems: list[ConfigProblem] = []
    dotenv_loaded = False
    for source in paths:
        try:
            doc = _read(resolve_config_path(source), str(source))
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if not dotenv_loaded:
            load_dotenv_files()
            dotenv_loaded = True
        problems.extend(validate_document(doc, manager=manager))
    return problems


def resolve_config_path(name: str | os.PathLike[str]) -> Path:
    """A path if it exists, else a bundled config by file name (with or without .yaml)."""
    from massgen_core import configs

    path = Path(name).expanduser()
    if path.is_file():
        return path
    text = str(name)
    found = configs.find_bundled(text)
    if found is not None:
        return found
    bundled = configs.bundled_names()
    hint = did_you_mean(Path(text).stem, bundled)
    message = "no such file, and no bundled config of that name; bundled: " + (
        ", ".join(bundled) or "none"
    )
    if path.is_dir():
        message = "is a directory, not a config file"
        hint = None
    raise ConfigError(
        [ConfigProblem(file=text, line=0, col=0, key_path="", message=message, suggestion=hint)]
    )


def infer_backend_type(model: str, manager: PluginManager | None = None) -> str | None:
    """The backend type serving ``model``: ask installed backends, then PROTOCOL.md §9's rules."""
    by_rule = None
    lowered = model.lower()
    for prefix, type_name in MODEL_RULES:
        if lowered.startswith(prefix):
            by_rule = type_name
            break
    if manager is not None:
        claimants = []
        for name, cls in manager.backends.items():
            try:
                if cls.serves_model(model):
                    claimants.append(name)
            except Exception:  # a plugin's matcher failing must not break loading
                continue
        if by_rule in claimants:
            return by_rule
        if claimants:
            return claimants[0]
    return by_rule


def config_from_cli(
    *,
    backend: str | None,
    model: str | None,
    base_url: str | None = None,
    system_message: str | None = None,
    manager: PluginManager | None = None,
) -> Config:
    """A one-agent config from ``--backend/--model/--base-url/--system-message``."""
    if backend is None and model is None:
        raise ConfigError(
            [
                ConfigProblem(
                    file="<command line>",
                    line=0,
                    col=0,
                    key_path="",
                    message="give --config FILE, or --model NAME (and --backend TYPE when the model does not identify it)",
                )
            ]
        )
    spec: dict[str, Any] = {}
    for key, value in (("type", backend), ("model", model), ("base_url", base_url)):
        if value is not None:
            spec[key] = value
    agent: dict[str, Any] = {"id": "agent1", "backend": spec}
    if system_message is not None:
        agent["system_message"] = system_message
    load_dotenv_files()
    # the shell has already expanded the command line: a literal ${...} there is meant as text
    doc = Document(file="<command line>", data={"agent": agent})
    config, problems = _process(doc, env=None, manager=_manager(manager), interpolate=False)
    if config is None:
        raise ConfigError(problems)
    return config


def _override_agent(
    agent: AgentConfig, model: str | None, base_url: str | None, system_message: str | None
) -> AgentConfig:
    changes: dict[str, Any] = {}
    if agent.agents:
        changes["agents"] = tuple(
            _override_agent(a, model, base_url, system_message) for a in agent.agents
        )
    if agent.backend is not None:
        backend_changes = {
            k: v for k, v in (("model", model), ("base_url", base_url)) if v is not None
        }
        if backend_changes:
            changes["backend"] = attrs.evolve(agent.backend, **backend_changes)
    if system_message is not None and not agent.agents:
        changes["system_message"] = system_message
    return attrs.evolve(agent, **changes) if changes else agent


def apply_cli_overrides(
    config: Config,
    *,
    model: str | None = None,
    base_url: str | None = None,
    system_message: str | None = None,
) -> Config:
    """``--config`` combined with ``--model/--base-url/--system-message``: override every agent."""
    if model is None and base_url is None and system_message is None:
        return config
    agents = tuple(_override_agent(a, model, base_url, system_message) for a in config.agents)
    return attrs.evolve(config, agents=agents)


def redact(value: Any) -> Any:
    """A copy of plain data with secrets (api_key, *_token, ...) replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: ("***" if isinstance(k, str) and _secret(k) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def config_to_dict(config: Config, *, redact_secrets: bool = True) -> dict[str, Any]:
    """The effective config as plain data (what ``massgen config show`` prints)."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: clean(v)
                for k, v in value.items()
                if v is not None and v != {} and v != [] and v != ()
            }
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    data = _converter().unstructure(config)
    data.pop("source", None)
    data.pop("environment", None)
    for agent in _walk_agents(data.get("agents", [])):
        backend = agent.get("backend")
        if isinstance(backend, dict):
            _flatten_options(backend)
    data = clean(data)
    return redact(data) if redact_secrets else data


def _walk_agents(agents: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for agent in agents:
        yield agent
        yield from _walk_agents(agent.get("agents") or [])


def _flatten_options(backend: dict[str, Any]) -> None:
    """Write backend-specific keys inline again, as users write them."""
    options = backend.pop("options", None) or {}
    backend.update(options)
    for key in ("fallback", "pool"):
        for item in backend.get(key) or []:
            _flatten_options(item)


__all__ = [
    "ConfigError",
    "ConfigProblem",
    "apply_cli_overrides",
    "config_from_cli",
    "config_from_dict",
    "config_to_dict",
    "format_key_path",
    "infer_backend_type",
    "load_config",
    "load_config_with_warnings",
    "load_dotenv_files",
    "load_text_with_warnings",
    "parse_document",
    "redact",
    "resolve_config_path",
    "validate_document",
    "validate_files",
]

