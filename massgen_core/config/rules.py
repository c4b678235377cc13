"""The config rules, applied to one document: PROTOCOL.md §9 plus ours.

``Rules`` knows the shape of a config: ``agent``/``agents`` and nested teams,
``backend_params`` defaults, backend types and their plugins' ``Options``,
the keys each type cannot run without (``backend_rules``), fallback and pool
entries, plugins' sections of the main config (``sections``), voting strategies and their options, roles, the
legacy ``display`` block. It reports through a ``checker.Checker``. Also
here: the cattrs converter that turns validated data into config objects, and
the inference of a backend type from a model name.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Union

import attrs

from massgen_core.config import counts
from massgen_core.config.checker import (
    INVALID,
    KeyPath,
    Checker,
    field_types,
    type_name_of,
    format_key_path,
)
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
from massgen_core.redaction import redact_url

if TYPE_CHECKING:
    from massgen_core.plugins import PluginManager

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
    "tools",
    "count",
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
_SPECIAL_BACKEND_KEYS = ("fallback", "pool", "routing", "workflow", "options")
WORKFLOW_MODES = ("auto", "tools", "json", "text")  # massgen_core.orchestrator.workflow.MODES
# Bounds a type check lets through but the engine cannot run with (0 attempts, a negative timeout).
POSITIVE_BOUNDS = frozenset(
    {
        "max_attempts",
        "max_new_answers_per_agent",
        "max_consecutive_failures",
        "max_cost_usd",
        "max_cost_usd_per_agent",
        "max_conversation_cost_usd",
        "orchestrator_timeout_seconds",
        "per_call_timeout_seconds",
        "agent_retry_timeout_seconds",
    }
)


def _role_presets() -> dict[str, str]:
    """The role presets the engine ships (massgen_core.orchestrator.roles); imported late to keep loading light."""
    from massgen_core.orchestrator.roles import PRESETS

    return PRESETS


# -- the rules -------------------------------------------------------------------


class Rules:
    """The config rules, applied to one document with one environment."""

    def __init__(self, checker: Checker) -> None:
        self.c = checker
        self.manager = checker.manager

    # backends
    def backend_types(self) -> list[str]:
        return self.manager.backends.names()

    def backend_class(self, type_name: str, path: KeyPath) -> Any:
        from massgen_core.errors import MassGenError

        try:
            cls = self.manager.backends.get(type_name)
        except MassGenError as exc:
            installed = self.backend_types()
            hint = did_you_mean(type_name, installed) or self.alias_hint(type_name)
            message = (
                f"unknown backend type {type_name!r}; installed: {', '.join(installed) or 'none'}"
            )
            if type_name in self.manager.backends._conflicts:
                message, hint = str(exc), None
            self.c.add((*path, "type"), message, suggestion=hint)
            return INVALID
        self.note_choice(self.manager.backends, type_name, (*path, "type"))
        return cls

    def alias_hint(self, type_name: str) -> str | None:
        """The installed type a backend calls itself by another name (``also_known_as``: anthropic -> claude)."""
        aliases: dict[str, str] = {}
        for name, cls in self.manager.backends.items():
            for alias in getattr(cls, "also_known_as", ()) or ():
                aliases.setdefault(alias, name)
        alias = did_you_mean(type_name, aliases)
        return None if alias is None else aliases[alias]

    def note_choice(self, registry: Any, name: str, path: KeyPath) -> None:
        """A warning saying which plugin's ``name`` is used when several plugins register it."""
        note = registry.choice_note(name)
        if note is not None:
            self.c.add(path, note, severity="warning")

    def backend(self, raw: Any, path: KeyPath, defaults: dict[str, Any]) -> Any:
        c = self.c
        data = c.mapping(raw, path, "backend")
        if data is None:
            return INVALID
        fields = field_types(BackendConfig)
        common = [f for f in fields if f not in ("options",)]
        result: dict[str, Any] = {}
        ok = True

        # common keys: the agent's own, then backend_params defaults for the missing ones
        for key, value in data.items():
            if key in fields and key not in _SPECIAL_BACKEND_KEYS:
                checked = c.check(value, fields[key], (*path, key))
                if checked is INVALID:
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
                f"base_url names the endpoint, not the base URL (deprecated); write base_url: {redact_url(fixed)!r} instead",
                severity="warning",
            )

        for key, allowed, what in (
            ("routing", ROUTING_STRATEGIES, "routing strategy"),
            ("workflow", WORKFLOW_MODES, "workflow transport"),
        ):
            if key in data:
                value = c.choice(data[key], allowed, (*path, key), what)
                if value is INVALID:
                    ok = False
                else:
                    result[key] = value
        for key in ("fallback", "pool"):
            if key not in data:
                continue
            items = data[key]
            if not isinstance(items, list):
                c.add((*path, key), f"{key} must be a list of backends, got {type_name_of(items)}")
                ok = False
                continue
            inherited = defaults
            if key == "pool":  # members are equivalent backends: they inherit the pool's type and model
                inherited = {**defaults, **{k: result[k] for k in ("type", "model") if result.get(k)}}
            cleaned = [
                self.backend(item, (*path, key, i), inherited) for i, item in enumerate(items)
            ]
            if any(item is INVALID for item in cleaned):
                ok = False
            else:
                result[key] = cleaned

        extra = {k: v for k, v in data.items() if k not in fields or k == "options"}
        cls = self.backend_class(type_name, path) if isinstance(type_name, str) else None
        if cls is INVALID:  # unknown type: still flag keys that no installed backend knows
            known = self.all_option_keys()
            for key in extra:
                if key not in known and key != "options":
                    c.unknown_key(path, key, [*common, *known])
            return INVALID
        options = self.options(cls, type_name, extra, defaults, path, common)
        if options is INVALID:
            ok = False
        else:
            result["options"] = options
        if cls is not None and "pool" not in data:  # a pool's members are checked one by one
            ok = self.requirements(cls, type_name, result, data, path) and ok
        return result if ok else INVALID

    def requirements(
        self, cls: Any, type_name: Any, result: dict[str, Any], data: dict[str, Any], path: KeyPath
    ) -> bool:
        """The keys the backend cannot run without and a usable base_url (``backend_rules``)."""
        from massgen_core.config.backend_rules import requirement_problems

        problems = requirement_problems(cls, type_name, result)
        for key, message in problems:
            self.c.add((*path, key) if key in data else path, message)
        return not problems

    def all_option_keys(self) -> set[str]:
        keys: set[str] = set()
        for _, cls in self.manager.backends.items():
            options_cls = getattr(cls, "Options", None)
            if isinstance(options_cls, type) and attrs.has(options_cls):
                keys.update(field_types(options_cls))
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
                return INVALID
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
            return INVALID if extra else {}
        option_fields = field_types(options_cls)
        for key, value in defaults.items():
            if key in option_fields and key not in extra:
                extra[key] = value
                self.c.option_defaults_used.add(key)
        # unknown keys are reported, and the known ones still judged: one mistake hides no other
        unknown = {k: v for k, v in extra.items() if k not in option_fields}
        ok = c.check_attrs(unknown, options_cls, path, also_known=common, where=where) is not INVALID
        known = {k: v for k, v in extra.items() if k in option_fields}
        checked = c.check_attrs(known, options_cls, path)
        if checked is INVALID:
            return INVALID
        try:  # as the backend builds them when it starts (massgen_core.http.base.parse_options)
            options_cls(**checked)
        except Exception as exc:  # the plugin's own validators reject a value
            c.add(path, f"invalid options{where}: {exception_text(exc)}")
            return INVALID
        return checked if ok else INVALID

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
        agents = counts.expand(
            [self.agent(raw, path, default_id, defaults) for path, raw, default_id in entries]
        )
        for key in self.c.option_defaults:
            if key not in self.c.option_defaults_used:
                c.unknown_key(
                    ("backend_params",),
                    key,
                    [f for f in field_types(BackendConfig) if f not in _SPECIAL_BACKEND_KEYS],
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
        self.c.add(path, f"'agents' must be a list of agents, got {type_name_of(raw)}")
        return None

    def backend_params(self, raw: Any) -> dict[str, Any]:
        c = self.c
        data = c.mapping(raw, ("backend_params",), "backend_params")
        if not data:
            return {}
        fields = field_types(BackendConfig)
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
                if checked is not INVALID:
                    defaults[key] = checked
            else:
                defaults[key] = value
                c.option_defaults[key] = value
        return defaults

    def agent(self, raw: Any, path: KeyPath, default_id: str, defaults: dict[str, Any]) -> Any:
        c = self.c
        data = c.mapping(raw, path, "an agent")
        if data is None:
            return INVALID
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
                (*path, "id"), f"an agent id must be a non-empty string, got {type_name_of(agent_id)}"
            )
            ok, agent_id = False, default_id
        count = self.count(data, path)
        if count is INVALID:
            ok, count = False, None
        for own_id in [agent_id] if count is None else counts.copy_ids(agent_id, count):
            if own_id in c.ids:
                first = c.doc.where(c.ids[own_id])[0]
                c.add(
                    (*path, "id") if "id" in data else path,
                    f"duplicate agent id {own_id!r} (first used on line {first})",
                )
                ok = False
            else:
                c.ids[own_id] = (*path, "id") if "id" in data else path
        result: dict[str, Any] = {"id": agent_id}
        if count is not None:
            result["count"] = count  # expanded into copies by counts.expand once the list is checked

        for key, tp in (("system_message", str), ("role", str), ("weight", float)):
            if key in data and data[key] is not None:
                checked = c.check(data[key], tp, (*path, key))
                if checked is INVALID:
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

        if "tools" in data:  # on a team: the default for its members
            tools = self.tools(data["tools"], (*path, "tools"))
            if tools is INVALID:
                ok = False
            else:
                result["tools"] = tools

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
                return INVALID
            members = [self.agent(item, p, d, defaults) for p, item, d in entries]
            if any(m is INVALID for m in members):
                ok = False
            result["agents"] = counts.expand(members)
            if "voting" in data:
                c.team_voting[agent_id] = (*path, "voting")
                voting = self.voting(data["voting"], (*path, "voting"))
                ok = ok and voting is not INVALID
                result["voting"] = voting
            if "orchestrator" in data:
                orch = self.section(
                    data["orchestrator"], (*path, "orchestrator"), OrchestratorConfig
                )
                ok = ok and orch is not INVALID
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
                return INVALID
            backend = self.backend(data["backend"], (*path, "backend"), defaults)
            if backend is INVALID:
                ok = False
            result["backend"] = backend
        return result if ok else INVALID

    def scale_fits(self, scale: dict[str, Any], path: KeyPath) -> bool:
        low, high = scale.get("min", 1), scale.get("max")
        if high is None:
            self.c.add(path, "scale needs max: the most agents the team may grow to")
            return False
        if not 1 <= low <= high <= counts.MAX_COUNT:
            self.c.add(path, f"scale needs 1 <= min <= max <= {counts.MAX_COUNT}, got min {low!r}, max {high!r}")
            return False
        return True

    def count(self, data: dict[str, Any], path: KeyPath) -> Any:
        """An entry's ``count`` (None without one): a whole number of copies, only of an agent with a backend."""
        if "count" not in data:
            return None
        value = data["count"]
        if "agents" in data:
            self.c.add((*path, "count"), "count makes copies of one agent; a team cannot have a count", at_key=True)
            return INVALID
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= counts.MAX_COUNT:
            self.c.add(
                (*path, "count"),
                f"count must be a whole number from 1 to {counts.MAX_COUNT}, got {value!r}",
            )
            return INVALID
        return value

    # sections
    def section(self, raw: Any, path: KeyPath, cls: type) -> Any:
        data = self.c.mapping(raw, path, format_key_path(path))
        if data is None:
            return INVALID
        checked = self.c.check_attrs(data, cls, path)
        if checked is INVALID:
            return INVALID
        ok = True
        if checked.get("tools") is not None:
            ok = self.tools(checked["tools"], (*path, "tools")) is not INVALID
        for key, value in checked.items():
            # `not value > 0` also catches NaN
            if key in POSITIVE_BOUNDS and value is not None and not value > 0:
                self.c.add((*path, key), f"{key} must be greater than 0, got {value!r}")
                ok = False
            if key == "scale" and value is not None and not self.scale_fits(value, (*path, key)):
                ok = False
        return checked if ok else INVALID

    def tools(self, raw: Any, path: KeyPath) -> Any:
        """A list of installed tool names; tools are offered only where the config names them."""
        from massgen_core.orchestrator.prompts import WORKFLOW_TOOLS

        names = self.c.check(raw, tuple[str, ...], path)
        if names is INVALID:
            return INVALID
        installed = self.manager.tools.names()
        ok = True
        for i, name in enumerate(names):
            if name in WORKFLOW_TOOLS:
                self.c.add((*path, i), f"{name!r} is a workflow tool, offered to every agent already")
                ok = False
            elif name in names[:i]:
                self.c.add((*path, i), f"tool {name!r} is listed twice")
                ok = False
            elif name not in installed:
                self.c.add(
                    (*path, i),
                    f"unknown tool {name!r}; installed: {', '.join(installed) or 'none'}",
                    suggestion=did_you_mean(name, installed),
                )
                ok = False
        return names if ok else INVALID

    def ui(self, raw: Any) -> Any:
        checked = self.section(raw, ("ui",), UIConfig)
        if checked is INVALID:
            return INVALID
        if "display_type" in checked:
            value = self.c.choice(
                checked["display_type"], DISPLAY_TYPES, ("ui", "display_type"), "display type"
            )
            if value is INVALID:
                return INVALID
        return checked

    def voting(self, raw: Any, path: KeyPath) -> Any:
        c = self.c
        data = c.mapping(raw, path, "voting")
        if data is None:
            return INVALID
        data = dict(data)
        result: dict[str, Any] = {}
        strategy = data.pop("strategy", None)
        if strategy is None:
            strategy = VotingConfig().strategy
        elif not isinstance(strategy, str):
            c.add((*path, "strategy"), f"expected a strategy name, got {type_name_of(strategy)}")
            return INVALID
        else:
            installed = self.manager.voting_strategies.names()
            if strategy not in self.manager.voting_strategies:  # a name, or PLUGIN:NAME
                c.add(
                    (*path, "strategy"),
                    f"unknown voting strategy {strategy!r}; installed: {', '.join(installed) or 'none'}",
                    suggestion=did_you_mean(strategy, installed),
                )
                return INVALID
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
                return INVALID
            result["options"] = {}
            return result
        checked = c.check_attrs(data, options_cls, path, also_known=["strategy"], where=where)
        if checked is INVALID:
            return INVALID
        try:  # structured as the session builder does (massgen_core.orchestrator.builder)
            construct(options_cls, checked)
        except Exception as exc:
            c.add(path, f"invalid options{where}: {exception_text(exc)}")
            return INVALID
        result["options"] = checked
        return result

    def roles(self, raw: Any) -> Any:
        data = self.c.mapping(raw, ("roles",), "roles")
        if data is None:
            return INVALID
        result = {}
        for name, text in data.items():
            checked = self.c.check(text, str, ("roles", name))
            if checked is not INVALID:
                result[name] = checked
        self.c.roles = result
        return result if len(result) == len(data) else INVALID

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
        sections = {  # plugins' sections of the main config; the core's own keys come first
            name: section
            for name, section in self.manager.config_sections.items()
            if section.file_name is None and name not in TOP_LEVEL_KEYS
        }
        for key in data:
            if key not in TOP_LEVEL_KEYS and key not in sections:
                c.unknown_key((), key, [*TOP_LEVEL_KEYS, *sections])
        result: dict[str, Any] = {}
        given = [name for name in sections if name in data]
        if given:
            from massgen_core.config.sections import check_section

            values = {name: check_section(sections[name], data[name], (name,), c) for name in given}
            result["sections"] = INVALID if any(v is INVALID for v in values.values()) else values
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
            or any(a is INVALID for a in agents)
            or any(v is INVALID or v is None for v in result.values())
        ):
            return None
        self.strategies_fit(result.get("voting"), agents)
        from massgen_core.config.budget_rules import budget_problems

        for key, message in budget_problems(result.get("orchestrator"), agents, self.manager):
            self.c.add(("orchestrator", key), message)
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
        self.note_choice(self.manager.voting_strategies, name, (*path, "strategy"))
        cls = self.manager.voting_strategies.get(name)
        options: Any = dict(voting.get("options") or {})
        options_cls = getattr(cls, "Options", None)
        infos = [
            AgentInfo(id=m["id"], weight=m.get("weight", 1.0), role=m.get("role")) for m in members
        ]
        try:
            if isinstance(options_cls, type) and attrs.has(options_cls):
                options = converter().structure(options, options_cls)
            cls(infos, options)
        except Exception as exc:  # the strategy's own objection, reported like any other problem
            message = exception_text(exc)
            if not message.startswith(f"voting strategy {name!r}"):
                message = f"voting strategy {name!r}: {message}"
            self.c.add(path, f"in team {team!r}: {message}" if team else message)


# -- structuring -----------------------------------------------------------------

_CONVERTER: Any = None


def converter() -> Any:
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


def construct(cls: type, data: dict[str, Any]) -> None:
    """Build a plugin's Options from checked data so its own validators run; raise if they object."""
    from cattrs.errors import StructureHandlerNotFoundError

    try:
        converter().structure(data, cls)
    except (
        StructureHandlerNotFoundError,
        NameError,
    ):  # types cattrs cannot build: let the class judge
        cls(**data)


def exception_text(exc: BaseException) -> str:
    """A one-line reason from an exception (cattrs groups the real causes)."""
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(exception_text(e) for e in inner)
    return str(exc) or type(exc).__name__


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


__all__ = ["AGENT_KEYS", "MODEL_RULES", "TOP_LEVEL_KEYS", "Rules", "construct", "converter", "exception_text", "infer_backend_type"]
