"""``massgen eval DATASET --config TEAM [--baseline SINGLE]``: score teams against expected answers.

This module parses options, runs each config through ``massgen_core.batch``
(resumable: results live in the evaluation's folder), grades with the
registered graders and prints the report (a table, or ``--json``), writing
``report.json`` beside the results and, with ``--html PATH``, a self-contained
HTML report. Exit codes: 0 a report, 1 bad input, 130 interrupted (a rerun
with the same ``--name`` resumes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from massgen_core.cli.batch_cmd import executor_options, load_team_config, run_items
from massgen_core.errors import MassGenError


def _out_dir(out: Path | None, name: str | None, dataset: Path) -> Path:
    if out is not None:
        return out
    from massgen_core import paths

    return paths.data_dir() / "evals" / (name or f"{dataset.stem}-{time.strftime('%Y%m%d-%H%M%S')}")


def _check_new(path: Path, force: bool) -> None:
    """Refuse an existing file unless ``force``, and a symbolic link always (checked before anything runs)."""
    if path.is_symlink():
        raise MassGenError(f"{path} is a symbolic link: refusing to write through it")
    if path.exists() and not force:
        raise MassGenError(f"{path} exists: pass --force to overwrite it")


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from massgen_core.terminal import inert

    table = Table(title=Text(f"{inert(report['dataset'])} · {report['items']} items"))
    for column in ("config", "role", "accuracy", "95% interval", "right", "no answer", "cost", "per item",
                   "latency median"):
        table.add_column(column, justify="left" if column in ("config", "role") else "right")
    for c in report["configs"]:
        lo, hi = c["ci95"]
        table.add_row(Text(inert(c["label"])), c["role"], f"{100 * c['accuracy']:.1f}%", f"{100 * lo:.1f}–{100 * hi:.1f}%",
                      f"{c['correct']}/{c['n']}", str(c["failures"]), f"${c['cost_usd']:.4f}",
                      f"${c['cost_per_item_usd']:.4f}", f"{c['latency_median_s']:.1f}s")
    console = Console(highlight=False)
    console.print(table)
    for comp in report["comparisons"]:
        console.print(f"{inert(comp['config'])} vs {inert(comp['baseline'])}: {comp['wins']} wins, "
                      f"{comp['losses']} losses, {comp['ties']} ties (sign test p = {comp['sign_test_p']:.3f})",
                      markup=False)
    console.print(f"results and report.json in {report['out']}", markup=False)


@click.command("eval")
@click.argument("dataset")
@click.option("--config", "-c", "configs", multiple=True, metavar="[LABEL=]FILE",
              help="A team to evaluate (repeatable): a config file or bundled name, optionally LABEL=FILE.")
@click.option("--baseline", metavar="[LABEL=]FILE", help="The config to compare against (e.g. a single model).")
@click.option("--grader", default="normalized", show_default=True, help="Grader for items that name none.")
@click.option("--judge", metavar="FILE", help="Config of the judge model the llm_judge grader asks.")
@click.option("--name", metavar="NAME", help="Name of this evaluation: a rerun with the same name resumes it.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for results (default: the data folder).")
@click.option("--concurrency", "-j", type=click.IntRange(min=1), default=4, show_default=True,
              help="Questions in flight at once, per config.")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="USD", help="Per config: start no more questions past this.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False), help="Write an HTML report here.")
@click.option("--force", is_flag=True, help="Overwrite an existing --html file.")
@click.option("--no-logs", is_flag=True, help="Do not record the sessions in the conversation store.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@executor_options
def eval_(dataset: str, configs: tuple[str, ...], baseline: str | None, grader: str, judge: str | None,
          name: str | None, out: Path | None, concurrency: int, max_cost: float | None, as_json: bool,
          html_path: Path | None, force: bool, no_logs: bool, quiet: bool, executor: str,
          ray_address: str | None) -> None:
    """Score teams against a dataset of questions with expected answers, with cost and a baseline."""
    from massgen_core import evaluation as evl
    from massgen_core.grading import GradeContext
    from massgen_core.plugins import get_plugin_manager
    from massgen_core.team import Team

    if not configs and not baseline:
        raise MassGenError("give at least one --config TEAM (and optionally --baseline SINGLE)")
    manager = get_plugin_manager()
    path = evl.dataset_path(dataset)
    items = evl.load_dataset(path, graders=manager.graders, default_grader=grader)
    needs_judge = any(i.grader == "llm_judge" for i in items)
    if needs_judge and not judge:
        raise MassGenError("the dataset uses the llm_judge grader: pass --judge CONFIG (the judge model's config)")
    if html_path is not None:
        _check_new(html_path, force)
    folder = _out_dir(out, name, path)
    folder.mkdir(parents=True, exist_ok=True)

    specs: list[tuple[str, str, str]] = []
    for spec in configs:
        label, source = evl.config_label(spec, [s[0] for s in specs])
        specs.append((label, source, "team"))
    if baseline:
        label, source = evl.config_label(baseline, [s[0] for s in specs])
        specs.append((label, source, "baseline"))
    teams = []
    for label, source, role in specs:  # every config loads and passes preflight before anything runs
        team = Team(load_team_config(source, None, None, None, None, None), manager=manager,
                    record=False if no_logs else None)
        team.preflight()
        teams.append((label, source, role, team))
    judge_team = Team(load_team_config(judge, None, None, None, None, None), manager=manager, record=False) \
        if needs_judge else None

    try:
        for label, _source, _role, team in teams:
            run_items(team, path, folder / f"{label}.jsonl", concurrency=concurrency, max_cost=max_cost,
                      quiet=quiet or as_json, label=label, executor=executor, ray_address=ray_address)
    except KeyboardInterrupt:
        click.echo(f"massgen: interrupted; rerun with --out {folder} to resume", err=True)
        sys.exit(130)

    async def judge_ask(prompt: str) -> str:
        assert judge_team is not None
        result = await judge_team.ask(prompt)
        return result.final_answer or ""

    async def grade_all() -> list[Any]:
        context = GradeContext(judge=judge_ask if judge_team is not None else None)
        runs = []
        try:
            for label, source, role, _team in teams:
                results = evl.read_results(folder / f"{label}.jsonl")
                outcomes = await evl.grade_results(items, results, graders=manager.graders, context=context)
                runs.append(evl.ConfigRun(label=label, source=source, role=role, outcomes=tuple(outcomes)))
        finally:
            if judge_team is not None:
                await judge_team.aclose()
        return runs

    runs = asyncio.run(grade_all())
    report = evl.build_report(str(path), items, runs, str(folder))
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    if html_path is not None:
        from massgen_core.eval_report import render_html

        _check_new(html_path, force)
        html_path.write_text(render_html(report), encoding="utf-8")
    if as_json:
        from massgen_core.terminal import dumps

        click.echo(dumps(report, indent=2))
    else:
        _print_table(report)
