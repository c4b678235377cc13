"""``massgen batch QUESTIONS.jsonl -o RESULTS.jsonl``: many questions through one team.

This module parses options and shows progress; ``massgen_core.batch`` runs the
questions and ``massgen_core.team`` each turn. Exit codes: 0 every question
answered, 1 some question got no answer (or the budget stopped the batch, or
bad input), 130 interrupted (a rerun resumes where it stopped).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

TEAM_OPTIONS = (
    click.option("--config", "-c", "config", metavar="FILE", help="Config file, or the name of a bundled config."),
    click.option("--backend", metavar="TYPE", help="Backend type for a single agent without a config file."),
    click.option("--model", metavar="NAME", help="Model name; the backend type is inferred when possible."),
    click.option("--base-url", metavar="URL", help="Base URL of the backend's API."),
    click.option("--env", metavar="NAME", help="Apply the named environment overlay from the config."),
    click.option("--preset", metavar="NAME", help="A saved preset configuration."),
)


EXECUTOR_OPTIONS = (
    click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                 help="Where questions run: in this process, or as Ray tasks."),
    click.option("--ray-address", metavar="ADDRESS",
                 help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray started for the run)."),
)


def team_options(func: Any) -> Any:
    for option in reversed(TEAM_OPTIONS):
        func = option(func)
    return func


def executor_options(func: Any) -> Any:
    for option in reversed(EXECUTOR_OPTIONS):
        func = option(func)
    return func


def load_team_config(config: str | None, backend: str | None, model: str | None, base_url: str | None,
                     env: str | None, preset: str | None) -> Any:
    """The Config a batch or evaluation runs, resolved the way ``massgen`` resolves it; warnings to stderr."""
    from massgen_core.cli.options import RunOptions
    from massgen_core.cli.run_impl import resolve_config

    options = RunOptions(config=config, backend=backend, model=model, base_url=base_url, env=env, preset=preset)
    resolved, warnings = resolve_config(options)
    from massgen_core.terminal import inert

    for warning in warnings:
        click.echo(inert(warning), err=True)
    return resolved


class ProgressView:
    """A rich progress bar on a terminal (bar, count, ETA, cost, failures); a line per question otherwise."""

    def __init__(self, total: int, *, label: str = "questions", quiet: bool = False) -> None:
        self.total, self.label, self.quiet = total, label, quiet
        self.bar: Any = None
        self.task: Any = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("· ${task.fields[cost]:.4f} · {task.fields[failed]} failed"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )
            self.task = self.bar.add_task(label, total=total or None, cost=0.0, failed=0)

    def __enter__(self) -> ProgressView:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, progress: Any) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=progress.skipped + progress.done, cost=progress.cost_usd,
                            failed=progress.failed)
            return
        line = progress.last or {}
        from massgen_core.terminal import inert

        status = "ok" if line.get("final_answer") is not None else f"no answer ({line.get('ended_by')})"
        click.echo(
            f"[{progress.skipped + progress.done}/{self.total}] {inert(str(line.get('id')))}: {status} · "
            f"${float(line.get('cost_usd') or 0):.4f} · {float(line.get('duration_s') or 0):.1f}s",
            err=True,
        )


def run_items(team: Any, path: Path, output: Path, *, concurrency: int, max_cost: float | None,
              quiet: bool, label: str, executor: str = "local", ray_address: str | None = None) -> Any:
    """Run a questions file into ``output`` with a progress view; the final Progress (KeyboardInterrupt propagates)."""
    from massgen_core.batch import count_items, read_items, run_batch
    from massgen_core.executors import make_executor

    total = count_items(path)
    runner = make_executor(executor, team, ray_address=ray_address)
    runner.start()
    with ProgressView(total, label=label, quiet=quiet) as view:

        async def main() -> Any:
            try:
                return await run_batch(team, read_items(path), output, concurrency=concurrency, total=total,
                                       max_cost_usd=max_cost, on_progress=view.update, executor=runner)
            finally:
                await runner.aclose()

        return asyncio.run(main())


@click.command("batch")
@click.argument("questions", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Results file (JSON lines); a rerun skips the ids already in it.")
@team_options
@executor_options
@click.option("--concurrency", "-j", type=click.IntRange(min=1), default=4, show_default=True,
              help="Questions in flight at once.")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="USD",
              help="Start no more questions once the batch has spent this much.")
@click.option("--no-logs", is_flag=True, help="Do not record the sessions in the conversation store.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output; only the summary line.")
def batch(questions: Path, output: Path, config: str | None, backend: str | None, model: str | None,
          base_url: str | None, env: str | None, preset: str | None, executor: str, ray_address: str | None,
          concurrency: int, max_cost: float | None, no_logs: bool, quiet: bool) -> None:
    """Run many questions (JSON lines with id and question) through one team, resumably."""
    from massgen_core.team import Team

    resolved = load_team_config(config, backend, model, base_url, env, preset)
    team = Team(resolved, record=False if no_logs else None,
                on_observer_error=lambda name, exc: click.echo(
                    f"massgen: warning: {name} failed and was switched off: {type(exc).__name__}: {exc}", err=True))
    team.preflight()
    try:
        progress = run_items(team, questions, output, concurrency=concurrency, max_cost=max_cost, quiet=quiet,
                             label="questions", executor=executor, ray_address=ray_address)
    except KeyboardInterrupt:
        click.echo(f"massgen: interrupted; rerun the same command to answer the rest ({output} keeps what is done)",
                   err=True)
        sys.exit(130)
    summary = (f"massgen: batch: {progress.done} answered now, {progress.skipped} already in {output}, "
               f"{progress.failed} without an answer · ${progress.cost_usd:.4f}")
    if progress.stopped_by == "budget":
        summary += f" · stopped at the budget (--max-cost {max_cost:g}); {progress.remaining} not started"
    click.echo(summary, err=True)
    if progress.failed or progress.stopped_by:
        sys.exit(1)
