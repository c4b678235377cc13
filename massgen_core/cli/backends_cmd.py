"""``massgen backends list`` and ``massgen backends check [--config FILE] [--json]``.

``list`` shows every installed backend type with its model patterns, key
variables and default base URL. ``check`` builds each configured agent's
backend and probes them all concurrently (``massgen_core.http.health``),
every pool and fallback member included (rows ``agent (pool 2)``,
``agent (fallback 1)``), printing a table or JSON with each server's
latency; it exits 1 when any backend is down. It never prints a key and
sends no model request.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from massgen_core.errors import MassGenError


@click.group()
def backends() -> None:
    """Installed backend types and health checks of configured backends."""


@backends.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """Every installed backend type."""
    from massgen_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    rows: list[dict[str, Any]] = []
    for name, cls in manager.backends.items():
        rows.append(
            {
                "type": name,
                "plugin": manager.backends.owner(name),
                "models": list(getattr(cls, "model_patterns", ()) or ()),
                "key_env": list(getattr(cls, "key_env", ()) or ()),
                "key_required": bool(getattr(cls, "key_required", True)) and bool(getattr(cls, "key_env", ())),
                "base_url": getattr(cls, "default_base_url", None),
                "description": getattr(cls, "description", ""),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no backends installed")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("type", "models", "key", "base URL", "plugin")
    for r in rows:
        key = ", ".join(r["key_env"]) or "none"
        if r["key_env"] and not r["key_required"]:
            key += " (optional)"
        table.add_row(r["type"], ", ".join(r["models"]) or "-", key,
                      r["base_url"] or "(base_url)", r["plugin"] or "")
    Console(width=160).print(table)


def _agents(config: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []

    def walk(agents: Any, prefix: str) -> None:
        for agent in agents:
            if agent.agents:
                walk(agent.agents, f"{prefix}{agent.id}/")
            elif agent.backend is not None:
                out.append((prefix + agent.id, agent.backend))

    walk(config.agents, "")
    return out


def _load(config_path: str | None, backend: str | None, model: str | None, base_url: str | None) -> Any:
    from massgen_core import config as cfg

    if config_path:
        config = cfg.load_config(cfg.resolve_config_path(config_path))
        if model or base_url:
            config = cfg.apply_cli_overrides(config, model=model, base_url=base_url)
        return config
    if backend or model:
        return cfg.config_from_cli(backend=backend, model=model, base_url=base_url)
    raise MassGenError("give --config FILE, or --backend/--model for one backend")


async def check_backends(config: Any) -> list[Any]:
    """Health rows of every backend (fallbacks too) of a loaded config, probed concurrently."""
    from massgen_core.backend import BackendContext
    from massgen_core.backend_factory import FallbackBackend, create_backend
    from massgen_core.http.health import check_all
    from massgen_core.http.pool import aclose_all

    entries = []
    params = getattr(config, "backend_params", {}) or {}
    for agent_id, backend_config in _agents(config):
        try:
            from massgen_core.orchestrator.builder import apply_backend_params

            backend_config = apply_backend_params(backend_config, params)
        except ImportError:  # pragma: no cover - the orchestrator package is part of the core
            pass
        backend = create_backend(backend_config, BackendContext(agent_id=agent_id))
        members = backend.leaves() if isinstance(backend, FallbackBackend) else [("", backend)]
        entries += [(f"{agent_id} ({where})" if where else agent_id, member) for where, member in members]
    try:
        return await check_all(entries)
    finally:
        await aclose_all()


@backends.command("check")
@click.option("--config", "-c", "config_path", metavar="FILE", help="Config file (default: --backend/--model).")
@click.option("--backend", metavar="TYPE", help="Check one backend of this type (no config file).")
@click.option("--model", metavar="NAME", help="Model name (with --backend, or overriding the config).")
@click.option("--base-url", metavar="URL", help="Base URL (with --backend, or overriding the config).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check_cmd(config_path: str | None, backend: str | None, model: str | None, base_url: str | None,
              as_json: bool) -> None:
    """Probe every configured backend concurrently; exit 1 when any is down."""
    import asyncio  # here, not at the top: ``massgen --help`` imports this module for its help line

    config = _load(config_path, backend, model, base_url)
    rows = asyncio.run(check_backends(config))
    down = [r for r in rows if not r.ok]
    if as_json:
        click.echo(json.dumps({"ok": not down, "backends": [r.to_dict() for r in rows]}, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from massgen_core.terminal import inert

        table = Table("agent", "backend", "model", "endpoint", "status", "latency", "error / models")
        for r in rows:
            latency = "-" if r.latency_ms is None else f"{r.latency_ms:.0f} ms"
            # The server wrote the error and the model names: plain text, control characters spelled out.
            detail = Text(inert(r.error or (("models: " + ", ".join(r.models[:10])) if r.models else "")))
            table.add_row(r.agent, r.backend, r.model or "-", r.endpoint or "-",
                          Text(r.status, style="green" if r.ok else "red"), latency, detail)
        Console(width=200, soft_wrap=True).print(table)
    if down:
        sys.exit(1)
