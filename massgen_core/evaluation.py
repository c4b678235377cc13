"""``massgen eval``'s engine: run configs over a dataset, grade, and compare with a baseline.

A dataset is a JSON-lines file of items (``id``, ``question``, ``expected``,
optional ``grader`` and ``grader_options``); ``load_dataset`` checks every line
(file:line errors) and every grader name before anything runs. ``run_config``
answers the items with one team through ``massgen_core.batch`` (resumable: its
results file lives in the evaluation's folder), ``grade_results`` turns the
results into ``Outcome`` values with the item's grader, and ``build_report``
sums them up: accuracy with a 95% Wilson interval, cost, tokens, latency and,
against the baseline, the items each config won, lost or tied. The report is a
plain JSON-ready dict; ``massgen_core.eval_report`` renders it as HTML.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from massgen_core.batch import BatchInputError, Item, read_items
from massgen_core.errors import MassGenError
from massgen_core.grading import EvalItem, GradeContext

DEFAULT_GRADER = "normalized"
SAMPLE_DATASET = "sample"


def dataset_path(name: str | Path) -> Path:
    """A dataset file, or the name of a bundled one (``sample``)."""
    path = Path(name)
    if path.exists() or path.suffix:
        return path
    from importlib import resources

    bundled = resources.files("massgen_core.datasets") / f"{name}.jsonl"
    if bundled.is_file():
        return Path(str(bundled))
    raise MassGenError(f"no dataset file {str(name)!r} and no bundled dataset of that name (bundled: sample)")


def eval_item(item: Item, *, path: str, default_grader: str) -> EvalItem:
    extra = item.extra
    if "expected" not in extra:
        raise BatchInputError(f"{path}:{item.line}: item {item.id!r} has no 'expected' answer to grade against")
    options = extra.get("grader_options") or {}
    if not isinstance(options, Mapping):
        raise BatchInputError(f"{path}:{item.line}: 'grader_options' must be an object")
    grader = extra.get("grader") or default_grader
    if not isinstance(grader, str):
        raise BatchInputError(f"{path}:{item.line}: 'grader' must be a grader's name")
    return EvalItem(id=item.id, question=item.question, expected=extra["expected"], grader=grader, options=options)


def load_dataset(path: Path, *, graders: Any, default_grader: str = DEFAULT_GRADER) -> list[EvalItem]:
    """Every item of the dataset, checked; a grader name nobody registered is an error with a suggestion."""
    from massgen_core.errors import UnknownNameError

    items = [eval_item(i, path=str(path), default_grader=default_grader) for i in read_items(path)]
    if not items:
        raise MassGenError(f"{path}: the dataset has no items")
    for name in sorted({i.grader or default_grader for i in items}):
        if name not in graders:
            raise UnknownNameError("grader", name, graders.names()) from None
    return items


@attrs.frozen(kw_only=True)
class Outcome:
    """One config's result on one item, graded."""

    item_id: str
    correct: bool
    score: float
    detail: str
    answered: bool
    cost_usd: float
    input_tokens: int
    output_tokens: int
    duration_s: float
    answer: str | None
    error: str | None


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """A results file's lines by id (the last line of an id wins)."""
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                data = json.loads(line)
                out[str(data["id"])] = data
    return out


async def grade_results(items: Sequence[EvalItem], results: Mapping[str, Mapping[str, Any]], *, graders: Any,
                        context: GradeContext) -> list[Outcome]:
    """Grade each item's result (an item with no result counts as unanswered and wrong)."""
    outcomes = []
    for item in items:
        result = results.get(item.id, {})
        answer = result.get("final_answer")
        grade = await graders.get(item.grader or DEFAULT_GRADER).grade(answer, item, context)
        usage = result.get("usage") or {}
        outcomes.append(Outcome(
            item_id=item.id, correct=grade.correct, score=grade.score, detail=grade.detail,
            answered=answer is not None, cost_usd=float(result.get("cost_usd") or 0.0),
            input_tokens=int(usage.get("input_tokens") or 0), output_tokens=int(usage.get("output_tokens") or 0),
            duration_s=float(result.get("duration_s") or 0.0), answer=answer,
            error=result.get("error") if answer is None else None,
        ))
    return outcomes


def wilson(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (0, 0 for n = 0)."""
    if n == 0:
        return 0.0, 0.0
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarize(label: str, role: str, source: str, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    correct = sum(o.correct for o in outcomes)
    lo, hi = wilson(correct, n)
    cost = sum(o.cost_usd for o in outcomes)
    latencies = [o.duration_s for o in outcomes if o.answered]
    return {
        "label": label, "role": role, "source": source, "n": n,
        "answered": sum(o.answered for o in outcomes), "correct": correct,
        "accuracy": correct / n if n else 0.0, "ci95": [lo, hi],
        "cost_usd": cost, "cost_per_item_usd": cost / n if n else 0.0,
        "input_tokens": sum(o.input_tokens for o in outcomes), "output_tokens": sum(o.output_tokens for o in outcomes),
        "latency_median_s": statistics.median(latencies) if latencies else 0.0,
        "latency_p90_s": _quantile(latencies, 0.9),
        "failures": sum(not o.answered for o in outcomes),
    }


def compare(config: Sequence[Outcome], baseline: Sequence[Outcome]) -> dict[str, Any]:
    """Per item: a win when only the config is right, a loss when only the baseline is, else a tie."""
    base = {o.item_id: o for o in baseline}
    wins, losses, ties = [], [], []
    for o in config:
        b = base.get(o.item_id)
        if b is None or o.correct == b.correct:
            ties.append(o.item_id)
        elif o.correct:
            wins.append(o.item_id)
        else:
            losses.append(o.item_id)
    return {"wins": len(wins), "losses": len(losses), "ties": len(ties),
            "win_items": wins, "loss_items": losses, "sign_test_p": sign_test(len(wins), len(losses))}


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test p-value of wins vs losses (ties left out); 1.0 when there are none."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail: float = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@attrs.frozen(kw_only=True)
class ConfigRun:
    """One config's place in an evaluation."""

    label: str
    source: str
    role: str  # "team" or "baseline"
    outcomes: tuple[Outcome, ...]


def build_report(dataset: str, items: Sequence[EvalItem], runs: Sequence[ConfigRun], out: str) -> dict[str, Any]:
    baseline = next((r for r in runs if r.role == "baseline"), None)
    report: dict[str, Any] = {
        "dataset": dataset, "items": len(items), "out": out,
        "configs": [summarize(r.label, r.role, r.source, r.outcomes) for r in runs],
        "comparisons": [],
        "per_item": [],
    }
    if baseline is not None:
        for run in runs:
            if run is not baseline:
                report["comparisons"].append(
                    {"config": run.label, "baseline": baseline.label, **compare(run.outcomes, baseline.outcomes)}
                )
    by_label = {r.label: {o.item_id: o for o in r.outcomes} for r in runs}
    for item in items:
        row: dict[str, Any] = {"id": item.id, "question": item.question, "expected": item.expected,
                               "grader": item.grader, "results": {}}
        for label, outcomes in by_label.items():
            o = outcomes[item.id]
            row["results"][label] = {"correct": o.correct, "score": o.score, "detail": o.detail,
                                     "answer": o.answer, "cost_usd": o.cost_usd, "duration_s": o.duration_s,
                                     "error": o.error}
        report["per_item"].append(row)
    return report


_LABEL = re.compile(r"[\w.-]+")


def config_label(spec: str, taken: Iterable[str]) -> tuple[str, str]:
    """(label, source) from ``LABEL=SOURCE`` or a path / bundled name (label: its stem), unique among ``taken``.

    Labels name the results files, so they are letters, digits, ``.``, ``_`` and ``-``: an
    explicit one must be; a file's stem has anything else replaced by ``_``.
    """
    label, sep, source = spec.partition("=")
    if not sep or not label or "/" in label:
        source, label = spec, re.sub(r"[^\w.-]", "_", Path(spec).stem) or "config"
    elif not _LABEL.fullmatch(label) or label.startswith("."):
        raise MassGenError(f"config label {label!r} must be letters, digits, '.', '_' and '-' (it names a file)")
    used = set(taken)
    base, n = label, 2
    while label in used:
        label, n = f"{base}-{n}", n + 1
    return label, source


__all__ = [
    "DEFAULT_GRADER",
    "ConfigRun",
    "Outcome",
    "build_report",
    "compare",
    "config_label",
    "dataset_path",
    "grade_results",
    "load_dataset",
    "read_results",
    "sign_test",
    "summarize",
    "wilson",
]
