"""``massgen sandbox``: which protections the python tool's sandbox has on this machine, and which it lacks."""

from __future__ import annotations

import json

import click


@click.command("sandbox")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sandbox_command(as_json: bool) -> None:
    """Show the python tool's sandbox level here: what holds and what does not."""
    from massgen_python_tool.runner import Limits
    from massgen_python_tool.sandbox import choose

    limits = Limits.from_env()
    try:
        box = choose(limits.sandbox, limits)
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        data = {
            "level": box.level,
            "protections": list(box.protections),
            "not_protected": list(box.gaps(limits)),
            "unavailable": list(box.unavailable),
        }
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"python tool sandbox level: {box.level}")
    for line in box.protections:
        click.echo(f"  protected: {line}")
    for line in box.gaps(limits):
        click.echo(f"  NOT protected: {line}")
    for line in box.unavailable:
        click.echo(f"  unavailable here: {line}")
