"""``massgen setup``: an interactive wizard that writes a working config.

It asks how many agents, which backend and model each uses, which voting
strategy decides, and (only for keys not already in the environment or a
``.env`` file) the provider keys, which go to ``config_dir()/.env`` readable
by the owner only — never into the config file. The config it writes is
validated before the wizard says it is done. Every question has a flag, so
scripts can run it without a terminal.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import click

# A sensible first model per backend type; any other installed type asks for one.
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "claude": "claude-3-5-haiku-latest",
    "gemini": "gemini-2.5-flash",
    "grok": "grok-3-mini",
    "ollama": "llama3.2",
    "vllm": "meta-llama/Llama-3.1-8B-Instruct",
    "lmstudio": "local-model",
    "llamacpp": "local-model",
    "sglang": "local-model",
    "scripted": "scripted-1",
}
PREFERRED_ORDER = ("openai", "claude", "gemini", "grok", "ollama")


def default_output() -> Path:
    from massgen_core.paths import config_dir

    return config_dir() / "config.yaml"


def _backend_types(manager: Any) -> list[str]:
    names = manager.backends.names()
    return [n for n in PREFERRED_ORDER if n in names] + [n for n in names if n not in PREFERRED_ORDER]


def _key_is_known(variables: tuple[str, ...]) -> bool:
    from massgen_core.http.keys import find_key

    return find_key(None, variables) is not None


def store_key(variable: str, value: str) -> Path:
    """Write ``variable=value`` into the user's ``.env`` (mode 0600), replacing an older line."""
    from massgen_core.paths import config_dir, ensure_dir

    path = ensure_dir(config_dir()) / ".env"
    lines = path.read_text().splitlines() if path.exists() else []
    lines = [line for line in lines if not line.startswith(f"{variable}=")]
    lines.append(f"{variable}={value}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def render_config(agents: list[tuple[str, str]], strategy: str) -> str:
    import yaml

    document = {
        "agents": [
            {"id": f"agent{i}", "backend": {"type": backend, "model": model}}
            for i, (backend, model) in enumerate(agents, start=1)
        ],
        "voting": {"strategy": strategy},
        "ui": {"display_type": "rich_terminal", "logging_enabled": True},
    }
    header = (
        f"# Written by `massgen setup` on {_dt.date.today().isoformat()}.\n"
        "# Keys live in the environment or in the user .env file, never here.\n"
        "# Check after editing: massgen config validate <this file>\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False)


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the config (default: the user config dir's config.yaml, used when no --config is given).")
@click.option("--agent", "agent_specs", multiple=True, metavar="TYPE:MODEL", help="An agent, e.g. openai:gpt-4o-mini (repeatable; skips those questions).")
@click.option("--strategy", help="Voting strategy (default majority).")
@click.option("--force", is_flag=True, help="Overwrite an existing file without asking.")
def setup(output: Path | None, agent_specs: tuple[str, ...], strategy: str | None, force: bool) -> None:
    """Interactive wizard that writes a working config."""
    from massgen_core.config import loader
    from massgen_core.errors import MassGenError
    from massgen_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    types = _backend_types(manager)
    if not types:
        raise MassGenError("no backend plugins are installed: install one (e.g. massgen-openai) and run setup again")
    output = output or default_output()
    if output.exists() and not force and not click.confirm(f"{output} exists. Overwrite it?", default=False, err=True):
        raise MassGenError(f"left {output} as it was")

    agents: list[tuple[str, str]] = []
    if agent_specs:
        for spec in agent_specs:
            backend, sep, model = spec.partition(":")
            if not sep or not model:
                raise MassGenError(f"--agent {spec!r}: write TYPE:MODEL, e.g. openai:gpt-4o-mini")
            manager.backends.get(backend)  # unknown types fail here, with a suggestion
            agents.append((backend, model))
    else:
        click.echo("MassGen setup: a team of agents that answer, vote, and present the best answer.", err=True)
        count = click.prompt("How many agents", type=click.IntRange(1, 20), default=3, err=True)
        for i in range(1, count + 1):
            default_type = types[(i - 1) % len(types)]
            backend = click.prompt(f"Agent {i} backend", type=click.Choice(types), default=default_type, err=True)
            model = click.prompt(f"Agent {i} model", default=DEFAULT_MODELS.get(backend, ""), err=True)
            agents.append((backend, model))

    strategies = manager.voting_strategies.names()
    if strategy is None:
        default = "majority" if "majority" in strategies else (strategies[0] if strategies else "majority")
        strategy = default if agent_specs else click.prompt(
            "Voting strategy", type=click.Choice(strategies) if strategies else str, default=default, err=True
        )
    manager.voting_strategies.get(strategy)

    for backend in dict.fromkeys(b for b, _ in agents):
        variables = tuple(getattr(manager.backends.get(backend), "key_env", ()) or ())
        if not variables or _key_is_known(variables):
            continue
        if agent_specs:
            click.echo(f"note: {backend} needs {variables[0]}; set it before running", err=True)
            continue
        value = click.prompt(
            f"{variables[0]} for {backend} (stored in the user .env, readable only by you; empty to set it later)",
            default="", show_default=False, hide_input=True, err=True,
        )
        if value:
            path = store_key(variables[0], value)
            click.echo(f"saved {variables[0]} to {path}", err=True)

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_config(agents, strategy))
    try:
        loader.load_config(output)
    except MassGenError:
        output.unlink()
        raise
    click.echo(f"wrote {output}", err=True)
    where = "" if output == default_output() else f"--config {output} "
    click.echo(f'next: massgen {where}"your question"', err=True)
