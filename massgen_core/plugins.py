"""Finding, loading and registering plugins.

Entry points in the ``massgen`` group are loaded one at a time: a plugin that
fails to import, names a hook that does not exist, or raises while registering
is recorded with its distribution and error and skipped, so one broken plugin
never takes the CLI down. Two plugins registering the same name is an error
that names both, except that a first-party plugin (one MassGen ships) keeps its
name against third-party ones: the conflict is reported, and the other
registration stays reachable as ``PLUGIN:NAME`` (e.g. ``my-votes:majority``).
Nothing here runs at import time: ``massgen --help`` must not import plugin code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator
from typing import Any, Generic, TypeVar

import pluggy

from massgen_core import discovery, hookspecs
from massgen_core.errors import MassGenError, UnknownNameError, did_you_mean

T = TypeVar("T")

KINDS = ("backends", "voting_strategies", "exporters", "tools", "graders", "config_sections")
_KIND_SINGULAR = {
    "backends": "backend",
    "voting_strategies": "voting strategy",
    "exporters": "exporter",
    "tools": "tool",
    "graders": "grader",
    "config_sections": "config section",
}


# The distributions MassGen ships (plugins/ in its repository): against a third-party plugin
# that registers the same name, theirs is used unless a config asks for PLUGIN:NAME.
FIRST_PARTY = frozenset(
    "massgen-" + name
    for name in (
        "claude", "export-html", "export-json", "export-markdown", "gemini", "grok", "openai",
        "openai-compatible", "python-tool", "scripted", "server", "voting-judge", "voting-majority",
        "voting-quorum", "voting-ranked", "voting-weighted", "webhooks",
    )
)  # fmt: skip


def is_first_party(plugin: str) -> bool:
    """Whether ``plugin`` (a distribution or module name) is one MassGen ships."""
    return plugin.lower().replace("_", "-") in FIRST_PARTY


class PluginConflictError(MassGenError):
    """Two plugins registered the same name for the same kind."""


class PluginInfo:
    """What one plugin is and what it contributed (or why it could not load)."""

    # A plain class, not attrs: every massgen command builds the manager (see massgen_core.lazy).
    __slots__ = ("error", "name", "version", "entry_point", *KINDS)

    def __init__(
        self,
        name: str,
        version: str | None = None,
        entry_point: str | None = None,
        error: str | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.entry_point = entry_point
        self.backends: list[str] = []
        self.voting_strategies: list[str] = []
        self.exporters: list[str] = []
        self.tools: list[str] = []
        self.graders: list[str] = []
        self.config_sections: list[str] = []
        self.error = error

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "version": self.version, "entry_point": self.entry_point}
        data.update({kind: list(getattr(self, kind)) for kind in KINDS})
        data["error"] = self.error
        return data

    def __repr__(self) -> str:
        return f"PluginInfo({self.to_dict()!r})"


class Registry(Generic[T]):
    """Things of one kind by name, each remembering the plugin that registered it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._owners: dict[str, str] = {}
        self._conflicts: dict[str, list[str]] = {}
        self._all: dict[str, dict[str, T]] = {}  # name -> {plugin: item}, for PLUGIN:NAME

    def add(self, name: str, item: T, owner: str) -> None:
        candidates = self._all.setdefault(name, {})
        if owner not in candidates:
            candidates[owner] = item
            chosen = _choose(candidates)
            if chosen is not None:  # the only one, or the one first-party plugin among several
                self._conflicts.pop(name, None)
                self._items[name], self._owners[name] = candidates[chosen], chosen
                return
        if name in self._items or name in self._conflicts:
            owners = self._conflicts.setdefault(name, [self._owners.get(name, "?")])
            owners.append(owner)
            self._items.pop(name, None)
            raise PluginConflictError(
                f"{_KIND_SINGULAR[self.kind]} {name!r} is registered by more than one plugin: "
                + " and ".join(owners)
                + "; uninstall one of them or limit MASSGEN_LOAD_PLUGINS"
            )
        self._items[name] = item
        self._owners[name] = owner

    def get(self, name: str) -> T:
        if name not in self._items and ":" in name:
            plugin, _, base = name.rpartition(":")
            try:
                return self._all[base][plugin]
            except KeyError:
                known = [f"{p}:{base}" for p in self._all.get(base, {})] or self._items
                raise UnknownNameError(_KIND_SINGULAR[self.kind], name, known) from None
        if name in self._conflicts:
            raise PluginConflictError(
                f"{_KIND_SINGULAR[self.kind]} {name!r} is registered by more than one plugin: "
                + " and ".join(self._conflicts[name])
            )
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(_KIND_SINGULAR[self.kind], name, self._items) from None

    def owner(self, name: str) -> str | None:
        return self._owners.get(name)

    def contested(self) -> dict[str, list[str]]:
        """Names more than one plugin registers: name -> those plugins, the one used first."""
        result = {}
        for name, candidates in sorted(self._all.items()):
            if len(candidates) > 1 and name in self._items:
                used = self._owners[name]
                result[name] = [used, *sorted(p for p in candidates if p != used)]
        return result

    def choice_note(self, name: str) -> str | None:
        """For a name several plugins register: which one is used and how to pick another."""
        owners = self.contested().get(name)
        if owners is None:
            return None
        used, *others = owners
        return (
            f"{_KIND_SINGULAR[self.kind]} {name!r} is registered by {' and '.join(owners)}; using the one from"
            f" {used} (write {others[0] + ':' + name!r} to use the one from {others[0]})"
        )

    def remove(self, name: str, owner: str) -> None:
        """Forget ``owner``'s registration of ``name``; the name passes to a remaining one when it is clear."""
        candidates = self._all.get(name, {})
        candidates.pop(owner, None)
        if self._owners.get(name) == owner and name not in self._conflicts:
            self._items.pop(name, None)
            self._owners.pop(name, None)
            chosen = _choose(candidates)
            if chosen is not None:
                self._items[name], self._owners[name] = candidates[chosen], chosen
        if not candidates:
            self._all.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        if name in self._items:
            return True
        if isinstance(name, str) and ":" in name:
            plugin, _, base = name.rpartition(":")
            return plugin in self._all.get(base, {})
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def suggest(self, name: str) -> str | None:
        return did_you_mean(name, self._items)


def _choose(candidates: dict[str, Any]) -> str | None:
    """The plugin whose registration a name means: the only one, or the one first-party among several."""
    if len(candidates) == 1:
        return next(iter(candidates))
    first = [plugin for plugin in candidates if is_first_party(plugin)]
    return first[0] if len(first) == 1 else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _wanted_plugins() -> set[str] | None:
    """The plugin names MASSGEN_LOAD_PLUGINS allows; None means all of them."""
    value = os.environ.get("MASSGEN_LOAD_PLUGINS")
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


class PluginManager:
    """pluggy's manager plus typed registries and a record of every plugin's fate."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("massgen")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.backends: Registry[Any] = Registry("backends")
        self.voting_strategies: Registry[Any] = Registry("voting_strategies")
        self.exporters: Registry[Any] = Registry("exporters")
        self.tools: Registry[Any] = Registry("tools")
        self.graders: Registry[Any] = Registry("graders")
        self.config_sections: Registry[Any] = Registry("config_sections")
        self.debug_tracebacks: dict[str, str] = {}
        self.failed_observers: dict[str, str] = {}
        self.on_observer_error: Callable[[str, BaseException], None] | None = None

    @property
    def hook(self) -> Any:
        return self.pm.hook

    # -- loading -----------------------------------------------------------

    def load_entrypoints(self, group: str = "massgen", *, only: Collection[str] | None = None) -> None:
        """Load every installed plugin (as MASSGEN_LOAD_PLUGINS allows), one by one.

        ``only`` names the plugins to load (entry point or distribution names) instead of the
        environment's choice: a test or an embedding application picks its plugins this way
        without importing them itself.
        """
        wanted = set(only) if only is not None else _wanted_plugins()
        for ep in sorted(discovery.entry_points(group), key=lambda e: e.name):
            dist_name = ep.dist_name or ep.name
            if wanted is not None and ep.name not in wanted and dist_name not in wanted:
                continue
            info = PluginInfo(name=dist_name, version=ep.version, entry_point=f"{ep.name} = {ep.value}")
            try:
                module = ep.load()
            # A broken plugin is reported, never fatal (some libraries sys.exit() when a dependency
            # is missing).
            except (Exception, SystemExit) as exc:
                self._fail(info, f"failed to import: {_describe(exc)}", exc)
                continue
            self.register(module, name=dist_name, info=info)

    def register(self, plugin: object, name: str | None = None, info: PluginInfo | None = None) -> PluginInfo:
        """Register one plugin object (a module or any object with hook implementations)."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        info = info or PluginInfo(name=name)
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            return self._fail(info, f"failed to register: {_describe(exc)}", exc)
        unknown = [
            hook.name for hook in (self.pm.get_hookcallers(plugin) or []) if not hook.has_spec()
        ]
        if unknown:
            self.pm.unregister(plugin)
            names = [n for n in dir(hookspecs) if n.startswith(("register_", "on_"))]
            parts = []
            for hook_name in unknown:
                hint = did_you_mean(hook_name, names)
                parts.append(f"{hook_name!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
            return self._fail(info, "unknown hook " + ", ".join(parts))
        self.pm.check_pending()
        self.infos[info.name] = info
        for kind in KINDS:
            self._collect(plugin, kind, info)
            if info.error is not None:
                self._withdraw(plugin, info)
                break
        return info

    def unregister(self, name: str) -> None:
        """Remove a plugin registered under ``name`` (tests use this for throwaway plugins)."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.infos.pop(name, None)
        for kind in KINDS:
            registry: Registry[Any] = getattr(self, kind)
            for item_name in [n for n, owners in registry._all.items() if name in owners]:
                registry.remove(item_name, name)

    def _withdraw(self, plugin: object, info: PluginInfo) -> None:
        """A plugin that failed part-way through registering is skipped whole.

        Whatever it registered before failing is removed (a conflict it caused
        stays recorded, so the contested name keeps naming both plugins), and
        its other hooks (``on_event``, ``register_commands``) never run.
        """
        for kind in KINDS:
            registry: Registry[Any] = getattr(self, kind)
            for item_name in [n for n, owners in registry._all.items() if info.name in owners]:
                registry.remove(item_name, info.name)
            getattr(info, kind).clear()
        self.pm.unregister(plugin)

    def _fail(self, info: PluginInfo, message: str, exc: BaseException | None = None) -> PluginInfo:
        info.error = message
        if exc is not None:
            import traceback

            self.debug_tracebacks[info.name] = "".join(traceback.format_exception(exc))
        self.infos[info.name] = info
        return info

    def _collect(self, plugin: object, kind: str, info: PluginInfo) -> None:
        hook_name = f"register_{kind}"
        # pluggy's record, not getattr(plugin, ...): a plugin module may forward unknown names lazily
        impls = [h for h in getattr(self.pm.hook, hook_name).get_hookimpls() if h.plugin is plugin]
        if not impls:
            return
        impl = impls[0].function
        registry: Registry[Any] = getattr(self, kind)
        added: list[str] = []

        def register(item: Any, name: str | None = None) -> None:
            item_name = name or getattr(item, "name", None)
            if not item_name:
                raise MassGenError(f"{info.name}: cannot register {item!r} without a name")
            registry.add(item_name, item, info.name)
            added.append(item_name)

        try:
            impl(register=register)
        except Exception as exc:
            self._fail(info, f"{hook_name} raised {_describe(exc)}", exc)
        getattr(info, kind).extend(added)

    def verify(self) -> None:
        """Import everything registered as a ``Lazy`` and record what fails against its plugin.

        Loading plugins imports only what a plugin's entry module holds; a
        ``Lazy`` registration (see ``massgen_core.lazy``) is imported on first
        use. ``massgen plugins`` calls this so a broken lazy class shows up with
        its plugin instead of at the first session.
        """
        from massgen_core.lazy import Lazy, PluginLoadError

        for kind in KINDS:
            registry: Registry[Any] = getattr(self, kind)
            for name, item in registry.items():
                if not isinstance(item, Lazy):
                    continue
                try:
                    item.load()
                except PluginLoadError as exc:
                    owner = self.infos.get(registry.owner(name) or "")
                    if owner is not None:
                        message = f"{_KIND_SINGULAR[kind]} {name!r}: {exc}"
                        owner.error = message if owner.error is None else f"{owner.error}; {message}"
                        if exc.__cause__ is not None:
                            import traceback

                            self.debug_tracebacks[owner.name] = "".join(
                                traceback.format_exception(exc.__cause__)
                            )

    # -- reading -----------------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        return sorted(self.infos.values(), key=lambda i: i.name)

    def emit(self, event: object) -> None:
        """Deliver one event to every ``on_event`` implementation.

        Each observer is called on its own: one that raises is switched off
        for the rest of the process and reported through
        ``on_observer_error`` (plugin name, exception), while the others keep
        receiving events.
        """
        for impl in self.pm.hook.on_event.get_hookimpls():
            name = impl.plugin_name
            if name in self.failed_observers:
                continue
            try:
                impl.function(event=event)
            except Exception as exc:
                self.failed_observers[name] = _describe(exc)
                if self.on_observer_error is not None:
                    self.on_observer_error(name, exc)


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, loading installed plugins on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
        _manager.load_entrypoints()
    return _manager


def set_plugin_manager(manager: PluginManager | None) -> None:
    """Replace the process-wide manager (tests use this; None forces a reload)."""
    global _manager
    _manager = manager


__all__ = [
    "FIRST_PARTY",
    "KINDS",
    "PluginConflictError",
    "PluginInfo",
    "PluginManager",
    "Registry",
    "is_first_party",
    "get_plugin_manager",
    "set_plugin_manager",
]
