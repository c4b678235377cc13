"""Turning a ``BackendConfig`` into a ``Backend`` instance.

Looks the type up in the plugin registry and instantiates it. The provider
layer extends this with fallback chains, pools and routing (DESIGN.md §2).
"""

from __future__ import annotations

from massgen_core.backend import Backend, BackendContext
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.plugins import PluginManager, get_plugin_manager


def create_backend(
    config: BackendConfig, context: BackendContext | None = None, manager: PluginManager | None = None
) -> Backend:
    manager = manager or get_plugin_manager()
    if not config.type:
        raise MassGenError(f"agent {context.agent_id if context else '?'}: backend has no type")
    cls = manager.backends.get(config.type)
    return cls(config, context or BackendContext())
