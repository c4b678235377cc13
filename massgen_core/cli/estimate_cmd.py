"""``massgen estimate``: the expected and worst-case cost of a run, before it starts.

This module parses options and prints (plain lines or one JSON object);
massgen_core.orchestrator.estimate does the sums. Nothing is sent to any
provider and no API key is needed.
"""

from __future__ import annotations

import json

import click


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


@click.command()
@click.option("--config", "-c", "config", metavar="FILE", required=True, help="Config file (YAML or JSON), or the name of a bundled config.")
@click.option("--env", metavar="NAME", help="Apply the named environment overlay from the config.")
@click.option("--answer-tokens", type=click.IntRange(min=1), help="Expected length of an answer in tokens (default: max_tokens, at most 400).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("question")
def estimate(config: str, env: str | None, answer_tokens: int | None, as_json: bool, question: str) -> None:
    """Worst-case and expected cost of running a question, before it starts."""
    from massgen_core.config import loader
    from massgen_core.orchestrator import build_orchestrator
    from massgen_core.orchestrator.estimate import estimate as estimate_run

    loaded, problems = loader.load_config_with_warnings(config, env=env)
    for problem in problems:
        click.echo(f"massgen: {problem.format()}", err=True)
    result = estimate_run(build_orchestrator(loaded), question, answer_tokens=answer_tokens)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for a in result.agents:
        price = "no price" if a.price is None else f"${a.price.input:g}/${a.price.output:g} per Mtok in/out"
        worst = "unbounded" if a.worst_case_usd is None and a.price is not None else _usd(a.worst_case_usd)
        click.echo(
            f"{a.agent_id}: {a.backend} {a.model or '-'} · {price} · max_tokens {a.max_tokens} · "
            f"expected {_usd(a.expected_usd)} · worst case {worst}"
        )
    click.echo(f"expected: {_usd(result.expected_usd)} ({result.expected_calls} model calls)")
    if result.bound == "budget":
        click.echo(f"worst case: {_usd(result.worst_case_usd)} (the budget caps it)")
    elif result.bound == "limits":
        click.echo(f"worst case: {_usd(result.worst_case_usd)} (at most {result.worst_case_calls} model calls)")
    else:
        click.echo("worst case: unbounded")
    for note in result.notes:
        click.echo(f"note: {note}")
