"""MassGen plugin ``massgen-scripted``: a testing and demo backend that replays a script from config.

It calls no model and touches no network (see ``backend``); its options and
script checks live in ``options``. Registered as a ``Lazy``: loading the plugin
imports only the options; the backend module loads when a backend is first built.
"""

from __future__ import annotations

from typing import Any

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

BACKEND = Lazy(
    "massgen_scripted.backend:ScriptedBackend",
    name="scripted",
    description="Testing and demo backend: replays a script from config; no key, no network.",
    model_patterns=("scripted*",),
    Options="massgen_scripted.options:ScriptedOptions",
)


@hookimpl
def register_backends(register: Any) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # ScriptedBackend, ScriptedBackendError: on first use

__all__ = ["BACKEND", "register_backends"]
