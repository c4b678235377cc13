"""``massgen serve``: load the config once, check it, and serve the HTTP API with uvicorn.

Starlette and uvicorn are imported inside the command, never at import time
(the CLI imports this module to list plugin commands). It refuses to listen
beyond loopback without a token; it never prints the token.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any

import click

from massgen_core.errors import MassGenError


# On Ctrl-C, how long running sessions may go on before they are cancelled.
SHUTDOWN_GRACE_S = 10


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere


def check_bind(host: str, token: str | None, token_env: str) -> None:
    """Raise MassGenError when ``host`` is reachable from other machines and no token protects it."""
    if not token and not is_loopback(host):
        raise MassGenError(
            f"refusing to listen on {host} without an API token: anyone who can reach it could run sessions "
            f"on your keys; set {token_env} (e.g. {token_env}=$(openssl rand -hex 32)) or use --host 127.0.0.1"
        )


def startup_problems(config: Any, manager: Any) -> list[str]:
    """Why sessions would fail right now (a config that does not build, a missing key); [] when they can run."""
    from massgen_core.orchestrator import build_orchestrator

    try:
        orchestrator = build_orchestrator(config, manager=manager)
    except MassGenError as exc:
        return [f"sessions will fail (422): {line}" for line in str(exc).splitlines()]
    try:
        orchestrator.preflight()
    except MassGenError as exc:
        return [f"sessions will fail (503): {line}" for line in str(exc).splitlines()]
    return []


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", "config", metavar="FILE", help="Config file (YAML or JSON), or the name of a bundled config.")
@click.option("--preset", metavar="NAME", help="Serve a saved preset configuration.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port; the chosen one is printed).")
@click.option("--env", metavar="NAME", help="Apply the named environment overlay from the config.")
@click.option("--team-name", metavar="NAME",
              help="The model name OpenAI clients use for this team (default: the config file's name).")
@click.option("--access-log", is_flag=True, help="Log every request as one JSON line on stderr.")
@click.option("--no-presets", is_flag=True, help="Do not offer saved presets as models to OpenAI clients.")
@click.option(
    "--token-env",
    default="MASSGEN_API_TOKEN",
    show_default=True,
    metavar="VAR",
    help="Environment variable holding the API token; when it is set, requests need 'Authorization: Bearer <token>'.",
)
@click.option("--max-sessions", type=click.IntRange(min=1), default=4, show_default=True, help="Sessions run at once; more get 429.")
@click.option("--no-logs", is_flag=True, help="Do not record sessions in the conversation store.")
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Also accept requests whose Host header names NAME (e.g. behind a reverse proxy); repeatable.",
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from ORIGIN (e.g. https://app.example.com) call the API, with CORS; repeatable.",
)
def serve(
    config: str | None,
    preset: str | None,
    host: str,
    port: int,
    env: str | None,
    team_name: str | None,
    access_log: bool,
    no_presets: bool,
    token_env: str,
    max_sessions: int,
    no_logs: bool,
    allow_hosts: tuple[str, ...],
    allow_origins: tuple[str, ...],
) -> None:
    """Serve an HTTP API that runs MassGen sessions and reads recorded conversations (see docs/api.md)."""
    from massgen_core.cli.options import RunOptions
    from massgen_core.cli.run_impl import resolve_config
    from massgen_core.plugins import get_plugin_manager

    token = os.environ.get(token_env) or None
    check_bind(host, token, token_env)
    loaded, warnings = resolve_config(RunOptions(config=config, preset=preset, env=env))
    for warning in warnings:
        click.echo(warning, err=True)
    manager = get_plugin_manager()
    for problem in startup_problems(loaded, manager):
        click.echo(f"massgen: warning: {problem}", err=True)

    import uvicorn

    from massgen_core import startup
    from massgen_server.app import Settings, create_app
    from massgen_server.serving import uvicorn_options

    settings = Settings(
        config=loaded,
        token=token,
        max_sessions=max_sessions,
        record=not no_logs and loaded.ui.logging_enabled,
        manager=manager,
        allow_hosts=allow_hosts,
        allow_origins=allow_origins,
        team_name=team_name or default_team_name(loaded),
        access_log=access_log,
        presets=not no_presets,
    )
    sock = bind(host, port)
    port = sock.getsockname()[1]
    app = create_app(settings)
    agents = ", ".join(a.id for a in loaded.agents)
    auth = f"bearer token from ${token_env}" if token else f"none (set {token_env} to require a token)"
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"massgen: serving the API on http://{shown}:{port} · team {settings.team_name!r} · agents: {agents} · "
        f"auth: {auth}",
        err=True,
    )
    sys.stderr.flush()

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.api.stopping = True  # /ready says 503 while running sessions finish
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(app, **uvicorn_options(settings.header_timeout_s),
                                   timeout_graceful_shutdown=SHUTDOWN_GRACE_S))
    startup.resume()  # a long-running server: the CLI's start-up ends here, not at a first request
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn has already shut down gracefully and re-raised the Ctrl-C: that is a normal stop.
        pass
    click.echo("massgen: the API server stopped", err=True)


def default_team_name(config: Any) -> str:
    """The config file's name without its extension (``team.yaml`` -> ``team``), else ``massgen``."""
    from pathlib import Path

    source = getattr(config, "source", None)
    stem = Path(source).stem if source else ""
    return stem or "massgen"


def bind(host: str, port: int) -> Any:
    """A listening socket on ``host:port`` (port 0: a free one), so the chosen port can be printed first."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise MassGenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
