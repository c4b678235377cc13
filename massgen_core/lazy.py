"""Registering a plugin class without importing it: ``Lazy``.

Every ``massgen`` command loads every installed plugin, and a backend's module
pulls in the HTTP layer, its wire format and its stream parser. A plugin can
instead register a ``Lazy``: the import path of its class plus the few class
attributes the core reads without using the class (``name``, and for a backend
``model_patterns``, ``description`` and ``Options``)::

    from massgen_core.hookspecs import hookimpl
    from massgen_core.lazy import Lazy

    BACKEND = Lazy(
        "my_plugin.backend:MyBackend",
        name="mine",
        model_patterns=("mine-*",),
        Options="my_plugin.options:MyOptions",  # a path: imported when first read
    )

    @hookimpl
    def register_backends(register):
        register(BACKEND)

The registry holds the ``Lazy``; reading a declared attribute answers from the
declaration (``Options`` given as a ``"module:Name"`` path is imported when
first read, so ``massgen config validate`` imports the options of the backend
types a file uses and nothing else); anything else (calling it, ``key_env``,
``serves_model``...) imports the class once and forwards. When the class is
imported its own attributes must equal the declared ones, so the two cannot
drift apart silently; an import that fails raises ``PluginLoadError`` naming
the target, and ``massgen plugins`` reports it against the plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massgen_core.errors import MassGenError

_MISSING = object()


class PluginLoadError(MassGenError):
    """A lazily registered class could not be imported, or does not match its declaration."""


class Lazy:
    """A registered class named by ``"module:QualName"``, imported on first real use."""

    __slots__ = ("_factory", "_loaded", "declared", "target")

    def __init__(self, target: str, /, **declared: Any) -> None:
        for path in (target, declared.get("Options")):
            if isinstance(path, str):
                module, sep, qualname = path.partition(":")
                if not (sep and module.strip() and qualname.strip()):
                    raise ValueError(f"Lazy paths must be 'module:QualName', got {path!r}")
        if not isinstance(declared.get("name"), str) or not declared["name"]:
            raise ValueError(f"Lazy({target!r}) needs name=")
        clashes = sorted(key for key in declared if key.startswith("_") or hasattr(Lazy, key))
        if clashes:
            raise ValueError(f"Lazy({target!r}) cannot declare {', '.join(clashes)}: Lazy's own names")
        self.target = target
        self.declared = declared
        self._loaded: Any = None
        self._factory = False

    @classmethod
    def made_by(cls, factory: str, /, **declared: Any) -> Lazy:
        """A registered object built by calling ``factory`` (``"module:function"``) on first use.

        For things registered as instances rather than classes, such as a tool
        whose description is computed from the environment.
        """
        lazy = cls(factory, **declared)
        lazy._factory = True
        return lazy

    @property
    def loaded(self) -> bool:
        """Whether the class has been imported."""
        return self._loaded is not None

    def load(self) -> Any:
        """The class itself (imported on the first call)."""
        if self._loaded is None:
            obj = self._import(self.target)
            if self._factory:
                obj = obj()
            for key in self.declared:
                value = getattr(self, key)  # resolves an Options path
                actual = getattr(obj, key, _MISSING)
                if actual is _MISSING or not _same(actual, value):
                    shown = "missing" if actual is _MISSING else repr(actual)
                    raise PluginLoadError(
                        f"{self.target}: {key} is {shown}, but it was registered with "
                        f"{key}={value!r}; make the registration and the class agree"
                    )
            self._loaded = obj
        return self._loaded

    def _import(self, path: str) -> Any:
        import importlib

        module, _, qualname = path.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            raise PluginLoadError(
                f"{self.declared['name']!r} is registered as {path}, which cannot be imported "
                f"({type(exc).__name__}: {exc}); reinstall the plugin that provides it "
                "(massgen plugins lists them)"
            ) from exc
        return obj

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr in Lazy.__slots__:  # not set up yet (copy, pickle)
            raise AttributeError(attr)
        declared = self.declared
        if attr in declared:
            value = declared[attr]
            if attr == "Options" and isinstance(value, str):
                value = declared[attr] = self._import(value)
            return value
        return getattr(self.load(), attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.load()(*args, **kwargs)

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not imported"
        made = "made by " if self._factory else ""
        return f"<Lazy {self.declared['name']!r} {made}{self.target} ({state})>"


def _same(actual: Any, declared: Any) -> bool:
    if isinstance(actual, list | tuple) and isinstance(declared, list | tuple):
        return tuple(actual) == tuple(declared)
    return bool(actual is declared or actual == declared)


def forward_to(package: str, module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` answering from ``package.module``, imported on first use.

    A plugin that registers a ``Lazy`` keeps ``from my_plugin import MyBackend``
    working with ``__getattr__ = forward_to(__name__, "backend")``.
    """

    def __getattr__(name: str) -> Any:
        import importlib

        target = importlib.import_module(f"{package}.{module}")
        if name == module:
            return target
        try:
            return getattr(target, name)
        except AttributeError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return __getattr__


__all__ = ["Lazy", "PluginLoadError", "forward_to"]
