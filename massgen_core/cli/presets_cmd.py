"""``massgen presets ...`` and ``massgen templates ...``: saved configs and questions.

Thin click wrappers over massgen_core.presets; nothing here reads configs or
runs sessions.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from massgen_core import presets as p


def _list(kind: str, as_json: bool) -> None:
    found = p.entries(kind)
    if as_json:
        rows = [
            {"name": e.name, "builtin": e.builtin, "path": str(e.path), "description": e.description}
            | ({"variables": p.template_variables(p.template_text(e.name))} if kind == "template" else {})
            for e in found
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max((len(e.name) for e in found), default=0)
    for e in found:
        source = "built-in" if e.builtin else "user"
        click.echo(f"{e.name:<{width}}  {source:<8}  {e.description}")


@click.group()
def presets() -> None:
    """Named reusable configurations: massgen --preset NAME "question"."""


@presets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def presets_list(as_json: bool) -> None:
    """List presets (yours and the built-in ones)."""
    _list("preset", as_json)


@presets.command("show")
@click.argument("name")
def presets_show(name: str) -> None:
    """Print a preset's YAML (literal keys masked)."""
    click.echo(p.show_preset(name), nl=False)


@presets.command("save")
@click.argument("name")
@click.option("--config", "-c", "config_file", required=True, type=click.Path(dir_okay=False), help="The config file to save.")
@click.option("--force", is_flag=True, help="Replace a preset of yours with the same name.")
def presets_save(name: str, config_file: str, force: bool) -> None:
    """Save a config file as preset NAME."""
    path = p.save_preset(name, Path(config_file), overwrite=force)
    click.echo(f"Saved preset {name} ({path}). Run it with: massgen --preset {name} \"question\"")


@presets.command("delete")
@click.argument("name")
def presets_delete(name: str) -> None:
    """Delete one of your presets."""
    p.delete("preset", name)
    click.echo(f"Deleted preset {name}.")


@click.group()
def templates() -> None:
    """Questions with {variables}: massgen --template NAME -p key value."""


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def templates_list(as_json: bool) -> None:
    """List templates (yours and the built-in ones)."""
    _list("template", as_json)


@templates.command("show")
@click.argument("name")
def templates_show(name: str) -> None:
    """Print a template's text and variables."""
    text = p.template_text(name)
    variables = p.template_variables(text)
    click.echo(text)
    click.echo(f"\nvariables: {', '.join(variables) or 'none'}")
    if variables:
        args = " ".join(f"-p {v} VALUE" for v in variables)
        click.echo(f"usage: massgen --template {name} {args}")


@templates.command("save")
@click.argument("name")
@click.option("--text", required=True, help='The question, with {variables}: "Explain {topic} simply".')
@click.option("--description", default="", help="One line saying what the template is for.")
@click.option("--force", is_flag=True, help="Replace a template of yours with the same name.")
def templates_save(name: str, text: str, description: str, force: bool) -> None:
    """Save a question template as NAME."""
    path = p.save_template(name, text, description=description, overwrite=force)
    click.echo(f"Saved template {name} ({path}).")


@templates.command("delete")
@click.argument("name")
def templates_delete(name: str) -> None:
    """Delete one of your templates."""
    p.delete("template", name)
    click.echo(f"Deleted template {name}.")
