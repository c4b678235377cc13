"""``massgen dashboard -o dashboard.html``: the conversation store as one self-contained page of charts.

This module parses options and writes the file; massgen_core.store.dashboard
reads the store and massgen_core.dashboard_html draws the page.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from massgen_core.cli.reports_cmd import _open_store, _window
from massgen_core.errors import MassGenError


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The HTML file to write.")
@click.option("--since", metavar="WHEN", help="From WHEN on (2026-11-24, 2026-11-24T09:30Z, 7d, 12h).")
@click.option("--until", metavar="WHEN", help="Before WHEN.")
@click.option("--json", "as_json", is_flag=True, help="Also print the numbers behind the charts as JSON.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def dashboard(output: Path, since: str | None, until: str | None, as_json: bool, force: bool) -> None:
    """Charts of sessions, tokens, cost, latency, failures and agents from the store, in one HTML file."""
    from massgen_core.dashboard_html import render_dashboard
    from massgen_core.store.dashboard import dashboard_data

    if output.is_symlink():
        raise MassGenError(f"{output} is a symbolic link: refusing to write through it")
    if output.exists() and not force:
        raise MassGenError(f"{output} exists: pass --force to overwrite it")
    with _open_store() as store:
        data = dashboard_data(store.conn, _window(since, until))
    output.write_text(render_dashboard(data), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    click.echo(f"massgen: dashboard of {data['totals']['sessions']} sessions written to {output}", err=True)
