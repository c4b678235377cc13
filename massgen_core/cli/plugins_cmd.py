"""``massgen plugins``: what is installed, what each plugin registers, what failed."""

from __future__ import annotations

import json
from typing import Any

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of plugins.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins, what each registers, and load errors."""
    # here, not at the top: ``massgen --help`` imports this module for its help line
    from massgen_core.plugins import KINDS, get_plugin_manager

    manager = get_plugin_manager()
    manager.verify()  # import lazily registered classes too, so their errors show here
    infos = manager.plugin_infos()
    conflicts = _conflicts(manager)
    if as_json:
        rows = [info.to_dict() for info in infos]
        for row in rows:  # each conflict is listed with every plugin that takes part in it
            row["conflicts"] = [c for c in conflicts if row["name"] in c["plugins"]]
        click.echo(json.dumps(rows, indent=2))
        return
    if not infos:
        click.echo("No plugins installed (or none allowed by MASSGEN_LOAD_PLUGINS).")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="MassGen plugins", show_lines=False)
    table.add_column("plugin")
    table.add_column("version")
    table.add_column("registers")
    table.add_column("error", style="red")
    for info in infos:
        parts = []
        for kind in KINDS:
            names = getattr(info, kind)
            if names:
                parts.append(f"{kind.replace('_', ' ')}: {', '.join(names)}")
        table.add_row(info.name, info.version or "-", "\n".join(parts) or "-", info.error or "")
    console = Console(soft_wrap=False)
    console.print(table)
    for conflict in conflicts:
        click.echo(f"conflict: {conflict['note']}")
    failed = [i for i in infos if i.error]
    if failed and (ctx.obj or {}).get("debug"):
        for info in failed:
            click.echo(manager.debug_tracebacks.get(info.name, ""), err=True)


def _conflicts(manager: Any) -> list[dict[str, Any]]:
    """Every name several plugins register: kind, name, plugins (the one used first) and the note."""
    from massgen_core.plugins import KINDS

    found = []
    for kind in KINDS:
        registry = getattr(manager, kind)
        for name, owners in registry.contested().items():
            found.append({"kind": kind, "name": name, "plugins": owners, "used": owners[0], "note": registry.choice_note(name)})
    return found
