"""``massgen setup``: an interactive wizard that writes a working config.

It asks how many agents, which backend and model each uses (and the server's
``base_url`` for ``chatcompletion`` and the local-server presets), which
voting strategy decides, and (only for keys not already in the environment or
a ``.env`` file) the provider keys, which go to ``config_dir()/.env`` readable
by the owner only — never into the config file. Before anything is written
the config is validated as a run would load it and every backend is probed
(``massgen backends check``); a backend that does not answer is reported, and
the config is written only if the user says so (``--no-probe`` skips the
probe). Every question has a flag, so scripts can run it without a terminal.
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


def _local(url: str | None) -> bool:
    from urllib.parse import urlsplit

    return bool(url) and urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")


def base_url_question(cls: object) -> tuple[bool, str | None]:
    """Whether to ask for a base URL for this backend type, and the default to offer."""
    if "base_url" in (getattr(cls, "required_keys", ()) or ()):
        return True, None
    default = getattr(cls, "default_base_url", None)
    return _local(default), default  # a local server (Ollama, vLLM...) may listen elsewhere


def render_config(agents: list[tuple[str, str, str | None]], strategy: str) -> str:
    import yaml

    def backend(kind: str, model: str, base_url: str | None) -> dict[str, str]:
        entry = {"type": kind, "model": model}
        if base_url:
            entry["base_url"] = base_url
        return entry

    document = {
        "agents": [
            {"id": f"agent{i}", "backend": backend(*agent)}
            for i, agent in enumerate(agents, start=1)
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
@click.option("--base-url", "base_url", metavar="URL", help="Server URL for the agents whose type takes one (chatcompletion, local servers).")
@click.option("--no-probe", is_flag=True, help="Write the config without checking that each backend answers.")
@click.option("--force", is_flag=True, help="Overwrite an existing file without asking.")
def setup(output: Path | None, agent_specs: tuple[str, ...], strategy: str | None, base_url: str | None,
          no_probe: bool, force: bool) -> None:
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

    agents: list[tuple[str, str, str | None]] = []
    if agent_specs:
        for spec in agent_specs:
            backend, sep, model = spec.partition(":")
            if not sep or not model:
                raise MassGenError(f"--agent {spec!r}: write TYPE:MODEL, e.g. openai:gpt-4o-mini")
            asks, default_url = base_url_question(manager.backends.get(backend))  # unknown types fail here
            if asks and default_url is None and not base_url:
                raise MassGenError(f"--agent {spec!r}: {backend} talks to a server of yours; give its URL with --base-url")
            agents.append((backend, model, base_url if asks else None))
    else:
        click.echo("MassGen setup: a team of agents that answer, vote, and present the best answer.", err=True)
        count = click.prompt("How many agents", type=click.IntRange(1, 20), default=3, err=True)
        for i in range(1, count + 1):
            default_type = types[(i - 1) % len(types)]
            backend = click.prompt(f"Agent {i} backend", type=click.Choice(types), default=default_type, err=True)
            model = click.prompt(f"Agent {i} model", default=DEFAULT_MODELS.get(backend, ""), err=True)
            asks, default_url = base_url_question(manager.backends.get(backend))
            url = None
            if asks:
                url = click.prompt(f"Agent {i} server URL (base_url, e.g. http://localhost:8000/v1)",
                                   default=base_url or default_url, err=True).strip()
                url = None if url == default_url else url
            agents.append((backend, model, url))

    strategies = manager.voting_strategies.names()
    if strategy is None:
        default = "majority" if "majority" in strategies else (strategies[0] if strategies else "majority")
        strategy = default if agent_specs else click.prompt(
            "Voting strategy", type=click.Choice(strategies) if strategies else str, default=default, err=True
        )
    manager.voting_strategies.get(strategy)

    for backend in dict.fromkeys(b for b, _, _ in agents):
        cls = manager.backends.get(backend)
        variables = tuple(getattr(cls, "key_env", ()) or ())
        # a local server's key is optional (most need none): not a question for a first config
        if not variables or not getattr(cls, "key_required", True) or _key_is_known(variables):
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
    text = render_config(agents, strategy)
    loader.load_dotenv_files()  # a key just saved counts for the probe
    config = loader.load_text_with_warnings(text, str(output))[0]  # a ConfigError: nothing written
    if not no_probe:
        down = probe(config)
        if down and (agent_specs or not click.confirm("Write the config anyway?", default=False, err=True)):
            raise MassGenError(f"not written: {output} (fix the backends above, or pass --no-probe)")
    output.write_text(text)
    click.echo(f"wrote {output}", err=True)
    where = "" if output == default_output() else f"--config {output} "
    click.echo(f'next: massgen {where}"your question"', err=True)


def probe(config: object) -> list[object]:
    """Probe every backend as ``massgen backends check`` does; print and return the ones that fail.

    A missing key is a note, not a failure: the wizard offers to set keys later.
    """
    import asyncio

    from massgen_core.cli.backends_cmd import check_backends
    from massgen_core.terminal import inert

    down = []
    for row in asyncio.run(check_backends(config)):
        if row.ok:
            continue
        if row.status == "no_key":
            click.echo(inert(f"note: {row.agent} ({row.backend}) has no key yet: {row.error}"), err=True)
            continue
        down.append(row)
        where = f" at {row.endpoint}" if row.endpoint else ""
        click.echo(inert(f"{row.agent} ({row.backend}{where}) does not answer: {row.status}: {row.error}"), err=True)
    return down
